"""The applications of the server-side HTTP benchmark (``http_stores.py``), one factory each.

Every app serves ``GET /``: read ``n`` from the session, store ``n + 1``, answer ``n + 1`` as
text (the first request of a new session answers 1), so wrk's Lua hooks can check that every
connection's counter grew by one per response: the session really went to the database and
came back. Each factory builds one variant in its own server process; the database URLs come
from the environment variables ``tools/testenv.py`` exports (``WEBSESSION_TEST_REDIS_URL``,
``WEBSESSION_TEST_POSTGRES_URL``).

The session also holds a user dict and a CSRF token, as in ``http_throughput.py``. Every
variant uses a persistent cookie of 14 days, not ``Secure`` (plain HTTP on 127.0.0.1).
"""

from __future__ import annotations

import os
from typing import Any

SECRET = "benchmark-secret-Xk3vQ9pL2mN7rT5wY8zA1cE4gJ6hB0dF"  # not for production
MAX_AGE = 14 * 24 * 3600
USER = {"id": 42, "name": "alice", "roles": ["admin", "editor"]}
CSRF = "q8JpZC1YV0Pq9iUCgFZbC4f0q3rM8oLxkHq9sW3c"


def redis_url() -> str:
    return os.environ["WEBSESSION_TEST_REDIS_URL"]


def postgres_url() -> str:
    return os.environ["WEBSESSION_TEST_POSTGRES_URL"]


def url_for(db: str) -> str:
    return redis_url() if db == "redis" else postgres_url()


def bump(session: Any) -> str:
    n = session.get("n", 0) + 1
    session["n"] = n
    if "user" not in session:
        session["user"] = USER
        session["csrf"] = CSRF
    return str(n)


def websession_store(db: str) -> Any:
    from websession import CookieOptions, open_store

    # the table option is left to its default: the backend creates its table when missing
    return open_store(url_for(db), SECRET, options=CookieOptions(secure=False, max_age=MAX_AGE))


# -- Starlette under uvicorn (uvicorn --factory) ----------------------------------------------


def _starlette(middleware: list[Any]) -> Any:
    from starlette.applications import Starlette
    from starlette.responses import PlainTextResponse
    from starlette.routing import Route

    async def count(request: Any) -> Any:
        return PlainTextResponse(bump(request.session))

    return Starlette(routes=[Route("/", count)], middleware=middleware)


def starlette_websession_redis() -> Any:
    return _starlette_websession("redis")


def starlette_websession_postgresql() -> Any:
    return _starlette_websession("postgresql")


def _starlette_websession(db: str) -> Any:
    from starlette.middleware import Middleware

    import websession.asgi

    store = websession_store(db)
    return _starlette([Middleware(websession.asgi.SessionMiddleware, store=store)])


def starlette_starsessions_redis() -> Any:
    from starlette.middleware import Middleware
    from starsessions import SessionAutoloadMiddleware, SessionMiddleware
    from starsessions.stores.redis import RedisStore

    store = RedisStore(url=redis_url())
    return _starlette(
        [
            Middleware(
                SessionMiddleware, store=store, lifetime=MAX_AGE, cookie_https_only=False
            ),
            Middleware(SessionAutoloadMiddleware),
        ]
    )


# -- Flask under gunicorn (gunicorn 'module:factory()') ----------------------------------------


def _flask(name: str) -> Any:
    from flask import Flask, session

    app = Flask(name)
    app.add_url_rule("/", "count", lambda: bump(session))
    return app


def flask_websession_redis() -> Any:
    return _flask_websession("redis")


def flask_websession_postgresql() -> Any:
    return _flask_websession("postgresql")


def _flask_websession(db: str) -> Any:
    import websession.flask

    app = _flask("flask_websession")
    app.session_interface = websession.flask.SessionInterface(websession_store(db))
    return app


def flask_session_redis() -> Any:
    import redis
    from flask_session import Session

    app = _flask("flask_session")
    app.config.update(
        SESSION_TYPE="redis",
        SESSION_REDIS=redis.Redis.from_url(redis_url()),
        PERMANENT_SESSION_LIFETIME=MAX_AGE,
    )
    Session(app)
    return app


