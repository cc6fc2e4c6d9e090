"""websession in a FastAPI app: ``request.session`` on the server, a second session as a dependency.

Run it (from the ``examples`` directory)::

    WEBSESSION_SECURE=0 uvicorn fastapi_app:app

What it shows:

- ``app.add_middleware(websession.asgi.SessionMiddleware, store=store)`` in place of
  Starlette's ``SessionMiddleware``: ``request.session`` is a websession
  :class:`~websession.Session` (``add_flash``/``flashes``, ``regenerate_id``, ``invalidate``),
  kept in a :class:`~websession.FilesystemStore` (the cookie holds only a sealed session id);
- logging in calls ``session.regenerate_id()`` (no session fixation); logging out calls
  ``session.invalidate()`` (record deleted, cookie dropped);
- a second named session, ``prefs``, from a :class:`~websession.CookieStore`, injected with
  ``Depends(websession.fastapi.session_dependency("prefs", prefs_store))`` and saved in the same
  response as ``request.session``.

Environment (read by ``common.py``): ``WEBSESSION_SECRETS`` (comma-separated, newest first),
``WEBSESSION_DIR`` (the session files; default ``websession-fastapi`` in the temp dir),
``WEBSESSION_SECURE=0`` for plain HTTP.
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import parse_qsl

from common import make_prefs_store, make_session_store, page, pick_theme
from fastapi import Depends, FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from websession import Session
from websession.asgi import SessionMiddleware
from websession.fastapi import session_dependency

store = make_session_store("fastapi")  # request.session: in files, the cookie kept 14 days
prefs_store = make_prefs_store()  # "prefs": sealed in its own cookie, kept for a year

app = FastAPI()
app.add_middleware(SessionMiddleware, store=store)


def current_session(request: Request) -> Session:
    """``request.session``, typed as the websession Session it is."""
    session = request.session
    assert isinstance(session, Session)
    return session


SessionDep = Annotated[Session, Depends(current_session)]
Prefs = Annotated[Session, Depends(session_dependency("prefs", prefs_store))]


async def form(request: Request) -> dict[str, str]:
    """The posted form (urlencoded; no multipart parser needed)."""
    return dict(parse_qsl((await request.body()).decode()))


def state(session: Session, prefs: Session) -> dict[str, Any]:
    """Count this visit and collect what the page shows (flashes are read once)."""
    session["visits"] = session.get("visits", 0) + 1
    return {
        "visits": session["visits"],
        "user": session.get("user"),
        "theme": prefs.get("theme", "light"),
        "flashes": session.flashes(),
    }


@app.get("/", response_class=HTMLResponse)
async def index(session: SessionDep, prefs: Prefs) -> str:
    return page("FastAPI", state(session, prefs))


@app.get("/api")
async def api(session: SessionDep, prefs: Prefs) -> dict[str, Any]:
    """The same as ``/`` as JSON (for scripts and tests)."""
    return state(session, prefs)


@app.get("/whoami")
async def whoami(session: SessionDep) -> dict[str, Any]:
    """Who is logged in, without changing anything (``new``: no valid session came in)."""
    return {"user": session.get("user"), "new": session.is_new}


@app.post("/login")
async def login(request: Request, session: SessionDep) -> RedirectResponse:
    user = (await form(request)).get("user", "").strip()
    if not user:
        session.add_flash("Give a name to log in.")
        return RedirectResponse("/", status_code=303)
    # A new session id when privileges change: a cookie planted before login is worthless now.
    session.regenerate_id()
    session["user"] = user
    session.add_flash(f"Welcome, {user}!")
    return RedirectResponse("/", status_code=303)


@app.post("/logout")
async def logout(session: SessionDep) -> RedirectResponse:
    # Delete the record and the cookie; a replayed copy of the cookie loads nothing.
    session.invalidate()
    return RedirectResponse("/", status_code=303)


@app.post("/prefs")
async def set_prefs(request: Request, session: SessionDep, prefs: Prefs) -> RedirectResponse:
    theme = pick_theme((await form(request)).get("theme"))
    prefs["theme"] = theme  # saved in the "prefs" cookie
    session.add_flash(f"Theme: {theme}.")  # two cookies in one response
    return RedirectResponse("/", status_code=303)
