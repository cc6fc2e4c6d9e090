"""FastAPI integration: named sessions from any store as dependencies.

Add :class:`websession.asgi.SessionMiddleware` (``request.session`` is then the default
session, as with Starlette's own middleware), and depend on further sessions::

    from typing import Annotated
    from fastapi import Depends, FastAPI
    from websession.fastapi import session_dependency

    app = FastAPI()
    app.add_middleware(websession.asgi.SessionMiddleware, store=store)
    Prefs = Annotated[websession.Session, Depends(session_dependency("prefs", prefs_store))]

    @app.get("/")
    async def index(prefs: Prefs): ...

Async stores are awaited natively; everything loaded is saved together when the response starts.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from starlette.requests import HTTPConnection

from ._adapter import aget_session
from .session import Session
from .stores.base import Store

__all__ = ["session_dependency"]


def session_dependency(
    name: str | None = None, store: Store | None = None
) -> Callable[[HTTPConnection], Awaitable[Session]]:
    """A dependency returning the session ``name`` from ``store`` (the middleware's defaults)."""

    async def dependency(connection: HTTPConnection) -> Session:
        return await aget_session(connection, name, store)

    dependency.__name__ = f"websession_session_{name or 'default'}"
    return dependency
