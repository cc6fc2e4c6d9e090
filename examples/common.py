"""What every example shares: settings from the environment, the two stores, the HTML page.

Each ``<framework>_app.py`` imports this module (it sits next to them: run the examples from
this directory) and keeps, in its own file, what is particular to its framework: how the
stores are plugged in, the routes, and how a handler reaches its sessions.

Environment:

- ``WEBSESSION_SECRETS``: secrets, comma-separated, newest first (key rotation). Required
  outside development; ``websession keygen`` makes one.
- ``WEBSESSION_DIR``: where the session files go (default: ``websession-<framework>`` in the
  temp dir).
- ``WEBSESSION_SECURE``: ``0`` to send cookies over plain HTTP (development, tests); default 1.
"""

from __future__ import annotations

import html
import os
import tempfile
from collections.abc import Mapping, Sequence
from typing import Any

from websession import CookieOptions, CookieStore, FilesystemStore
from websession.legacy import LegacyReader

DEV_SECRET = "development only: set WEBSESSION_SECRETS (websession keygen)"
SECRETS = [s for s in os.environ.get("WEBSESSION_SECRETS", DEV_SECRET).split(",") if s]
SECURE = os.environ.get("WEBSESSION_SECURE", "1") not in ("0", "false", "no")

SESSION_AGE = 14 * 86400  # the session cookie's Max-Age (Flask/Quart: with "remember me")
PREFS_AGE = 365 * 86400  # the "prefs" cookie's Max-Age
THEMES = ("light", "dark")


def session_dir(framework: str) -> str:
    """``WEBSESSION_DIR``, or ``websession-<framework>`` in the temp dir."""
    return os.environ.get("WEBSESSION_DIR") or os.path.join(
        tempfile.gettempdir(), f"websession-{framework}"
    )


def make_session_store(framework: str, legacy: Sequence[LegacyReader] = ()) -> FilesystemStore:
    """The default session's store: files (shared by every worker), the cookie a sealed id.

    Its cookie is kept ``SESSION_AGE``; frameworks with their own cookie settings (Flask's and
    Quart's ``SESSION_COOKIE_*``) override these options. ``legacy``: readers of the sessions
    the app made before it switched to websession (see websession.legacy).
    """
    return FilesystemStore(
        session_dir(framework),
        SECRETS,
        options=CookieOptions(max_age=SESSION_AGE, secure=SECURE, same_site="Lax"),
        legacy=legacy,
    )


def make_prefs_store() -> CookieStore:
    """The second session, "prefs": the whole session sealed in its own cookie, for a year."""
    return CookieStore(
        SECRETS, options=CookieOptions(max_age=PREFS_AGE, secure=SECURE, same_site="Lax")
    )


def pick_theme(value: str | None) -> str:
    """The posted theme, ``light`` unless it is one we know."""
    return value if value in THEMES else "light"


def page(
    framework: str,
    state: Mapping[str, Any],
    *,
    remember_me: bool = False,
    csrf_token: str | None = None,
) -> str:
    """The HTML page for ``state`` (``visits``, ``user``, ``theme``, ``flashes``), all escaped.

    ``remember_me`` adds the login form's checkbox; ``csrf_token`` a hidden field to each form.
    """
    csrf = (
        f'<input type="hidden" name="csrfmiddlewaretoken" value="{html.escape(csrf_token)}">'
        if csrf_token
        else ""
    )
    flashes = "".join(f'<li class="flash">{html.escape(str(m))}</li>' for m in state["flashes"])
    if state["user"]:
        account = (
            f'<p>Logged in as <b id="user">{html.escape(state["user"])}</b>.</p>'
            f'<form method="post" action="/logout">{csrf}<button>Log out</button></form>'
        )
    else:
        remember = (
            '<label><input type="checkbox" name="remember" value="1"> remember me</label>'
            if remember_me
            else ""
        )
        account = (
            f'<form method="post" action="/login">{csrf}'
            f'<input name="user" placeholder="name" required>{remember}'
            "<button>Log in</button></form>"
        )
    theme = state["theme"]
    other = "dark" if theme == "light" else "light"
    return (
        f"<!doctype html><html><head><title>websession + {framework}</title></head>"
        f'<body class="{theme}"><h1>websession + {framework}</h1><ul>{flashes}</ul>'
        f'<p>Visits in this session: <b id="visits">{state["visits"]}</b></p>{account}'
        f'<form method="post" action="/prefs">{csrf}'
        f'<input type="hidden" name="theme" value="{other}">'
        f"<button>Switch to the {other} theme</button></form></body></html>"
    )
