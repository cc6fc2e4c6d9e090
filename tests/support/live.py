"""Real servers for end-to-end tests: start one on a free port, wait until it answers.

``gunicorn(app, env)``, ``uvicorn(app, env)`` and ``hypercorn(app, env)`` are context managers
that run the server in a subprocess (``--bind 127.0.0.1:<free port>``), yield its base URL once
it accepts connections, and stop it afterwards. :class:`Browser` is a small cookie-keeping HTTP
client over httpx that keeps cookies by hand, so the tests see exactly the Set-Cookie headers each
response carried.
"""

from __future__ import annotations

import contextlib
import os
import socket
import sys
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from tests.support.servers import launcher

ROOT = Path(__file__).resolve().parents[2]
HOST = "127.0.0.1"


def free_port() -> int:
    return int(launcher().free_port())


@contextlib.contextmanager
def serve(argv: list[str], port: int, env: Mapping[str, str] | None = None) -> Iterator[str]:
    """Run ``argv`` (a server listening on ``port``); yield ``http://127.0.0.1:<port>``.

    Started, waited for and stopped by the suite's one launcher (``tools/testenv.py``).
    """
    testenv = launcher()
    environment = {**os.environ, **(env or {})}
    environment["PYTHONPATH"] = os.pathsep.join(
        p for p in (str(ROOT), environment.get("PYTHONPATH", "")) if p
    )
    services = testenv.Services(netns=False)
    logfile = services.dir("app") / "output.log"
    try:
        process = services.spawn("app", argv, logfile, cwd=str(ROOT), env=environment)
        try:
            services.wait(lambda: testenv.tcp_ready(port), "the server", logfile, process)
        except testenv.StartError as exc:
            output = logfile.read_text(errors="replace")
            raise RuntimeError(f"{exc}: {' '.join(argv)}\n{output}") from None
        yield f"http://{HOST}:{port}"
    finally:
        services.stop_all()


def gunicorn(
    app: str, env: Mapping[str, str] | None = None
) -> contextlib.AbstractContextManager[str]:
    """gunicorn serving the WSGI ``app`` ("module:attribute"), one worker, four threads."""
    port = free_port()
    argv = [sys.executable, "-m", "gunicorn", "--bind", f"{HOST}:{port}", "--workers", "1",
            "--threads", "4", "--graceful-timeout", "2", app]  # fmt: skip
    return serve(argv, port, env)


def uvicorn(
    app: str, env: Mapping[str, str] | None = None, *, lifespan: str = "on"
) -> contextlib.AbstractContextManager[str]:
    """uvicorn serving the ASGI ``app`` ("module:attribute"), WebSockets through wsproto.

    ``lifespan="off"`` for applications that refuse lifespan events (Django).
    """
    port = free_port()
    argv = [sys.executable, "-m", "uvicorn", "--host", HOST, "--port", str(port),
            "--ws", "wsproto", "--lifespan", lifespan, "--no-access-log", app]  # fmt: skip
    return serve(argv, port, env)


def hypercorn(
    app: str, env: Mapping[str, str] | None = None
) -> contextlib.AbstractContextManager[str]:
    """hypercorn serving the ASGI ``app`` ("module:attribute"), one worker."""
    port = free_port()
    argv = [sys.executable, "-m", "hypercorn", "--bind", f"{HOST}:{port}", "--workers", "1",
            "--graceful-timeout", "2", app]  # fmt: skip
    return serve(argv, port, env)


# -- a client that keeps cookies by hand ---------------------------------------------------------
@dataclass
class SetCookie:
    name: str
    value: str
    attributes: dict[str, str]  # lower-cased attribute name -> value ("" for flags)
    raw: str

    @property
    def deletes(self) -> bool:
        return self.attributes.get("max-age") == "0" or self.value == ""


def parse_set_cookie(header: str) -> SetCookie:
    first, *rest = header.split(";")
    name, _, value = first.strip().partition("=")
    attributes = {}
    for part in rest:
        key, _, val = part.strip().partition("=")
        attributes[key.lower()] = val
    return SetCookie(name, value, attributes, header)


