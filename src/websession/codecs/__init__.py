"""Codecs: named values <-> cookie-safe text that nobody can read or forge."""

from .base import Codec, Decoded, decode_details_multi, decode_multi, encode_multi
from .keys import (
    InsecureSecret,
    SecretKeys,
    WeakSecretWarning,
    derive_key,
    framework_secret,
    generate_random_key,
    normalize_secrets,
    weak_secret_reason,
)
from .sealed import SealedCookie
from .securecookie import SecureCookie, codecs_from_pairs

__all__ = [
    "Codec",
    "Decoded",
    "InsecureSecret",
    "SealedCookie",
    "SecretKeys",
    "SecureCookie",
    "WeakSecretWarning",
    "codecs_from_pairs",
    "decode_details_multi",
    "decode_multi",
    "derive_key",
    "encode_multi",
    "framework_secret",
    "generate_random_key",
    "normalize_secrets",
    "weak_secret_reason",
]
