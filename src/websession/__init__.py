"""websession: HTTP sessions for Python web applications.

Signed and encrypted cookies, gorilla/securecookie compatibility, server-side stores and
framework adapters, behind one small typed API. Everything public is re-exported here.
"""

from . import events, metrics
from ._adapter import aget_session, get_session
from .backends.base import Backend, Record
from .codecs import (
    Codec,
    Decoded,
    InsecureSecret,
    SealedCookie,
    SecureCookie,
    codecs_from_pairs,
    decode_details_multi,
    decode_multi,
    derive_key,
    encode_multi,
    generate_random_key,
)
from .cookies import CookieOptions, format_set_cookie, parse_cookie_header
from .errors import (
    AbsoluteTimeout,
    ConflictError,
    DecodeError,
    EncodeError,
    Expired,
    IdleTimeout,
    InvalidSignature,
    Malformed,
    Revoked,
    SaveError,
    SessionNotFound,
    StoreUnavailable,
    TooLong,
    TooNew,
    WebsessionError,
)
from .registry import Registry
from .serializers import (
    GobSerializer,
    JSONSerializer,
    MsgpackSerializer,
    NopSerializer,
    Serializer,
)
from .session import FLASH_KEY, Session
from .stores import CookieStore, FilesystemStore, MemoryStore, ServerStore, Store
from .stores.owners import SessionInfo
from .urls import open_backend, open_store

__version__ = "0.1.0"

__all__ = [
    "FLASH_KEY",
    "AbsoluteTimeout",
    "Backend",
    "Codec",
    "ConflictError",
    "CookieOptions",
    "CookieStore",
    "DecodeError",
    "Decoded",
    "EncodeError",
    "Expired",
    "FilesystemStore",
    "GobSerializer",
    "IdleTimeout",
    "InsecureSecret",
    "InvalidSignature",
    "JSONSerializer",
    "Malformed",
    "MemoryStore",
    "MsgpackSerializer",
    "NopSerializer",
    "Record",
    "Registry",
    "Revoked",
    "SaveError",
    "SealedCookie",
    "SecureCookie",
    "Serializer",
    "ServerStore",
    "Session",
    "SessionInfo",
    "SessionNotFound",
    "Store",
    "StoreUnavailable",
    "TooLong",
    "TooNew",
    "WebsessionError",
    "__version__",
    "aget_session",
    "codecs_from_pairs",
    "decode_details_multi",
    "decode_multi",
    "derive_key",
    "encode_multi",
    "events",
    "format_set_cookie",
    "generate_random_key",
    "get_session",
    "metrics",
    "open_backend",
    "open_store",
    "parse_cookie_header",
]
