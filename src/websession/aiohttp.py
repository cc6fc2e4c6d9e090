"""aiohttp integration, in aiohttp-session's style.

::

    from websession.aiohttp import setup, get_session

    setup(app, store)                       # or app.middlewares.append(session_middleware(store))

    async def handler(request):
        session = await get_session(request)            # the default session
        prefs = await get_session(request, "prefs", prefs_store)   # more, from any store
        session["n"] = session.get("n", 0) + 1
        return web.Response(text=str(session["n"]))

Sessions load on first ``get_session`` (async stores awaited natively) and are saved when the
handler returns, only if modified, never on a 5xx unless ``save_on_error``. A redirect raised as
an exception (``raise web.HTTPFound(...)``) still carries the cookies. A store that cannot be
reached answers 503.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from aiohttp import web

from ._adapter import (
    NAME_KEY,
    REGISTRY_KEY,
    STORE_KEY,
    UNAVAILABLE_BODY,
    aget_session,
    is_unavailable,
    merged_vary,
    should_save,
    vary_needed,
)
from .errors import SaveError
from .registry import Registry
from .session import Session
from .stores.base import Store

__all__ = ["get_session", "new_session", "session_middleware", "setup"]

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


async def get_session(
    request: web.Request, name: str | None = None, store: Store | None = None
) -> Session:
    """The session ``name`` (the middleware's default) from ``store`` (likewise)."""
    return await aget_session(request, name, store)


async def new_session(
    request: web.Request, name: str | None = None, store: Store | None = None
) -> Session:
    """The session emptied and given a new id on save (log in / log out; fixation defence)."""
    session = await aget_session(request, name, store)
    session.clear()
    session.regenerate_id()
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
) -> Callable[[web.Request, Handler], Awaitable[web.StreamResponse]]:
    """An aiohttp middleware that gives each request a websession registry.

    Args:
        store: the default store (for ``get_session(request)``).
        name: the default session's cookie name.
        save_on_error: save sessions with 5xx responses too.
        unavailable_status: the status sent when a store cannot be reached (None: re-raise).
    """

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        registry = Registry(request.headers.get("Cookie"))
        request[REGISTRY_KEY] = registry
        request[STORE_KEY] = store
        request[NAME_KEY] = name
        raised = False
        try:
            response = await handler(request)
        except web.HTTPException as exc:  # redirects raised as exceptions keep their cookies
            response, raised = exc, True
        except Exception as exc:
            if unavailable_status is not None and is_unavailable(exc):
                return _unavailable(unavailable_status)
            raise
        if response.prepared:
            if registry.pending():
                raise RuntimeError(
                    "a session was modified but the response was already sent (prepared): "
                    "modify sessions before streaming a response"
                )
        else:
            cookies: list[str] = []
            if should_save(response.status, save_on_error):
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


def setup(app: web.Application, store: Store, **options: object) -> None:
    """Install :func:`session_middleware` on ``app`` (aiohttp-session's ``setup``)."""
    app.middlewares.append(session_middleware(store, **options))  # type: ignore[arg-type]
