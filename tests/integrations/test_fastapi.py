"""websession.fastapi: named sessions from any store as FastAPI dependencies, in process.

The app is FastAPI's own (its routing and dependency injection), driven by Starlette's
TestClient; the sessions are websession's (websession.asgi.SessionMiddleware). The example app
(examples/fastapi_app.py) has its own smoke test under a real server: tests/examples/.
"""

from __future__ import annotations

from typing import Any

import pytest
from fastapi import Depends, FastAPI, Request
from starlette.testclient import TestClient

from websession import CookieOptions, CookieStore, MemoryStore, Session, generate_random_key
from websession.asgi import SessionMiddleware
from websession.fastapi import session_dependency

OPTIONS = CookieOptions(secure=False)  # the test client speaks plain http


def app_with(store: Any, prefs_store: Any) -> FastAPI:
    app = FastAPI()
    app.add_middleware(SessionMiddleware, store=store)
    # Depends() as defaults, not Annotated aliases: the aliases would be local names, which
    # FastAPI cannot resolve from this module's string annotations
    prefs_session = Depends(session_dependency("prefs", prefs_store))
    default_session = Depends(session_dependency())

    @app.get("/visit")
    async def visit(request: Request, prefs: Session = prefs_session) -> dict[str, Any]:
        request.session["visits"] = request.session.get("visits", 0) + 1
        prefs.setdefault("theme", "dark")
        return {"visits": request.session["visits"], "theme": prefs["theme"]}

    @app.get("/read")
    async def read(
        request: Request, prefs: Session = prefs_session, default: Session = default_session
    ) -> dict[str, Any]:
        return {
            "same_object": default is request.session,
            "visits": default.get("visits"),
            "theme": prefs.get("theme"),
        }

    @app.post("/theme/{theme}")
    async def set_theme(theme: str, prefs: Session = prefs_session) -> dict[str, Any]:
        prefs["theme"] = theme
        return {"theme": theme}

    return app


@pytest.fixture
def stores() -> tuple[MemoryStore, CookieStore]:
    return (
        MemoryStore(generate_random_key(), options=OPTIONS),
        CookieStore(generate_random_key(), options=OPTIONS),
    )


def test_a_dependency_session_is_saved_with_the_default_one(
    stores: tuple[MemoryStore, CookieStore],
) -> None:
    client = TestClient(app_with(*stores))
    first = client.get("/visit")
    assert first.json() == {"visits": 1, "theme": "dark"}
    # both sessions saved when the response started: one cookie each
    names = sorted(c.split("=", 1)[0] for c in first.headers.get_list("set-cookie"))
    assert names == ["prefs", "session"]
    assert client.get("/visit").json() == {"visits": 2, "theme": "dark"}
    client.post("/theme/light")
    assert client.get("/read").json() == {"same_object": True, "visits": 2, "theme": "light"}


def test_the_prefs_cookie_holds_its_values_sealed_and_the_default_only_an_id(
    stores: tuple[MemoryStore, CookieStore],
) -> None:
    memory, cookie_store = stores
    client = TestClient(app_with(memory, cookie_store))
    client.get("/visit")
    prefs = client.cookies["prefs"]
    assert "dark" not in prefs
    # a fresh client with only the prefs cookie: the values come from the cookie itself
    other = TestClient(app_with(memory, cookie_store), cookies={"prefs": prefs})
    assert other.get("/read").json() == {"same_object": True, "visits": None, "theme": "dark"}


def test_reading_only_sets_no_cookie(stores: tuple[MemoryStore, CookieStore]) -> None:
    client = TestClient(app_with(*stores))
    response = client.get("/read")
    assert response.json() == {"same_object": True, "visits": None, "theme": None}
    assert response.headers.get_list("set-cookie") == []
    assert "Cookie" in response.headers["vary"]


def test_the_dependency_is_named_for_the_session() -> None:
    assert session_dependency("prefs").__name__ == "websession_session_prefs"
    assert session_dependency().__name__ == "websession_session_default"


def test_without_the_middleware_the_error_says_what_to_add() -> None:
    app = FastAPI()
    @app.get("/")
    async def index(prefs: Session = Depends(session_dependency("prefs"))) -> dict[str, Any]:
        return dict(prefs)

    with pytest.raises(RuntimeError, match="SessionMiddleware"):
        TestClient(app).get("/")
