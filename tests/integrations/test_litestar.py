"""websession.litestar: the plugin, ``provide_session`` and Litestar's session API, in process.

A Litestar app (its routing, dependency injection and ``request.set_session`` /
``request.clear_session``) driven by Litestar's TestClient over websession stores. The example
app has its own smoke test under uvicorn (tests/examples/test_litestar.py).
"""

from __future__ import annotations

from typing import Any

import pytest
from litestar import Litestar, Request, get, post
from litestar.di import NamedDependency
from litestar.testing import TestClient

from websession import CookieOptions, CookieStore, MemoryStore, Session, generate_random_key
from websession.litestar import SessionPlugin, provide_session

OPTIONS = CookieOptions(secure=False)  # the test client speaks plain http


@get("/visit")
async def visit(
    request: Request[Any, Any, Any], prefs: NamedDependency[Session]
) -> dict[str, Any]:
    request.session["visits"] = request.session.get("visits", 0) + 1
    prefs.setdefault("theme", "dark")
    return {"visits": request.session["visits"], "theme": prefs["theme"]}


@get("/read")
async def read(request: Request[Any, Any, Any]) -> dict[str, Any]:
    return {"values": dict(request.session), "id": request.session.id}


@post("/replace")
async def replace(request: Request[Any, Any, Any]) -> None:
    request.set_session({"user": "ada"})


@post("/logout")
async def logout(request: Request[Any, Any, Any]) -> None:
    request.clear_session()


@post("/bad")
async def bad(request: Request[Any, Any, Any]) -> None:
    request.set_session("not a mapping")  # type: ignore[arg-type]


def make_app(store: MemoryStore, prefs: CookieStore, **options: Any) -> Litestar:
    return Litestar(
        route_handlers=[visit, read, replace, logout, bad],
        plugins=[SessionPlugin(store, **options)],
        dependencies={"prefs": provide_session("prefs", prefs)},
    )


@pytest.fixture
def store() -> MemoryStore:
    return MemoryStore(generate_random_key(), options=OPTIONS)


@pytest.fixture
def client(store: MemoryStore) -> Any:
    prefs = CookieStore(generate_random_key(), options=OPTIONS)
    with TestClient(app=make_app(store, prefs)) as test_client:
        yield test_client


def test_the_plugin_and_a_provided_session_are_saved_together(client: Any) -> None:
    first = client.get("/visit")
    assert first.json() == {"visits": 1, "theme": "dark"}
    names = sorted(c.split("=", 1)[0] for c in first.headers.get_list("set-cookie"))
    assert names == ["prefs", "session"]
    assert client.get("/visit").json() == {"visits": 2, "theme": "dark"}


def test_a_read_sets_no_cookie(client: Any) -> None:
    client.get("/visit")
    response = client.get("/read")
    assert response.json()["values"] == {"visits": 1}
    assert response.headers.get_list("set-cookie") == []


def test_set_session_replaces_the_values_and_keeps_the_id(client: Any) -> None:
    client.get("/visit")
    before = client.get("/read").json()["id"]
    client.post("/replace")
    after = client.get("/read").json()
    assert after == {"values": {"user": "ada"}, "id": before}


def test_clear_session_deletes_the_record_and_the_cookie(client: Any) -> None:
    client.get("/visit")
    cookie = client.cookies["session"]
    response = client.post("/logout")
    (deletion,) = [c for c in response.headers.get_list("set-cookie") if c.startswith("session=")]
    assert "Max-Age=0" in deletion
    # the record is gone: the old cookie, replayed, opens a new empty session
    client.cookies.clear()
    client.cookies.set("session", cookie)
    assert client.get("/read").json()["values"] == {}


def test_set_session_with_a_non_mapping_is_a_clear_type_error(client: Any) -> None:
    client.get("/visit")
    # raised as the response starts, so Litestar wraps it ("Exception caught after response
    # started"): the TypeError is the cause, with its message
    with pytest.raises(Exception) as raised:
        client.post("/bad")
    causes: list[BaseException] = []
    error: BaseException | None = raised.value
    while error is not None:
        causes.append(error)
        error = error.__cause__
    assert any(
        isinstance(e, TypeError) and "set_session() got a str" in str(e) for e in causes
    ), causes


def test_the_plugin_passes_the_middleware_options(store: MemoryStore) -> None:
    prefs = CookieStore(generate_random_key(), options=OPTIONS)
    with TestClient(app=make_app(store, prefs, name="sid")) as client:
        cookies = client.get("/visit").headers.get_list("set-cookie")
        names = sorted(c.split("=", 1)[0] for c in cookies)
        assert names == ["prefs", "sid"]
