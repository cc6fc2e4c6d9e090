"""aiohttp integration, and a drop-in for aiohttp-session.

::

    from websession.aiohttp import setup, get_session

    setup(app, store)                       # or app.middlewares.append(session_middleware(store))

    async def handler(request):
        session = await get_session(request)            # the default session
        prefs = await get_session(request, "prefs", prefs_store)   # more, from any store
        session["n"] = session.get("n", 0) + 1
        return web.Response(text=str(session["n"]))

Code written for aiohttp-session keeps working once its import names ``websession.aiohttp``:
the session also has aiohttp-session's API (``new``, ``identity``, ``created``, ``changed()``,
``invalidate()``, ``max_age``, ``empty``), ``new_session(request)`` starts a fresh one, and
``session_middleware(store)``/``setup(app, store)`` take any websession store where
aiohttp-session took a storage. The request keys are ``web.RequestKey`` objects, so aiohttp
3.14's ``NotAppKeyWarning`` (an error under ``-W error``) never fires.

Sessions load on first ``get_session`` (async stores awaited natively) and are saved when the
handler returns, only if modified, never on a 5xx unless ``save_on_error``. A redirect raised as
an exception (``raise web.HTTPFound(...)``) still carries the cookies. ``Vary: Cookie`` goes with
every response that read a session or sets its cookie. A store that cannot be reached answers
503.

Responses follow aiohttp-session's rules, which apps written for it rely on: sessions are saved
into a ``web.Response`` (or a raised ``web.HTTPException``); a ``web.Response`` the handler
already prepared is refused with ``RuntimeError`` (its headers are gone, so no cookie can
follow); any other ``StreamResponse`` (a stream, a websocket) is returned as it is, without
saving. A session modified in such a handler is then lost, so the middleware logs a WARNING on
the ``websession`` logger naming it (once per request): modify sessions in a handler that
returns a ``web.Response``.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from ._adapter import (
    UNAVAILABLE_BODY,
    is_unavailable,
    merged_vary,
    plain_http_host,
    refresh_sessions,
    should_save,
    vary_needed,
)
from .errors import SaveError
from .registry import Registry
from .session import Session as _Session
from .stores.base import Store

__all__ = [
    "SESSION_KEY",
    "STORAGE_KEY",
    "AiohttpSession",
    "Session",
    "get_session",
    "new_session",
    "session_middleware",
    "setup",
]

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

log = logging.getLogger("websession")


class AiohttpSession(_Session):
    """A websession :class:`~websession.Session` that also speaks aiohttp-session's API.

    Sessions the middleware hands out are of this class; the attributes below are views of the
    websession session's own state, nothing is stored twice.
    """

    __slots__ = ()

    def __init__(
        self,
        identity: Any,
        *,
        data: dict[str, Any] | None,
        new: bool,
        max_age: int | None = None,
    ) -> None:
        """Make a session as aiohttp-session's ``Session(identity, data=..., new=...)`` does.

        Args:
            identity: the server-side id (None for a cookie session).
            data: aiohttp-session's record, ``{"session": {...}, "created": seconds}``, or None.
            new: whether the session is new.
            max_age: the cookie's lifetime in seconds, None for a browser-session cookie.
        """
        record = data or {}
        created = record.get("created")
        super().__init__(
            "AIOHTTP_SESSION",
            values=record.get("session") or {},
            id=identity,
            is_new=new,
            created_at=int(created) if created is not None else int(time.time()),
        )
        self.options.max_age = 0 if max_age is None else max_age

    @property
    def new(self) -> bool:
        """aiohttp-session's ``new``: True unless the session came from a valid cookie."""
        return self.is_new

    @property
    def identity(self) -> Any:
        """aiohttp-session's ``identity``: the server-side session id (None for a cookie)."""
        return self.id

    def set_new_identity(self, identity: Any) -> None:
        """Give a new session its id (aiohttp-session's storages call this)."""
        if not self.is_new:
            raise RuntimeError("cannot change the identity of a session that is not new")
        self.id = identity

    @property
    def created(self) -> int:
        """aiohttp-session's ``created``: when the session was first made (``created_at``).

        A store that cannot keep ``created_at`` (gorilla-compatible codecs) gives the time of
        the session's last save, or now for a new one.
        """
        if self.created_at is None:
            self.created_at = self.issued_at or int(time.time())
        return self.created_at

    def changed(self) -> None:
        """aiohttp-session's ``changed()``: mark the session modified."""
        self.mark_modified()

    @property
    def _changed(self) -> bool:
        # aiohttp-session's name for ``modified``, which code and tests written for it read.
        return self.modified

    @property
    def empty(self) -> bool:
        """aiohttp-session's ``empty``: the session holds no values."""
        return not dict.__len__(self)

    @property
    def max_age(self) -> int | None:
        """The cookie's lifetime in seconds; None for a browser-session cookie."""
        return self.options.max_age if self.options.max_age != 0 else None

    @max_age.setter
    def max_age(self, value: int | None) -> None:
        self.options.max_age = 0 if value is None else int(value)
        self.mark_modified()

    def __repr__(self) -> str:
        values = dict(dict.items(self))
        return (
            f"<Session [new:{self.is_new}, changed:{self.modified}, created:{self.created}] "
            f"{values!r}>"
        )


