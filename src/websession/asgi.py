"""ASGI middleware: sessions for HTTP and WebSocket, saved when the response starts.

::

    from websession import FilesystemStore, aget_session
    from websession.asgi import SessionMiddleware

    async def app(scope, receive, send):
        session = await aget_session(scope)     # or scope["session"] (autoload)
        ...

    app = SessionMiddleware(app, FilesystemStore("/var/lib/app/sessions", secret_keys=["..."]))

With Starlette or FastAPI, ``request.session`` is the default session (a
:class:`websession.Session`: a dict with ``add_flash``/``flashes``, ``regenerate_id``,
``invalidate``...) and ``await websession.aget_session(request, "other", other_store)`` gives
more sessions, from any store.

For each ``http`` or ``websocket`` connection (``lifespan`` passes through untouched):

- a :class:`~websession.Registry` over the ``Cookie`` header goes into the scope
  (``websession.registry``, with ``websession.store`` and ``websession.name``);
- with ``autoload=True`` (the default) the default session is put in ``scope["session"]`` before
  the application runs, for Starlette's ``request.session``. It is loaded (``await
  store.anew``) only when the request carries its cookie; without one it is a fresh session,
  made with no I/O. With ``autoload=False``, ``scope["session"]`` appears only once
  :func:`websession.aget_session` has loaded the default session. (Autoloading costs a
  server-side store one read per request that carries the cookie, even if the handler never
  looks at the session; ``autoload=False`` makes every session lazy);
- on ``http.response.start``, the modified sessions are saved (``await registry.asave_all()``;
  async backends are awaited natively) and one ``Set-Cookie`` header is appended per session;
  nothing is saved with a 5xx unless ``save_on_error=True``; ``Vary: Cookie`` is added when a
  session was read or saved;
- on ``websocket.accept``, the modified sessions are saved and their ``Set-Cookie`` headers go
  into the accept message (the only place a WebSocket can set a cookie). Changes made after
  the accept are not saved automatically: no header can carry their cookie any more;
- :class:`~websession.StoreUnavailable` (loading, or a :class:`~websession.SaveError` that
  contains one when saving) becomes a ``503`` with ``Retry-After: 1`` while the response has not
  started, carrying the cookies of the sessions that were saved. A WebSocket handshake is
  refused instead: with a 503 where the server supports the ``websocket.http.response``
  extension, else by closing with code 1013 (try again later). ``unavailable_status=None`` lets
  the errors propagate. Other save errors propagate (the server answers 500).

:func:`websession.get_session` (sync) works under ASGI for sessions already loaded and for
stores whose loading needs no I/O (a :class:`~websession.CookieStore`, memory, or a request
without that session's cookie); otherwise it raises RuntimeError: use ``await
websession.aget_session(...)``.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from ._adapter import (
    NAME_KEY,
    REGISTRY_KEY,
    STORE_KEY,
    UNAVAILABLE_BODY,
    is_unavailable,
    merged_vary,
    plain_http_of,
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

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

_HEADERS_EXTENSION = "websocket.http.response"
_TRY_AGAIN_LATER = 1013


def _cookie_header(scope: Scope) -> bytes | None:
    values = [value for key, value in scope.get("headers", ()) if key.lower() == b"cookie"]
    if not values:
        return None
    return values[0] if len(values) == 1 else b"; ".join(values)  # HTTP/2 may split it


class SessionMiddleware:
    """Sessions for an ASGI application (see the module documentation).

    Args:
        app: the ASGI application.
        store: the default store (for ``scope["session"]`` and :func:`websession.aget_session`
            when given none).
        name: the default session's cookie name.
        save_on_error: save modified sessions with 5xx responses too.
        unavailable_status: the status answered when a store is unreachable (503), or None to
            let :class:`~websession.StoreUnavailable` propagate.
        vary: add ``Vary: Cookie`` to responses that read or saved a session.
        autoload: put the default session in ``scope["session"]`` before the application runs
            (loaded only if the request carries its cookie).
        refresh_each_request: re-issue the cookie of a persistent session on every request
            that carries it (the default session is then loaded even with ``autoload=False``),
            so its ``Max-Age`` slides: sessions end after ``max_age`` seconds of inactivity.
        refresh_interval: re-issue a cookie at most once per this many seconds.
    """

    def __init__(
        self,
        app: ASGIApp,
        store: Store,
        *,
        name: str = "session",
        save_on_error: bool = False,
        unavailable_status: int | None = 503,
        vary: bool = True,
        autoload: bool = True,
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
        self.autoload = autoload
        self.refresh_each_request = refresh_each_request
        self.refresh_interval = refresh_interval

    def before_save(self, registry: Registry) -> None:
        """Called before the sessions are saved; the drop-ins add their framework's rules."""
        if self.refresh_each_request:
            refresh_sessions(registry, self.refresh_interval)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        registry = Registry(_cookie_header(scope))
        registry.plain_http_host = plain_http_of(scope)
        scope[REGISTRY_KEY] = registry
        scope[STORE_KEY] = self.store
        scope[NAME_KEY] = self.name
        exchange = _Exchange(self, scope, registry, send)
        try:
            if self.autoload:
                if registry.cookie_values(self.name) or registry.legacy_sent(self.store):
                    scope["session"] = await registry.aget(self.store, self.name)
                else:
                    scope["session"] = registry.get(self.store, self.name)  # no I/O: no cookie
            elif self.refresh_each_request and registry.cookie_values(self.name):
                scope["session"] = await registry.aget(self.store, self.name)
            await self.app(scope, receive, exchange.send)
        except Exception as exc:
            if (
                self.unavailable_status is None
                or not is_unavailable(exc)
                or exchange.started
                or exchange.replaced
            ):
                raise
            log.warning("websession: a session store is unavailable: %s", exc)
            cookies: list[str] = []
            if should_save(self.unavailable_status, self.save_on_error):
                try:
                    cookies = await registry.asave_all()
                except SaveError as error:
                    cookies = error.headers
            await exchange.refuse(cookies)


