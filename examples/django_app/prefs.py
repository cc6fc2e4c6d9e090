"""The "prefs" session's store: a websession CookieStore (the values sealed in the cookie).

wsgi.py and asgi.py wrap Django in websession's middleware with this store, so views read it
with ``websession.get_session(request, "prefs")`` (or ``await websession.aget_session(...)``)
and it is saved with the response, next to Django's own session cookie.
"""

from __future__ import annotations

from django.conf import settings

from websession import CookieOptions, CookieStore

prefs_store = CookieStore(
    [settings.SECRET_KEY, *settings.SECRET_KEY_FALLBACKS],
    options=CookieOptions(
        max_age=settings.PREFS_COOKIE_AGE,
        secure=settings.SESSION_COOKIE_SECURE,
        same_site="Lax",
    ),
)
