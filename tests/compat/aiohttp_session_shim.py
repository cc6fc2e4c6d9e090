"""``aiohttp_session``, as websession replaces it: the module the compat run puts first on the
path under that name, so aiohttp-session's own test files import websession without edits.

The API names are websession.aiohttp's own. The storages are the one construction step that
changes: each aiohttp-session storage becomes the websession CookieStore with the same cookie
options (aiohttp-session keeps the cookie's name in the storage, websession in the middleware,
so ``session_middleware`` and ``setup`` pass it on), and ``AbstractStorage`` is a CookieStore
whose new sessions come from aiohttp-session's ``new_session()`` hook. Nothing else is adapted:
a test that reads aiohttp-session's cookie or record format fails and is listed in
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


class AbstractStorage(CookieStore):
    """aiohttp-session's storage base class: a websession CookieStore built from its keyword
    arguments (the construction step), so ``new_session(request)`` finds a websession store
    at ``request[STORAGE_KEY]`` as aiohttp-session finds its storage there.

    aiohttp-session's storages make new sessions in ``new_session()``, websession's stores in
    ``anew()``: ``anew`` asks ``new_session()`` (the same hook under its other name), so a
    storage that overrides ``new_session`` is the one heard. Its ``load_session`` and
    ``save_session`` are aiohttp-session's protocol, which websession does not call.
    """

    def __init__(
        self, *, cookie_name: str = COOKIE_NAME, encoder: Any = None, decoder: Any = None,
        **cookie_params: Any,
    ) -> None:  # fmt: skip
        super().__init__(SECRET, options=_options(**cookie_params))
        self.cookie_name = cookie_name

    async def new_session(self) -> Session:
        """aiohttp-session's hook for a new session: the CookieStore's own new session."""
        return await super().anew(self.cookie_name, None)  # type: ignore[return-value]

    async def anew(self, name: str, cookie_value: str | None) -> Any:
        if cookie_value is None:
            return await self.new_session()
        return await super().anew(name, cookie_value)
