"""The ASGI application of the fault tests: counts requests in its session, answers the count."""

from __future__ import annotations

from typing import Any


async def counter_app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """Counts requests in the session; answers the count."""
    if scope["type"] != "http":
        return
    session = scope["session"]
    session["n"] = session.get("n", 0) + 1
    body = str(session["n"]).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [(b"content-type", b"text/plain"), (b"content-length", b"%d" % len(body))],
        }
    )
    await send({"type": "http.response.body", "body": body})
