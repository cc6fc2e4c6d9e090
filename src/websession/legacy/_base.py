"""What every legacy reader shares, and how a store's readers are tried on a request's cookies."""

from __future__ import annotations

import datetime as _dt
import logging
import time
from collections.abc import Hashable, Iterator, Mapping, Sequence
from typing import Any

from ..cookies import cookie_candidates
from ..errors import DecodeError, Expired, Malformed, StoreUnavailable
from ..session import Session

__all__ = ["LegacyReader", "aadopt", "adopt", "check_readers", "refuse_pickle"]

log = logging.getLogger("websession")

#: the request's cookies as the registry keeps them: every value sent for each name
Cookies = Mapping[str, Sequence[str]]


class LegacyReader:
    """Reads the sessions another library made, so switching to websession logs no one out.

    A reader only reads: websession never writes an old format. The session it recognises is
    loaded into a websession session marked modified, so the response re-seals it in
    websession's own format (and deletes the old cookie when its name differs).

    Args:
        cookie_name: the cookie the old library used.
        until: a :class:`datetime.date` or :class:`~datetime.datetime` after which the reader
            accepts nothing (a date means midnight UTC at its start; a naive datetime is UTC).
            Set it to the day the old path closes: a browser not seen by then starts anew.

    Subclasses implement :meth:`read` (and :meth:`aread` when reading needs I/O), raising a
    :class:`~websession.DecodeError` for anything they do not trust.
    """

    #: reading talks to a server (Redis, a database): the sync path blocks
    needs_io = False

    def __init__(self, *, cookie_name: str, until: _dt.date | None = None) -> None:
        if not cookie_name:
            raise ValueError("a legacy reader needs the old library's cookie name")
        self.cookie_name = cookie_name
        self.until = until
        self._until_ts = _timestamp(until) if until is not None else None

    def closed(self, now: float | None = None) -> bool:
        """True once ``until`` has passed: the reader accepts nothing any more."""
        if self._until_ts is None:
            return False
        return (time.time() if now is None else now) >= self._until_ts

    def read(self, value: str) -> dict[Hashable, Any]:
        """The session values the cookie ``value`` stands for; raise DecodeError if untrusted."""
        raise NotImplementedError

    async def aread(self, value: str) -> dict[Hashable, Any]:
        """Async twin of :meth:`read` (readers without I/O need not override it)."""
        return self.read(value)

    def __repr__(self) -> str:
        until = f" until={self.until.isoformat()}" if self.until is not None else ""
        return f"<{type(self).__name__} cookie={self.cookie_name!r}{until}>"


def _timestamp(until: _dt.date) -> float:
    if isinstance(until, _dt.datetime):
        moment = until if until.tzinfo is not None else until.replace(tzinfo=_dt.timezone.utc)
    elif isinstance(until, _dt.date):
        moment = _dt.datetime(until.year, until.month, until.day, tzinfo=_dt.timezone.utc)
    else:
        raise TypeError(f"until must be a date or a datetime, not {type(until).__name__}")
    return moment.timestamp()


def check_readers(readers: Sequence[Any] | None) -> tuple[LegacyReader, ...]:
    """A store's ``legacy=`` argument, checked: a sequence of readers (``()`` for none)."""
    if not readers:
        return ()
    if isinstance(readers, LegacyReader):
        readers = [readers]
    checked = tuple(readers)
    for reader in checked:
        if not isinstance(reader, LegacyReader):
            raise TypeError(
                f"legacy= takes readers from websession.legacy (FlaskCookie(...), ...), not "
                f"{type(reader).__name__}"
            )
    return checked


def refuse_pickle(data: bytes, what: str) -> None:
    """Raise Malformed (and log it) for bytes that only pickle could read: never unpickled."""
    # Pickle protocols 2 to 5 start with PROTO (0x80) and the protocol number; older ones with
    # an opcode such as '(' or '}' that neither JSON nor msgpack data can begin with here.
    if data[:1] == b"\x80" and data[1:2] in (b"\x02", b"\x03", b"\x04", b"\x05"):
        log.error(
            "websession: refused a legacy %s in pickle format: websession never unpickles "
            "(anyone able to write it could run code); the session starts anew",
            what,
        )
        raise Malformed(f"the legacy {what} is a pickle, which websession never loads")


def _recognised(session: Session, reader: LegacyReader, values: Any) -> str | None:
    if not isinstance(values, dict):
        raise Malformed(f"{type(reader).__name__}: the session is not a mapping")
    session.load(values, issued_at=None, stale=False)
    session.mark_modified()  # re-sealed in websession's format by this response
    log.info(
        "websession: adopted a %s session (cookie %r)", type(reader).__name__, reader.cookie_name
    )
    return reader.cookie_name if reader.cookie_name != session.name else None


def _rejected(session: Session, reader: LegacyReader, error: DecodeError) -> None:
    log.info(
        "websession: %s rejected the cookie %r: %s",
        type(reader).__name__,
        reader.cookie_name,
        error,
    )
    # The reader's reason explains more than the store's when both judged the same cookie.
    if session.rejected is None or reader.cookie_name == session.name:
        session.reject(error)


def _attempts(
    session: Session, readers: Sequence[LegacyReader], cookies: Cookies
) -> Iterator[tuple[LegacyReader, str]]:
    """Each (reader, cookie value) to try, in order; a closed reader's cookie is rejected."""
    for reader in readers:
        values = cookie_candidates(reader.cookie_name, cookies.get(reader.cookie_name, ()))
        if values and reader.closed():
            assert reader.until is not None
            since = reader.until.isoformat()
            _rejected(
                session,
                reader,
                Expired(f"{type(reader).__name__} accepts no sessions since {since} (until=)"),
            )
            continue
        for value in values:
            yield reader, value


def _failed(session: Session, reader: LegacyReader, exc: Exception) -> None:
    if isinstance(exc, StoreUnavailable):
        raise exc  # the old store is down: a 503, as for websession's own stores
    if not isinstance(exc, DecodeError):
        # The old library raised something other than its documented errors: the cookie is
        # untrusted input, so it is one more bad cookie, never a server error.
        log.warning("websession: %s failed on a cookie: %r", type(reader).__name__, exc)
        exc = Malformed(f"{type(reader).__name__} could not read the cookie: {exc}")
    assert isinstance(exc, DecodeError)
    _rejected(session, reader, exc)


def adopt(session: Session, readers: Sequence[LegacyReader], cookies: Cookies) -> str | None:
    """Try ``readers`` on ``cookies`` for the new ``session``; load the first recognised one.

    Returns the old cookie's name when it differs from the session's (the response deletes it),
    else None. Never raises for a bad cookie (the reason goes to ``session.rejected``); a reader
    whose server cannot be reached raises :class:`~websession.StoreUnavailable`.
    """
    for reader, value in _attempts(session, readers, cookies):
        try:
            return _recognised(session, reader, reader.read(value))
        except Exception as exc:
            _failed(session, reader, exc)
    return None


async def aadopt(session: Session, readers: Sequence[LegacyReader], cookies: Cookies) -> str | None:
    """Async twin of :func:`adopt`."""
    for reader, value in _attempts(session, readers, cookies):
        try:
            return _recognised(session, reader, await reader.aread(value))
        except Exception as exc:
            _failed(session, reader, exc)
    return None
