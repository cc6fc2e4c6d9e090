"""What the WSGI and ASGI middlewares share: where the registry lives, the save policy, headers.

The middlewares put three keys into the WSGI environ or the ASGI scope:

- ``"websession.registry"``: the request's :class:`~websession.Registry`;
- ``"websession.store"``: the middleware's default store;
- ``"websession.name"``: the middleware's default session name.

:func:`get_session` and :func:`aget_session` find them in an environ or a scope, or in a
framework's request object that carries one (``.scope`` for Starlette, FastAPI, Quart;
``.environ`` for Werkzeug and Flask; ``.META`` for Django's WSGIRequest).
"""

from __future__ import annotations

import functools
import ipaddress
import logging
import time
from collections.abc import Iterable, Mapping, MutableMapping
from http import HTTPStatus
from typing import Any

from .errors import SaveError, StoreUnavailable
from .registry import Registry
from .session import Session
from .stores.base import Store

__all__ = [
    "NAME_KEY",
    "REGISTRY_KEY",
    "STORE_KEY",
    "UNAVAILABLE_BODY",
    "aget_session",
    "find_environ",
    "get_session",
    "is_unavailable",
    "merged_vary",
    "plain_http_host",
    "plain_http_of",
    "reason_phrase",
    "refresh_sessions",
    "should_save",
    "vary_needed",
]

log = logging.getLogger("websession")

REGISTRY_KEY = "websession.registry"
STORE_KEY = "websession.store"
NAME_KEY = "websession.name"

#: The body of the response sent when a store cannot be reached.
UNAVAILABLE_BODY = b"Service unavailable: the session store cannot be reached. Try again shortly.\n"

_NO_MIDDLEWARE = (
    "no websession middleware ran for this request: wrap the application in "
    "websession.wsgi.SessionMiddleware (WSGI) or websession.asgi.SessionMiddleware (ASGI)"
)


def reason_phrase(status: int) -> str:
    """The reason phrase for ``status`` (for a WSGI status line)."""
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Unknown"


def find_environ(obj: object) -> MutableMapping[str, Any]:
    """The WSGI environ or ASGI scope a middleware prepared, from it or a request object.

    Raises:
        RuntimeError: no websession middleware ran for this request.
    """
    if isinstance(obj, Mapping):
        if REGISTRY_KEY in obj:
            return obj  # type: ignore[return-value]
        raise RuntimeError(_NO_MIDDLEWARE)
    for attribute in ("scope", "environ", "META"):
        env = getattr(obj, attribute, None)
        if isinstance(env, Mapping) and REGISTRY_KEY in env:
            return env  # type: ignore[return-value]
    # Quart and some others keep the request behind ``_get_current_object`` (a proxy).
    target = getattr(obj, "_get_current_object", None)
    if callable(target):
        return find_environ(target())
    raise RuntimeError(
        _NO_MIDDLEWARE
        if any(hasattr(obj, a) for a in ("scope", "environ", "META"))
        else f"cannot find a WSGI environ or ASGI scope in {type(obj).__name__!r}; pass the "
        "environ, the scope, or a request object with .environ or .scope"
    )


def _resolve(
    env: MutableMapping[str, Any], name: str | None, store: Store | None
) -> tuple[Registry, Store, str]:
    registry: Registry = env[REGISTRY_KEY]
    return (
        registry,
        store if store is not None else env[STORE_KEY],
        name if name is not None else env[NAME_KEY],
    )


def _is_asgi(env: Mapping[str, Any]) -> bool:
    return "asgi" in env and env.get("type") in ("http", "websocket")


def _loads_without_io(registry: Registry, store: Store, name: str) -> bool:
    if any(reader.needs_io for reader in registry.legacy_sent(store)):
        return False  # an old library's server-side session may be adopted (websession.legacy)
    # a capability the store declares; a store that does not say is assumed to need I/O
    return not registry.cookie_values(name) or not getattr(store, "needs_io", True)


def _remember_default(env: MutableMapping[str, Any], session: Session, store: Store) -> None:
    # Starlette's ``request.session`` reads ``scope["session"]``: the default session.
    if _is_asgi(env) and session.name == env[NAME_KEY] and store is env[STORE_KEY]:
        env["session"] = session


def get_session(obj: object, name: str | None = None, store: Store | None = None) -> Session:
    """The session ``name`` of this request, loaded on first use and then cached.

    Args:
        obj: a WSGI environ, an ASGI scope, or a request object carrying one (``.environ``,
            ``.scope`` or ``.META``).
        name: the cookie name; the middleware's ``name`` (``"session"``) by default.
        store: the store to load it from; the middleware's store by default.

    Raises:
        RuntimeError: no websession middleware ran; or, under ASGI, loading would need I/O
            (a server-side store and a session cookie): use ``await aget_session(...)``.
        StoreUnavailable: the store cannot be reached (the middleware turns it into a 503).
    """
    env = find_environ(obj)
    registry, store, name = _resolve(env, name, store)
    if name not in registry and _is_asgi(env) and not _loads_without_io(registry, store, name):
        raise RuntimeError(
            f"loading session {name!r} from {type(store).__name__} needs I/O: under ASGI use "
            f"`await websession.aget_session(request, {name!r})` (or keep autoload=True for "
            "the default session)"
        )
    session = registry.get(store, name)
    _remember_default(env, session, store)
    return session


