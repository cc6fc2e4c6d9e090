"""The sealed cookie: websession's default wire format.

One AEAD pass of AES-256-GCM-SIV (nonce-misuse resistant) over the serialized value, in a
versioned envelope::

    envelope = header || nonce (12) || ciphertext || tag (16)
    header   = version (1) || key id (4) || issued at (5, big-endian Unix seconds)
    AAD      = header || cookie name
    text     = base64url(envelope), unpadded

The key id names which secret sealed the value, so decoding tries one key, not all of them. The
cookie name and the issue time are authenticated (a value moved to another cookie, or with its
time changed, does not open). Payloads above ``compress_threshold`` bytes are zlib-compressed
when that makes them smaller (version byte 2); small ones never are.
"""

from __future__ import annotations

import binascii
import os
import sys
import time
import zlib
from binascii import a2b_base64, b2a_base64
from collections.abc import Callable
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCMSIV

from .._defaults import BROWSER_COOKIE_LIMIT, MAX_AGE
from ..errors import EncodeError, Expired, InvalidSignature, Malformed, TooLong
from ..serializers.base import Serializer
from ..serializers.msgpack import MsgpackSerializer
from ._b64 import _FROM_STD, _PADDING, _TO_STD_NOPAD, _a2b, b64decode_strict
from .base import Decoded
from .keys import SecretKeys, derive_key, normalize_secrets

__all__ = ["SealedCookie"]

_V_PLAIN = 1
_V_ZLIB = 2
_HEADER = 10
_NONCE = 12
_TAG = 16
_BODY = _HEADER + _NONCE
_MIN_ENVELOPE = _HEADER + _NONCE + _TAG
_V_PLAIN_BYTE = bytes((_V_PLAIN,))
_V_ZLIB_BYTE = bytes((_V_ZLIB,))
_PURPOSE = "sealed-cookie aes-256-gcm-siv v1"


