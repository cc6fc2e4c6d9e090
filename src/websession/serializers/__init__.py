"""Serializers: session values <-> bytes. Never pickle."""

from .base import Serializer
from .gob import GobSerializer
from .json import JSONSerializer
from .msgpack import MsgpackSerializer
from .nop import NopSerializer

__all__ = ["GobSerializer", "JSONSerializer", "MsgpackSerializer", "NopSerializer", "Serializer"]
