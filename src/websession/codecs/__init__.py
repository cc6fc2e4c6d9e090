"""Codecs: named values <-> cookie-safe text that nobody can read or forge."""

from .base import Codec, Decoded, decode_details_multi, decode_multi, encode_multi
from .keys import SecretKeys, derive_key, generate_random_key, normalize_secrets
from .sealed import SealedCookie
from .securecookie import SecureCookie, codecs_from_pairs

__all__ = [
    "Codec",
    "Decoded",
    "SealedCookie",
    "SecretKeys",
    "SecureCookie",
    "codecs_from_pairs",
    "decode_details_multi",
    "decode_multi",
    "derive_key",
    "encode_multi",
    "generate_random_key",
    "normalize_secrets",
]
