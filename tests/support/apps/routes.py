"""The test applications' pages, written once for WSGI and ASGI.

``handle(path, params, get)`` runs a page; ``get(name, store_key)`` returns a session (WSGI:
``get_session``; ASGI: ``aget_session`` first, for the sessions in ``NEEDS``, then the cached
session).
"""

from __future__ import annotations

from collections.abc import Callable

from websession import Session

from .common import make_stores

STORES = make_stores()

Get = Callable[[str, str], Session]

#: the sessions each page uses: (cookie name, store key)
NEEDS: dict[str, list[tuple[str, str]]] = {
    "/count": [("session", "memory")],
    "/read": [("session", "memory")],
    "/flash/add": [("session", "memory")],
    "/flash/show": [("session", "memory")],
    "/error": [("session", "memory")],
    "/visit": [("auth", "files")],
    "/login": [("auth", "files")],
    "/whoami": [("auth", "files")],
    "/logout": [("auth", "files")],
    "/two": [("prefs", "cookie"), ("auth", "files")],
    "/prefs": [("prefs", "cookie")],
    "/secure": [("strict", "secure")],
    "/down/save": [("down", "down")],
    "/down/load": [("down", "down")],
    "/down/mixed": [("prefs", "cookie"), ("down", "down")],
}


def handle(path: str, params: dict[str, str], get: Get) -> tuple[int, str]:
    if path == "/static":
        return 200, "static"
    if path == "/count":
        session = get("session", "memory")
        session["n"] = session.get("n", 0) + 1
        return 200, str(session["n"])
    if path == "/read":
        return 200, str(get("session", "memory").get("n"))
    if path == "/flash/add":
        get("session", "memory").add_flash(params["msg"])
        return 200, "ok"
    if path == "/flash/show":
        return 200, ",".join(get("session", "memory").flashes())
    if path == "/error":
        get("session", "memory")["n"] = 99
        return 500, "boom"
    if path == "/visit":
        auth = get("auth", "files")
        auth["visits"] = auth.get("visits", 0) + 1
        return 200, str(auth["visits"])
    if path == "/login":
        auth = get("auth", "files")
        auth.regenerate_id()  # privileges change: a new id, the old record goes
        auth["user"] = params["user"]
        return 200, "ok"
    if path == "/whoami":
        auth = get("auth", "files")
        return 200, f"{auth.get('user', 'anonymous')} new={auth.is_new} reason={auth.reason}"
    if path == "/logout":
        get("auth", "files").invalidate()
        return 200, "bye"
    if path == "/two":
        get("prefs", "cookie")["theme"] = params.get("theme", "dark")
        get("auth", "files")["seen"] = True
        return 200, "ok"
    if path == "/prefs":
        return 200, str(get("prefs", "cookie").get("theme"))
    if path == "/secure":
        get("strict", "secure")["x"] = 1
        return 200, "ok"
    if path == "/down/save":
        get("down", "down")["x"] = 1
        return 200, "saved?"
    if path == "/down/load":
        return 200, str(get("down", "down").get("x"))
    if path == "/down/mixed":
        get("prefs", "cookie")["theme"] = "mixed"
        get("down", "down")["x"] = 1
        return 200, "saved?"
    return 404, "not found"
