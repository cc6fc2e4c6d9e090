"""Starlette/FastAPI drop-in: the signature and defaults of Starlette's ``SessionMiddleware``.

::

    # before: from starlette.middleware.sessions import SessionMiddleware
    from websession.starlette import SessionMiddleware

    app.add_middleware(SessionMiddleware, secret_key=settings.SECRET_KEY)

Switching changes the cookie's format and nothing else: ``request.session`` is a dict (a
:class:`websession.Session`), the cookie has the same name, lifetime, path, SameSite, Secure
and Domain, is set only when the session changed, is deleted when the session is emptied, and
``Vary: Cookie`` goes with every response that read the session or sets its cookie. What is
different is inside the cookie: Starlette signs base64 JSON that anyone can read; websession
seals it (AES-256-GCM-SIV), so its values are secret too, and it carries its issue time
authenticated, so a cookie replayed after ``max_age`` is refused.

``store=`` serves the same middleware from any websession store (a server-side one keeps only
a sealed id in the cookie). For websession's own, secure defaults (``Secure`` cookies, several
stores, WebSocket sessions, 503 on an unreachable store) use :mod:`websession.asgi` directly:
this module exists to match Starlette, not to improve on its defaults.
"""

from __future__ import annotations

from typing import Any, Literal

from . import asgi
from .codecs.keys import framework_secret
from .codecs.sealed import SealedCookie
from .cookies import CookieOptions
from .registry import Registry
from .serializers.json import JSONSerializer
from .stores.base import Store
from .stores.cookie import CookieStore

__all__ = ["SessionMiddleware"]


class SessionMiddleware(asgi.SessionMiddleware):
    """Starlette's ``SessionMiddleware``, backed by a sealed :class:`~websession.CookieStore`.

    Args:
        app: the ASGI application.
        secret_key: Starlette's secret (a str, bytes or ``starlette.config.Secret``); a weak one
            is accepted with a WARNING on the ``websession`` logger, as Starlette accepted it.
            Not used when ``store`` is given.
        session_cookie: the cookie's name.
        max_age: seconds the cookie (and the session) lasts; None for a browser-session cookie.
            Zero or less makes the browser drop it at once, as with Starlette.
        path: the cookie's Path.
        same_site: ``"lax"``, ``"strict"`` or ``"none"``.
        https_only: mark the cookie ``Secure``.
        domain: the cookie's Domain.
        partitioned: mark the cookie ``Partitioned`` (CHIPS).
        store: serve the sessions from this websession store instead (its own cookie options
            apply).
    """

    def __init__(
        self,
        app: asgi.ASGIApp,
        secret_key: Any,
        session_cookie: str = "session",
        max_age: int | None = 14 * 24 * 60 * 60,  # 14 days, in seconds
        path: str = "/",
        same_site: Literal["lax", "strict", "none"] = "lax",
        https_only: bool = False,
        domain: str | None = None,
        partitioned: bool = False,
        *,
        store: Store | None = None,
    ) -> None:
        if store is None:
            store = _cookie_store(
                secret_key,
                CookieOptions(
                    path=path,
                    domain=domain,
                    max_age=max_age if max_age is not None and max_age > 0 else 0,
                    secure=https_only,
                    http_only=True,
                    same_site=same_site.capitalize(),  # type: ignore[arg-type]
                    partitioned=partitioned,
                ),
                max_age,
                session_cookie,
            )
        # Starlette's max_age <= 0 sends Max-Age=0 or less: the browser drops the cookie at once.
        self.expire_at_once = max_age is not None and max_age <= 0
        # No 503 page of our own: Starlette's middleware has none, a cookie store never fails.
        super().__init__(app, store, name=session_cookie, vary=True, autoload=True)

    def before_save(self, registry: Registry) -> None:
        """Apply Starlette's rules before saving: an emptied session, or any change when ``max_age``
        is 0 or less, deletes its cookie.
        """
        session = registry.sessions.get(self.name)
        if session is not None and session.modified:
            # As Starlette: a session emptied in this request deletes its cookie, and so does
            # any change under max_age <= 0 (Starlette's cookie would be dropped on arrival).
            emptied = not dict.__len__(session) and getattr(
                session.store, "values_in_cookie", False
            )
            if emptied or self.expire_at_once:
                session.invalidate()
        super().before_save(registry)


def _cookie_store(
    secret_key: Any, options: CookieOptions, max_age: int | None, name: str
) -> CookieStore:
    secret = framework_secret(str(secret_key), "Starlette's SessionMiddleware secret_key")
    # Starlette's values are JSON (a tuple comes back a list, keys must be strings): the same
    # serializer keeps them so. The codec refuses a cookie older than max_age, as itsdangerous
    # does for Starlette (no limit for a browser-session cookie).
    codec = SealedCookie(
        secret,
        serializer=JSONSerializer(go_compatible=False),
        max_age=max_age if max_age is not None and max_age > 0 else 0,
    )
    return CookieStore(
        codecs=[codec], options=options, legacy=_starlette_cookies(secret_key, name, max_age)
    )


def _starlette_cookies(secret_key: Any, name: str, max_age: int | None) -> list[Any]:
    """Starlette's own signed cookies, read once and re-sealed: switching logs no one out.

    Starlette's SessionMiddleware needs itsdangerous; without it there are no such cookies."""
    try:
        from .legacy import StarletteCookie

        return [StarletteCookie(str(secret_key), cookie_name=name, max_age=max_age)]
    except ImportError:
        return []
