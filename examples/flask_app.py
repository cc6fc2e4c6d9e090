"""websession in a Flask app: ``flask.session`` on the server, a second session in a cookie.

Run it (from the ``examples`` directory)::

    WEBSESSION_SECURE=0 gunicorn --workers 2 flask_app:app     # or: flask --app flask_app run

What it shows:

- ``flask.session`` is a websession session kept in a :class:`~websession.FilesystemStore`
  (the cookie holds only a sealed, random session id; the values are on disk, sealed too), so
  several gunicorn workers share it. ``flask.flash`` / ``get_flashed_messages`` work unchanged;
- Flask's settings shape the cookie: ``SESSION_COOKIE_*`` and, for ``session.permanent``
  ("remember me"), ``PERMANENT_SESSION_LIFETIME``;
- logging in calls ``session.regenerate_id()``: the pre-login cookie no longer loads anything
  (no session fixation); logging out calls ``session.invalidate()``: the record is deleted and
  the browser is told to drop the cookie;
- a second named session, ``prefs``, from another store (a :class:`~websession.CookieStore`:
  the whole session sealed in the cookie), saved in the same response as ``flask.session``.

Environment (read by ``common.py``): ``WEBSESSION_SECRETS`` (comma-separated, newest first),
``WEBSESSION_DIR`` (the session files; default ``websession-flask`` in the temp dir),
``WEBSESSION_SECURE=0`` for plain HTTP; ``FLASK_SECRET_KEY``: the app's key from before the
switch (flask_before.py), whose signed cookies are adopted.
"""

from __future__ import annotations

import os
from datetime import timedelta
from typing import Any

from common import SECURE, SESSION_AGE, make_prefs_store, make_session_store, page, pick_theme
from flask import Flask, flash, get_flashed_messages, jsonify, redirect, request, session

from websession.flask import SessionInterface, get_session
from websession.legacy import FlaskCookie

app = Flask(__name__)
app.config.update(
    SESSION_COOKIE_NAME="session",
    SESSION_COOKIE_SECURE=SECURE,
    SESSION_COOKIE_HTTPONLY=True,
    SESSION_COOKIE_SAMESITE="Lax",
    PERMANENT_SESSION_LIFETIME=timedelta(seconds=SESSION_AGE),  # Max-Age with "remember me"
)
# flask.session: server-side, in files. Flask's SESSION_COOKIE_* settings apply to its cookie.
# Switching from Flask's own cookie sessions (flask_before.py) logs no one out: give the old
# SECRET_KEY as FLASK_SECRET_KEY, and a cookie Flask signed with it is read once and re-sealed.
OLD_SECRET = os.environ.get("FLASK_SECRET_KEY")
legacy = [FlaskCookie(OLD_SECRET)] if OLD_SECRET else []
app.session_interface = SessionInterface(make_session_store("flask", legacy=legacy))

# A second session, "prefs": the whole session sealed in its own cookie, kept for a year.
prefs_store = make_prefs_store()


def state() -> dict[str, Any]:
    """Count this visit and collect what the page shows (flashes are read once)."""
    session["visits"] = session.get("visits", 0) + 1
    prefs = get_session("prefs", prefs_store)
    return {
        "visits": session["visits"],
        "user": session.get("user"),
        "remembered": session.permanent,
        "theme": prefs.get("theme", "light"),
        "flashes": get_flashed_messages(),
    }


@app.get("/")
def index() -> str:
    return page("Flask", state(), remember_me=True)


@app.get("/api")
def api() -> Any:
    """The same as ``/`` as JSON (for scripts and tests)."""
    return jsonify(state())


@app.get("/whoami")
def whoami() -> Any:
    """Who is logged in, without changing anything (``new``: no valid session came in)."""
    return jsonify(user=session.get("user"), new=session.new)


@app.post("/login")
def login() -> Any:
    user = request.form.get("user", "").strip()
    if not user:
        flash("Give a name to log in.")
        return redirect("/")
    # A new session id when privileges change: a cookie planted before login is worthless now.
    session.regenerate_id()
    session["user"] = user
    # "Remember me": a cookie kept PERMANENT_SESSION_LIFETIME; otherwise until the browser quits.
    session.permanent = request.form.get("remember") == "1"
    flash(f"Welcome, {user}!")
    return redirect("/")


@app.post("/logout")
def logout() -> Any:
    # Delete the record and the cookie; a replayed copy of the cookie loads nothing.
    session.invalidate()
    return redirect("/")


@app.post("/prefs")
def set_prefs() -> Any:
    theme = pick_theme(request.form.get("theme"))
    get_session("prefs", prefs_store)["theme"] = theme  # saved in the "prefs" cookie
    flash(f"Theme: {theme}.")  # saved in flask.session: two cookies in one response
    return redirect("/")


if __name__ == "__main__":
    app.run(debug=True)
