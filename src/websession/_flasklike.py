"""What the Flask and Quart integrations share (both speak Flask's session protocol and use
Werkzeug's request/response types). Imports Werkzeug only; each framework module adds its own
sync or async glue."""

from __future__ import annotations

from collections.abc import MutableMapping
from typing import Any, Protocol

from werkzeug.exceptions import ServiceUnavailable

from ._adapter import plain_http_of
from .codecs.keys import framework_secret
from .codecs.sealed import SealedCookie
from .errors import EncodeError, Malformed, SaveError, StoreUnavailable
from .registry import Registry
from .session import Session
from .stores.base import Store
from .stores.cookie import CookieStore

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
        registry.plain_http_host = plain_http_of(environ_or_scope)
        environ_or_scope[REGISTRY_KEY] = registry
    assert isinstance(registry, Registry)
    return registry


class TaggedJSON:
    """A websession serializer over Flask's (or Quart's) own tagged JSON serializer.

    The drop-in cookie session keeps the values Flask's cookie session keeps (tuples, bytes,
    ``Markup``, ``UUID``, aware datetimes) and no others, so switching changes the cookie's
    format, not what a view reads back. Flask's serializer is reused rather than rewritten.
    """

    def __init__(self, tagged: Any) -> None:
        self.tagged = tagged

    def serialize(self, value: Any) -> bytes:
        try:
            return str(self.tagged.dumps(value)).encode("utf-8")
        except (TypeError, ValueError, RecursionError) as exc:
            raise EncodeError(f"Flask's session serializer cannot encode it: {exc}") from exc

    def deserialize(self, data: bytes) -> Any:
        try:
            return self.tagged.loads(data.decode("utf-8"))
        except (ValueError, TypeError, KeyError, RecursionError) as exc:
            raise Malformed(f"not Flask's tagged JSON: {exc}") from exc


class SecretKeyStores:
    """The drop-in's CookieStore, sealed with ``app.secret_key`` (+ ``SECRET_KEY_FALLBACKS``).

    Rebuilt when the app's keys or ``PERMANENT_SESSION_LIFETIME`` change (Flask reads them on
    each request too), so rotating ``app.secret_key`` at run time behaves as in Flask.
    """

    def __init__(self, tagged: Any) -> None:
        self.serializer = TaggedJSON(tagged)
        self._made: tuple[tuple[Any, ...], CookieStore] | None = None

    def store_for(self, app: Any) -> CookieStore | None:
        """The store for ``app``'s current keys; None without ``secret_key`` (a null session)."""
        if not app.secret_key:
            return None
        fallbacks = tuple(app.config.get("SECRET_KEY_FALLBACKS") or ())
        lifetime = int(app.permanent_session_lifetime.total_seconds())
        signature = (app.secret_key, fallbacks, lifetime, app.config.get("SESSION_COOKIE_NAME"))
        if self._made is not None and self._made[0] == signature:
            return self._made[1]
        secrets = [framework_secret(app.secret_key, "Flask's app.secret_key")]
        secrets += [framework_secret(k, "Flask's SECRET_KEY_FALLBACKS") for k in fallbacks]
        # Like itsdangerous in Flask: a cookie opens for PERMANENT_SESSION_LIFETIME after it
        # was issued, whatever the browser does.
        codec = SealedCookie(secrets, serializer=self.serializer, max_age=max(lifetime, 0))
        store = CookieStore(codecs=[codec], legacy=self._flask_cookies(app, fallbacks, lifetime))
        self._made = (signature, store)
        return store

    @staticmethod
    def _flask_cookies(app: Any, fallbacks: tuple[Any, ...], lifetime: int) -> list[Any]:
        """Flask's own signed cookies, read once and re-sealed: switching logs no one out.

        Flask apps only (Quart's cookies are read by no reader yet)."""
        try:
            from flask import Flask
        except ImportError:  # a Quart app without Flask installed
            return []
        if not isinstance(app, Flask) or not app.secret_key:
            return []
        from .legacy import FlaskCookie

        name = str(app.config.get("SESSION_COOKIE_NAME") or "session")
        return [
            FlaskCookie(app.secret_key, fallbacks=fallbacks, cookie_name=name, max_age=lifetime)
        ]


