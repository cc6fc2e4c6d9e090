"""One HTTP request to an ASGI application, in process, and what its response carried.

Raw ASGI calls rather than a framework's test client: the adapters' tests see exactly the
``Set-Cookie`` and ``Vary`` headers the middleware sent, whatever the framework on top.
"""

from __future__ import annotations

import asyncio
from typing import Any


class Seen:
    """One response as the checks need it."""

    def __init__(self, set_cookies: list[str], vary: str | None, body: str = "") -> None:
        self.set_cookies = set_cookies
        self.vary = vary
        self.body = body

    @property
    def varies(self) -> bool:
        return self.vary is not None and "cookie" in self.vary.lower()


def asgi_request(app: Any, path: str, cookie: str | None) -> Seen:
    messages: list[dict[str, Any]] = []
    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET",
             "scheme": "http", "path": path, "raw_path": path.encode(), "query_string": b"",
             "root_path": "", "server": ("testserver", 80), "client": ("127.0.0.1", 1),
             "headers": [(b"cookie", cookie.encode())] if cookie else []}  # fmt: skip

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        messages.append(message)

    asyncio.run(app(scope, receive, send))
    headers = [(k.decode().lower(), v.decode()) for k, v in messages[0].get("headers", [])]
    body = b"".join(m.get("body", b"") for m in messages[1:]).decode()
    vary = [v for k, v in headers if k == "vary"]
    return Seen([v for k, v in headers if k == "set-cookie"], vary[0] if vary else None, body)


def starlette_app() -> Any:
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import PlainTextResponse
    from starlette.routing import Route

    async def set_(request: Request) -> PlainTextResponse:
        request.session["n"] = 1
        return PlainTextResponse("")

    async def read(request: Request) -> PlainTextResponse:
        return PlainTextResponse(str(request.session.get("n")))

    async def plain(request: Request) -> PlainTextResponse:
        return PlainTextResponse("")

    return Starlette(routes=[Route("/set", set_), Route("/read", read), Route("/plain", plain)])
