"""examples/flask_app.py under gunicorn (two workers sharing a FilesystemStore), over HTTP.

The cases are written once for Flask's session protocol (:class:`FlaskLikeCases`) and run again
against the Quart example under hypercorn and uvicorn by tests/test_quart.py. A few in-process
tests at the end cover what the example does not provoke (5xx, Secure, the store's own options).
"""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from email.utils import parsedate_to_datetime
from pathlib import Path

import pytest

from tests.live import ROOT, Browser, free_port, gunicorn, serve, set_cookies

EXAMPLES = ROOT / "examples"
SECRETS = "flask-like example secret (new), 32+ bytes,flask-like example secret (old)"
FOURTEEN_DAYS = 14 * 86400
YEAR = 365 * 86400


def example_env(directory: Path) -> dict[str, str]:
    return {
        "PYTHONPATH": str(EXAMPLES),
        "WEBSESSION_SECRETS": SECRETS,
        "WEBSESSION_DIR": str(directory),
        "WEBSESSION_SECURE": "0",  # plain HTTP: the browser (and Browser) must send the cookie
    }


def tamper(value: str) -> str:
    middle = len(value) // 2
    return value[:middle] + ("A" if value[middle] != "A" else "B") + value[middle + 1 :]


class FlaskLikeCases:
    """What the Flask and Quart examples must do, over a real server (fixture ``base``)."""

    @pytest.fixture
    def browser(self, base: str) -> Iterator[Browser]:
        b = Browser(base)
        yield b
        b.close()

    def test_counter_is_kept_across_requests(self, browser: Browser) -> None:
        assert [browser.get("/api").json()["visits"] for _ in range(4)] == [1, 2, 3, 4]

    def test_a_flash_is_shown_once(self, browser: Browser) -> None:
        browser.get("/api")
        response = browser.post("/prefs", {"theme": "dark"})
        assert response.status_code == 302
        assert browser.get("/api").json()["flashes"] == ["Theme: dark."]
        assert browser.get("/api").json()["flashes"] == []

    def test_the_html_page_shows_the_flash_escaped(self, browser: Browser) -> None:
        browser.post("/login", {"user": "<script>x</script>"})
        page = browser.get("/").text
        assert "Welcome, &lt;script&gt;x&lt;/script&gt;!" in page
        assert "<script>x" not in page

    def test_log_in_regenerates_the_id_and_keeps_the_data(self, browser: Browser) -> None:
        browser.get("/api")
        browser.get("/api")
        before = browser.cookies["session"]
        response = browser.post("/login", {"user": "alice"})
        assert response.status_code == 302
        assert "session" in set_cookies(response)
        assert browser.cookies["session"] != before
        assert browser.get("/whoami").json() == {"user": "alice", "new": False}
        state = browser.get("/api").json()
        assert (state["user"], state["visits"]) == ("alice", 3)  # the data moved to the new id
        # The pre-login cookie no longer loads anything: its record was deleted (no fixation).
        attacker = Browser(browser.base, {"session": before})
        assert attacker.get("/whoami").json() == {"user": None, "new": True}

    def test_log_out_deletes_the_record_and_the_cookie(self, browser: Browser) -> None:
        browser.post("/login", {"user": "bob"})
        logged_in = browser.cookies["session"]
        response = browser.post("/logout")
        cookie = set_cookies(response)["session"]
        assert cookie.value == ""
        assert cookie.attributes["max-age"] == "0"
        assert cookie.attributes["expires"] == "Thu, 01 Jan 1970 00:00:01 GMT"
        assert "session" not in browser.cookies
        assert browser.get("/whoami").json() == {"user": None, "new": True}
        replay = Browser(browser.base, {"session": logged_in})
        assert replay.get("/whoami").json() == {"user": None, "new": True}

    def test_two_sessions_from_two_stores_in_one_response(
        self, browser: Browser, files: Path
    ) -> None:
        browser.get("/api")
        response = browser.post("/prefs", {"theme": "dark"})
        assert sorted(set_cookies(response)) == ["prefs", "session"]
        assert len(response.headers.get_list("set-cookie")) == 2
        # Both persist: the theme from the prefs cookie, the flash and count from the files.
        state = browser.get("/api").json()
        assert (state["theme"], state["flashes"], state["visits"]) == ("dark", ["Theme: dark."], 2)
        assert browser.get("/api").json()["theme"] == "dark"
        assert any(p.is_file() for p in files.rglob("*"))  # the default session is on disk
        # The prefs cookie is the whole (sealed) session: it works on its own.
        alone = Browser(browser.base, {"prefs": browser.cookies["prefs"]})
        assert alone.get("/api").json()["theme"] == "dark"

    @pytest.mark.parametrize("name", ["session", "prefs"])
    def test_a_tampered_cookie_gives_a_fresh_session_not_an_error(
        self, browser: Browser, name: str
    ) -> None:
        browser.post("/login", {"user": "carol"})
        browser.post("/prefs", {"theme": "dark"})
        browser.cookies[name] = tamper(browser.cookies[name])
        response = browser.get("/api")
        assert response.status_code == 200
        state = response.json()
        if name == "session":
            assert (state["user"], state["visits"], state["theme"]) == (None, 1, "dark")
            assert "session" in set_cookies(response)  # a new session replaces it
        else:
            assert (state["user"], state["theme"]) == ("carol", "light")

    def test_garbage_cookies_never_give_a_500(self, browser: Browser) -> None:
        # (a Cookie header over 4 KiB gets a 431 from the server itself: kept below that)
        for junk in ["", "x", "%%%", "a" * 1800, "AX1HMu8A" + "_" * 80, '"quoted"']:
            other = Browser(browser.base, {"session": junk, "prefs": junk})
            response = other.get("/api")
            assert response.status_code == 200, junk[:20]
            assert response.json()["visits"] == 1

    def test_cookie_attributes_follow_the_flask_settings(self, browser: Browser) -> None:
        response = browser.get("/api")
        cookie = set_cookies(response)["session"]
        # Not permanent: a browser-session cookie (no Max-Age, no Expires), as in Flask.
        assert cookie.attributes == {"path": "/", "httponly": "", "samesite": "Lax"}
        assert "secure" not in cookie.attributes  # SESSION_COOKIE_SECURE=False here
        assert response.headers["vary"] == "Cookie"

    def test_remember_me_makes_the_cookie_last_permanent_session_lifetime(
        self, browser: Browser
    ) -> None:
        response = browser.post("/login", {"user": "dave", "remember": "1"})
        cookie = set_cookies(response)["session"]
        assert cookie.attributes["max-age"] == str(FOURTEEN_DAYS)
        expires = parsedate_to_datetime(cookie.attributes["expires"]).timestamp()
        assert abs(expires - (time.time() + FOURTEEN_DAYS)) < 60
        assert {"httponly", "samesite", "path"} <= set(cookie.attributes)
        # SESSION_REFRESH_EACH_REQUEST: a permanent session's cookie is sent again each time.
        again = set_cookies(browser.get("/whoami"))
        assert again["session"].attributes["max-age"] == str(FOURTEEN_DAYS)
        assert browser.get("/api").json()["remembered"] is True

    def test_the_prefs_cookie_has_its_own_store_options(self, browser: Browser) -> None:
        cookie = set_cookies(browser.post("/prefs", {"theme": "dark"}))["prefs"]
        assert cookie.attributes["max-age"] == str(YEAR)
        assert cookie.attributes["samesite"] == "Lax"
        assert "httponly" in cookie.attributes

    def test_reading_only_sets_no_cookie(self, browser: Browser) -> None:
        browser.get("/api")
        response = browser.get("/whoami")
        assert response.headers.get_list("set-cookie") == []
        assert response.headers["vary"] == "Cookie"


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
