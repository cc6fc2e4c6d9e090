"""Bytes in, bytes out: gorilla's ``NopEncoder``."""

from __future__ import annotations

from typing import Any

from ..errors import EncodeError

__all__ = ["NopSerializer"]


class NopSerializer:
    """Pass bytes through unchanged (for values that are already serialized).

    Unlike gorilla's ``NopEncoder`` the codec never encrypts the caller's buffer in place.
    """

    __slots__ = ()

    def serialize(self, value: Any) -> bytes:
        """``value`` unchanged: it must already be bytes.

        Raises:
            EncodeError: ``value`` is not bytes.
        """
        if isinstance(value, (bytes, bytearray, memoryview)):
            return bytes(value)
        raise EncodeError(f"NopSerializer takes bytes, not {type(value).__name__}")

    def deserialize(self, data: bytes) -> bytes:
        """``data`` unchanged (the bytes the codec opened)."""
        return bytes(data)

    def __repr__(self) -> str:
        return "NopSerializer()"
