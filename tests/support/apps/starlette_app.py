"""A Starlette application using websession.asgi.SessionMiddleware as its session middleware.

``request.session`` is the default websession Session (MemoryStore); more sessions come from
``await aget_session(request, name, store)``. Run: ``uvicorn tests.support.apps.starlette_app:app``.
"""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket

from websession import aget_session, get_session
from websession.asgi import SessionMiddleware

from .routes import STORES


async def count(request: Request) -> PlainTextResponse:
    request.session["n"] = request.session.get("n", 0) + 1
    return PlainTextResponse(str(request.session["n"]))


async def flash_add(request: Request) -> PlainTextResponse:
    request.session.add_flash(request.query_params["msg"])  # type: ignore[attr-defined]
    return PlainTextResponse("ok")


async def flash_show(request: Request) -> PlainTextResponse:
    return PlainTextResponse(",".join(request.session.flashes()))  # type: ignore[attr-defined]


async def login(request: Request) -> PlainTextResponse:
    auth = await aget_session(request, "auth", STORES["files"])
    auth.regenerate_id()
    auth["user"] = request.query_params["user"]
    get_session(request, "prefs", STORES["cookie"])["theme"] = "light"  # no I/O: sync is fine
    return PlainTextResponse("ok")


async def whoami(request: Request) -> PlainTextResponse:
    auth = await aget_session(request, "auth", STORES["files"])
    return PlainTextResponse(f"{auth.get('user', 'anonymous')} {type(request.session).__name__}")


async def ws(websocket: WebSocket) -> None:
    await websocket.accept()
    await websocket.send_text(f"n={websocket.session.get('n')}")
    await websocket.close()


app = Starlette(
    routes=[
        Route("/count", count),
        Route("/flash/add", flash_add),
        Route("/flash/show", flash_show),
        Route("/login", login),
        Route("/whoami", whoami),
        WebSocketRoute("/ws", ws),
    ],
    middleware=[Middleware(SessionMiddleware, store=STORES["memory"])],
)
