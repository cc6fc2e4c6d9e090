"""gorilla/securecookie, byte for byte.

Wire format (gorilla ``securecookie.go``, v1.1.2)::

    b   = serialize(value)
    b   = IV || AES-CTR(block_key, IV, b)             # only with a block key; IV random, 16 bytes
    v   = base64url_padded(b)
    mac = HMAC(hash, hash_key, name "|" ts "|" v)      # ts: decimal Unix seconds
    out = base64url_padded(ts "|" v "|" mac)

Decoding checks in gorilla's order: length, base64, structure, MAC (constant time), timestamp
syntax, ``min_age``, ``max_age``, inner base64, decryption, deserialization. The MAC is checked
before the timestamp, so a forged and expired value reports :class:`InvalidSignature`.

Where we differ from gorilla on purpose: configuration errors raise at construction (gorilla
returns them on first use); "too long" is a typed error; the caller's buffer is never encrypted
in place; the base64 decoder is strict.
"""

from __future__ import annotations

import binascii
import hashlib
import hmac
import os
import re
import time
import warnings
from collections.abc import Callable
from functools import lru_cache
from typing import Any

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from .._defaults import BROWSER_COOKIE_LIMIT, MAX_AGE
from ..errors import EncodeError, Expired, InvalidSignature, Malformed, TooLong, TooNew
from ..serializers.base import Serializer
from ..serializers.msgpack import MsgpackSerializer
from ._b64 import b64decode_strict, b64encode
from .base import Decoded
from .keys import (
    InsecureSecret,
    KeyedHash,
    WeakSecretWarning,
    _secret_bytes,
    weak_secret_reason,
)

__all__ = ["SecureCookie", "codecs_from_pairs"]

HashSpec = str | Callable[..., Any]

_TIMESTAMP = re.compile(rb"[+-]?[0-9]+")
_INT64_MIN, _INT64_MAX = -(1 << 63), (1 << 63) - 1
_DROP_NEWLINES = b"\r\n"  # Go's base64 decoder skips these; mirror it
_BLOCK = 16
_COUNTER_SPACE = 1 << 128
_FAST_BLOCKS = 256  # up to 4 KiB (any cookie) the cached keystream path; above, a CTR context


@lru_cache(maxsize=64)  # a few cookie sizes recur; at most ~0.5 MB
def _counter_terms(blocks: int) -> tuple[int, int]:
    """(R, S) such that ``(c * R + S).to_bytes(16 * blocks)`` is the counter blocks c, c+1, ...

    R repeats the 128-bit value 1 ``blocks`` times and S lays 0, 1, 2, ... side by side, so one
    big-integer multiply-add builds every counter block at once (valid while c + blocks - 1 does
    not wrap past 2**128).
    """
    one = (1).to_bytes(_BLOCK, "big")
    r = int.from_bytes(one * blocks, "big")
    s = int.from_bytes(b"".join(i.to_bytes(_BLOCK, "big") for i in range(blocks)), "big")
    return r, s


def _resolve_hash(hash: HashSpec) -> tuple[str | Callable[..., Any], int]:
    """Return the hash as a hashlib name when possible (else the constructor) and its size."""
    if isinstance(hash, str):
        try:
            size = hashlib.new(hash).digest_size
        except (ValueError, TypeError) as exc:
            raise ValueError(f"unknown hash {hash!r}: {exc}") from exc
        if not size:
            raise ValueError(f"hash {hash!r} has no fixed digest size; HMAC needs one")
        return hash, size
    if not callable(hash):
        raise TypeError("hash must be a hashlib name or constructor")
    try:
        probe = hash()
        size = int(probe.digest_size)
    except Exception as exc:
        raise TypeError(f"hash must be a hashlib name or constructor: {exc}") from exc
    if not size:
        raise ValueError("the hash has no fixed digest size; HMAC needs one")
    name = getattr(probe, "name", None)
    if isinstance(name, str):
        try:
            if hashlib.new(name).digest_size == size:
                return name, size
        except ValueError:
            pass
    return hash, size