def _adopt(session: _Session) -> AiohttpSession:
    session.__class__ = AiohttpSession  # same layout: adds aiohttp-session's views only
    assert isinstance(session, AiohttpSession)
    return session


#: aiohttp-session's name for the class, so ``isinstance(session, Session)`` keeps working.
Session = AiohttpSession


@dataclass(frozen=True)
class _Config:
    store: Store
    name: str


class _SessionKey(web.RequestKey[AiohttpSession]):
    """A ``web.RequestKey`` that also reads as aiohttp-session's string key ``"aiohttp_session"``.

    aiohttp-session's keys were plain strings and code written for it uses them as such: its
    own tests name the default cookie ``SESSION_KEY.upper()`` (``"AIOHTTP_SESSION"``). The key
    stays a ``RequestKey`` (compared by identity, no ``NotAppKeyWarning``); only ``str()`` and
    ``upper()`` give the old string.
    """

    __slots__ = ()
    _TEXT = "aiohttp_session"  # aiohttp-session's SESSION_KEY

    def __str__(self) -> str:
        return self._TEXT

    def upper(self) -> str:
        """``"AIOHTTP_SESSION"``, as ``str.upper`` gave it for aiohttp-session's key."""
        return self._TEXT.upper()


#: The request's default session, once loaded (aiohttp-session's ``SESSION_KEY``).
SESSION_KEY: web.RequestKey[AiohttpSession] = _SessionKey(_SessionKey._TEXT, AiohttpSession)
#: The middleware's default store (aiohttp-session's ``STORAGE_KEY``).
STORAGE_KEY: web.RequestKey[Store] = web.RequestKey("websession.store", Store)
_REGISTRY_KEY: web.RequestKey[Registry] = web.RequestKey("websession.registry", Registry)
_CONFIG_KEY: web.RequestKey[_Config] = web.RequestKey("websession.config", _Config)

_NO_MIDDLEWARE = (
    "no websession middleware ran for this request: add "
    "websession.aiohttp.session_middleware(store) to the application (or call setup(app, store))"
)


async def get_session(
    request: web.Request, name: str | None = None, store: Store | None = None
) -> AiohttpSession:
    """The session ``name`` (the middleware's default) from ``store`` (likewise).

    Raises:
        RuntimeError: no websession middleware ran for this request.
    """
    if name is None and store is None and SESSION_KEY in request:
        return request[SESSION_KEY]
    if _REGISTRY_KEY not in request or _CONFIG_KEY not in request:
        raise RuntimeError(_NO_MIDDLEWARE)
    registry, config = request[_REGISTRY_KEY], request[_CONFIG_KEY]
    session = _adopt(await registry.aget(store or config.store, name or config.name))
    if session.name == config.name and session.store is config.store:
        request[SESSION_KEY] = session
    return session


async def new_session(
    request: web.Request, name: str | None = None, store: Store | None = None
) -> AiohttpSession:
    """The session emptied and given a new id on save (log in / log out; fixation defence).

    Under the middleware, unlike aiohttp-session, the same session object comes back (emptied,
    with ``regenerate_id()``), so references to it taken earlier in the request stay valid.

    Without the middleware, when ``request[STORAGE_KEY]`` (or ``store``) holds a websession
    store (as aiohttp-session works with just its storage there), a new session made by that
    store (new id, empty, ``new`` true) is returned and, for the default session, kept under
    ``SESSION_KEY``. Only the middleware saves sessions, as in aiohttp-session.

    Raises:
        RuntimeError: neither the middleware ran nor a websession store is at hand, or the
            store's ``anew`` did not return a session.
    """
    if _REGISTRY_KEY in request:
        session = await get_session(request, name, store)
        session.clear()
        session.regenerate_id()
        return session
    source = store if store is not None else request.get(STORAGE_KEY)
    if not isinstance(source, Store):
        raise RuntimeError(_NO_MIDDLEWARE)
    made: object = await source.anew(name or "session", None)
    if not isinstance(made, _Session):
        raise RuntimeError(f"the store {source!r} made {made!r} for a new session, not a session")
    session = _adopt(made)
    if name is None and store is None:
        request[SESSION_KEY] = session
    return session