async def aget_session(obj: object, name: str | None = None, store: Store | None = None) -> Session:
    """Async twin of :func:`get_session`: async stores are awaited natively."""
    env = find_environ(obj)
    registry, store, name = _resolve(env, name, store)
    session = await registry.aget(store, name)
    _remember_default(env, session, store)
    return session


# -- plain HTTP ------------------------------------------------------------------------------
def plain_http_host(scheme: Any, host: Any, forwarded_proto: Any = None) -> str | None:
    """The request's host if it came over plain HTTP to a host other than localhost.

    Browsers accept Secure cookies from ``http://localhost`` (a secure context), so only other
    hosts are reported (see ``Registry.plain_http_host``). A proxy that says it received HTTPS
    (``X-Forwarded-Proto: https``) counts as HTTPS.
    """
    if scheme != "http" or not host:
        return None
    if isinstance(forwarded_proto, (bytes, str)):
        proto = (
            forwarded_proto.decode("latin-1")
            if isinstance(forwarded_proto, bytes)
            else forwarded_proto
        )
        if proto.split(",")[0].strip().lower() == "https":
            return None
    return _unless_local(host)


# A request's Host repeats from one request to the next, and parsing it as an IP address took
# 2.6-3.6 us of a ~200 us request (make bench-http, ASGI cookie row): remembered per Host value.
# Bounded, so Host headers that churn cost what they cost without the cache, and no more memory.
@functools.lru_cache(maxsize=512)
def _unless_local(host: bytes | str) -> str | None:
    """``host`` as text, or None for localhost and loopback addresses."""
    text = host.decode("latin-1") if isinstance(host, bytes) else str(host)
    name = text.rsplit("]", 1)[0].lstrip("[") if text.startswith("[") else text.partition(":")[0]
    name = name.lower().rstrip(".")
    if name == "localhost" or name.endswith(".localhost"):
        return None
    try:
        if ipaddress.ip_address(name).is_loopback:
            return None
    except ValueError:
        pass
    return text


def plain_http_of(environ_or_scope: Mapping[str, Any]) -> str | None:
    """:func:`plain_http_host` of a WSGI environ or an ASGI scope."""
    if "wsgi.url_scheme" in environ_or_scope:
        env = environ_or_scope
        return plain_http_host(
            env["wsgi.url_scheme"], env.get("HTTP_HOST"), env.get("HTTP_X_FORWARDED_PROTO")
        )
    headers = dict(environ_or_scope.get("headers", ()))
    return plain_http_host(
        environ_or_scope.get("scheme", "http"),
        headers.get(b"host"),
        headers.get(b"x-forwarded-proto"),
    )


# -- the save policy -------------------------------------------------------------------------
def should_save(status: int, save_on_error: bool) -> bool:
    """Sessions are saved with any response but a 5xx, unless ``save_on_error``."""
    return status < 500 or save_on_error


def is_unavailable(exc: BaseException) -> bool:
    """True for StoreUnavailable, and for a SaveError that contains one."""
    if isinstance(exc, StoreUnavailable):
        return True
    return isinstance(exc, SaveError) and any(
        isinstance(e, StoreUnavailable) for e in exc.errors.values()
    )


def refresh_sessions(registry: Registry, interval: float) -> None:
    """``refresh_each_request``: re-issue the cookies of the loaded, persistent sessions.

    A persistent cookie's ``Max-Age`` counts from its issue, so an active user is logged out
    ``max_age`` after logging in; re-issuing it on use makes the lifetime slide (an idle
    timeout). Only cookies issued at least ``interval`` seconds ago are re-issued, so a busy
    client costs one re-seal (and, for a server-side store, one write) per interval, not one
    per request.
    """
    for session in registry.sessions.values():
        if session.is_new or session.issued_at is None or session.options.max_age <= 0:
            continue
        clock = getattr(session.store, "clock", time.time)
        if clock() - session.issued_at >= interval:
            session.mark_modified()


def vary_needed(registry: Registry, cookies: Iterable[str]) -> bool:
    """True when the response depends on the request's cookies: a session was read or saved."""
    if any(True for _ in cookies):
        return True
    return any(session.accessed for session in registry.sessions.values())


def merged_vary(current: str | None) -> str | None:
    """The Vary value with ``Cookie`` added, or None when ``current`` already covers it."""
    if current is None or not current.strip():
        return "Cookie"
    tokens = {t.strip().lower() for t in current.split(",")}
    if "cookie" in tokens or "*" in tokens:
        return None
    return f"{current}, Cookie"
