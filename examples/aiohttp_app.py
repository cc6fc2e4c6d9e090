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

Environment: ``WEBSESSION_SECRETS`` (comma-separated, newest first), ``WEBSESSION_DIR`` (the
session files; default ``websession-aiohttp`` in the temp dir), ``WEBSESSION_SECURE=0`` for
plain HTTP.
"""

from __future__ import annotations

import argparse
import html
import os
import tempfile
from typing import Any

from aiohttp import web

from websession import CookieOptions, CookieStore, FilesystemStore
from websession.aiohttp import get_session, setup

DEV_SECRET = "development only: set WEBSESSION_SECRETS (websession keygen)"
SECRETS = [s for s in os.environ.get("WEBSESSION_SECRETS", DEV_SECRET).split(",") if s]
SECURE = os.environ.get("WEBSESSION_SECURE", "1") not in ("0", "false", "no")
DIRECTORY = os.environ.get("WEBSESSION_DIR") or os.path.join(
    tempfile.gettempdir(), "websession-aiohttp"
)

store = FilesystemStore(
    DIRECTORY, SECRETS, options=CookieOptions(max_age=14 * 86400, secure=SECURE)
)
prefs_store = CookieStore(SECRETS, options=CookieOptions(max_age=365 * 86400, secure=SECURE))

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
    theme = str((await request.post()).get("theme", "light"))
    if theme not in ("light", "dark"):
        theme = "light"
    prefs = await get_session(request, "prefs", prefs_store)
    prefs["theme"] = theme  # saved in the "prefs" cookie
    (await get_session(request)).add_flash(f"Theme: {theme}.")  # two cookies in one response
    raise web.HTTPSeeOther("/")


def page(framework: str, s: dict[str, Any]) -> str:
    """The HTML page (every value escaped)."""
    user = html.escape(s["user"]) if s["user"] else None
    flashes = "".join(f'<li class="flash">{html.escape(str(m))}</li>' for m in s["flashes"])
    if user:
        account = (
            f'<p>Logged in as <b id="user">{user}</b>.</p>'
            '<form method="post" action="/logout"><button>Log out</button></form>'
        )
    else:
        account = (
            '<form method="post" action="/login"><input name="user" placeholder="name" required>'
            "<button>Log in</button></form>"
        )
    other = "dark" if s["theme"] == "light" else "light"
    return (
        f"<!doctype html><html><head><title>websession + {framework}</title></head>"
        f'<body class="{s["theme"]}"><h1>websession + {framework}</h1><ul>{flashes}</ul>'
        f'<p>Visits in this session: <b id="visits">{s["visits"]}</b></p>{account}'
        f'<form method="post" action="/prefs"><input type="hidden" name="theme" value="{other}">'
        f"<button>Switch to the {other} theme</button></form></body></html>"
    )


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
