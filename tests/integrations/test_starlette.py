"""websession.starlette: Starlette's ``SessionMiddleware`` signature in a Starlette app, in process.

What the drop-in promises beyond Starlette's own session tests (tests/compat runs those): its
parameters become the cookie's attributes, the values are sealed rather than signed, JSON keeps
Starlette's value types, an emptied session deletes its cookie, ``store=`` serves the same
middleware from a server-side store. Weak secrets and ``max_age=0``: test_dropins.py; ``Vary``:
test_vary.py; switching from Starlette's cookies: tests/legacy/. The example app has its own
smoke test under uvicorn (tests/examples/test_starlette.py).
"""

from __future__ import annotations

import base64
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route
from starlette.testclient import TestClient

from websession import CookieOptions, MemoryStore, generate_random_key
from websession.starlette import SessionMiddleware

SECRET = "i4Yl9l3mM7ZqQ3v5oX0l3vB2cD1eF6gH8jK0mN2pQ4s"  # 43 characters of base64url


def app_with(**options: Any) -> Starlette:
    async def write(request: Request) -> JSONResponse:
        request.session.update(await request.json())
        return JSONResponse(dict(request.session))

    async def read(request: Request) -> JSONResponse:
        return JSONResponse(dict(request.session))

    async def clear(request: Request) -> JSONResponse:
        request.session.clear()
        return JSONResponse({})

    app = Starlette(
        routes=[
            Route("/write", write, methods=["POST"]),
            Route("/read", read),
            Route("/clear", clear, methods=["POST"]),
        ]
    )
    app.add_middleware(SessionMiddleware, **options)
    return app


def cookie_attributes(header: str) -> dict[str, str]:
    parts = [p.strip() for p in header.split(";")[1:]]
    return {k.lower(): v for k, _, v in (p.partition("=") for p in parts)}


def test_the_parameters_become_the_cookie_attributes() -> None:
    client = TestClient(
        app_with(
            secret_key=SECRET,
            session_cookie="sid",
            max_age=3600,
            path="/",
            same_site="strict",
            https_only=True,
            domain="example.com",
        ),
        base_url="https://example.com",
    )
    response = client.post("/write", json={"user": "ada"})
    (header,) = response.headers.get_list("set-cookie")
    assert header.startswith("sid=")
    attributes = cookie_attributes(header)
    assert attributes["max-age"] == "3600"
    assert attributes["path"] == "/"
    assert attributes["samesite"] == "Strict"
    assert attributes["domain"] == "example.com"
    assert "secure" in attributes
    assert "httponly" in attributes
    assert client.get("/read").json() == {"user": "ada"}


def test_the_defaults_are_starlettes() -> None:
    client = TestClient(app_with(secret_key=SECRET))
    (header,) = client.post("/write", json={"n": 1}).headers.get_list("set-cookie")
    assert header.startswith("session=")
    attributes = cookie_attributes(header)
    assert attributes["max-age"] == str(14 * 24 * 3600)
    assert attributes["samesite"] == "Lax"
    assert "secure" not in attributes  # https_only=False, as Starlette


def test_values_are_sealed_not_just_signed() -> None:
    client = TestClient(app_with(secret_key=SECRET))
    client.post("/write", json={"card": "4111-1111-PLAINTEXT"})
    value = client.cookies["session"]
    assert "4111" not in value
    padded = value.split(".")[0] + "=" * (-len(value.split(".")[0]) % 4)
    assert b"4111" not in base64.urlsafe_b64decode(padded.encode())
    # another secret cannot open it: a new, empty session
    other = TestClient(app_with(secret_key=generate_random_key().hex()), cookies={"session": value})
    assert other.get("/read").json() == {}


def test_json_value_types_as_starlette_keeps_them() -> None:
    client = TestClient(app_with(secret_key=SECRET))
    client.post("/write", json={"list": [1, "two", None], "nested": {"a": True}, "f": 1.5})
    assert client.get("/read").json() == {"list": [1, "two", None], "nested": {"a": True}, "f": 1.5}


def test_an_emptied_session_deletes_its_cookie() -> None:
    client = TestClient(app_with(secret_key=SECRET))
    client.post("/write", json={"n": 1})
    (header,) = client.post("/clear").headers.get_list("set-cookie")
    assert header.startswith("session=")
    attributes = cookie_attributes(header)
    assert attributes["max-age"] == "0"
    assert "session" not in client.cookies
    assert client.get("/read").json() == {}


def test_a_server_side_store_keeps_only_an_id_in_the_cookie() -> None:
    store = MemoryStore(generate_random_key(), options=CookieOptions(secure=False))
    client = TestClient(app_with(secret_key=SECRET, store=store))
    client.post("/write", json={"big": "x" * 10_000})
    assert len(client.cookies["session"]) < 200
    assert client.get("/read").json() == {"big": "x" * 10_000}
    # the record is the store's: a client replaying the cookie after a clear gets nothing
    cookie = client.cookies["session"]
    client.post("/clear")
    replay = TestClient(app_with(secret_key=SECRET, store=store), cookies={"session": cookie})
    assert replay.get("/read").json() == {}
