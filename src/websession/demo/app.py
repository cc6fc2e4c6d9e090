"""The demo web app: plain WSGI, the standard library and websession, nothing else.

Two sessions per request, from two stores, through one :class:`websession.wsgi.SessionMiddleware`:

- ``auth`` (the middleware's default store, server-side: a ``FilesystemStore`` under
  ``.demo-sessions/sessions``, or any ``--store URL``): who is logged in. Only a sealed session id
  travels in the cookie.
- ``prefs`` (a ``CookieStore``: the whole session sealed in the cookie): the visit counter, the
  theme, the CSRF token and the flash messages, which must outlive a logout.
"""

from __future__ import annotations

import collections
import hmac
import ipaddress
import os
import secrets
import threading
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

# The demo imports websession's public names only, as an application would.
from websession import (
    CookieOptions,
    CookieStore,
    FilesystemStore,
    Session,
    Store,
    generate_random_key,
    get_session,
    open_store,
    parse_cookie_header,
)
from websession.wsgi import SessionMiddleware

from . import pages

__all__ = ["REMEMBER_ME", "load_secret", "make_app"]

#: "Remember me": the auth cookie (and its record) lives 30 days.
REMEMBER_ME = 30 * 86400
#: Without "remember me" the cookie is a browser-session cookie, and the record on the server
#: lives this long after the last save.
SESSION_RECORD_TTL = 86400

Environ = dict[str, Any]
StartResponse = Callable[..., Any]
#: (time, method, path, status, Set-Cookie header values) of one response
LogEntry = tuple[float, str, str, str, list[str]]
#: the environ key of the requesting client's token (see ``prefs_session``)
CLIENT_KEY = "websession.demo.client"
#: the responses of at most this many clients are kept for their pages
MAX_CLIENTS = 1000


def load_secret(store_dir: str | os.PathLike[str]) -> str:
    """The demo's secret, made once and kept in ``store_dir/secret`` so restarts keep sessions."""
    directory = Path(store_dir)
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    path = directory / "secret"
    try:
        secret = path.read_text("ascii").strip()
        if secret:
            return secret
    except FileNotFoundError:
        pass
    import base64

    secret = base64.urlsafe_b64encode(generate_random_key(32)).decode("ascii").rstrip("=")
    try:  # O_EXCL: two demos started at once agree on one secret
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text("ascii").strip()
    with os.fdopen(fd, "w") as fh:
        fh.write(secret + "\n")
    return secret


def _cookie_options(max_age: int) -> CookieOptions:
    # secure=False: the demo is plain HTTP on localhost, and browsers never send a Secure cookie
    # over plain HTTP (nor store it, from an http:// page), so the demo could not keep a session.
    # websession's default is secure=True: keep it in production, behind HTTPS.
    return CookieOptions(secure=False, max_age=max_age)


def host_allowed(host_header: str, names: Iterable[str]) -> bool:
    """Whether a request's ``Host`` names this server: an IP literal, or one of ``names``.

    DNS rebinding points an attacker's domain name at 127.0.0.1, so the victim's browser sends
    the attacker's pages to the demo with ``Host: attacker.example``: refusing names the demo
    was not started under defeats it. An IP literal cannot be rebound, so any is accepted.
    """
    host = host_header.strip().lower()
    if host.startswith("["):  # [v6]:port
        name = host[1 : host.find("]")] if "]" in host else ""
    else:
        name = host.rpartition(":")[0] if host.count(":") == 1 else host
    if not name:
        return False
    try:
        ipaddress.ip_address(name)
        return True
    except ValueError:
        return name.rstrip(".") in {n.lower().rstrip(".") for n in names}