class SealedCookie:
    """Encrypt and authenticate values for cookies with AES-256-GCM-SIV.

    Args:
        secret_keys: a secret (str or bytes, any length, at least 32 random bytes advised) or a
            list of them, newest first. The newest seals; all open. Keys are derived once, with
            HKDF, so secrets need no particular length or format.
        serializer: turns values into bytes; :class:`~websession.MsgpackSerializer` by default.
        max_age: the oldest value, in seconds, that opens; 0 disables the check.
        max_length: the longest text, checked on encode and decode; 0 means unlimited.
        clock: returns the current time in seconds since the epoch; :func:`time.time` by default.
        compress_threshold: serialized payloads longer than this many bytes are zlib-compressed
            when that makes them smaller.

    Raises:
        ValueError: no secret, or an empty one; a negative limit.
    """

    __slots__ = (
        "_aeads",
        "_by_id",
        "_clock",
        "_compress_threshold",
        "_header_ids",
        "max_age",
        "max_length",
        "serializer",
    )

    def __init__(
        self,
        secret_keys: SecretKeys,
        *,
        serializer: Serializer | None = None,
        max_age: int = MAX_AGE,
        max_length: int = BROWSER_COOKIE_LIMIT,
        clock: Callable[[], float] | None = None,
        compress_threshold: int = 1024,
    ) -> None:
        secrets = normalize_secrets(secret_keys)
        if max_length < 0 or max_age < 0:
            raise ValueError("max_age and max_length must not be negative")
        self._aeads: list[AESGCMSIV] = []
        self._header_ids: list[bytes] = []
        self._by_id: dict[bytes, list[int]] = {}
        for index, secret in enumerate(secrets):
            material = derive_key(secret, _PURPOSE, 36)
            key_id = material[32:]
            self._aeads.append(AESGCMSIV(material[:32]))
            self._header_ids.append(key_id)
            self._by_id.setdefault(key_id, []).append(index)
        self.serializer: Serializer = serializer if serializer is not None else MsgpackSerializer()
        self.max_age = max_age
        self.max_length = max_length
        self._clock = clock if clock is not None else time.time
        self._compress_threshold = compress_threshold

    @property
    def key_count(self) -> int:
        """How many keys this codec opens with, the newest (the one that encodes) first."""
        return len(self._aeads)

    def key_id(self, index: int = 0) -> str:
        """The public id (hex) of the key at ``index`` (0: the newest), as cookies carry it."""
        return self._header_ids[index].hex()

    def encode(self, name: str, value: Any) -> str:
        """Return ``value`` sealed for the cookie ``name``.

        Raises:
            EncodeError: the serializer cannot encode the value, or the text is longer than
                ``max_length``.
        """
        return self.seal(name, self.serializer.serialize(value))

    def seal(self, name: str, data: bytes, *, issued_at: int | None = None) -> str:
        """Seal bytes that are already serialized (see :meth:`encode`)."""
        envelope = self.seal_envelope(name, data, issued_at=issued_at)
        # b64encode(..., pad=False), inlined: one call less on the hot path
        out = b2a_base64(envelope, newline=False).translate(_FROM_STD).rstrip(b"=")
        if self.max_length and len(out) > self.max_length:
            raise EncodeError(
                f"sealed value is too long: {len(out)} characters (max_length {self.max_length})"
            )
        return out.decode("ascii")

    def seal_envelope(self, name: str, data: bytes, *, issued_at: int | None = None) -> bytes:
        """Seal serialized bytes into the raw envelope (no base64: for stores that keep bytes).

        ``max_length`` does not apply: it limits cookie text.
        """
        version = _V_PLAIN_BYTE
        if len(data) > self._compress_threshold:
            packed = zlib.compress(data, 6)
            if len(packed) < len(data):
                data, version = packed, _V_ZLIB_BYTE
        ts = int(self._clock()) if issued_at is None else issued_at
        if not 0 <= ts < 1 << 40:
            raise EncodeError(f"issue time {ts} is out of range")
        header = version + self._header_ids[0] + ts.to_bytes(5, "big")
        nonce = os.urandom(_NONCE)
        sealed = self._aeads[0].encrypt(nonce, data, header + name.encode("utf-8", "surrogatepass"))
        return header + nonce + sealed

    def decode(self, name: str, text: str) -> Any:
        """Return the value ``text`` holds for the cookie ``name``.

        Raises:
            TooLong, Malformed, InvalidSignature, Expired: why the text cannot be trusted.
        """
        return self.serializer.deserialize(self.unseal(name, text)[0])

    def decode_details(self, name: str, text: str) -> Decoded:
        """Like :meth:`decode`, and also which key opened the value, when it was issued and
        whether it is stale (opened by an older key: re-seal it on the next save).

        Raises:
            DecodeError: the value is not to be trusted (its subclass says why).
        """
        data, issued_at, index = self.unseal(name, text)
        return Decoded(self.serializer.deserialize(data), issued_at, index)

    def unseal(self, name: str, text: str) -> tuple[bytes, int, int]:
        """Open ``text`` and return (serialized bytes, issue time, key index)."""
        if type(text) is str:
            if self.max_length and len(text) > self.max_length:
                raise TooLong(f"sealed value is too long: {len(text)} characters")
            raw = text.encode("ascii", "replace")  # "?" is not base64: a non-ASCII text fails
            tail = _PADDING[len(raw) & 3]
            if tail is None:
                raise Malformed("sealed value is not base64url: invalid length")
            try:  # b64decode_strict(raw, pad=False), inlined: calls are the cost here
                if sys.version_info >= (3, 11):  # binascii's strict_mode (mypy reads this check)
                    env = a2b_base64(raw.translate(_TO_STD_NOPAD) + tail, strict_mode=True)
                else:  # pragma: no cover - Python 3.10
                    env = _a2b(raw.translate(_TO_STD_NOPAD) + tail)
            except binascii.Error as exc:
                raise Malformed(f"sealed value is not base64url: {exc}") from exc
        else:
            env = self._decode_other(text)
        return self.open_envelope(name, env)

    def open_envelope(self, name: str, env: bytes) -> tuple[bytes, int, int]:
        """Open a raw envelope (see :meth:`seal_envelope`): (serialized bytes, issue time, key).

        Raises:
            Malformed, InvalidSignature, Expired: why the envelope cannot be trusted.
        """
        if len(env) < _MIN_ENVELOPE:
            raise Malformed("sealed value is too short")
        version = env[0]
        if version != _V_PLAIN and version != _V_ZLIB:
            raise Malformed(f"unknown sealed format version {version}")
        indexes = self._by_id.get(env[1:5])
        if indexes is None:
            raise InvalidSignature("sealed with a key this codec does not hold (unknown key id)")
        aad = env[:_HEADER] + name.encode("utf-8", "surrogatepass")
        nonce = env[_HEADER:_BODY]
        body = env[_BODY:]
        for index in indexes:
            try:
                data = self._aeads[index].decrypt(nonce, body, aad)
                break
            except InvalidTag:
                continue
        else:
            raise InvalidSignature(
                "the value is not valid (tampered, renamed, or sealed with another key)"
            )
        issued_at = int.from_bytes(env[5:_HEADER], "big")
        if self.max_age and issued_at < int(self._clock()) - self.max_age:
            raise Expired(f"expired: issued at {issued_at}, max_age {self.max_age}")
        if version == _V_ZLIB:
            try:
                dec = zlib.decompressobj()
                data = dec.decompress(data, 1 << 20)
                if dec.unconsumed_tail or not dec.eof:
                    raise Malformed("sealed value decompresses to more than 1 MiB or is truncated")
            except zlib.error as exc:
                raise Malformed(f"sealed value does not decompress: {exc}") from exc
        return data, issued_at, index

    def _decode_other(self, text: Any) -> bytes:
        """The slow path of :meth:`unseal` for bytes (and a clear error for anything else)."""
        if not isinstance(text, (str, bytes)):
            raise Malformed("sealed value is not a string")
        if self.max_length and len(text) > self.max_length:
            raise TooLong(f"sealed value is too long: {len(text)} characters")
        try:
            return b64decode_strict(
                text.encode("ascii") if isinstance(text, str) else text, pad=False
            )
        except (UnicodeEncodeError, binascii.Error) as exc:
            raise Malformed(f"sealed value is not base64url: {exc}") from exc

    def __repr__(self) -> str:
        return f"<SealedCookie AES-256-GCM-SIV, {len(self._aeads)} key(s), newest {self.key_id()}>"
