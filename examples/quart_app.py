"""websession in a Quart app: ``quart.session`` on the server, a second session in a cookie.

Run it (from the ``examples`` directory)::

    WEBSESSION_SECURE=0 hypercorn quart_app:app        # or: uvicorn quart_app:app

The async twin of ``flask_app.py``: the same pages, and sessions loaded and saved with the
stores' native async methods (``FilesystemStore`` runs its file I/O in a thread).

- ``quart.session`` is a websession session in a :class:`~websession.FilesystemStore`; Quart's
  ``flash`` / ``get_flashed_messages`` work unchanged; ``SESSION_COOKIE_*`` and
  ``PERMANENT_SESSION_LIFETIME`` (with ``session.permanent``) shape the cookie;
- logging in calls ``session.regenerate_id()`` (no session fixation); logging out calls
  ``session.invalidate()`` (record deleted, cookie dropped);
- a second session, ``prefs``, from a :class:`~websession.CookieStore`:
  ``await websession.quart.get_session("prefs", prefs_store)``, saved in the same response.

Environment (read by ``common.py``): ``WEBSESSION_SECRETS`` (comma-separated, newest first),
``WEBSESSION_DIR`` (the session files; default ``websession-quart`` in the temp dir),
``WEBSESSION_SECURE=0`` for plain HTTP.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from common import SECURE, SESSION_AGE, make_prefs_store, make_session_store, page, pick_theme
from quart import Quart, flash, get_flashed_messages, jsonify, redirect, request, session

from websession.quart import SessionInterface, get_session

app = Quart(__name__)
app.config.update(
    SESSION_COOKIE_NAME="session",
    SESSION_COOKIE_SECURE=SECURE,
    SESSION_COOKIE_HTTPONLY=True,
    SESSION_COOKIE_SAMESITE="Lax",
    PERMANENT_SESSION_LIFETIME=timedelta(seconds=SESSION_AGE),
)
app.session_interface = SessionInterface(make_session_store("quart"))

prefs_store = make_prefs_store()


async def state() -> dict[str, Any]:
    """Count this visit and collect what the page shows (flashes are read once)."""
    session["visits"] = session.get("visits", 0) + 1
    prefs = await get_session("prefs", prefs_store)
    return {
        "visits": session["visits"],
        "user": session.get("user"),
        "remembered": session.permanent,
        "theme": prefs.get("theme", "light"),
        "flashes": get_flashed_messages(),  # Quart: flash() is async, this is not
    }


@app.get("/")
async def index() -> str:
    return page("Quart", await state(), remember_me=True)


@app.get("/api")
async def api() -> Any:
    """The same as ``/`` as JSON (for scripts and tests)."""
    return jsonify(await state())


@app.get("/whoami")
async def whoami() -> Any:
    """Who is logged in, without changing anything (``new``: no valid session came in)."""
    return jsonify(user=session.get("user"), new=session.new)


@app.post("/login")
async def login() -> Any:
    form = await request.form
    user = form.get("user", "").strip()
    if not user:
        await flash("Give a name to log in.")
        return redirect("/")
    session.regenerate_id()  # a new id when privileges change: no session fixation
    session["user"] = user
    session.permanent = form.get("remember") == "1"  # "remember me"
    await flash(f"Welcome, {user}!")
    return redirect("/")


@app.post("/logout")
async def logout() -> Any:
    session.invalidate()  # the record is deleted and the browser drops the cookie
    return redirect("/")


@app.post("/prefs")
async def set_prefs() -> Any:
    theme = pick_theme((await request.form).get("theme"))
    (await get_session("prefs", prefs_store))["theme"] = theme
    await flash(f"Theme: {theme}.")  # quart.session and "prefs": two cookies in one response
    return redirect("/")


if __name__ == "__main__":
    app.run(debug=True)
