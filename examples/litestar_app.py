"""websession in a Litestar app: ``request.session`` on the server, a second session injected.

Run it (from the ``examples`` directory)::

    WEBSESSION_SECURE=0 uvicorn litestar_app:app

What it shows:

- ``plugins=[SessionPlugin(store)]`` in place of Litestar's session middleware:
  ``request.session`` is a websession :class:`~websession.Session` (``add_flash``/``flashes``,
  ``regenerate_id``, ``invalidate``), kept in a :class:`~websession.FilesystemStore` (the cookie
  holds only a sealed, random session id);
- Litestar's own ``request.set_session({...})`` (``/reset``) and ``request.clear_session()``
  (``/logout``) work as with Litestar's middleware;
- logging in calls ``session.regenerate_id()`` (no session fixation, which Litestar's own
  server-side backend does not prevent); logging out deletes the record and the cookie;
- a second named session, ``prefs``, from a :class:`~websession.CookieStore`, injected with
  ``dependencies={"prefs": provide_session("prefs", prefs_store)}`` and saved in the same
  response.

Environment (read by ``common.py``): ``WEBSESSION_SECRETS`` (comma-separated, newest first),
``WEBSESSION_DIR`` (the session files; default ``websession-litestar`` in the temp dir),
``WEBSESSION_SECURE=0`` for plain HTTP.
"""

from __future__ import annotations

from typing import Annotated, Any

from common import make_prefs_store, make_session_store, page, pick_theme
from litestar import Litestar, Request, get, post
from litestar.enums import RequestEncodingType
from litestar.params import Body
from litestar.response import Redirect

from websession import Session
from websession.litestar import SessionPlugin, provide_session

store = make_session_store("litestar")  # request.session: in files, the cookie kept 14 days
prefs_store = make_prefs_store()  # "prefs": sealed in its own cookie, kept for a year

Form = Annotated[dict[str, str], Body(media_type=RequestEncodingType.URL_ENCODED)]


def session_of(request: Request[Any, Any, Any]) -> Session:
    """``request.session``, typed as the websession Session it is."""
    session = request.session
    assert isinstance(session, Session)
    return session


def state(request: Request[Any, Any, Any], prefs: Session) -> dict[str, Any]:
    """Count this visit and collect what the page shows (flashes are read once)."""
    session = session_of(request)
    session["visits"] = session.get("visits", 0) + 1
    return {
        "visits": session["visits"],
        "user": session.get("user"),
        "theme": prefs.get("theme", "light"),
        "flashes": session.flashes(),
    }


@get("/", media_type="text/html")
async def index(request: Request[Any, Any, Any], prefs: Session) -> str:
    return page("Litestar", state(request, prefs))


@get("/api")
async def api(request: Request[Any, Any, Any], prefs: Session) -> dict[str, Any]:
    """The same as ``/`` as JSON (for scripts and tests)."""
    return state(request, prefs)


@get("/whoami")
async def whoami(request: Request[Any, Any, Any]) -> dict[str, Any]:
    """Who is logged in, without changing anything (``new``: no valid session came in)."""
    session = session_of(request)
    return {"user": session.get("user"), "new": session.is_new}


@post("/login", status_code=303)
async def login(request: Request[Any, Any, Any], data: Form) -> Redirect:
    session = session_of(request)
    user = data.get("user", "").strip()
    if not user:
        session.add_flash("Give a name to log in.")
        return Redirect("/", status_code=303)
    # A new session id when privileges change: a cookie planted before login is worthless now.
    session.regenerate_id()
    session["user"] = user
    session.add_flash(f"Welcome, {user}!")
    return Redirect("/", status_code=303)


@post("/logout", status_code=303)
async def logout(request: Request[Any, Any, Any]) -> Redirect:
    # Litestar's own API: the record is deleted and the cookie dropped (a replay loads nothing).
    request.clear_session()
    return Redirect("/", status_code=303)


@post("/reset", status_code=303)
async def reset(request: Request[Any, Any, Any]) -> Redirect:
    """Start counting again, keeping who is logged in (Litestar's ``set_session``)."""
    request.set_session({"user": session_of(request).get("user"), "visits": 0})
    return Redirect("/", status_code=303)


@post("/prefs", status_code=303)
async def set_prefs(request: Request[Any, Any, Any], data: Form, prefs: Session) -> Redirect:
    theme = pick_theme(data.get("theme"))
    prefs["theme"] = theme  # saved in the "prefs" cookie
    session_of(request).add_flash(f"Theme: {theme}.")  # two cookies in one response
    return Redirect("/", status_code=303)


app = Litestar(
    route_handlers=[index, api, whoami, login, logout, reset, set_prefs],
    plugins=[SessionPlugin(store)],
    dependencies={"prefs": provide_session("prefs", prefs_store)},
)
