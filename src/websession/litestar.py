"""Litestar integration: a plugin (or middleware) in Litestar's style.

::

    from websession.litestar import SessionPlugin, provide_session

    app = Litestar(
        route_handlers=[...],
        plugins=[SessionPlugin(store)],
        dependencies={"prefs": provide_session("prefs", prefs_store)},
    )

    @get("/")
    async def index(request: Request, prefs: Session) -> str:
        request.session["n"] = request.session.get("n", 0) + 1   # a websession Session
        request.session.add_flash("hi")
        ...

``request.session`` is the default websession session; Litestar's ``request.set_session({...})``
replaces its values and ``request.clear_session()`` deletes it, as with Litestar's own
middleware. Sessions are saved when the response starts, only if modified.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from litestar.config.app import AppConfig
from litestar.connection import ASGIConnection
from litestar.di import Provide
from litestar.middleware import DefineMiddleware
from litestar.plugins import InitPlugin
from litestar.types import Empty

from . import asgi
from ._adapter import REGISTRY_KEY, aget_session
from .registry import Registry
from .session import Session
from .stores.base import Store

__all__ = ["SessionMiddleware", "SessionPlugin", "provide_session"]

ASGIApp = Callable[[Any, Any, Any], Awaitable[None]]


class SessionMiddleware(asgi.SessionMiddleware):
    """The ASGI middleware, plus Litestar's ``set_session``/``clear_session`` semantics."""

    def __init__(self, app: ASGIApp, store: Store, **options: Any) -> None:
        super().__init__(self._follow_scope(app), store, **options)

    def _follow_scope(self, app: ASGIApp) -> ASGIApp:
        async def wrapped(scope: Any, receive: Any, send: Any) -> None:
            async def sync_then_send(message: Any) -> None:
                if message["type"] in ("http.response.start", "websocket.accept"):
                    self._sync(scope)
                await send(message)

            await app(scope, receive, sync_then_send)

        return wrapped

    def _sync(self, scope: Any) -> None:
        registry = scope.get(REGISTRY_KEY)
        if not isinstance(registry, Registry):
            return
        default = registry.sessions.get(self.name)
        current = scope.get("session", Empty)
        if current is default or default is None:
            return
        if current is Empty or current is None:
            default.invalidate()  # request.clear_session()
        elif isinstance(current, Mapping):  # request.set_session({...})
            default.clear()
            default.update(current)
            scope["session"] = default
        else:
            raise TypeError(
                f"request.set_session() got a {type(current).__name__}; websession sessions "
                "hold a mapping of values"
            )


class SessionPlugin(InitPlugin):
    """Install websession's session middleware on a Litestar app.

    Args:
        store: the default store (``request.session``).
        **options: :class:`websession.asgi.SessionMiddleware` options (``name``,
            ``save_on_error``, ``unavailable_status``, ``vary``).
    """

    __slots__ = ("options", "store")

    def __init__(self, store: Store, **options: Any) -> None:
        self.store = store
        self.options = options

    def on_app_init(self, app_config: AppConfig) -> AppConfig:
        """Add websession's ASGI session middleware to the app (Litestar calls this once)."""
        app_config.middleware.append(
            # our ASGI types are plain dicts; Litestar annotates its TypedDict scopes
            DefineMiddleware(SessionMiddleware, store=self.store, **self.options)  # type: ignore[arg-type]
        )
        return app_config


def provide_session(name: str | None = None, store: Store | None = None) -> Provide:
    """A Litestar dependency giving the session ``name`` from ``store`` (the defaults if None)."""

    async def session(request: ASGIConnection[Any, Any, Any, Any]) -> Session:
        return await aget_session(request, name, store)

    return Provide(session)
