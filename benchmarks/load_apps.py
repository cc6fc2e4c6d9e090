"""The apps of the load test (``load.py``): a counter in the session, optimistic saves retried.

``GET /inc`` loads the session of the request's cookie from the store named by
``WEBSESSION_LOAD_STORE`` (opened with ``optimistic=True``), adds one to ``n``, saves, and
answers the new ``n`` with the ``Set-Cookie``. A save that raises ``ConflictError`` (another
request saved the session since this one loaded it) is retried from the load, up to
``MAX_ATTEMPTS`` times; then, and when the store cannot be reached, the answer is a deliberate
503 and nothing was counted. ``GET /get`` answers ``n`` without saving. The ``X-Attempts``
header says how many saves the request tried.

This is the pattern an application uses with ``optimistic=True``: the retry re-runs the
read-modify-write, so the increment is applied to the latest value. (The middlewares save after
the handler returned, too late to re-run it, so this handler drives the store itself.)
"""

from __future__ import annotations

import asyncio
import os
import random
import time
from typing import Any

from websession import (
    ConflictError,
    CookieOptions,
    ServerStore,
    StoreUnavailable,
    open_store,
)

SECRET = "benchmark-secret-Xk3vQ9pL2mN7rT5wY8zA1cE4gJ6hB0dF"  # not for production
NAME = "session"
MAX_ATTEMPTS = 50


def store() -> ServerStore:
    return open_store(
        os.environ["WEBSESSION_LOAD_STORE"],
        SECRET,
        options=CookieOptions(secure=False),
        # load.py --not-optimistic turns it off, to show that the check sees lost updates
        optimistic=os.environ.get("WEBSESSION_LOAD_OPTIMISTIC", "1") == "1",
    )


def _cookie(header: str | None) -> str | None:
    for part in (header or "").split(";"):
        name, _, value = part.strip().partition("=")
        if name == NAME:
            return value
    return None


# -- Flask under gunicorn (sync workers) --------------------------------------------------------


def flask_app() -> Any:
    from flask import Flask, Response, request

    app = Flask("load")
    s = store()

    @app.get("/inc")
    def inc() -> Response:
        cookie = _cookie(request.headers.get("Cookie"))
        for attempt in range(1, MAX_ATTEMPTS + 1):
            try:
                session = s.new(NAME, cookie)
                n = session.get("n", 0) + 1
                session["n"] = n
                set_cookie = s.save(session)
            except ConflictError:
                time.sleep(random.uniform(0, 0.002 * attempt))
                continue
            except StoreUnavailable:
                return Response("unavailable", 503, {"X-Attempts": str(attempt)})
            return Response(
                str(n), 200, [("Set-Cookie", set_cookie), ("X-Attempts", str(attempt))]
            )
        return Response("conflicts", 503, {"X-Attempts": str(MAX_ATTEMPTS)})

    @app.get("/get")
    def get() -> Response:
        session = s.new(NAME, _cookie(request.headers.get("Cookie")))
        return Response(str(session.get("n", 0)), 200)

    return app


# -- Starlette under uvicorn -------------------------------------------------------------------


def starlette_app() -> Any:
    from starlette.applications import Starlette
    from starlette.responses import PlainTextResponse
    from starlette.routing import Route

    s = store()

    async def inc(request: Any) -> PlainTextResponse:
        cookie = _cookie(request.headers.get("cookie"))
        for attempt in range(1, MAX_ATTEMPTS + 1):
            try:
                session = await s.anew(NAME, cookie)
                n = session.get("n", 0) + 1
                session["n"] = n
                set_cookie = await s.asave(session)
            except ConflictError:
                await asyncio.sleep(random.uniform(0, 0.002 * attempt))
                continue
            except StoreUnavailable:
                return PlainTextResponse("unavailable", 503, {"X-Attempts": str(attempt)})
            return PlainTextResponse(
                str(n), 200, {"Set-Cookie": set_cookie, "X-Attempts": str(attempt)}
            )
        return PlainTextResponse("conflicts", 503, {"X-Attempts": str(MAX_ATTEMPTS)})

    async def get(request: Any) -> PlainTextResponse:
        session = await s.anew(NAME, _cookie(request.headers.get("cookie")))
        return PlainTextResponse(str(session.get("n", 0)))

    return Starlette(routes=[Route("/inc", inc), Route("/get", get)])
