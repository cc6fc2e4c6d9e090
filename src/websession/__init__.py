"""websession: HTTP sessions for Python web applications.

Signed and encrypted cookies, gorilla/securecookie compatibility, server-side stores and
framework adapters, behind one small typed API. Everything public is re-exported here.
"""

from .codecs import (
    Codec,
    Decoded,
    SealedCookie,
    SecureCookie,
    codecs_from_pairs,
    decode_details_multi,
    decode_multi,
    derive_key,
    encode_multi,
    generate_random_key,
)
from .errors import (
    ConflictError,
    DecodeError,
    EncodeError,
    Expired,
    InvalidSignature,
    Malformed,
    StoreUnavailable,
    TooLong,
    TooNew,
    WebsessionError,
)
from .serializers import (
    GobSerializer,
    JSONSerializer,
    MsgpackSerializer,
    NopSerializer,
    Serializer,
)

__version__ = "0.1.0"

__all__ = [
    "Codec",
    "ConflictError",
    "DecodeError",
    "Decoded",
    "EncodeError",
    "Expired",
    "GobSerializer",
    "InvalidSignature",
    "JSONSerializer",
    "Malformed",
    "MsgpackSerializer",
    "NopSerializer",
    "SealedCookie",
    "SecureCookie",
    "Serializer",
    "StoreUnavailable",
    "TooLong",
    "TooNew",
    "WebsessionError",
    "__version__",
    "codecs_from_pairs",
    "decode_details_multi",
    "decode_multi",
    "derive_key",
    "encode_multi",
    "generate_random_key",
]
