"""A plain ASGI application (no framework) behind websession.asgi.SessionMiddleware.

Mounted several times over the same stores:

- ``/...``: the defaults (``autoload=True``);
- ``/soe/...``: ``save_on_error=True``;
- ``/raw/...``: ``unavailable_status=None`` (StoreUnavailable propagates: a 500);
- ``/lazy/...``: ``autoload=False``;
- ``/down-default/...``: the default session ("down") in a store that is down.

WebSocket endpoints: ``/ws`` reads the default session and changes it before accepting (the
cookie goes out with the accept); ``/ws/down`` loads a session from a store that is down.

Run: ``uvicorn tests.support.apps.asgi_app:app``.
"""

from __future__ import annotations

from typing import Any

from websession import aget_session, get_session
from websession.asgi import SessionMiddleware

from .common import query
from .routes import NEEDS, STORES, handle


async def _text(send: Any, status: int, text: str) -> None:
    body = text.encode()
    headers = [(b"content-type", b"text/plain"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def _websocket(scope: dict[str, Any], receive: Any, send: Any, path: str) -> None:
    assert (await receive())["type"] == "websocket.connect"
    if path == "/ws":
        session = await aget_session(scope)
        seen = session.get("n")
        session["ws"] = "hello from the socket"
        await send({"type": "websocket.accept"})
        await send({"type": "websocket.send", "text": f"n={seen}"})
        await send({"type": "websocket.close", "code": 1000})
    elif path == "/ws/down":
        await aget_session(scope, "down", STORES["down"])  # raises StoreUnavailable
        await send({"type": "websocket.accept"})
    else:
        await send({"type": "websocket.close", "code": 1008})


def make_app(prefix: str):  # type: ignore[no-untyped-def]
    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":  # passed through by the middleware
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                elif message["type"] == "lifespan.shutdown":
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        path = scope["path"][len(prefix) :]
        if scope["type"] == "websocket":
            await _websocket(scope, receive, send, path)
            return
        if path == "/scope-session":
            # What Starlette's request.session reads.
            session = scope.get("session")
            text = "absent" if session is None else f"{type(session).__name__} n={session.get('n')}"
            if session is None:
                await aget_session(scope)
                text += f", then {type(scope.get('session')).__name__}"
            await _text(send, 200, text)
            return
        if path == "/ws-value":
            await _text(send, 200, str((await aget_session(scope)).get("ws")))
            return
        if path == "/sync-get":
            # Sync get_session under ASGI: fine without I/O, a clear error otherwise.
            try:
                auth = get_session(scope, "auth", STORES["files"])
            except RuntimeError as exc:
                await _text(send, 409, str(exc))
                return
            await _text(send, 200, f"new={auth.is_new}")
            return
        for name, store_key in NEEDS.get(path, []):
            await aget_session(scope, name, STORES[store_key])
        status, text = handle(
            path,
            query(scope.get("query_string", b"")),
            lambda name, key: get_session(scope, name, STORES[key]),  # cached: no I/O
        )
        await _text(send, status, text)

    return app


MOUNTS = {
    "/soe": SessionMiddleware(make_app("/soe"), STORES["memory"], save_on_error=True),
    "/raw": SessionMiddleware(make_app("/raw"), STORES["memory"], unavailable_status=None),
    "/lazy": SessionMiddleware(make_app("/lazy"), STORES["memory"], autoload=False),
    # the default session's store is down: autoloading it (when its cookie is sent) fails
    "/down-default": SessionMiddleware(make_app("/down-default"), STORES["down"], name="down"),
}
DEFAULT = SessionMiddleware(make_app(""), STORES["memory"])


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    path = scope.get("path", "")
    for prefix, mounted in MOUNTS.items():
        if path.startswith(prefix + "/"):
            await mounted(scope, receive, send)
            return
    await DEFAULT(scope, receive, send)
