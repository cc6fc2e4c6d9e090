"""Registry: the sessions of one request, from any stores, saved together."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence

from .cookies import (
    cookie_candidates,
    format_set_cookie,
    parse_cookie_header,
    validate_cookie_name,
)
from .errors import SaveError
from .legacy._base import LegacyReader, aadopt, adopt
from .session import Session, SessionState
from .stores.base import Store

__all__ = ["Registry"]

log = logging.getLogger("websession")

CookieInput = Mapping[str, str] | Mapping[str, Sequence[str]] | str | bytes | None


class Registry:
    """The sessions of one request, cached by name, saved together.

    Args:
        cookies: the request's cookies: a ``Cookie`` header (str or bytes), or a mapping of
            name to value (or to a list of values, when a name was sent more than once; each
            distinct value is tried once, in turn, until one verifies; at most
            ``cookies.MAX_VALUES_PER_NAME`` (3) of them).

    A registry belongs to one request: make a new one per request and drop it afterwards. It
    holds no global state.
    """

    __slots__ = ("_cookies", "_replaced", "_sessions", "errors", "plain_http_host")

    def __init__(self, cookies: CookieInput = None) -> None:
        if cookies is None or isinstance(cookies, (str, bytes)):
            self._cookies = parse_cookie_header(cookies)
        else:
            self._cookies = {
                name: [value] if isinstance(value, str) else list(value)
                for name, value in cookies.items()
            }
        self._sessions: dict[str, Session] = {}
        #: session name -> the old library's cookie it was adopted from, deleted on save
        self._replaced: dict[str, str] = {}
        #: set by adapters when the request came over plain HTTP to a host other than
        #: localhost: a Secure cookie set then is never sent back (warned once per process)
        self.plain_http_host: str | None = None
        #: errors of the last :meth:`save_all`, by session name
        self.errors: dict[str, BaseException] = {}

    def __contains__(self, name: object) -> bool:
        return name in self._sessions

    def __iter__(self):  # type: ignore[no-untyped-def]
        return iter(self._sessions.values())

    @property
    def sessions(self) -> dict[str, Session]:
        """The sessions loaded so far, by name."""
        return self._sessions

    def cookie_values(self, name: str) -> list[str]:
        """Every value the request sent for the cookie ``name``."""
        return self._cookies.get(name, [])

    def legacy_sent(self, store: Store) -> list[LegacyReader]:
        """The store's legacy readers whose cookie this request carries (see :meth:`get`)."""
        readers: tuple[LegacyReader, ...] = getattr(store, "legacy", ())
        return [r for r in readers if r.cookie_name in self._cookies]

    def _cached(self, store: Store, name: str) -> Session | None:
        validate_cookie_name(name)
        session = self._sessions.get(name)
        if session is not None and session.store is not store:
            raise ValueError(
                f"session {name!r} was already loaded from another store in this request"
            )
        return session

    def get(self, store: Store, name: str) -> Session:
        """The session ``name`` from ``store``: loaded on first use, then cached.

        Never raises for a bad cookie (the session is new and ``rejected`` says why). When no
        cookie of ``store`` is valid, the store's ``legacy`` readers are tried on the request's
        cookies (see :mod:`websession.legacy`).

        Raises:
            ValueError: an invalid cookie name, or a name already loaded from another store.
        """
        session = self._cached(store, name)
        if session is not None:
            return session
        values: list[str | None] = [*cookie_candidates(name, self._cookies.get(name, ()))]
        for value in values or [None]:
            session = store.new(name, value)
            if not session.is_new:
                break
        assert session is not None
        readers = getattr(store, "legacy", ())
        if readers and session.is_new:
            old = adopt(session, readers, self._cookies)
            if old is not None:
                self._replaced[name] = old
        self._sessions[name] = session
        return session

    async def aget(self, store: Store, name: str) -> Session:
        """Async twin of :meth:`get`."""
        session = self._cached(store, name)
        if session is not None:
            return session
        values: list[str | None] = [*cookie_candidates(name, self._cookies.get(name, ()))]
        for value in values or [None]:
            session = await store.anew(name, value)
            if not session.is_new:
                break
        assert session is not None
        readers = getattr(store, "legacy", ())
        if readers and session.is_new:
            old = await aadopt(session, readers, self._cookies)
            if old is not None:
                self._replaced[name] = old
        self._sessions[name] = session
        return session

    def pending(self) -> list[Session]:
        """The sessions a save would write or delete (modified, invalidated, or stale)."""
        return [s for s in self._sessions.values() if s.state is not SessionState.CLEAN]

    def _drop_replaced(self, session: Session, headers: list[str]) -> None:
        """Delete the old library's cookie once its session is saved in websession's format."""
        old = self._replaced.pop(session.name, None)
        if old is not None:
            options = session.options.copy(max_age=-1)
            headers.append(format_set_cookie(old, "", options))

    def save_all(self) -> list[str]:
        """Save every modified session; return their Set-Cookie header values.

        One failing store does not stop the others: every session is attempted, and then a
        :class:`~websession.SaveError` carries the failures and the headers of those saved.
        """
        headers: list[str] = []
        self.errors = {}
        for session in self.pending():
            try:
                assert session.store is not None
                headers.append(session.store.save(session))
                self._drop_replaced(session, headers)
            except Exception as exc:  # collected and re-raised below
                self.errors[session.name] = exc
        if self.plain_http_host is not None:
            _check_secure_over_http(self.plain_http_host, headers)
        if self.errors:
            raise SaveError(self.errors, headers)
        return headers

    async def asave_all(self) -> list[str]:
        """Async twin of :meth:`save_all`."""
        headers: list[str] = []
        self.errors = {}
        for session in self.pending():
            try:
                assert session.store is not None
                headers.append(await session.store.asave(session))
                self._drop_replaced(session, headers)
            except Exception as exc:  # collected and re-raised below
                self.errors[session.name] = exc
        if self.plain_http_host is not None:
            _check_secure_over_http(self.plain_http_host, headers)
        if self.errors:
            raise SaveError(self.errors, headers)
        return headers


_warned_secure_over_http = False


def _check_secure_over_http(host: str, headers: list[str]) -> None:
    """One WARNING per process when a Secure cookie is set on a plain-HTTP request.

    The browser keeps the cookie but never sends it back over HTTP, so every request starts a
    new session, silently: the most common "sessions do not work" report.
    """
    global _warned_secure_over_http
    if _warned_secure_over_http:
        return
    for header in headers:
        if "; Secure" in header:
            _warned_secure_over_http = True
            log.warning(
                "websession: the cookie %r is Secure but was set on a plain-HTTP request to %s: "
                "browsers never send it back over HTTP, so each request starts a new session. "
                "Serve over HTTPS (behind a TLS proxy: make the server trust its "
                "X-Forwarded-Proto), or use CookieOptions(secure=False) in development "
                "(logged once per process)",
                header.partition("=")[0],
                host,
            )
            return
