"""Settings of the websession + Django example (see ../README.md).

Environment, read by ``../common.py`` as in the other examples: ``WEBSESSION_SECRETS``
(comma-separated, newest first: SECRET_KEY, then SECRET_KEY_FALLBACKS), ``WEBSESSION_DIR`` (the
session files), ``WEBSESSION_SECURE=0`` for plain HTTP; and ``DJANGO_DEBUG=1``.
"""

from __future__ import annotations

import os

from common import PREFS_AGE, SECRETS, SECURE, SESSION_AGE, session_dir

SESSION_DIR = os.path.abspath(session_dir("django"))

SECRET_KEY = SECRETS[0]
SECRET_KEY_FALLBACKS = SECRETS[1:]  # websession.django uses these too, newest first
DEBUG = os.environ.get("DJANGO_DEBUG") == "1"
ALLOWED_HOSTS = ["127.0.0.1", "localhost", "[::1]"]

INSTALLED_APPS = [
    "django.contrib.sessions",  # for `manage.py clearsessions` (no database is used)
    "django.contrib.messages",
]
MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
]
ROOT_URLCONF = "django_app.urls"
WSGI_APPLICATION = "django_app.wsgi.application"
DATABASES: dict[str, dict[str, str]] = {}  # no database: sessions live in websession's store
USE_TZ = True

# -- sessions: Django's API, websession's store ----------------------------------------------
SESSION_ENGINE = "websession.django"
WEBSESSION = {
    # Files under SESSION_DIR (shared by every worker); the cookie holds a sealed session id.
    # Any open_store URL works here ("redis://...", "postgresql://...", "memory://").
    "STORE": "file://" + SESSION_DIR,
}
SESSION_COOKIE_NAME = "sessionid"
SESSION_COOKIE_AGE = SESSION_AGE  # Max-Age of the cookie, and how long the record lives
SESSION_EXPIRE_AT_BROWSER_CLOSE = False  # per session: request.session.set_expiry(0)
SESSION_COOKIE_SECURE = SECURE
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SECURE = SECURE

# Messages in the session (websession's store), not in a cookie of their own.
MESSAGE_STORAGE = "django.contrib.messages.storage.session.SessionStorage"

# The second session, "prefs": the whole session sealed in its own cookie for a year (see
# prefs.py and wsgi.py / asgi.py).
PREFS_COOKIE_AGE = PREFS_AGE
