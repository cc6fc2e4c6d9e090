"""WSGI middleware: lazy sessions per request, saved when the response starts.

::

    from websession import CookieStore, get_session
    from websession.wsgi import SessionMiddleware

    def app(environ, start_response):
        session = get_session(environ)          # loaded on first use
        session["n"] = session.get("n", 0) + 1  # modified: saved with the response
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [str(session["n"]).encode()]

    app = SessionMiddleware(app, CookieStore(secret_keys=["..."]))

What the middleware does for each request:

- makes a :class:`~websession.Registry` from the ``Cookie`` header and puts it, the default store
  and the default name into the environ (``websession.registry``, ``websession.store``,
  ``websession.name``). Nothing is decoded or loaded until the application asks
  (:func:`websession.get_session`), and then only the sessions it asks for;
- when the application calls ``start_response``, saves the sessions that were modified (or
  invalidated, or need re-sealing under a newer key) and appends one ``Set-Cookie`` header per
  session. A session that was only read is not saved: no ``Set-Cookie``. Nothing is saved with
  a 5xx response unless ``save_on_error=True``. Changes made after ``start_response`` (in a
  streamed body) are not saved: the headers are already composed;
- adds ``Vary: Cookie`` when a session was read or saved, so shared caches do not serve one
  user's page to another (``vary=False`` to leave Vary alone);
- answers ``503 Service Unavailable`` with ``Retry-After: 1`` (not a 500) when a store cannot
  reach its database, whether loading (the application let :class:`~websession.StoreUnavailable`
  propagate) or saving (a :class:`~websession.SaveError` that contains one). The 503 carries the
  ``Set-Cookie`` headers of the sessions that *were* saved, so the browser's cookies match what
  the stores now hold. ``unavailable_status=None`` lets the errors propagate instead.

Other save errors (a cookie too big for browsers, an optimistic-concurrency conflict...) are
not hidden: the :class:`~websession.SaveError` propagates from ``start_response`` and the server
answers 500. The sessions that were saved before it stay saved; their cookies are not sent
(the response is an error), which for a new server-side session leaves a record that expires
by its TTL.

If the application already called ``start_response`` and then replaces the response with
``exc_info`` (PEP 3333's error path), the cookies of the sessions saved the first time are sent
again with the new headers (the stores already hold what they describe), and nothing is saved
twice. A 503 replacing a response whose headers were already sent is impossible: the server
re-raises the error, as PEP 3333 requires.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable, Iterable, Iterator
from types import TracebackType
from typing import Any, Protocol

from ._adapter import (
    NAME_KEY,
    REGISTRY_KEY,
    STORE_KEY,
    UNAVAILABLE_BODY,
    is_unavailable,
    merged_vary,
    plain_http_of,
    reason_phrase,
    refresh_sessions,
    should_save,
    vary_needed,
)
from .cookies import validate_cookie_name
from .errors import SaveError
from .registry import Registry
from .stores.base import Store

__all__ = ["SessionMiddleware"]

log = logging.getLogger("websession")

ExcInfo = tuple[type[BaseException], BaseException, TracebackType | None]
OptExcInfo = ExcInfo | tuple[None, None, None]
Headers = list[tuple[str, str]]
Write = Callable[[bytes], object]


class StartResponse(Protocol):
    def __call__(
        self, status: str, headers: Headers, exc_info: OptExcInfo | None = ..., /
    ) -> Write: ...


WSGIEnviron = dict[str, Any]
WSGIApplication = Callable[[WSGIEnviron, StartResponse], Iterable[bytes]]


class SessionMiddleware:
    """Sessions for a WSGI application (see the module documentation).

    Args:
        app: the WSGI application.
        store: the default store (:func:`websession.get_session` uses it when given none).
        name: the default session's cookie name.
        save_on_error: save modified sessions with 5xx responses too.
        unavailable_status: the status answered when a store is unreachable (503), or None to
            let :class:`~websession.StoreUnavailable` propagate.
        vary: add ``Vary: Cookie`` to responses that read or saved a session.
        refresh_each_request: re-issue the cookie of a persistent session on every request
            that carries it (the default session is then loaded even if the application does
            not ask for it), so its ``Max-Age`` slides: sessions end after ``max_age`` seconds
            of inactivity instead of ``max_age`` after they began.
        refresh_interval: re-issue a cookie at most once per this many seconds.
    """

    def __init__(
        self,
        app: WSGIApplication,
        store: Store,
        *,
        name: str = "session",
        save_on_error: bool = False,
        unavailable_status: int | None = 503,
        vary: bool = True,
        refresh_each_request: bool = False,
        refresh_interval: float = 60,
    ) -> None:
        validate_cookie_name(name)
        self.app = app
        self.store = store
        self.name = name
        self.save_on_error = save_on_error
        self.unavailable_status = unavailable_status
        self.vary = vary
        self.refresh_each_request = refresh_each_request
        self.refresh_interval = refresh_interval

    def __call__(self, environ: WSGIEnviron, start_response: StartResponse) -> Iterable[bytes]:
        registry = Registry(environ.get("HTTP_COOKIE"))
        registry.plain_http_host = plain_http_of(environ)
        environ[REGISTRY_KEY] = registry
        environ[STORE_KEY] = self.store
        environ[NAME_KEY] = self.name
        response = _Response(self, registry, start_response)
        try:
            if self.refresh_each_request and registry.cookie_values(self.name):
                registry.get(self.store, self.name)
            result = self.app(environ, response.start_response)
        except Exception as exc:
            if self.unavailable_status is None or not is_unavailable(exc):
                raise
            return response.unavailable(exc)
        if response.replaced:  # saving failed: the 503 went out instead
            _close(result)
            return [UNAVAILABLE_BODY]
        if response.started:  # the usual case: nothing more to watch
            return result
        # A generator application: start_response (and maybe loading) happens while iterating.
        return _Guarded(result, response)


class _Response:
    """One request's start_response wrapper: saves, adds headers, swaps in a 503."""

    __slots__ = (
        "body_sent",
        "cookies",
        "middleware",
        "registry",
        "replaced",
        "server_start",
        "server_write",
        "started",
    )

    def __init__(
        self, middleware: SessionMiddleware, registry: Registry, server_start: StartResponse
    ) -> None:
        self.middleware = middleware
        self.registry = registry
        self.server_start = server_start
        self.server_write: Write | None = None
        self.started = False
        self.replaced = False
        self.body_sent = False
        self.cookies: list[str] = []

    def start_response(
        self, status: str, headers: Headers, exc_info: OptExcInfo | None = None
    ) -> Write:
        if self.replaced:
            # We answered 503 already; the application's own response goes nowhere.
            return _discard
        headers = list(headers)
        if self.started and exc_info is not None and exc_info[0] is not None:
            cookies = self.cookies  # PEP 3333 error path: do not save twice
        else:
            try:
                cookies = self._save(_status_code(status))
            except SaveError as exc:
                if self.middleware.unavailable_status is None or not is_unavailable(exc):
                    raise
                log.warning("websession: a session store is unavailable: %s", exc)
                self._start_unavailable(exc.headers, exc_info)
                return _discard
        self.cookies = cookies
        self._add_headers(headers, cookies)
        self.server_write = self.server_start(status, headers, exc_info)
        self.started = True
        return self._write

    def _save(self, status: int) -> list[str]:
        if not should_save(status, self.middleware.save_on_error):
            return []
        if self.middleware.refresh_each_request:
            refresh_sessions(self.registry, self.middleware.refresh_interval)
        if not self.registry.pending():
            return []
        return self.registry.save_all()

    def _add_headers(self, headers: Headers, cookies: list[str]) -> None:
        headers.extend(("Set-Cookie", cookie) for cookie in cookies)
        if self.middleware.vary and vary_needed(self.registry, cookies):
            for i, (key, value) in enumerate(headers):
                if key.lower() == "vary":
                    merged = merged_vary(value)
                    if merged is not None:
                        headers[i] = (key, merged)
                    break
            else:
                headers.append(("Vary", "Cookie"))

    def _write(self, data: bytes) -> object:
        if data:
            self.body_sent = True
        assert self.server_write is not None
        return self.server_write(data)

    def _start_unavailable(self, cookies: list[str], exc_info: OptExcInfo | None) -> None:
        status = self.middleware.unavailable_status
        assert status is not None
        headers: Headers = [
            ("Content-Type", "text/plain; charset=utf-8"),
            ("Content-Length", str(len(UNAVAILABLE_BODY))),
            ("Retry-After", "1"),
            ("Cache-Control", "no-store"),
        ]
        headers.extend(("Set-Cookie", cookie) for cookie in cookies)
        self.server_start(f"{status} {reason_phrase(status)}", headers, exc_info)
        self.started = True
        self.replaced = True

    def unavailable(self, exc: Exception) -> list[bytes]:
        """Answer the 503 for ``exc`` raised by the application (or re-raise if too late)."""
        if self.body_sent:
            raise exc
        log.warning("websession: a session store is unavailable: %s", exc)
        cookies = list(self.cookies)  # saved with a response the application had started
        if not self.started:
            try:
                cookies = self._save(self.middleware.unavailable_status or 503)
            except SaveError as error:
                cookies = error.headers
        # After start_response, PEP 3333 requires exc_info (the server re-raises it if the
        # headers were already sent).
        self._start_unavailable(cookies, sys.exc_info() if self.started else None)
        return [UNAVAILABLE_BODY]


class _Guarded:
    """The iterable of a generator application, watched until its response starts."""

    __slots__ = ("response", "result")

    def __init__(self, result: Iterable[bytes], response: _Response) -> None:
        self.result = result
        self.response = response

    def __iter__(self) -> Iterator[bytes]:
        response = self.response
        try:
            for chunk in self.result:
                if response.replaced:
                    break
                if chunk:
                    response.body_sent = True
                yield chunk
        except Exception as exc:
            middleware = response.middleware
            if middleware.unavailable_status is None or not is_unavailable(exc):
                raise
            response.unavailable(exc)
        if response.replaced:
            yield UNAVAILABLE_BODY

    def close(self) -> None:
        _close(self.result)


def _close(result: Iterable[bytes]) -> None:
    close = getattr(result, "close", None)
    if close is not None:
        close()


def _discard(data: bytes) -> None:
    return None


def _status_code(status: str) -> int:
    try:
        return int(status[:3])
    except ValueError:
        return 500