def make_app(
    store_dir: str | os.PathLike[str] = ".demo-sessions",
    secret: str | None = None,
    store_url: str | None = None,
    allowed_hosts: Iterable[str] = ("localhost",),
) -> Callable[[Environ, StartResponse], Iterable[bytes]]:
    """The demo as a WSGI application.

    Args:
        store_dir: the demo's folder: its secret (``secret``) and, without ``store_url``, the
            session files (``sessions/``). Created if missing.
        secret: the secret; by default one is made once and kept in ``store_dir/secret``.
        store_url: keep the ``auth`` sessions in this store (``websession.open_store``) instead
            of the files.
        allowed_hosts: the host names requests may carry in ``Host`` (IP literals always
            pass); any other gets 421, before any session is read (see :func:`host_allowed`).
    """
    allowed = tuple(allowed_hosts)
    secret = secret or load_secret(store_dir)
    auth_store: Store
    if store_url:
        auth_store = open_store(store_url, secret, options=_cookie_options(REMEMBER_ME))
        auth_label = f"server-side store <code>{pages.esc(store_url)}</code>"
    else:
        folder = Path(store_dir) / "sessions"
        auth_store = FilesystemStore(
            folder, secret, options=_cookie_options(REMEMBER_ME), ttl=SESSION_RECORD_TTL
        )
        auth_label = f"<code>FilesystemStore</code> in <code>{pages.esc(folder.resolve())}</code>"
    prefs_store = CookieStore(secret, options=_cookie_options(365 * 86400))
    # The Set-Cookie headers of the last responses, per client: a page shows a client only its
    # own (anyone else's would hand over their sessions). A client is a random token in its own
    # sealed prefs cookie; the oldest clients are forgotten beyond MAX_CLIENTS.
    logs: collections.OrderedDict[str, collections.deque[LogEntry]] = collections.OrderedDict()
    log_lock = threading.Lock()

    def client_log(environ: Environ) -> list[LogEntry]:
        client = environ.get(CLIENT_KEY)
        with log_lock:
            return list(logs.get(client, ())) if client else []

    def auth_session(environ: Environ) -> Session:
        # "remember me" is set once, at log in: the store keeps the session's own max_age.
        return get_session(environ, "auth")

    def prefs_session(environ: Environ) -> Session:
        session = get_session(environ, "prefs", prefs_store)
        if "csrf" not in session:
            session["csrf"] = secrets.token_urlsafe(16)
        if "client" not in session:
            session["client"] = secrets.token_urlsafe(16)
        environ[CLIENT_KEY] = session["client"]
        return session

    def respond(
        start_response: StartResponse,
        status: str,
        body: str,
        extra: tuple[tuple[str, str], ...] = (),
    ) -> list[bytes]:
        data = body.encode("utf-8")
        headers = [
            ("Content-Type", "text/html; charset=utf-8"),
            ("Content-Length", str(len(data))),
            ("Cache-Control", "no-store"),
            ("X-Content-Type-Options", "nosniff"),
            (
                "Content-Security-Policy",
                "default-src 'none'; style-src 'unsafe-inline'; img-src data:; "
                "form-action 'self'; frame-ancestors 'none'",
            ),
            ("Referrer-Policy", "same-origin"),
            *extra,
        ]
        start_response(status, headers)
        return [data]

    def redirect(start_response: StartResponse, to: str = "/") -> list[bytes]:
        start_response("303 See Other", [("Location", to), ("Content-Length", "0")])
        return []

    def read_form(environ: Environ) -> dict[str, str]:
        try:
            length = min(int(environ.get("CONTENT_LENGTH") or 0), 64 * 1024)
        except ValueError:
            length = 0
        raw = environ["wsgi.input"].read(length).decode("utf-8", "replace") if length else ""
        return {k: v[0] for k, v in parse_qs(raw, keep_blank_values=True).items()}

    def home(environ: Environ, start_response: StartResponse) -> list[bytes]:
        prefs = prefs_session(environ)
        auth = auth_session(environ)
        prefs["visits"] = prefs.get("visits", 0) + 1
        cookies = parse_cookie_header(environ.get("HTTP_COOKIE"))
        own = client_log(environ)
        panel = pages.cookie_panel(cookies, own[-1][4] if own else [])
        devices = ""
        if auth.get("user") and auth.owner is not None:
            devices = pages.devices_panel(your_devices(auth), auth.id_hash, prefs["csrf"])
        body = pages.home_page(
            theme=prefs.get("theme", "light"),
            visits=prefs["visits"],
            user=auth.get("user"),
            remember=bool(auth.get("remember")),
            since=auth.get("since"),
            flashes=prefs.flashes(),
            csrf=prefs["csrf"],
            panel=panel,
            devices=devices,
        )
        return respond(start_response, "200 OK", body)

    def csrf_ok(prefs: Session, form: dict[str, str]) -> bool:
        # SameSite=Lax already keeps other sites' POSTs from carrying the cookies; the token is
        # the classic second line of defence (and what a real app needs for older browsers).
        expected = prefs.get("csrf")
        given = form.get("csrf", "")
        return isinstance(expected, str) and hmac.compare_digest(expected, given)

    def post(
        action: Callable[[Session, Environ, dict[str, str]], None],
    ) -> Callable[[Environ, StartResponse], list[bytes]]:
        def handler(environ: Environ, start_response: StartResponse) -> list[bytes]:
            form = read_form(environ)
            prefs = prefs_session(environ)
            if not csrf_ok(prefs, form):
                page = pages.error_page(
                    prefs.get("theme", "light"),
                    "Form expired",
                    "The form's CSRF token is missing or wrong. Go back, reload the page, and "
                    "try again.",
                )
                return respond(start_response, "403 Forbidden", page)
            action(prefs, environ, form)
            return redirect(start_response)

        return handler

    def login(prefs: Session, environ: Environ, form: dict[str, str]) -> None:
        user = " ".join(form.get("username", "").split())[:32]
        if not user:
            prefs.add_flash("Type a name to log in.")
            return
        remember = form.get("remember") == "1"
        auth = auth_session(environ)
        auth.regenerate_id()  # a new id at every privilege change: no session fixation
        auth.clear()
        auth["user"] = user
        auth["remember"] = remember
        auth["since"] = int(time.time())
        auth.owner = user  # "log out everywhere" finds the user's sessions by it
        auth.device = {"user_agent": environ.get("HTTP_USER_AGENT", "")[:200] or "unknown"}
        auth.options.max_age = REMEMBER_ME if remember else 0
        prefs["csrf"] = secrets.token_urlsafe(16)  # a new token for the new privilege level
        how = "for 30 days" if remember else "until you close the browser"
        prefs.add_flash(f"Welcome, {user}! You stay logged in {how}.")

    def logout(prefs: Session, environ: Environ, form: dict[str, str]) -> None:
        auth = auth_session(environ)
        user = auth.get("user")
        auth.invalidate()  # deletes the record and the cookie on save
        prefs["csrf"] = secrets.token_urlsafe(16)
        prefs.add_flash(f"Goodbye, {user}." if user else "You were not logged in.")

    def your_devices(auth: Session) -> list[Any] | None:
        owner = auth.owner
        assert owner is not None
        try:
            return list(auth_store.sessions_for(owner))
        except (NotImplementedError, AttributeError):  # e.g. --store memcached://
            return None

    def logout_others(prefs: Session, environ: Environ, form: dict[str, str]) -> None:
        auth = auth_session(environ)
        if auth.owner is None:
            prefs.add_flash("You were not logged in.")
            return
        try:
            ended = auth_store.revoke(auth.owner, keep=auth)
        except (NotImplementedError, AttributeError):
            prefs.add_flash("This store cannot log out other devices.")
            return
        prefs.add_flash(f"Logged out {ended} other device(s).")

    def theme(prefs: Session, environ: Environ, form: dict[str, str]) -> None:
        prefs["theme"] = "dark" if prefs.get("theme", "light") == "light" else "light"

    def describe(session: Session, server_side: bool) -> dict[str, Any]:
        info: dict[str, Any] = {"is_new": session.is_new}
        if server_side:
            sid = session.id
            info["id"] = f"{sid[:10]}… (random, 256 bits)" if sid else None
        info["issued_at"] = pages.when(session.issued_at)
        info["max_age"] = session.options.max_age
        if session.rejected is not None:
            info["rejected"] = f"{session.reason}: {session.rejected}"
        if session._needs_reseal:  # the store's bookkeeping, shown on the debug page
            info["stale key"] = "re-sealed with the newest key on the next save"
        info["values"] = session.copy()
        return info

    def debug(environ: Environ, start_response: StartResponse) -> list[bytes]:
        prefs = get_session(environ, "prefs", prefs_store)
        auth = get_session(environ, "auth")
        if isinstance(prefs.get("client"), str):
            environ[CLIENT_KEY] = prefs["client"]
        entries = client_log(environ)
        body = pages.debug_page(
            theme=prefs.get("theme", "light"),
            cookie_header=environ.get("HTTP_COOKIE", ""),
            sessions=[
                (
                    "prefs",
                    "<code>CookieStore</code>: the values are sealed in the cookie",
                    describe(prefs, False),
                ),
                ("auth", auth_label + ": the cookie holds only a sealed id", describe(auth, True)),
            ],
            log=entries,
        )
        return respond(start_response, "200 OK", body)

    routes: dict[tuple[str, str], Callable[[Environ, StartResponse], list[bytes]]] = {
        ("GET", "/"): home,
        ("GET", "/debug"): debug,
        ("POST", "/login"): post(login),
        ("POST", "/logout"): post(logout),
        ("POST", "/theme"): post(theme),
        ("POST", "/logout-others"): post(logout_others),
    }

    def app(environ: Environ, start_response: StartResponse) -> list[bytes]:
        method = environ.get("REQUEST_METHOD", "GET")
        path = environ.get("PATH_INFO", "/") or "/"
        handler = routes.get((method, path))
        if handler is None:
            if any(p == path for _, p in routes):
                page = pages.error_page("light", "Method not allowed", f"{method} {path}")
                return respond(
                    start_response, "405 Method Not Allowed", page, (("Allow", "GET, POST"),)
                )
            return respond(
                start_response, "404 Not Found", pages.error_page("light", "Not found", path)
            )
        return handler(environ, start_response)

    sessions = SessionMiddleware(app, auth_store, name="auth")

    def recorded(environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        """Keep the Set-Cookie headers of the last responses for the debug page."""
        host = environ.get("HTTP_HOST") or ""
        if not host_allowed(host, allowed):
            page = pages.error_page(
                "light",
                "Unknown host",
                f"This demo does not serve {host or 'requests without a Host header'}: open it "
                "at the address it printed (requests for other names are refused, so a web "
                "page cannot reach it through DNS rebinding).",
            )
            return respond(start_response, "421 Misdirected Request", page)

        def capture(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            cookies = [v for k, v in headers if k.lower() == "set-cookie"]
            path = environ.get("PATH_INFO", "/")
            if path in ("/", "/debug", "/login", "/logout", "/theme", "/logout-others"):
                entry = (time.time(), environ.get("REQUEST_METHOD", ""), path, status, cookies)
                client = environ.get(CLIENT_KEY)
                with log_lock:
                    if client:
                        logs.setdefault(client, collections.deque(maxlen=8)).append(entry)
                        logs.move_to_end(client)
                        while len(logs) > MAX_CLIENTS:
                            logs.popitem(last=False)
            return start_response(status, headers, exc_info)

        return sessions(environ, capture)

    return recorded
