"""What the Flask and Quart integrations share (both speak Flask's session protocol and use
Werkzeug's request/response types). Imports Werkzeug only; each framework module adds its own
sync or async glue."""

from __future__ import annotations

from collections.abc import MutableMapping
from typing import Any, Protocol

from werkzeug.exceptions import ServiceUnavailable

from .errors import SaveError, StoreUnavailable
from .registry import Registry
from .session import Session
from .stores.base import Store

REGISTRY_KEY = "websession.registry"
_PERMANENT = "_permanent"


class FlaskSession(Session):
    """A websession Session with the attributes Flask's session protocol adds."""

    __slots__ = ()

    @property
    def permanent(self) -> bool:
        """Flask's ``session.permanent``: a persistent cookie rather than a browser-session one."""
        return bool(dict.get(self, _PERMANENT, False))

    @permanent.setter
    def permanent(self, value: bool) -> None:
        self[_PERMANENT] = bool(value)

    @property
    def new(self) -> bool:
        """Flask's ``session.new``: True unless the session came from a valid cookie."""
        return self.is_new


class UnavailableSession(FlaskSession):
    """Stands in for the session when its store is down: touching it answers 503.

    Flask and Quart open the session before the view runs, where an exception becomes a 500; a
    view that actually uses the session gets a 503 instead, and one that does not still works.
    """

    __slots__ = ("error",)

    def __init__(self, name: str, store: Store, error: StoreUnavailable) -> None:
        super().__init__(name, store)
        self.error = error

    def _fail(self) -> ServiceUnavailable:
        failure = ServiceUnavailable(f"session store unavailable: {self.error}")
        failure.retry_after = 1
        return failure


def _unavailable(name: str) -> Any:
    def fail(self: UnavailableSession, *args: Any, **kwargs: Any) -> Any:
        raise self._fail()

    fail.__name__ = name
    return fail


# Every way into the values answers 503: the mapping methods Session overrides (all of dict's
# that read or write items), and its flash methods.
for _name in (
    "__getitem__", "__setitem__", "__delitem__", "__iter__", "__reversed__", "__len__",
    "__contains__", "__or__", "__ror__", "__ior__", "get", "keys", "values",
    "items", "copy", "pop", "popitem", "setdefault", "update", "clear", "add_flash", "flashes",
    "peek_flashes",
):  # fmt: skip
    setattr(UnavailableSession, _name, _unavailable(_name))


class _CookieConfig(Protocol):
    """The cookie-setting getters Flask's and Quart's SessionInterface both have."""

    def get_cookie_domain(self, app: Any) -> str | None: ...
    def get_cookie_path(self, app: Any) -> str: ...
    def get_cookie_httponly(self, app: Any) -> bool: ...
    def get_cookie_secure(self, app: Any) -> bool: ...
    def get_cookie_samesite(self, app: Any) -> str | None: ...
    def get_cookie_partitioned(self, app: Any) -> bool: ...


def registry_of(environ_or_scope: MutableMapping[str, Any], cookie_header: str | None) -> Registry:
    """The request's registry, made on first use and kept where ``get_session`` finds it."""
    registry = environ_or_scope.get(REGISTRY_KEY)
    if registry is None:
        registry = Registry(cookie_header)
        environ_or_scope[REGISTRY_KEY] = registry
    assert isinstance(registry, Registry)
    return registry


def adopt(session: Session, interface: _CookieConfig, app: Any, use_config: bool) -> FlaskSession:
    """Turn a loaded session into a FlaskSession shaped by the app's SESSION_COOKIE_* config."""
    session.__class__ = FlaskSession  # same slots: adds Flask's properties only
    assert isinstance(session, FlaskSession)
    if use_config:
        options = session.options
        options.domain = interface.get_cookie_domain(app)
        options.path = interface.get_cookie_path(app)
        options.http_only = interface.get_cookie_httponly(app)
        options.secure = interface.get_cookie_secure(app)
        same_site = interface.get_cookie_samesite(app)
        options.same_site = same_site.capitalize() if same_site else None  # type: ignore[assignment]
        options.partitioned = interface.get_cookie_partitioned(app)
        apply_lifetime(session, app, use_config)
    session.accessed = False
    return session


def apply_lifetime(session: Session, app: Any, use_config: bool) -> None:
    """Permanent sessions live PERMANENT_SESSION_LIFETIME; others are browser-session cookies.

    Flask refreshes a permanent cookie on every request (SESSION_REFRESH_EACH_REQUEST).
    """
    if not (use_config and isinstance(session, FlaskSession)) or session.options.max_age < 0:
        return
    lifetime = int(app.permanent_session_lifetime.total_seconds())
    session.options.max_age = lifetime if session.permanent else 0
    if (
        session.permanent
        and not session.is_new
        and lifetime > 0
        and app.config.get("SESSION_REFRESH_EACH_REQUEST", True)
    ):
        session.mark_modified()


def write_headers(response: Any, registry: Registry, headers: list[str]) -> None:
    """Add the Set-Cookie headers, and ``Vary: Cookie`` when a session was read."""
    if any(s.accessed for s in registry):
        response.vary.add("Cookie")
    for header in headers:
        response.headers.add("Set-Cookie", header)


def handle_save_error(response: Any, registry: Registry, error: SaveError) -> None:
    """Keep the cookies that were saved; a store that is down makes the response a 503.

    Raised from save_session, an exception would become a 500, so the response is changed.
    """
    write_headers(response, registry, error.headers)
    if not any(isinstance(e, StoreUnavailable) for e in error.errors.values()):
        raise error
    response.status_code = 503
    response.set_data(b"Service Unavailable: the session store cannot be reached\n")
    response.mimetype = "text/plain"
    response.headers["Retry-After"] = "1"
