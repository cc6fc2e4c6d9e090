"""websession in a Starlette app: ``request.session`` on the server, a second session in a cookie.

Run it (from the ``examples`` directory)::

    WEBSESSION_SECURE=0 uvicorn starlette_app:app

What it shows:

- ``Middleware(websession.asgi.SessionMiddleware, store=store)`` in place of Starlette's own
  ``SessionMiddleware``: ``request.session`` is then a websession :class:`~websession.Session`
  (a dict, plus ``add_flash``/``flashes``, ``regenerate_id``, ``invalidate``), kept in a
  :class:`~websession.FilesystemStore` (the cookie holds only a sealed, random session id);
- logging in calls ``session.regenerate_id()``: the pre-login cookie no longer loads anything
  (no session fixation); logging out calls ``session.invalidate()``: the record is deleted and
  the browser is told to drop the cookie;
- a second named session, ``prefs``, from another store (a :class:`~websession.CookieStore`:
  the whole session sealed in the cookie): ``await websession.aget_session(request, "prefs",
  prefs_store)``, saved in the same response as ``request.session``.

Environment (read by ``common.py``): ``WEBSESSION_SECRETS`` (comma-separated, newest first),
``WEBSESSION_DIR`` (the session files; default ``websession-starlette`` in the temp dir),
``WEBSESSION_SECURE=0`` for plain HTTP.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl

from common import make_prefs_store, make_session_store, page, pick_theme
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse
from starlette.routing import Route

import websession
from websession import Session
from websession.asgi import SessionMiddleware

# request.session: server-side, in files; the cookie is kept 14 days.
store = make_session_store("starlette")
# A second session, "prefs": the whole session sealed in its own cookie, kept for a year.
prefs_store = make_prefs_store()


async def state(request: Request) -> dict[str, Any]:
    """Count this visit and collect what the page shows (flashes are read once)."""
    session: Session = request.session  # type: ignore[assignment]
    session["visits"] = session.get("visits", 0) + 1
    prefs = await websession.aget_session(request, "prefs", prefs_store)
    return {
        "visits": session["visits"],
        "user": session.get("user"),
        "theme": prefs.get("theme", "light"),
        "flashes": session.flashes(),
    }


async def form(request: Request) -> dict[str, str]:
    """The posted form (urlencoded; no multipart parser needed)."""
    return dict(parse_qsl((await request.body()).decode()))


async def index(request: Request) -> HTMLResponse:
    return HTMLResponse(page("Starlette", await state(request)))


async def api(request: Request) -> JSONResponse:
    """The same as ``/`` as JSON (for scripts and tests)."""
    return JSONResponse(await state(request))


async def whoami(request: Request) -> JSONResponse:
    """Who is logged in, without changing anything (``new``: no valid session came in)."""
    session: Session = request.session  # type: ignore[assignment]
    return JSONResponse({"user": session.get("user"), "new": session.is_new})


async def login(request: Request) -> RedirectResponse:
    session: Session = request.session  # type: ignore[assignment]
    user = (await form(request)).get("user", "").strip()
    if not user:
        session.add_flash("Give a name to log in.")
        return RedirectResponse("/", status_code=303)
    # A new session id when privileges change: a cookie planted before login is worthless now.
    session.regenerate_id()
    session["user"] = user
    session.add_flash(f"Welcome, {user}!")
    return RedirectResponse("/", status_code=303)


async def logout(request: Request) -> RedirectResponse:
    # Delete the record and the cookie; a replayed copy of the cookie loads nothing.
    request.session.invalidate()  # type: ignore[attr-defined]
    return RedirectResponse("/", status_code=303)


async def set_prefs(request: Request) -> RedirectResponse:
    theme = pick_theme((await form(request)).get("theme"))
    prefs = await websession.aget_session(request, "prefs", prefs_store)
    prefs["theme"] = theme  # saved in the "prefs" cookie
    request.session.add_flash(f"Theme: {theme}.")  # type: ignore[attr-defined]
    return RedirectResponse("/", status_code=303)  # two cookies in one response


app = Starlette(
    routes=[
        Route("/", index),
        Route("/api", api),
        Route("/whoami", whoami),
        Route("/login", login, methods=["POST"]),
        Route("/logout", logout, methods=["POST"]),
        Route("/prefs", set_prefs, methods=["POST"]),
    ],
    middleware=[Middleware(SessionMiddleware, store=store)],
)
