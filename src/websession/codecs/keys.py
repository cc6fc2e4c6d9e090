"""Secrets and keys: random keys, normalising user secrets, deriving purpose-bound keys."""

from __future__ import annotations

import hmac
import logging
import os
from collections.abc import Callable, Sequence
from typing import Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

__all__ = [
    "MIN_SECRET_BYTES",
    "InsecureSecret",
    "KeyedHash",
    "SecretKeys",
    "WeakSecretWarning",
    "derive_key",
    "framework_secret",
    "generate_random_key",
    "normalize_secrets",
    "weak_secret_reason",
]

#: A secret as users write it, or a list of them, newest first.
SecretKeys = str | bytes | Sequence[str | bytes]

_SALT = b"websession/v1"
log = logging.getLogger("websession")

#: The shortest secret accepted without :class:`InsecureSecret`: 32 bytes, as many as the AES-256
#: and HMAC-SHA256 keys derived from it. ``websession keygen`` prints 32 random bytes (43 chars).
MIN_SECRET_BYTES = 32
#: Fewer distinct bytes than this marks a secret as a pattern, not randomness: a random
#: 32-character hex key (16 symbols, the worst common case) has fewer than 8 with probability
#: 3.5e-8; base64 keys have far more.
_MIN_DISTINCT = 8
_KEYGEN_HINT = "`websession keygen` prints a strong one"


class WeakSecretWarning(UserWarning):
    """A key that is accepted, but weaker than advised (gorilla hash keys under 32 bytes)."""


class InsecureSecret(bytes):
    """A secret that is known to be weak and accepted anyway: for tests and demos only.

    Stores and codecs refuse secrets shorter than 32 bytes or with few distinct bytes (one
    captured cookie lets a word list find such a secret offline, then forge any session).
    Wrapping one says it is deliberate: ``CookieStore(InsecureSecret("test"))``. A ``str`` is
    encoded as UTF-8. The value never appears in ``repr``.
    """

    def __new__(cls, secret: str | bytes) -> InsecureSecret:
        if isinstance(secret, str):
            return super().__new__(cls, secret.encode("utf-8"))
        if isinstance(secret, (bytes, bytearray, memoryview)):
            return super().__new__(cls, bytes(secret))
        raise TypeError(f"InsecureSecret takes a str or bytes secret, not {type(secret).__name__}")

    def __repr__(self) -> str:
        return f"InsecureSecret(<{len(self)} bytes>)"