class _Exchange:
    """One connection's send wrapper: saves on the response start or the accept."""

    __slots__ = ("middleware", "registry", "replaced", "scope", "server_send", "started")

    def __init__(
        self, middleware: SessionMiddleware, scope: Scope, registry: Registry, server_send: Send
    ) -> None:
        self.middleware = middleware
        self.scope = scope
        self.registry = registry
        self.server_send = server_send
        self.started = False
        self.replaced = False

    async def send(self, message: Message) -> None:
        if self.replaced:
            return  # we answered 503 (or refused the handshake): drop the application's reply
        kind = message["type"]
        if self.started or kind not in (
            "http.response.start",
            "websocket.accept",
            "websocket.http.response.start",
        ):
            if kind == "websocket.close":
                self.started = True
            await self.server_send(message)
            return
        status = 101 if kind == "websocket.accept" else int(message.get("status", 200))
        try:
            cookies = await self._save(status)
        except SaveError as exc:
            if self.middleware.unavailable_status is None or not is_unavailable(exc):
                raise
            log.warning("websession: a session store is unavailable: %s", exc)
            await self.refuse(exc.headers)
            return
        vary = (
            kind != "websocket.accept"
            and self.middleware.vary
            and vary_needed(self.registry, cookies)
        )
        if cookies or vary:
            message = dict(message)
            headers = list(message.get("headers", ()))
            headers.extend((b"set-cookie", cookie.encode("latin-1")) for cookie in cookies)
            if vary:
                _add_vary(headers)
            message["headers"] = headers
        self.started = True
        await self.server_send(message)

    async def _save(self, status: int) -> list[str]:
        if not self.registry.sessions or not should_save(status, self.middleware.save_on_error):
            return []
        self.middleware.before_save(self.registry)
        return await self.registry.asave_all()  # saves only the pending sessions

    async def refuse(self, cookies: list[str]) -> None:
        """Answer 503 (HTTP), or refuse the WebSocket handshake."""
        status = self.middleware.unavailable_status
        assert status is not None
        self.replaced = True
        self.started = True
        headers = [
            (b"content-type", b"text/plain; charset=utf-8"),
            (b"content-length", str(len(UNAVAILABLE_BODY)).encode("ascii")),
            (b"retry-after", b"1"),
            (b"cache-control", b"no-store"),
        ]
        headers.extend((b"set-cookie", cookie.encode("latin-1")) for cookie in cookies)
        if self.scope["type"] == "http":
            prefix = "http.response"
        elif _HEADERS_EXTENSION in (self.scope.get("extensions") or {}):
            prefix = "websocket.http.response"
        else:
            await self.server_send({"type": "websocket.close", "code": _TRY_AGAIN_LATER})
            return
        await self.server_send({"type": f"{prefix}.start", "status": status, "headers": headers})
        await self.server_send(
            {"type": f"{prefix}.body", "body": UNAVAILABLE_BODY, "more_body": False}
        )


def _add_vary(headers: list[tuple[bytes, bytes]]) -> None:
    for i, (key, value) in enumerate(headers):
        if key.lower() == b"vary":
            merged = merged_vary(value.decode("latin-1"))
            if merged is not None:
                headers[i] = (key, merged.encode("latin-1"))
            return
    headers.append((b"vary", b"Cookie"))
