"""Secrets and keys: random keys, normalising user secrets, deriving purpose-bound keys."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Sequence
from typing import Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

__all__ = ["KeyedHash", "SecretKeys", "derive_key", "generate_random_key", "normalize_secrets"]

#: A secret as users write it, or a list of them, newest first.
SecretKeys = str | bytes | Sequence[str | bytes]

_SALT = b"websession/v1"


def generate_random_key(length: int = 32) -> bytes:
    """Return ``length`` random bytes from the OS's CSPRNG.

    Unlike gorilla's ``GenerateRandomKey`` this never returns an empty or ``None`` key on failure:
    :func:`os.urandom` raises.
    """
    if length < 0:
        raise ValueError("length must not be negative")
    return os.urandom(length)


def normalize_secrets(secret_keys: SecretKeys | None) -> list[bytes]:
    """Return the secrets as a non-empty list of non-empty bytes, newest first.

    Raises:
        ValueError: no secret, or an empty one.
        TypeError: a secret that is neither str nor bytes.
    """
    if secret_keys is None:
        raise ValueError("secret_keys is required: a str, bytes, or a list of them, newest first")
    items: Sequence[str | bytes] = (
        [secret_keys] if isinstance(secret_keys, (str, bytes, bytearray)) else list(secret_keys)
    )
    if not items:
        raise ValueError("secret_keys is empty: give at least one secret")
    out: list[bytes] = []
    for i, item in enumerate(items):
        if isinstance(item, str):
            raw = item.encode("utf-8")
        elif isinstance(item, (bytes, bytearray, memoryview)):
            raw = bytes(item)
        else:
            raise TypeError(f"secret_keys[{i}] is {type(item).__name__}; secrets are str or bytes")
        if not raw:
            raise ValueError(f"secret_keys[{i}] is empty; an empty secret protects nothing")
        out.append(raw)
    return out


def derive_key(secret: bytes, purpose: str, length: int = 32) -> bytes:
    """Derive a key for one ``purpose`` from a secret of any length (HKDF-SHA256).

    Keys for different purposes are independent, so one secret can safely seal cookies, seal
    stored data and hash session ids.
    """
    return HKDF(
        algorithm=hashes.SHA256(), length=length, salt=_SALT, info=purpose.encode("utf-8")
    ).derive(secret)


class KeyedHash:
    """HMAC with one fixed key, precomputed: ``KeyedHash(key)(message) == hmac.digest(...)``.

    ``hmac.digest`` sets the key up again on every call, which costs OpenSSL 3 several
    microseconds; here the inner and outer padded-key states are hashed once and copied per
    message (RFC 2104: H((key ^ opad) || H((key ^ ipad) || msg)), the key hashed first if it is
    longer than a block), about three times faster on paths that hash every request.

    Args:
        key: the HMAC key.
        digest: a :mod:`hashlib` name or constructor.
    """

    __slots__ = ("_inner", "_outer")

    def __init__(self, key: bytes, digest: str | Callable[..., Any] = "sha256") -> None:
        def new() -> Any:
            return hashlib.new(digest) if isinstance(digest, str) else digest()

        probe = new()
        block = int(probe.block_size)
        if len(key) > block:
            probe.update(key)
            key = probe.digest()
        key = key.ljust(block, b"\0")
        self._inner, self._outer = new(), new()
        self._inner.update(key.translate(_IPAD))
        self._outer.update(key.translate(_OPAD))

    def __call__(self, message: bytes) -> bytes:
        inner = self._inner.copy()
        inner.update(message)
        outer = self._outer.copy()
        outer.update(inner.digest())
        return outer.digest()  # type: ignore[no-any-return]


_IPAD = bytes(b ^ 0x36 for b in range(256))
_OPAD = bytes(b ^ 0x5C for b in range(256))
