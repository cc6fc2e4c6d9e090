"""Quart integration: ``app.session_interface = websession.quart.SessionInterface(store)``.

The async twin of :mod:`websession.flask`: ``quart.session`` is a websession Session with
Flask's session protocol; stores are loaded and saved with their native async methods. Further
named sessions: ``await websession.quart.get_session("prefs", prefs_store)``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from quart import Quart, Response, current_app
from quart import request as _request
from quart.sessions import SessionInterface as _QuartSessionInterface
from werkzeug.exceptions import ServiceUnavailable

from ._adapter import should_save
from ._flasklike import (
    REGISTRY_KEY,
    FlaskSession,
    UnavailableSession,
    adopt,
    apply_lifetime,
    handle_save_error,
    registry_of,
    write_headers,
)
from .errors import SaveError, StoreUnavailable
from .registry import Registry
from .session import Session
from .stores.base import Store

if TYPE_CHECKING:
    from quart.sessions import SessionMixin

__all__ = ["FlaskSession", "SessionInterface", "get_session"]


async def get_session(name: str = "session", store: Store | None = None) -> Session:
    """A named session for the current request, saved with ``quart.session``."""
    if store is None:
        interface = current_app.session_interface
        if not isinstance(interface, SessionInterface):
            raise RuntimeError(
                "set app.session_interface = websession.quart.SessionInterface(store)"
            )
        store = interface.store
    try:
        registry = registry_of(_request.scope, _request.headers.get("Cookie"))  # type: ignore[arg-type]
        return await registry.aget(store, name)
    except StoreUnavailable as exc:
        raise ServiceUnavailable(str(exc)) from exc


class SessionInterface(_QuartSessionInterface):
    """Serve ``quart.session`` from a websession store (see :mod:`websession.flask`)."""

    def __init__(
        self, store: Store, *, use_flask_config: bool = True, save_on_error: bool = False
    ) -> None:
        self.store = store
        self.use_flask_config = use_flask_config
        self.save_on_error = save_on_error

    def get_cookie_name(self, app: Quart) -> str:
        return str(app.config["SESSION_COOKIE_NAME"]) if self.use_flask_config else "session"

    async def open_session(self, app: Quart, request: Any) -> SessionMixin | None:
        name = self.get_cookie_name(app)
        try:
            registry = registry_of(request.scope, request.headers.get("Cookie"))
            session = await registry.aget(self.store, name)
        except StoreUnavailable as exc:
            return UnavailableSession(name, self.store, exc)  # type: ignore[return-value]
        return adopt(session, self, app, self.use_flask_config)  # type: ignore[return-value]

    async def save_session(self, app: Quart, session: Any, response: Response) -> None:  # type: ignore[override]
        registry = _request.scope.get(REGISTRY_KEY)
        if not isinstance(registry, Registry) or isinstance(session, UnavailableSession):
            return
        if not should_save(response.status_code, self.save_on_error):
            write_headers(response, registry, [])  # Vary: Cookie if a session was read
            return
        apply_lifetime(session, app, self.use_flask_config)
        try:
            headers = await registry.asave_all()
        except SaveError as exc:
            handle_save_error(response, registry, exc)
            return
        write_headers(response, registry, headers)