def _unavailable(status: int) -> web.Response:
    return web.Response(
        status=status,
        body=UNAVAILABLE_BODY,
        content_type="text/plain",
        headers={"Retry-After": "1"},
    )


def session_middleware(
    store: Store,
    *,
    name: str = "session",
    save_on_error: bool = False,
    unavailable_status: int | None = 503,
    refresh_each_request: bool = False,
    refresh_interval: float = 60,
) -> Callable[[web.Request, Handler], Awaitable[web.StreamResponse]]:
    """An aiohttp middleware that gives each request a websession registry.

    Args:
        store: the default store (for ``get_session(request)``).
        name: the default session's cookie name.
        save_on_error: save sessions with 5xx responses too.
        unavailable_status: the status sent when a store cannot be reached (None: re-raise).
        refresh_each_request: re-issue the cookie of a persistent session on every request
            that carries it (loading it even if the handler does not), so its ``Max-Age``
            slides: sessions end after ``max_age`` seconds of inactivity.
        refresh_interval: re-issue a cookie at most once per this many seconds.

    Raises:
        RuntimeError: ``store`` is not a websession store (as aiohttp-session's check).
    """
    if not isinstance(store, Store):
        raise RuntimeError(f"session_middleware expects a websession store, not {store!r}")
    config = _Config(store, name)

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        registry = Registry(request.headers.get("Cookie"))
        registry.plain_http_host = plain_http_host(
            request.scheme, request.host, request.headers.get("X-Forwarded-Proto")
        )
        request[_REGISTRY_KEY] = registry
        request[_CONFIG_KEY] = config
        request[STORAGE_KEY] = store
        raised = False
        try:
            if refresh_each_request and registry.cookie_values(name):
                await get_session(request)
            response = await handler(request)
        except web.HTTPException as exc:  # redirects raised as exceptions keep their cookies
            response, raised = exc, True
        except Exception as exc:
            if unavailable_status is not None and is_unavailable(exc):
                return _unavailable(unavailable_status)
            raise
        if not isinstance(response, web.StreamResponse):
            raise RuntimeError(f"the handler returned {response!r}, not a response")
        if not isinstance(response, web.Response):
            # A stream or a websocket: returned as it is (aiohttp-session's rule), never saved.
            _warn_unsaved(registry, response)
            if not response.prepared and vary_needed(registry, ()):
                vary = merged_vary(response.headers.get("Vary"))
                if vary is not None:
                    response.headers["Vary"] = vary
        elif response.prepared:
            raise RuntimeError(
                "cannot save session data into a prepared response: the handler prepared "
                f"{response!r}, whose headers are sent; return it unprepared"
            )
        else:
            cookies: list[str] = []
            if should_save(response.status, save_on_error):
                if refresh_each_request:
                    refresh_sessions(registry, refresh_interval)
                try:
                    cookies = await registry.asave_all()
                except (SaveError, Exception) as exc:
                    if unavailable_status is not None and is_unavailable(exc):
                        return _unavailable(unavailable_status)
                    raise
            for cookie in cookies:
                response.headers.add("Set-Cookie", cookie)
            if vary_needed(registry, cookies):
                vary = merged_vary(response.headers.get("Vary"))
                if vary is not None:
                    response.headers["Vary"] = vary
        if raised:
            raise response  # type: ignore[misc]
        return response

    return middleware


def _warn_unsaved(registry: Registry, response: web.StreamResponse) -> None:
    """One WARNING for the modified sessions a stream or websocket response leaves unsaved."""
    pending = registry.pending()
    if pending:
        names = ", ".join(repr(session.name) for session in pending)
        log.warning(
            "session %s modified but not saved: the handler returned a %s, not a web.Response, "
            "and streams and websockets are returned as they are (aiohttp-session's rule); "
            "modify sessions in a handler that returns a web.Response",
            names,
            type(response).__name__,
        )


def setup(app: web.Application, store: Store, **options: Any) -> None:
    """Install :func:`session_middleware` on ``app`` (aiohttp-session's ``setup``)."""
    app.middlewares.append(session_middleware(store, **options))  # type: ignore[arg-type]