_SAME_SITE = {"strict": "Strict", "lax": "Lax", "none": "None"}


def adopt(session: Session, interface: _CookieConfig, app: Any, use_config: bool) -> FlaskSession:
    """Turn a loaded session into a FlaskSession shaped by the app's SESSION_COOKIE_* config.

    Raises:
        ValueError: ``SESSION_COOKIE_SAMESITE`` is not Strict, Lax, None or unset (as Flask).
    """
    session.__class__ = FlaskSession  # same slots: adds Flask's properties only
    assert isinstance(session, FlaskSession)
    if use_config:
        options = session.options
        options.domain = interface.get_cookie_domain(app)
        options.path = interface.get_cookie_path(app)
        options.http_only = interface.get_cookie_httponly(app)
        options.secure = interface.get_cookie_secure(app)
        same_site = interface.get_cookie_samesite(app)
        if same_site and str(same_site).lower() not in _SAME_SITE:
            raise ValueError(
                f"SESSION_COOKIE_SAMESITE must be 'Strict', 'Lax', 'None' or None, "
                f"not {same_site!r}"
            )
        options.same_site = _SAME_SITE[str(same_site).lower()] if same_site else None  # type: ignore[assignment]
        # Flask >= 3.1 and Quart >= 0.21 have SESSION_COOKIE_PARTITIONED; Quart 0.20 (the last
        # release for Python 3.10) has no getter for it: keep the store's option there
        partitioned = getattr(interface, "get_cookie_partitioned", None)
        if partitioned is not None:
            options.partitioned = partitioned(app)
        apply_lifetime(session, app, use_config)
    session.accessed = False
    return session


def apply_lifetime(session: Session, app: Any, use_config: bool) -> None:
    """Permanent sessions live PERMANENT_SESSION_LIFETIME; others are browser-session cookies.

    Flask refreshes a permanent cookie on every request (SESSION_REFRESH_EACH_REQUEST).
    """
    if not (use_config and isinstance(session, FlaskSession)) or session.options.max_age < 0:
        return
    permanent = bool(dict.get(session, _PERMANENT, False))
    lifetime = int(app.permanent_session_lifetime.total_seconds())
    session.options.max_age = lifetime if permanent else 0
    if (
        permanent
        and not session.is_new
        and lifetime > 0
        and app.config.get("SESSION_REFRESH_EACH_REQUEST", True)
    ):
        session.mark_modified()


def prepare_save(session: Session, app: Any, use_config: bool) -> bool:
    """Flask's rules before saving; returns whether the session was modified in this request.

    A cookie session emptied in this request deletes its cookie, as Flask does.
    """
    apply_lifetime(session, app, use_config)
    modified = session.modified
    if (
        modified
        and use_config
        and getattr(session.store, "values_in_cookie", False)
        and not dict.__len__(session)
        and session.options.max_age >= 0
    ):
        session.invalidate()
    return modified


def finish_save(session: Session, modified: bool) -> None:
    """Flask's ``session.modified`` still says, after the save, that the view changed it."""
    if modified and isinstance(session, FlaskSession) and not session.modified:
        session.mark_modified()  # nothing saves this request's sessions again


def write_headers(response: Any, registry: Registry, headers: list[str]) -> None:
    """Add the Set-Cookie headers, and ``Vary: Cookie`` when a session was read or is set.

    A refreshed cookie (a permanent session re-issued on a request that never touched it)
    still depends on the request's cookie: without ``Vary`` a shared cache could hand one
    user's session cookie to another (Flask's CVE-2023-30861).
    """
    if headers or any(s.accessed for s in registry):
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
