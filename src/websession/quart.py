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
from quart.sessions import session_json_serializer
from werkzeug.exceptions import ServiceUnavailable

from ._adapter import should_save
from ._flasklike import (
    REGISTRY_KEY,
    FlaskSession,
    SecretKeyStores,
    UnavailableSession,
    adopt,
    finish_save,
    handle_save_error,
    prepare_save,
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
        store = interface.store_for(current_app)
        if store is None:
            raise RuntimeError("the session is unavailable: set app.secret_key")
    try:
        registry = registry_of(_request.scope, _request.headers.get("Cookie"))  # type: ignore[arg-type]
        return await registry.aget(store, name)
    except StoreUnavailable as exc:
        raise ServiceUnavailable(str(exc)) from exc


class SessionInterface(_QuartSessionInterface):
    """Serve ``quart.session`` from a websession store (see :mod:`websession.flask`).

    With no store, Quart's cookie session sealed with ``app.secret_key`` (the drop-in).
    """

    def __init__(
        self,
        store: Store | None = None,
        *,
        use_flask_config: bool = True,
        save_on_error: bool = False,
    ) -> None:
        self.store = store
        self.use_flask_config = use_flask_config
        self.save_on_error = save_on_error
        self._secret_key_stores = SecretKeyStores(session_json_serializer)

    def store_for(self, app: Quart) -> Store | None:
        """The store serving ``app``: the one given, or the app's secret-key cookie store."""
        if self.store is not None:
            return self.store
        return self._secret_key_stores.store_for(app)

    def get_cookie_name(self, app: Quart) -> str:
        """The default session's cookie name: ``SESSION_COOKIE_NAME``, or ``"session"`` when
        Quart's configuration is not used.
        """
        return str(app.config["SESSION_COOKIE_NAME"]) if self.use_flask_config else "session"

    async def open_session(self, app: Quart, request: Any) -> SessionMixin | None:
        """The request's default session, loaded from the store (Quart calls this per request).

        Returns None when no store can be had (no ``secret_key``): Quart then serves its
        NullSession, which says why on first write.
        """
        name = self.get_cookie_name(app)
        store = self.store_for(app)
        if store is None:
            return None  # Quart then serves its NullSession
        try:
            registry = registry_of(request.scope, request.headers.get("Cookie"))
            session = await registry.aget(store, name)
        except StoreUnavailable as exc:
            return UnavailableSession(name, store, exc)  # type: ignore[return-value]
        return adopt(session, self, app, self.use_flask_config)  # type: ignore[return-value]

    async def save_session(self, app: Quart, session: Any, response: Response) -> None:  # type: ignore[override]
        """Save the request's modified sessions and add their ``Set-Cookie`` headers to ``response``
        (Quart calls this after the view). Nothing is saved with a 5xx response unless
        ``save_on_error``.
        """
        registry = _request.scope.get(REGISTRY_KEY)
        if not isinstance(registry, Registry) or isinstance(session, UnavailableSession):
            return
        if not should_save(response.status_code, self.save_on_error):
            write_headers(response, registry, [])  # Vary: Cookie if a session was read
            return
        modified = prepare_save(session, app, self.use_flask_config)
        try:
            headers = await registry.asave_all()
        except SaveError as exc:
            handle_save_error(response, registry, exc)
            return
        finally:
            finish_save(session, modified)
        write_headers(response, registry, headers)
