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
    from tests.support.asgi_calls import asgi_request, starlette_app
    from websession import generate_random_key
    from websession.starlette import SessionMiddleware

    app = SessionMiddleware(starlette_app(), generate_random_key().hex(), max_age=0)
    written = asgi_request(app, "/set", None)
    assert len(written.set_cookies) == 1
    assert "; Max-Age=0; " in written.set_cookies[0]  # as Starlette: gone on arrival
    untouched = asgi_request(app, "/plain", None)
    assert untouched.set_cookies == []  # no cookie for a session nobody touched