def weak_secret_reason(secret: str | bytes) -> str | None:
    """Why ``secret`` is too weak to seal sessions with, or None if it is not obviously weak.

    Weak: shorter than :data:`MIN_SECRET_BYTES`, fewer than 8 distinct bytes, or one short
    piece repeated (``"changeme" * 4``). This cannot prove a secret strong (a long English
    sentence passes); it catches the secrets people type. An :class:`InsecureSecret` is judged
    like any other: callers decide whether to accept it.
    """
    raw = secret.encode("utf-8") if isinstance(secret, str) else bytes(secret)
    if len(raw) < MIN_SECRET_BYTES:
        return f"{len(raw)} byte{'s' * (len(raw) != 1)}, shorter than {MIN_SECRET_BYTES}"
    distinct = len(set(raw))
    if distinct < _MIN_DISTINCT:
        return f"only {distinct} distinct byte{'s' * (distinct != 1)}"
    # a period p repeats if raw equals itself shifted by p; p <= len/2 covers "x" * n, "ab" * n
    for period in range(1, len(raw) // 2 + 1):
        if len(raw) % period == 0 and raw[:period] * (len(raw) // period) == raw:
            return f"one {period}-byte piece repeated"
    return None


def framework_secret(secret: str | bytes, where: str) -> bytes:
    """Accept a framework's existing secret (``app.secret_key``), logging a WARNING if weak.

    The drop-in adapters replace libraries that accepted any secret, so refusing one there
    would break a working application on upgrade; instead the weak secret is wrapped in
    :class:`InsecureSecret` and the ``websession`` logger says why (never the secret itself).

    Args:
        secret: the framework's secret, str or bytes.
        where: names the setting in the message, e.g. ``"Flask's app.secret_key"``.
    """
    raw = _secret_bytes(secret, where)
    reason = None if isinstance(raw, InsecureSecret) else weak_secret_reason(raw)
    if reason is None:
        return raw
    log.warning(
        "%s is weak (%s): anyone holding one cookie can guess it offline and forge sessions; "
        "replace it (%s)",
        where,
        reason,
        _KEYGEN_HINT,
    )
    return InsecureSecret(raw)


def _secret_bytes(item: object, what: str) -> bytes:
    if isinstance(item, InsecureSecret):
        return item
    if isinstance(item, str):
        return item.encode("utf-8")
    if isinstance(item, (bytes, bytearray, memoryview)):
        return bytes(item)
    raise TypeError(f"{what} is {type(item).__name__}; a secret is a str or bytes")


def generate_random_key(length: int = 32) -> bytes:
    """Return ``length`` random bytes from the OS's CSPRNG.

    Unlike gorilla's ``GenerateRandomKey`` this never returns an empty or ``None`` key on failure:
    :func:`os.urandom` raises.
    """
    if length < 0:
        raise ValueError("length must not be negative")
    return os.urandom(length)


def normalize_secrets(secret_keys: SecretKeys | None) -> list[bytes]:
    """Return the secrets as a non-empty list of strong bytes secrets, newest first.

    Raises:
        ValueError: no secret, an empty one, or a weak one (see :func:`weak_secret_reason`)
            not wrapped in :class:`InsecureSecret`.
        TypeError: secret_keys is neither a secret nor a list of them.
    """
    if secret_keys is None:
        raise ValueError("secret_keys is required: a str, bytes, or a list of them, newest first")
    if isinstance(secret_keys, (str, bytes, bytearray, memoryview)):
        items: list[object] = [secret_keys]
    elif isinstance(secret_keys, Sequence):
        items = list(secret_keys)
    else:
        raise TypeError(
            f"secret_keys is {type(secret_keys).__name__}; it takes a secret (str or bytes) or a "
            f"list of them, newest first ({_KEYGEN_HINT})"
        )
    if not items:
        raise ValueError("secret_keys is empty: give at least one secret")
    out: list[bytes] = []
    for i, item in enumerate(items):
        what = "secret_keys" if len(items) == 1 else f"secret_keys[{i}]"
        raw = _secret_bytes(item, what)
        if not raw:
            raise ValueError(f"{what} is empty; an empty secret protects nothing")
        if not isinstance(raw, InsecureSecret):
            reason = weak_secret_reason(raw)
            if reason is not None:
                raise ValueError(
                    f"{what} is too weak ({reason}): one captured cookie lets a word list find "
                    f"it offline and forge sessions. Use {MIN_SECRET_BYTES} random bytes "
                    f"({_KEYGEN_HINT}), or wrap it in websession.InsecureSecret(...) in tests"
                )
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
    """HMAC with one fixed key, set up once: ``KeyedHash(key)(message) == hmac.digest(...)``.

    ``hmac.digest`` sets the key up again on every call; here :func:`hmac.new` does it once and
    each message gets a ``copy()`` of that state. Hashing the padded keys by hand (RFC 2104), as
    this class once did, saves about 0.7 µs per message (0.80 vs 1.52 µs, SHA-256): 4% of a
    gorilla-compatible SecureCookie round trip (21.9 vs 22.8 µs, JSON + AES-256, two MACs), and
    nothing on a sealed server-side store's usual request, which hashes a session id only the
    first time it sees its cookie. A request costs 250-450 µs of server CPU (``make
    bench-http``), so that is well under 1% of requests per second, far below issue 11's 5% bar:
    the standard library's HMAC it is.

    Args:
        key: the HMAC key.
        digest: a :mod:`hashlib` name or constructor.
    """

    __slots__ = ("_mac",)

    def __init__(self, key: bytes, digest: str | Callable[..., Any] = "sha256") -> None:
        self._mac = hmac.new(key, digestmod=digest)

    def __call__(self, message: bytes) -> bytes:
        mac = self._mac.copy()
        mac.update(message)
        return mac.digest()
