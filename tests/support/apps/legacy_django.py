"""A Django project before and after switching to websession (tests/legacy/test_django.py).

Settings, URLs, views and the WSGI application in one module, configured by the environment:

- ``LEGACY_ENGINE``: ``db``, ``cache``, ``cached_db``, ``file`` or ``signed_cookies``: the
  engine the project ran before the switch. With ``LEGACY_SWITCHED=1`` the project runs on
  ``websession.django`` with the matching reader (the switch: one setting, one reader);
- ``LEGACY_DIR``: where the SQLite database and the file cache live (they outlive a restart);
- ``LEGACY_SECRET``: SECRET_KEY; ``LEGACY_UNTIL``: the reader's ``until=`` (ISO date);
- ``LEGACY_SERIALIZER``: SESSION_SERIALIZER (to show a pickle serializer is refused).

Run: ``gunicorn tests.support.apps.legacy_django:application`` with ``DJANGO_SETTINGS_MODULE``
set to this module.
"""

from __future__ import annotations

import datetime as dt
import os
import pickle
from typing import Any

import django
from django.http import HttpRequest, JsonResponse
from django.urls import path

ENGINE = os.environ["LEGACY_ENGINE"]
SWITCHED = os.environ.get("LEGACY_SWITCHED") == "1"
DIRECTORY = os.environ["LEGACY_DIR"]
UNTIL = os.environ.get("LEGACY_UNTIL")

SECRET_KEY = os.environ["LEGACY_SECRET"]
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1"]
INSTALLED_APPS = ["django.contrib.sessions"]
MIDDLEWARE = ["django.contrib.sessions.middleware.SessionMiddleware"]
ROOT_URLCONF = __name__
USE_TZ = True
DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": os.path.join(DIRECTORY, "db.sqlite3"),
    }
}
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
        "LOCATION": os.path.join(DIRECTORY, "cache"),
    }
}
SESSION_COOKIE_SECURE = False
SESSION_FILE_PATH = os.path.join(DIRECTORY, "files")  # the file engine's directory
os.makedirs(SESSION_FILE_PATH, exist_ok=True)
if os.environ.get("LEGACY_SERIALIZER"):
    SESSION_SERIALIZER = os.environ["LEGACY_SERIALIZER"]

OLD_ENGINE = f"django.contrib.sessions.backends.{ENGINE}"
if not SWITCHED:
    SESSION_ENGINE = OLD_ENGINE
else:
    from websession.legacy import DjangoSessions, DjangoSignedCookie

    until = dt.date.fromisoformat(UNTIL) if UNTIL else None
    SESSION_ENGINE = "websession.django"  # the switch: this line ...
    WEBSESSION = {  # ... and a reader of the old engine's sessions
        "STORE": "file://" + os.path.join(DIRECTORY, "websession"),
        "LEGACY": [
            DjangoSignedCookie(SECRET_KEY, until=until)
            if ENGINE == "signed_cookies"
            else DjangoSessions(OLD_ENGINE, until=until)
        ],
    }


class PickleSerializer:
    """What Django before 5.0 offered as SESSION_SERIALIZER: pickle (to show it is refused)."""

    def dumps(self, obj: Any) -> bytes:
        return pickle.dumps(obj, pickle.HIGHEST_PROTOCOL)

    def loads(self, data: bytes) -> Any:
        return pickle.loads(data)  # only the "before" project, which made the old records


VALUES = {"user": "alice", "roles": ["admin", "staff"], "visits": 3}


def login(request: HttpRequest) -> JsonResponse:
    request.session.update(VALUES)
    return JsonResponse({"ok": True})


def me(request: HttpRequest) -> JsonResponse:
    values = {k: request.session.get(k) for k in VALUES}  # loads the session
    ws = getattr(request.session, "_ws", None)  # the websession session, after the switch
    return JsonResponse(
        {
            "values": values,
            "engine": SESSION_ENGINE,
            "reason": ws.reason if ws is not None else None,
        }
    )


async def ame(request: HttpRequest) -> JsonResponse:
    """``me`` through Django's async session API (``aget``: the engine's ``aload``)."""
    values = {k: await request.session.aget(k) for k in VALUES}
    ws = getattr(request.session, "_ws", None)
    reason = ws.reason if ws is not None else None
    return JsonResponse({"values": values, "engine": SESSION_ENGINE, "reason": reason})


urlpatterns = [path("login", login), path("me", me), path("ame", ame)]

django.setup()
if ENGINE in ("db", "cached_db"):
    from django.core.management import call_command

    call_command("migrate", "sessions", verbosity=0)

from django.core.wsgi import get_wsgi_application  # noqa: E402

application = get_wsgi_application()
