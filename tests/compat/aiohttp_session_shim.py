"""``aiohttp_session``, as websession replaces it: the module the compat run puts first on the
path under that name, so aiohttp-session's own test files import websession without edits.

The API names are websession.aiohttp's own. The storages are the one construction step that
changes: each aiohttp-session storage becomes the websession CookieStore with the same cookie
options (aiohttp-session keeps the cookie's name in the storage, websession in the middleware,
so ``session_middleware`` and ``setup`` pass it on). Nothing else is adapted: a test that reads
aiohttp-session's cookie or record format, or its storage protocol, fails and is listed in
expected_failures.txt.
"""

from __future__ import annotations

import base64
import functools
from typing import Any

from websession import CookieOptions, CookieStore, generate_random_key
from websession import aiohttp as _aiohttp
from websession.aiohttp import SESSION_KEY, STORAGE_KEY, Session, get_session, new_session

__all__ = ["SESSION_KEY", "STORAGE_KEY", "AbstractStorage", "EncryptedCookieStorage",
           "Session", "SessionData", "SimpleCookieStorage", "get_session", "new_session",
           "session_middleware", "setup"]  # fmt: skip

COOKIE_NAME = "AIOHTTP_SESSION"  # aiohttp-session's default cookie name
SECRET = generate_random_key()
SessionData = dict  # aiohttp-session's record type (a TypedDict): only annotations use it

session_middleware = functools.partial(_aiohttp.session_middleware, name=COOKIE_NAME)
setup = functools.partial(_aiohttp.setup, name=COOKIE_NAME)


def _options(
    *,
    domain: str | None = None,
    max_age: int | None = None,
    path: str = "/",
    secure: bool | None = None,
    httponly: bool = True,
    samesite: str | None = None,
) -> CookieOptions:
    # aiohttp-session's defaults: a browser-session cookie, not Secure, no SameSite.
    return CookieOptions(path=path, domain=domain, max_age=max_age or 0, secure=bool(secure),
                         http_only=httponly,
                         same_site=samesite.capitalize() if samesite else None)  # type: ignore[arg-type]  # fmt: skip


def SimpleCookieStorage(*, cookie_name: str = COOKIE_NAME, **cookie_params: Any) -> CookieStore:
    """aiohttp-session's clear-text JSON cookie: websession seals the cookie instead."""
    return CookieStore(SECRET, options=_options(**cookie_params))


def EncryptedCookieStorage(
    secret_key: Any, *, cookie_name: str = COOKIE_NAME, encoder: Any = None,
    decoder: Any = None, **cookie_params: Any,
) -> CookieStore:  # fmt: skip
    """aiohttp-session's Fernet cookie: websession's sealed cookie over the same secret."""
    if isinstance(secret_key, str):  # a Fernet key: 32 bytes in urlsafe base64
        secret: bytes = base64.urlsafe_b64decode(secret_key)
    elif isinstance(secret_key, (bytes, bytearray)):
        secret = bytes(secret_key)
    else:  # a Fernet object, whose key it keeps to itself: any strong secret does
        secret = SECRET
    return CookieStore(secret, options=_options(**cookie_params))


class AbstractStorage:
    """aiohttp-session's storage base class. websession has stores instead, with another
    protocol (``new``/``save``), so a storage written for aiohttp-session is not used."""

    def __init__(self, **kwargs: Any) -> None:
        self.kwargs = kwargs
