"""A plain WSGI application (no framework) behind websession.wsgi.SessionMiddleware.

Mounted four times, over the same stores, to test the middleware's options:

- ``/...``: the defaults;
- ``/soe/...``: ``save_on_error=True``;
- ``/raw/...``: ``unavailable_status=None`` (StoreUnavailable propagates: a 500);
- ``/gen/...``: a generator application (start_response is called while iterating).

Run: ``gunicorn tests.support.apps.wsgi_app:app``.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from websession import get_session
from websession.wsgi import SessionMiddleware

from .common import query
from .routes import STORES, handle

REASONS = {200: "OK", 404: "Not Found", 500: "Internal Server Error"}


def _run(environ: dict[str, Any], prefix: str) -> tuple[str, list[tuple[str, str]], bytes]:
    path = environ["PATH_INFO"][len(prefix) :]

    def get(name: str, store_key: str):  # type: ignore[no-untyped-def]
        return get_session(environ, name, STORES[store_key])

    status, text = handle(path, query(environ.get("QUERY_STRING", "")), get)
    body = text.encode()
    headers = [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))]
    return f"{status} {REASONS[status]}", headers, body


def make_app(prefix: str):  # type: ignore[no-untyped-def]
    def app(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        status, headers, body = _run(environ, prefix)
        start_response(status, headers)
        return [body]

    return app


def generator_app(environ: dict[str, Any], start_response: Any) -> Iterator[bytes]:
    # Everything, loading included, happens on the server's first next().
    status, headers, body = _run(environ, "/gen")
    start_response(status, headers)
    yield body


MOUNTS = {
    "/soe": SessionMiddleware(make_app("/soe"), STORES["memory"], save_on_error=True),
    "/raw": SessionMiddleware(make_app("/raw"), STORES["memory"], unavailable_status=None),
    "/gen": SessionMiddleware(generator_app, STORES["memory"]),
}
DEFAULT = SessionMiddleware(make_app(""), STORES["memory"])


def app(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
    path = environ.get("PATH_INFO", "")
    for prefix, mounted in MOUNTS.items():
        if path.startswith(prefix + "/"):
            return mounted(environ, start_response)
    return DEFAULT(environ, start_response)