@dataclass
class Browser:
    """Keeps the cookies a server sets and sends them back, like a browser (minus Secure)."""

    base: str
    cookies: dict[str, str] = field(default_factory=dict)
    client: httpx.Client = field(default_factory=lambda: shared_client())

    def get(self, path: str, **params: str) -> httpx.Response:
        return self.request("GET", path, params=params)

    def post(
        self, path: str, data: Mapping[str, str] | None = None, **headers: str
    ) -> httpx.Response:
        """POST a form (``data``); redirects are not followed, as with :meth:`get`."""
        return self.request("POST", path, data=data, headers=headers)

    def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str] | None = None,
        data: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> httpx.Response:
        """Send the kept cookies, keep the ones the response sets (drop the ones it deletes)."""
        sent = dict(headers or {})
        if self.cookies:
            sent["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        response = self.client.request(
            method, self.base + path, params=params, data=data, headers=sent
        )
        self.client.cookies.clear()  # we keep cookies ourselves
        for cookie in set_cookies(response).values():
            if cookie.deletes:
                self.cookies.pop(cookie.name, None)
            else:
                self.cookies[cookie.name] = cookie.value
        return response

    def close(self) -> None:
        self.cookies.clear()


_client: httpx.Client | None = None


def shared_client() -> httpx.Client:
    """One httpx client for every Browser (making one builds an SSL context: slow)."""
    global _client
    if _client is None:
        _client = httpx.Client(timeout=10)
    return _client


def set_cookies(response: httpx.Response) -> dict[str, SetCookie]:
    """The response's Set-Cookie headers by cookie name (each name at most once)."""
    out: dict[str, SetCookie] = {}
    for header in response.headers.get_list("set-cookie"):
        cookie = parse_set_cookie(header)
        assert cookie.name not in out, f"two Set-Cookie headers for {cookie.name!r}"
        out[cookie.name] = cookie
    return out


# -- a WebSocket client (wsproto, over a plain socket) -------------------------------------------
@dataclass
class Handshake:
    """What a WebSocket handshake gave: the status (101 when accepted), headers, messages."""

    status: int
    headers: list[tuple[str, str]]
    messages: list[str]
    body: bytes = b""

    def header_list(self, name: str) -> list[str]:
        return [v for k, v in self.headers if k.lower() == name.lower()]


def websocket(base: str, path: str, cookies: Mapping[str, str] | None = None) -> Handshake:
    """Open a WebSocket on ``base + path``, read every text message until the server closes."""
    from wsproto import ConnectionType, WSConnection
    from wsproto.events import (
        AcceptConnection,
        CloseConnection,
        RejectConnection,
        RejectData,
        Request,
        TextMessage,
    )

    host, port = base.removeprefix("http://").split(":")
    connection = WSConnection(ConnectionType.CLIENT)
    extra = []
    if cookies:
        extra.append((b"cookie", "; ".join(f"{k}={v}" for k, v in cookies.items()).encode()))
    result = Handshake(0, [], [])
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(
            connection.send(Request(host=f"{host}:{port}", target=path, extra_headers=extra))
        )
        done = False
        while not done:
            data = sock.recv(65536)
            connection.receive_data(data or None)
            for event in connection.events():
                if isinstance(event, AcceptConnection):
                    result.status = 101
                    result.headers = [(k.decode(), v.decode()) for k, v in event.extra_headers]
                elif isinstance(event, RejectConnection):
                    result.status = event.status_code
                    result.headers = [(k.decode(), v.decode()) for k, v in event.headers]
                    done = not event.has_body
                elif isinstance(event, RejectData):
                    result.body += event.data
                    done = event.body_finished
                elif isinstance(event, TextMessage):
                    result.messages.append(event.data)
                elif isinstance(event, CloseConnection):
                    with contextlib.suppress(Exception):
                        sock.sendall(connection.send(event.response()))
                    done = True
            if not data:
                done = True
    return result
