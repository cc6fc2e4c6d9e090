"""Flask integration: ``app.session_interface = websession.flask.SessionInterface(store)``.

``SessionInterface()`` with no store is the drop-in for Flask's own cookie session: the cookie
is sealed (encrypted, not only signed) with ``app.secret_key`` and ``SECRET_KEY_FALLBACKS``, and
holds the values Flask's serializer holds; nothing else changes.

``flask.session`` becomes a websession :class:`~websession.Session` (any hashable key, sealed or
server-side, key rotation) that also speaks Flask's session protocol: ``permanent``, ``new``,
``modified``, ``accessed``; ``flask.flash`` and ``get_flashed_messages`` keep working. Flask's
``SESSION_COOKIE_*`` settings and ``PERMANENT_SESSION_LIFETIME`` shape the cookie, as Flask
users expect. Further named sessions, from any store, are one call away in a view::

    prefs = websession.flask.get_session("prefs", prefs_store)

and are saved together with ``flask.session`` when the response is sent.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from flask import Flask, Request, Response, current_app
from flask import request as _request
from flask.sessions import SessionInterface as _FlaskSessionInterface
from flask.sessions import session_json_serializer
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
    from flask.sessions import SessionMixin

__all__ = ["FlaskSession", "SessionInterface", "get_session"]


def get_session(name: str = "session", store: Store | None = None) -> Session:
    """A named session for the current request, saved with ``flask.session``.

    Args:
        name: the cookie name.
        store: its store; the app's session interface store by default.
    """
    if store is None:
        interface = current_app.session_interface
        if not isinstance(interface, SessionInterface):
            raise RuntimeError(
                "set app.session_interface = websession.flask.SessionInterface(store)"
            )
        store = interface.store_for(current_app)
        if store is None:
            raise RuntimeError("the session is unavailable: set app.secret_key")
    try:
        return registry_of(_request.environ, _request.headers.get("Cookie")).get(store, name)
    except StoreUnavailable as exc:
        raise ServiceUnavailable(str(exc)) from exc


class SessionInterface(_FlaskSessionInterface):
    """Serve ``flask.session`` from a websession store.

    Args:
        store: any websession store (``CookieStore``, ``FilesystemStore``, ``open_store(...)``),
            or None for Flask's cookie session, sealed with ``app.secret_key`` (a weak key is
            logged as a WARNING, not refused: Flask accepted it).
        use_flask_config: take the cookie's name, domain, path, Secure, HttpOnly, SameSite and
            Partitioned from Flask's ``SESSION_COOKIE_*`` settings and its lifetime from
            ``PERMANENT_SESSION_LIFETIME`` (sessions are browser-session cookies unless
            ``session.permanent`` is set, as in Flask). With False the store's options apply.
        save_on_error: save modified sessions with a 5xx response too. Off by default, like
            websession's WSGI/ASGI middlewares and Django (Flask's own cookie session is saved
            even when the view failed, so half-done changes would stick).

    A store that cannot reach its database makes the request a 503, not a 500.
    """

    pickle_based = False

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

    def store_for(self, app: Flask) -> Store | None:
        """The store serving ``app``: the one given, or the app's secret-key cookie store."""
        if self.store is not None:
            return self.store
        return self._secret_key_stores.store_for(app)

    def get_cookie_name(self, app: Flask) -> str:
        """The default session's cookie name: ``SESSION_COOKIE_NAME``, or ``"session"`` when
        Flask's configuration is not used.
        """
        return str(app.config["SESSION_COOKIE_NAME"]) if self.use_flask_config else "session"

    def open_session(self, app: Flask, request: Request) -> SessionMixin | None:
        """The request's default session, loaded from the store (Flask calls this per request).

        Returns None when no store can be had (no ``secret_key``): Flask then serves its
        NullSession, which says why on first write.
        """
        name = self.get_cookie_name(app)
        store = self.store_for(app)
        if store is None:
            return None  # Flask then serves its NullSession: "the session is unavailable"
        try:
            session = registry_of(request.environ, request.headers.get("Cookie")).get(store, name)
        except StoreUnavailable as exc:
            return UnavailableSession(name, store, exc)  # type: ignore[return-value]
        return adopt(session, self, app, self.use_flask_config)  # type: ignore[return-value]

    def save_session(self, app: Flask, session: Any, response: Response) -> None:
        """Save the request's modified sessions and add their ``Set-Cookie`` headers to ``response``
        (Flask calls this after the view). Nothing is saved with a 5xx response unless
        ``save_on_error``.
        """
        registry: Registry | None = _request.environ.get(REGISTRY_KEY)
        if registry is None or isinstance(session, UnavailableSession):
            return
        if not should_save(response.status_code, self.save_on_error):
            write_headers(response, registry, [])  # Vary: Cookie if a session was read
            return
        modified = prepare_save(session, app, self.use_flask_config)
        try:
            headers = registry.save_all()
        except SaveError as exc:
            handle_save_error(response, registry, exc)
            return
        finally:
            finish_save(session, modified)
        write_headers(response, registry, headers)
