"""The drop-ins take the framework's existing secret: a weak one is logged, never refused
(the library they replace accepted it), while websession's own constructors refuse it."""

from __future__ import annotations

import logging

import pytest

from websession import CookieStore


def test_flask_drop_in_warns_about_a_weak_secret_key_and_works(
    caplog: pytest.LogCaptureFixture,
) -> None:
    from flask import Flask, session

    from websession.flask import SessionInterface

    app = Flask(__name__)
    app.secret_key = "dev"
    app.session_interface = SessionInterface()

    @app.get("/")
    def index() -> str:
        session["n"] = session.get("n", 0) + 1
        return str(session["n"])

    client = app.test_client()
    with caplog.at_level(logging.WARNING, logger="websession"):
        assert [client.get("/").text for _ in range(2)] == ["1", "2"]
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert any("app.secret_key" in r.getMessage() for r in warnings)
    assert all("dev" not in r.getMessage().split() for r in warnings)  # never the secret


def test_starlette_drop_in_warns_about_a_weak_secret_key(
    caplog: pytest.LogCaptureFixture,
) -> None:
    from websession.starlette import SessionMiddleware

    async def app(scope: object, receive: object, send: object) -> None:
        raise AssertionError("not called")

    with caplog.at_level(logging.WARNING, logger="websession"):
        SessionMiddleware(app, "example")
    assert any("secret_key" in r.getMessage() for r in caplog.records)


def test_the_native_store_still_refuses_a_weak_secret() -> None:
    with pytest.raises(ValueError, match="keygen"):
        CookieStore("example")


def test_flask_drop_in_without_a_secret_key_serves_flasks_null_session() -> None:
    from flask import Flask, session

    from websession.flask import SessionInterface

    app = Flask(__name__)
    app.session_interface = SessionInterface()

    @app.get("/")
    def index() -> str:
        session["n"] = 1
        return "unreachable"

    app.testing = True
    with pytest.raises(RuntimeError, match="session is unavailable"):
        app.test_client().get("/")


def test_starlette_drop_in_max_age_zero_sends_a_cookie_the_browser_drops_at_once() -> None:
    from tests.test_vary import asgi_request, starlette_app
    from websession import generate_random_key
    from websession.starlette import SessionMiddleware

    app = SessionMiddleware(starlette_app(), generate_random_key().hex(), max_age=0)
    written = asgi_request(app, "/set", None)
    assert len(written.set_cookies) == 1
    assert "; Max-Age=0; " in written.set_cookies[0]  # as Starlette: gone on arrival
    untouched = asgi_request(app, "/plain", None)
    assert untouched.set_cookies == []  # no cookie for a session nobody touched


async def test_aiohttp_sessions_speak_aiohttp_session_api() -> None:
    import warnings

    from aiohttp import web
    from aiohttp.test_utils import TestClient, TestServer

    from websession import CookieOptions, generate_random_key
    from websession.aiohttp import Session, get_session, new_session, setup

    seen: dict[str, object] = {}

    async def login(request: web.Request) -> web.Response:
        session = await new_session(request)
        session["user"] = "ann"
        session.max_age = 600  # "remember me", as with aiohttp-session
        seen["login"] = (session.new, session.empty, session.created)
        return web.Response(text="ok")

    async def whoami(request: web.Request) -> web.Response:
        session = await get_session(request)
        assert isinstance(session, Session)
        session["seen"] = session.get("seen", 0)  # same value: not a change...
        session.changed()  # ...until said so
        seen["whoami"] = (session.new, session.identity, session.created, session.max_age)
        return web.Response(text=session["user"])

    app = web.Application()
    setup(app, CookieStore(generate_random_key(), options=CookieOptions(secure=False)))
    app.router.add_get("/login", login)
    app.router.add_get("/whoami", whoami)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # aiohttp's NotAppKeyWarning among them
        async with TestClient(TestServer(app)) as client:
            response = await client.get("/login")
            assert "Max-Age=600" in response.headers["Set-Cookie"]
            assert await (await client.get("/whoami")).text() == "ann"
    new, empty, created = seen["login"]  # type: ignore[misc]
    assert (new, empty) == (True, False)
    # a cookie session has no server-side identity; created survives the save
    assert seen["whoami"] == (False, None, created, 600)
