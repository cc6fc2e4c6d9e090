"""The codec protocol, decoding details, and trying several codecs in turn (key rotation)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple, Protocol, runtime_checkable

from ..errors import DecodeError, EncodeError

__all__ = ["Codec", "Decoded", "decode_details_multi", "decode_multi", "encode_multi"]


class Decoded(NamedTuple):
    """What decoding a value found out besides the value itself."""

    #: the decoded value
    value: Any
    #: when the value was issued (seconds since the epoch), as authenticated by the codec
    issued_at: int
    #: which key opened it: 0 is the newest (the one that encodes), higher is older
    key_index: int = 0

    @property
    def stale(self) -> bool:
        """True when an older key opened the value: save it again to re-seal with the newest."""
        return self.key_index > 0


@runtime_checkable
class Codec(Protocol):
    """Turns a named value into cookie-safe text and back.

    ``decode`` raises a :class:`~websession.DecodeError` subclass for every input it cannot
    trust, and nothing else. ``name`` is authenticated: a value only decodes under the name it
    was encoded with.
    """

    def encode(self, name: str, value: Any) -> str:
        """Return ``value`` sealed for the cookie ``name``."""
        ...

    def decode(self, name: str, text: str) -> Any:
        """Return the value that ``text`` holds, if it can be trusted."""
        ...

    def decode_details(self, name: str, text: str) -> Decoded:
        """Like :meth:`decode`, with the issue time and which key opened it."""
        ...

    @property
    def key_count(self) -> int:
        """How many keys this codec tries when decoding."""
        ...


def encode_multi(name: str, value: Any, codecs: Sequence[Codec]) -> str:
    """Encode with the first codec that succeeds (normally the first: the newest key).

    Raises:
        ValueError: no codecs were given.
        EncodeError: every codec failed; the first codec's error, with all of them in ``errors``.
    """
    if not codecs:
        raise ValueError("securecookie: no codecs provided")
    errors: list[EncodeError] = []
    for codec in codecs:
        try:
            return codec.encode(name, value)
        except EncodeError as exc:
            errors.append(exc)
    first = errors[0]
    raise type(first)(str(first)) from first


def decode_multi(name: str, text: str, codecs: Sequence[Codec]) -> Any:
    """Decode with each codec in turn; the first that succeeds wins.

    Raises:
        ValueError: no codecs were given.
        DecodeError: every codec failed. The exception is of the first codec's class and
            message, and ``errors`` holds every codec's error in order.
    """
    return decode_details_multi(name, text, codecs).value


def decode_details_multi(name: str, text: str, codecs: Sequence[Codec]) -> Decoded:
    """:func:`decode_multi` that also says when the value was issued and which key opened it.

    ``key_index`` counts keys across all codecs, so anything above 0 means "not the newest key".
    """
    if not codecs:
        raise ValueError("securecookie: no codecs provided")
    if len(codecs) == 1:
        try:
            return codecs[0].decode_details(name, text)
        except DecodeError as exc:
            if not exc.errors:
                exc.errors = (exc,)
            raise
    errors: list[DecodeError] = []
    offset = 0
    for codec in codecs:
        try:
            found = codec.decode_details(name, text)
        except DecodeError as exc:
            errors.append(exc)
        else:
            return found._replace(key_index=found.key_index + offset) if offset else found
        offset += codec.key_count
    first = errors[0]
    raise type(first)(str(first), errors=errors) from first