def flask_session_postgresql() -> Any:
    from flask_session import Session
    from flask_sqlalchemy import SQLAlchemy

    app = _flask("flask_session")
    url = postgres_url().replace("postgresql://", "postgresql+psycopg://", 1)
    app.config.update(SQLALCHEMY_DATABASE_URI=url, PERMANENT_SESSION_LIFETIME=MAX_AGE)
    db = SQLAlchemy(app)
    app.config.update(SESSION_TYPE="sqlalchemy", SESSION_SQLALCHEMY=db)
    Session(app)
    with app.app_context():
        db.create_all()  # Flask-Session's table
    return app


# -- aiohttp (python -m aiohttp.web -H HOST -P PORT module:factory) ----------------------------


def _aiohttp() -> Any:
    from aiohttp import web

    return web.Application()


def aiohttp_websession_redis(argv: Any = None) -> Any:
    return _aiohttp_websession("redis")


def aiohttp_websession_postgresql(argv: Any = None) -> Any:
    return _aiohttp_websession("postgresql")


def _aiohttp_websession(db: str) -> Any:
    from aiohttp import web

    import websession.aiohttp

    app = _aiohttp()
    websession.aiohttp.setup(app, websession_store(db))

    async def count(request: web.Request) -> web.Response:
        return web.Response(text=bump(await websession.aiohttp.get_session(request)))

    app.router.add_get("/", count)
    return app


def aiohttp_session_redis(argv: Any = None) -> Any:
    import redis.asyncio
    from aiohttp import web
    from aiohttp_session import get_session, setup
    from aiohttp_session.redis_storage import RedisStorage

    app = _aiohttp()
    setup(app, RedisStorage(redis.asyncio.Redis.from_url(redis_url()), max_age=MAX_AGE))

    async def count(request: web.Request) -> web.Response:
        return web.Response(text=bump(await get_session(request)))

    app.router.add_get("/", count)
    return app


# -- Django under gunicorn (gunicorn 'module:factory()') ---------------------------------------


def _django(**settings: Any) -> Any:
    import django
    from django.conf import settings as django_settings
    from django.core.handlers.wsgi import WSGIHandler
    from django.http import HttpResponse
    from django.urls import path

    def count(request: Any) -> Any:
        return HttpResponse(bump(request.session), content_type="text/plain")

    global urlpatterns
    urlpatterns = [path("", count)]
    django_settings.configure(
        DEBUG=False,
        SECRET_KEY=SECRET,
        ALLOWED_HOSTS=["127.0.0.1"],
        ROOT_URLCONF=__name__,
        INSTALLED_APPS=["django.contrib.sessions"],
        MIDDLEWARE=["django.contrib.sessions.middleware.SessionMiddleware"],
        SESSION_COOKIE_AGE=MAX_AGE,
        USE_TZ=True,
        **settings,
    )
    django.setup()
    return WSGIHandler()


urlpatterns: list[Any] = []


def django_websession_redis() -> Any:
    return _django(SESSION_ENGINE="websession.django", WEBSESSION={"STORE": redis_url()})


def django_websession_postgresql() -> Any:
    return _django(SESSION_ENGINE="websession.django", WEBSESSION={"STORE": postgres_url()})


def django_cache_redis() -> Any:
    return _django(
        SESSION_ENGINE="django.contrib.sessions.backends.cache",
        CACHES={
            "default": {
                "BACKEND": "django.core.cache.backends.redis.RedisCache",
                "LOCATION": redis_url(),
            }
        },
    )


def django_db_postgresql() -> Any:
    from urllib.parse import urlsplit

    parts = urlsplit(postgres_url())
    app = _django(
        SESSION_ENGINE="django.contrib.sessions.backends.db",
        DATABASES={
            "default": {
                "ENGINE": "django.db.backends.postgresql",
                "NAME": parts.path.lstrip("/"),
                "USER": parts.username or "postgres",
                "PASSWORD": parts.password or "",
                "HOST": parts.hostname,
                "PORT": parts.port,
                "CONN_MAX_AGE": None,  # one persistent connection, as a tuned deployment
            }
        },
    )
    from django.core.management import call_command

    call_command("migrate", "sessions", verbosity=0)
    return app


def serve_aiohttp(factory: str, host: str, port: int) -> None:
    """Run an aiohttp factory on host:port, with no access log (as the other servers)."""
    from aiohttp import web

    web.run_app(globals()[factory](), host=host, port=port, access_log=None, print=None)


if __name__ == "__main__":
    import sys

    serve_aiohttp(sys.argv[1], sys.argv[2], int(sys.argv[3]))
