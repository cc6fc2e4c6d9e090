"""websession in an aiohttp app, used the way aiohttp-session is.

Run it (from the ``examples`` directory)::

    WEBSESSION_SECURE=0 python aiohttp_app.py --port 8080
    WEBSESSION_SECURE=0 python -m aiohttp.web -H 127.0.0.1 -P 8080 aiohttp_app:create_app

What it shows:

- ``websession.aiohttp.setup(app, store)`` and ``await get_session(request)``, as with
  aiohttp-session; the session is a websession :class:`~websession.Session` (``add_flash`` /
  ``flashes``, ``regenerate_id``, ``invalidate``), kept in a :class:`~websession.FilesystemStore`
  (the cookie holds only a sealed, random session id);
- logging in calls ``session.regenerate_id()`` (no session fixation); logging out calls
  ``session.invalidate()`` (record deleted, cookie dropped); ``raise web.HTTPSeeOther(...)``
  still carries the cookies;
- a second named session, ``prefs``, from a :class:`~websession.CookieStore`: ``await
  get_session(request, "prefs", prefs_store)``, saved in the same response.

Environment (read by ``common.py``): ``WEBSESSION_SECRETS`` (comma-separated, newest first),
``WEBSESSION_DIR`` (the session files; default ``websession-aiohttp`` in the temp dir),
``WEBSESSION_SECURE=0`` for plain HTTP.
"""

from __future__ import annotations

import argparse
from typing import Any

from aiohttp import web
from common import make_prefs_store, make_session_store, page, pick_theme

from websession.aiohttp import get_session, setup

store = make_session_store("aiohttp")  # the default session: in files, the cookie kept 14 days
prefs_store = make_prefs_store()  # "prefs": sealed in its own cookie, kept for a year

routes = web.RouteTableDef()


async def state(request: web.Request) -> dict[str, Any]:
    """Count this visit and collect what the page shows (flashes are read once)."""
    session = await get_session(request)
    session["visits"] = session.get("visits", 0) + 1
    prefs = await get_session(request, "prefs", prefs_store)
    return {
        "visits": session["visits"],
        "user": session.get("user"),
        "theme": prefs.get("theme", "light"),
        "flashes": session.flashes(),
    }


@routes.get("/")
async def index(request: web.Request) -> web.Response:
    return web.Response(text=page("aiohttp", await state(request)), content_type="text/html")


@routes.get("/api")
async def api(request: web.Request) -> web.Response:
    """The same as ``/`` as JSON (for scripts and tests)."""
    return web.json_response(await state(request))


@routes.get("/whoami")
async def whoami(request: web.Request) -> web.Response:
    """Who is logged in, without changing anything (``new``: no valid session came in)."""
    session = await get_session(request)
    return web.json_response({"user": session.get("user"), "new": session.is_new})


@routes.post("/login")
async def login(request: web.Request) -> web.Response:
    session = await get_session(request)
    user = str((await request.post()).get("user", "")).strip()
    if not user:
        session.add_flash("Give a name to log in.")
        raise web.HTTPSeeOther("/")
    # A new session id when privileges change: a cookie planted before login is worthless now.
    session.regenerate_id()
    session["user"] = user
    session.add_flash(f"Welcome, {user}!")
    raise web.HTTPSeeOther("/")  # raised redirects keep their cookies


@routes.post("/logout")
async def logout(request: web.Request) -> web.Response:
    # Delete the record and the cookie; a replayed copy of the cookie loads nothing.
    (await get_session(request)).invalidate()
    raise web.HTTPSeeOther("/")


@routes.post("/prefs")
async def set_prefs(request: web.Request) -> web.Response:
    theme = pick_theme(str((await request.post()).get("theme", "light")))
    prefs = await get_session(request, "prefs", prefs_store)
    prefs["theme"] = theme  # saved in the "prefs" cookie
    (await get_session(request)).add_flash(f"Theme: {theme}.")  # two cookies in one response
    raise web.HTTPSeeOther("/")


def create_app(argv: list[str] | None = None) -> web.Application:
    """The application (``python -m aiohttp.web aiohttp_app:create_app`` calls this)."""
    app = web.Application()
    setup(app, store)  # aiohttp-session's setup(app, storage), with a websession store
    app.add_routes(routes)
    return app


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8080)
    args = parser.parse_args()
    web.run_app(create_app(), host=args.host, port=args.port)
