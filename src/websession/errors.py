"""Every error websession raises on purpose.

Decoding never trusts its input: each reason to distrust a cookie is a subclass of
:class:`DecodeError` (itself a :class:`ValueError`), named after gorilla/securecookie's reasons so
that logs read the same in Go and Python services. Encoding failures are :class:`EncodeError`.
"""

from __future__ import annotations

from collections.abc import Sequence

__all__ = [
    "AbsoluteTimeout",
    "ConflictError",
    "DecodeError",
    "EncodeError",
    "Expired",
    "IdleTimeout",
    "InvalidSignature",
    "Malformed",
    "Revoked",
    "SaveError",
    "SessionNotFound",
    "StoreUnavailable",
    "TooLong",
    "TooNew",
    "WebsessionError",
]


class WebsessionError(Exception):
    """Base of every error websession raises on purpose."""


class DecodeError(WebsessionError, ValueError):
    """A value could not be trusted: base of every decoding failure.

    ``errors`` holds every codec's own error when several codecs were tried
    (:func:`websession.decode_multi`); the exception itself carries the first codec's reason.
    """

    #: gorilla/securecookie's text for this reason (``"securecookie: ..."``).
    go_message = "securecookie: error"

    def __init__(self, message: str | None = None, *, errors: Sequence[DecodeError] = ()) -> None:
        super().__init__(message if message is not None else self.go_message)
        self.errors: tuple[DecodeError, ...] = tuple(errors)

    @property
    def reason(self) -> str:
        """A short machine-readable reason: ``invalid_signature``, ``expired``, ..."""
        return _REASONS.get(type(self), "decode_error")


class InvalidSignature(DecodeError):
    """Bad MAC or AEAD tag: tampered, renamed, or made with a key we do not hold."""

    go_message = "securecookie: the value is not valid"


class Expired(DecodeError):
    """The value was issued longer ago than ``max_age`` allows."""

    go_message = "securecookie: expired timestamp"


class TooNew(DecodeError):
    """The value was issued more recently than ``min_age`` allows."""

    go_message = "securecookie: timestamp is too new"


class TooLong(DecodeError):
    """The encoded value is longer than ``max_length``."""

    go_message = "securecookie: the value is too long"


class Malformed(DecodeError):
    """Bad base64, bad structure, bad timestamp, undecryptable or undeserializable payload."""

    go_message = "securecookie: the value could not be decoded"


class IdleTimeout(Expired):
    """The session was last saved longer ago than its store's ``idle_timeout`` allows."""

    go_message = "sessions: the session was idle too long"


class AbsoluteTimeout(Expired):
    """The session was created longer ago than its store's ``absolute_timeout`` allows."""

    go_message = "sessions: the session is too old"


class SessionNotFound(DecodeError):
    """The cookie was valid but its server-side record is gone (expired, deleted, purged)."""

    go_message = "sessions: the session does not exist"


class Revoked(DecodeError):
    """The cookie was valid but its session was revoked (log out, or log out everywhere)."""

    go_message = "sessions: the session was revoked"


_REASONS: dict[type[DecodeError], str] = {
    SessionNotFound: "not_found",
    Revoked: "revoked",
    InvalidSignature: "invalid_signature",
    Expired: "expired",
    IdleTimeout: "idle_timeout",
    AbsoluteTimeout: "absolute_timeout",
    TooNew: "too_new",
    TooLong: "too_long",
    Malformed: "malformed",
}


class EncodeError(WebsessionError, ValueError):
    """A value could not be encoded: unserializable, or longer than ``max_length``."""


class StoreUnavailable(WebsessionError):
    """A server-side store could not reach its database (connection refused, timed out, ...)."""


class ConflictError(WebsessionError):
    """Optimistic concurrency: the session changed (or was deleted) since it was loaded."""


class SaveError(WebsessionError):
    """Saving several sessions (a registry's ``save_all``) failed for some of them.

    The others were saved: ``headers`` holds their Set-Cookie values, ``errors`` maps each
    failed session's name to its exception.
    """

    def __init__(self, errors: dict[str, BaseException], headers: Sequence[str]) -> None:
        names = ", ".join(repr(n) for n in errors)
        first = next(iter(errors.values()))
        super().__init__(f"could not save session(s) {names}: {first}")
        self.errors = errors
        self.headers = list(headers)
