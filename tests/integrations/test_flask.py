"""websession.flask.SessionInterface in a Flask app, in process (Flask's test client).

What the example app does not provoke: a 5xx, ``save_on_error``, the cookie settings from
Flask's config or from the store. The example itself runs under gunicorn in
tests/examples/test_flask.py.
"""

from __future__ import annotations


def make_app(store: object, **config: object) -> object:
    from flask import Flask, session

    from websession.flask import SessionInterface

    app = Flask(__name__)
    app.config.update(config)
    app.session_interface = SessionInterface(store)  # type: ignore[arg-type]

    @app.get("/set")
    def set_value() -> str:
        session["n"] = session.get("n", 0) + 1
        return str(session["n"])

    @app.get("/fail")
    def fail() -> str:
        session["n"] = 999
        raise RuntimeError("boom")

    return app


def test_nothing_is_saved_with_a_5xx_response() -> None:
    from websession import MemoryStore

    app = make_app(MemoryStore("in-process secret, 32+ bytes long!!"))
    client = app.test_client()  # type: ignore[attr-defined]
    assert client.get("/set").text == "1"
    response = client.get("/fail")
    assert response.status_code == 500
    assert response.headers.getlist("Set-Cookie") == []
    assert client.get("/set").text == "2"  # not 1000


def test_save_on_error_saves_with_a_5xx() -> None:
    from flask import Flask, session

    from websession import CookieStore
    from websession.flask import SessionInterface

    app = Flask(__name__)
    app.session_interface = SessionInterface(
        CookieStore("in-process secret, 32+ bytes long!!"), save_on_error=True
    )

    @app.get("/fail")
    def fail() -> str:
        session["n"] = 1
        raise RuntimeError("boom")

    response = app.test_client().get("/fail")
    assert response.status_code == 500
    assert len(response.headers.getlist("Set-Cookie")) == 1


def test_secure_domain_name_and_partitioned_come_from_flask_config() -> None:
    from websession import CookieStore

    app = make_app(
        CookieStore("in-process secret, 32+ bytes long!!"),
        SESSION_COOKIE_NAME="sid",
        SESSION_COOKIE_SECURE=True,
        SESSION_COOKIE_SAMESITE="Strict",
        SESSION_COOKIE_DOMAIN="example.org",
        SESSION_COOKIE_PATH="/app",
        SESSION_COOKIE_PARTITIONED=True,
    )
    header = app.test_client().get("/set").headers["Set-Cookie"]  # type: ignore[attr-defined]
    assert header.startswith("sid=")
    for part in ("Domain=example.org", "Path=/app", "Secure", "HttpOnly", "SameSite=Strict",
                 "Partitioned"):  # fmt: skip
        assert part in header.split("; "), (part, header)
    assert "Max-Age" not in header


def test_use_flask_config_false_keeps_the_store_options() -> None:
    from flask import Flask, session

    from websession import CookieOptions, CookieStore
    from websession.flask import SessionInterface

    app = Flask(__name__)
    app.config["SESSION_COOKIE_NAME"] = "ignored"
    store = CookieStore(
        "in-process secret, 32+ bytes long!!", options=CookieOptions(max_age=60, same_site="Strict")
    )
    app.session_interface = SessionInterface(store, use_flask_config=False)

    @app.get("/")
    def index() -> str:
        session["a"] = 1
        return "ok"

    header = app.test_client().get("/").headers["Set-Cookie"]
    assert header.startswith("session=")
    assert "Max-Age=60" in header
    assert "SameSite=Strict" in header
    assert "Secure" in header