class SecureCookie:
    """A gorilla/securecookie codec: HMAC-signed, optionally AES-CTR encrypted values.

    Args:
        hash_key: the HMAC key, any non-empty length (32 or 64 bytes recommended; a shorter or
            patterned key warns with :class:`~websession.codecs.keys.WeakSecretWarning` unless
            wrapped in :class:`~websession.InsecureSecret`). A ``str`` is encoded as UTF-8.
        block_key: the AES key, 16, 24 or 32 bytes (AES-128/192/256), or None to sign only.
        hash: a :mod:`hashlib` name (``"sha256"``, the default) or a constructor such as
            ``hashlib.sha512``.
        serializer: turns values into bytes; :class:`~websession.MsgpackSerializer` by default.
            Use :class:`~websession.GobSerializer` or :class:`~websession.JSONSerializer` to
            share cookies with Go services.
        max_age: the oldest value, in seconds, that decodes; 0 disables the check.
        min_age: the youngest value, in seconds, that decodes; 0 disables the check.
        max_length: the longest encoded value, checked on encode and decode; 0 means unlimited.
        clock: returns the current time in seconds since the epoch; :func:`time.time` by default.

    Raises:
        ValueError: an empty hash key, a block key of the wrong length, an unknown hash, or a
            negative limit.
    """

    __slots__ = (
        "_block_key",
        "_clock",
        "_digest",
        "_ecb",
        "_hash_key",
        "_keyed_hash",
        "_mac_size",
        "max_age",
        "max_length",
        "min_age",
        "serializer",
    )

    def __init__(
        self,
        hash_key: str | bytes,
        block_key: str | bytes | None = None,
        *,
        hash: HashSpec = "sha256",  # the public name is fixed by the design
        serializer: Serializer | None = None,
        max_age: int = MAX_AGE,
        min_age: int = 0,
        max_length: int = BROWSER_COOKIE_LIMIT,
        clock: Callable[[], float] | None = None,
    ) -> None:
        key = _secret_bytes(hash_key, "hash_key") if hash_key is not None else b""
        if not key:
            raise ValueError("securecookie: hash key is not set")
        weak = None if isinstance(key, InsecureSecret) else weak_secret_reason(key)
        if weak is not None:
            # A warning, not an error: the key is often shared with a Go service that accepts
            # it, and gorilla itself only recommends 32 or 64 bytes. warnings (not the logger)
            # because this is a configuration fault seen once at start-up, where tests and
            # `python -W error` can catch it; InsecureSecret(key) silences it.
            warnings.warn(
                f"securecookie: the hash key is weak ({weak}); gorilla recommends 32 or 64 "
                "random bytes (`websession keygen --gorilla` prints a pair)",
                WeakSecretWarning,
                stacklevel=2 if type(self) is SecureCookie else 3,
            )
        self._hash_key = key
        self._block_key: bytes | None = None
        if block_key is not None:
            block = _secret_bytes(block_key, "block_key")
            if len(block) not in (16, 24, 32):
                raise ValueError(
                    f"securecookie: error - caused by: crypto/aes: invalid key size {len(block)} "
                    "(a block key is 16, 24 or 32 bytes)"
                )
            self._block_key = block
            self._ecb = Cipher(algorithms.AES(block), modes.ECB()).encryptor()  # noqa: S305
        self._digest, self._mac_size = _resolve_hash(hash)
        try:
            self._keyed_hash = KeyedHash(key, self._digest)
        except (AttributeError, TypeError) as exc:
            raise TypeError(f"hash must be a hashlib name or constructor: {exc}") from exc
        if max_length < 0 or min_age < 0:
            raise ValueError("max_length and min_age must not be negative")
        self.serializer: Serializer = serializer if serializer is not None else MsgpackSerializer()
        self.max_age = max_age
        self.min_age = min_age
        self.max_length = max_length
        self._clock = clock if clock is not None else time.time

    @property
    def key_count(self) -> int:
        """How many keys this codec opens with, the newest (the one that encodes) first."""
        return 1

    def _mac(self, name: bytes, signed: bytes) -> bytes:
        return self._keyed_hash(name + b"|" + signed)

    def _ctr(self, iv: bytes, data: bytes) -> bytes:
        """AES-CTR with the whole 16-byte IV as the initial counter (Go's ``cipher.NewCTR``).

        The keystream is AES-ECB over the counter blocks IV, IV+1, ... (big-endian, modulo
        2**128) from one cached ECB context: the same bytes as ``modes.CTR(iv)`` without
        building a new cipher context per call, which costs more than the encryption itself.
        """
        n = len(data)
        blocks = (n + _BLOCK - 1) // _BLOCK
        if blocks > _FAST_BLOCKS:  # large values: a context's set-up cost no longer matters
            assert self._block_key is not None
            ctx = Cipher(algorithms.AES(self._block_key), modes.CTR(iv)).encryptor()
            return ctx.update(data) + ctx.finalize()
        counter = int.from_bytes(iv, "big")
        if counter + blocks <= _COUNTER_SPACE:
            r, s = _counter_terms(blocks)
            counters = (counter * r + s).to_bytes(blocks * _BLOCK, "big")
        else:  # the counter wraps around 2**128 within this value
            counters = b"".join(
                ((counter + i) % _COUNTER_SPACE).to_bytes(_BLOCK, "big") for i in range(blocks)
            )
        stream = self._ecb.update(counters)
        return (int.from_bytes(data, "big") ^ int.from_bytes(stream[:n], "big")).to_bytes(n, "big")

    def encode(self, name: str, value: Any) -> str:
        """Return ``value`` signed (and encrypted, with a block key) for the cookie ``name``.

        Raises:
            EncodeError: the serializer cannot encode the value, or the result is longer than
                ``max_length``.
        """
        data = self.serializer.serialize(value)
        if self._block_key is not None:
            iv = os.urandom(16)
            data = iv + self._ctr(iv, data)  # a new buffer: the caller's is never touched
        signed = str(int(self._clock())).encode() + b"|" + b64encode(data)
        mac = self._mac(name.encode("utf-8", "surrogatepass"), signed)
        out = b64encode(signed + b"|" + mac)
        if self.max_length and len(out) > self.max_length:
            raise EncodeError(f"securecookie: the value is too long: {len(out)}")
        return out.decode("ascii")

    def decode(self, name: str, text: str) -> Any:
        """Return the value ``text`` holds for the cookie ``name``.

        Raises:
            TooLong, Malformed, InvalidSignature, TooNew, Expired: as gorilla, in its order.
        """
        return self.decode_details(name, text).value

    def decode_details(self, name: str, text: str) -> Decoded:
        """Like :meth:`decode`, and also which key opened the value, when it was issued and
        whether it is stale (opened by an older key: re-seal it on the next save).

        Raises:
            DecodeError: the value is not to be trusted (its subclass says why).
        """
        if not isinstance(text, (str, bytes)):
            raise Malformed("securecookie: the value is not a string")
        if self.max_length and len(text) > self.max_length:
            raise TooLong(f"securecookie: the value is too long: {len(text)}")
        try:
            raw = text.encode("ascii") if isinstance(text, str) else bytes(text)
            raw = b64decode_strict(raw.translate(None, _DROP_NEWLINES))
        except (UnicodeEncodeError, binascii.Error) as exc:
            raise Malformed(f"securecookie: base64 decode failed - caused by: {exc}") from exc
        parts = raw.split(b"|", 2)
        if len(parts) != 3:
            raise InvalidSignature()
        ts_raw, payload, mac = parts
        signed = raw[: len(raw) - len(mac) - 1]
        expected = self._mac(name.encode("utf-8", "surrogatepass"), signed)
        if not hmac.compare_digest(mac, expected):
            raise InvalidSignature()
        if not ts_raw.isdigit() and not _TIMESTAMP.fullmatch(ts_raw):  # isdigit: ASCII only
            raise Malformed("securecookie: invalid timestamp")
        ts = int(ts_raw)
        if not _INT64_MIN <= ts <= _INT64_MAX:
            raise Malformed("securecookie: invalid timestamp")
        now = int(self._clock())
        if self.min_age and ts > now - self.min_age:
            raise TooNew()
        if self.max_age and ts < now - self.max_age:
            raise Expired()
        try:
            data = b64decode_strict(payload)
        except binascii.Error as exc:
            raise Malformed(f"securecookie: base64 decode failed - caused by: {exc}") from exc
        if self._block_key is not None:
            if len(data) <= 16:
                raise Malformed("securecookie: the value could not be decrypted")
            data = self._ctr(data[:16], data[16:])
        try:
            value = self.serializer.deserialize(data)
        except Malformed as exc:
            raise Malformed(f"securecookie: error - caused by: {exc}") from exc
        return Decoded(value, ts, 0)

    def __repr__(self) -> str:
        enc = f"AES-{len(self._block_key) * 8}" if self._block_key else "no encryption"
        return f"<SecureCookie {self._digest if isinstance(self._digest, str) else 'hmac'}, {enc}>"


def codecs_from_pairs(*keys: str | bytes | None, **codec_options: Any) -> list[SecureCookie]:
    """Build one :class:`SecureCookie` per (hash key, block key) pair, newest pair first.

    ``codecs_from_pairs(hash1, block1, hash0, block0)`` as gorilla's ``CodecsFromPairs``: an odd
    final hash key gets no block key, and a ``None`` block key means signing only. Every codec
    gets ``codec_options`` (``serializer``, ``max_age``, ``hash``, ...).
    """
    if not keys:
        raise ValueError("securecookie: no codecs provided")
    codecs = []
    for i in range(0, len(keys), 2):
        hash_key = keys[i]
        if hash_key is None:
            raise ValueError(f"keys[{i}] is a hash key and cannot be None")
        block = keys[i + 1] if i + 1 < len(keys) else None
        codecs.append(SecureCookie(hash_key, block, **codec_options))
    return codecs
