"""ASGI entry point: ``uvicorn django_app.asgi:application`` (from the examples directory).

Async views use Django's async session API (``await request.session.aget(...)``), which
websession.django serves with the store's native async methods.
"""

from __future__ import annotations

import os

from django.core.asgi import get_asgi_application

from websession.asgi import SessionMiddleware

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "django_app.settings")

django_app = get_asgi_application()

from .prefs import prefs_store  # noqa: E402  (needs the settings loaded)

application = SessionMiddleware(django_app, prefs_store, name="prefs")
