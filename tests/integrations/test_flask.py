"""examples/flask_app.py under gunicorn (two workers sharing a FilesystemStore), over HTTP.

The cases every example shares are in tests/support/example_cases.py; :class:`FlaskLikeCases`
adds what Flask's session settings decide and is run again against the Quart example under
hypercorn and uvicorn by tests/integrations/test_quart.py. A few in-process tests at the end
cover what the example does not provoke (5xx, Secure, the store's own options).
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.example_cases import FlaskLikeCases, example_env
from tests.support.live import Browser, free_port, gunicorn, serve


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("flask-sessions")


@pytest.fixture(scope="module")
def base(files: Path) -> Iterator[str]:
    # Two workers: requests land on either, and share the sessions through the files.
    port = free_port()
    argv = [sys.executable, "-m", "gunicorn", "--bind", f"127.0.0.1:{port}", "--workers", "2",
            "--graceful-timeout", "2", "flask_app:app"]  # fmt: skip
    with serve(argv, port, example_env(files)) as url:
        yield url


class TestFlaskUnderGunicorn(FlaskLikeCases):
    pass


def test_the_example_runs_with_one_worker_too(tmp_path: Path) -> None:
    with gunicorn("flask_app:app", example_env(tmp_path)) as url:
        browser = Browser(url)
        assert [browser.get("/api").json()["visits"] for _ in range(2)] == [1, 2]


# -- in process: what the example does not show ---------------------------------------------
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
