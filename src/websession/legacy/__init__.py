"""Read the sessions of the library websession replaces, so switching logs no one out.

Give a store the readers of the old library::

    store = CookieStore(secrets, legacy=[FlaskCookie(app.secret_key)])

When a request brings no valid websession cookie, each reader is tried on the request's
cookies (by its own cookie name). A session a reader recognises is loaded as a websession
session and marked modified, so the response re-seals it in websession's format (and deletes
the old cookie when its name differs); the next request needs no reader. Readers only read:
websession never writes an old format. ``until=`` closes a reader on a date. Forged, expired or
foreign old cookies are rejected like any bad cookie (a new session, the reason in
``session.reason``); a record or cookie that would need pickle is refused and logged.

Each reader verifies with the old library's own code (itsdangerous, ``django.core.signing``,
``cryptography.fernet``, Django's session engines) and needs that library installed.
"""

from __future__ import annotations

from ._base import LegacyReader, aadopt, adopt, check_readers
from ._cookies import AiohttpCookie, DjangoSignedCookie, FlaskCookie, StarletteCookie
from ._servers import AiohttpRedis, DjangoSessions, FlaskSessionRedis, StarsessionsRedis

__all__ = [
    "AiohttpCookie",
    "AiohttpRedis",
    "DjangoSessions",
    "DjangoSignedCookie",
    "FlaskCookie",
    "FlaskSessionRedis",
    "LegacyReader",
    "StarletteCookie",
    "StarsessionsRedis",
    "aadopt",
    "adopt",
    "check_readers",
]
