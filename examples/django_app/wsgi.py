"""WSGI entry point: ``gunicorn django_app.wsgi`` (from the examples directory)."""

from __future__ import annotations

import os

from django.core.wsgi import get_wsgi_application

from websession.wsgi import SessionMiddleware

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "django_app.settings")

django_app = get_wsgi_application()

from .prefs import prefs_store  # noqa: E402  (needs the settings loaded)

# request.session is Django's (SESSION_ENGINE = "websession.django"); the middleware adds the
# "prefs" session from a second store: websession.get_session(request, "prefs").
application = SessionMiddleware(django_app, prefs_store, name="prefs")
