"""examples/starlette_app.py under uvicorn, driven over 127.0.0.1 with a cookie-keeping client.

The cases are written once (:class:`AsgiExampleCases`) for the four example apps that share one
shape (Starlette, FastAPI, aiohttp, Litestar: ``/``, ``/api``, ``/whoami``, ``POST /login``,
``/logout``, ``/prefs``) and run again by tests/test_{fastapi,aiohttp,litestar}.py against their
own servers.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from email.utils import parsedate_to_datetime
from pathlib import Path

import pytest

from tests.live import ROOT, Browser, set_cookies, uvicorn

EXAMPLES = ROOT / "examples"
SECRETS = "asgi example secret (new), 32+ bytes long,asgi example secret (old), 32+ bytes"
FOURTEEN_DAYS = 14 * 86400
YEAR = 365 * 86400
EXPIRED = "Thu, 01 Jan 1970 00:00:01 GMT"


def example_env(directory: Path, *, secure: bool = False) -> dict[str, str]:
    env = {
        "PYTHONPATH": str(EXAMPLES),
        "WEBSESSION_SECRETS": SECRETS,
        "WEBSESSION_DIR": str(directory),
    }
    if not secure:
        env["WEBSESSION_SECURE"] = "0"  # plain HTTP: the browser (and Browser) must send it
    return env


def tamper(value: str) -> str:
    middle = len(value) // 2
    return value[:middle] + ("A" if value[middle] != "A" else "B") + value[middle + 1 :]


class AsgiExampleCases:
    """What each example app must do over a real server; subclasses say how to start it."""

    @classmethod
    def launch(cls, env: dict[str, str]) -> contextlib.AbstractContextManager[str]:
        raise NotImplementedError

    @pytest.fixture(scope="class")
    @classmethod
    def files(cls, tmp_path_factory: pytest.TempPathFactory) -> Path:
        return tmp_path_factory.mktemp("sessions")

    @pytest.fixture(scope="class")
    @classmethod
    def base(cls, files: Path) -> Iterator[str]:
        with cls.launch(example_env(files)) as url:
            yield url

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
        assert response.status_code == 303
        assert browser.get("/api").json()["flashes"] == ["Theme: dark."]
        assert browser.get("/api").json()["flashes"] == []

    def test_the_html_page_counts_and_shows_the_flash_escaped(self, browser: Browser) -> None:
        browser.post("/login", {"user": "<script>x</script>"})
        page = browser.get("/").text
        assert "Welcome, &lt;script&gt;x&lt;/script&gt;!" in page
        assert "<script>x" not in page
        assert '<b id="visits">1</b>' in page
        assert '<b id="visits">2</b>' in browser.get("/").text

    def test_log_in_regenerates_the_id_and_keeps_the_data(self, browser: Browser) -> None:
        browser.get("/api")
        browser.get("/api")
        before = browser.cookies["session"]
        response = browser.post("/login", {"user": "alice"})
        assert response.status_code == 303
        assert "session" in set_cookies(response)
        assert browser.cookies["session"] != before
        assert browser.get("/whoami").json() == {"user": "alice", "new": False}
        state = browser.get("/api").json()
        assert (state["user"], state["visits"], state["flashes"]) == (
            "alice",
            3,
            ["Welcome, alice!"],
        )
        # The pre-login cookie no longer loads anything: its record was deleted (no fixation).
        attacker = Browser(browser.base, {"session": before})
        assert attacker.get("/whoami").json() == {"user": None, "new": True}

    def test_an_empty_login_flashes_and_keeps_the_id(self, browser: Browser) -> None:
        browser.get("/api")
        before = browser.cookies["session"]
        browser.post("/login", {"user": "  "})
        assert browser.get("/api").json()["flashes"] == ["Give a name to log in."]
        # Same id (the cookie is re-sealed, so its text differs): the old cookie still works.
        again = Browser(browser.base, {"session": before})
        assert again.get("/whoami").json() == {"user": None, "new": False}

    def test_log_out_deletes_the_record_and_the_cookie(self, browser: Browser) -> None:
        browser.post("/login", {"user": "bob"})
        logged_in = browser.cookies["session"]
        response = browser.post("/logout")
        assert response.status_code == 303
        cookie = set_cookies(response)["session"]
        assert cookie.value == ""
        assert cookie.attributes["max-age"] == "0"
        assert cookie.attributes["expires"] == EXPIRED
        assert cookie.attributes["path"] == "/"
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
        # The session cookie is only an id (the values are on disk); prefs holds the values.
        assert len(browser.cookies["session"]) < len(browser.cookies["prefs"]) + 64
        # The prefs cookie is the whole (sealed) session: it works on its own.
        alone = Browser(browser.base, {"prefs": browser.cookies["prefs"]})
        state = alone.get("/api").json()
        assert (state["theme"], state["visits"]) == ("dark", 1)

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
        for junk in ["", "x", "%%%", "a" * 1800, "AX1HMu8A" + "_" * 80, '"quoted"', "=;="]:
            other = Browser(browser.base, {"session": junk, "prefs": junk})
            response = other.get("/api")
            assert response.status_code == 200, junk[:20]
            assert response.json()["visits"] == 1
            assert other.get("/whoami").status_code == 200

    def test_cookie_attributes(self, browser: Browser) -> None:
        response = browser.get("/api")
        cookie = set_cookies(response)["session"]
        assert set(cookie.attributes) == {"path", "expires", "max-age", "httponly", "samesite"}
        assert cookie.attributes["path"] == "/"
        assert cookie.attributes["samesite"] == "Lax"
        assert cookie.attributes["max-age"] == str(FOURTEEN_DAYS)
        expires = parsedate_to_datetime(cookie.attributes["expires"]).timestamp()
        assert abs(expires - (time.time() + FOURTEEN_DAYS)) < 60
        assert "secure" not in cookie.attributes  # WEBSESSION_SECURE=0 here
        assert "Cookie" in response.headers["vary"]

    def test_the_prefs_cookie_has_its_own_store_options(self, browser: Browser) -> None:
        cookie = set_cookies(browser.post("/prefs", {"theme": "dark"}))["prefs"]
        assert cookie.attributes["max-age"] == str(YEAR)
        assert cookie.attributes["samesite"] == "Lax"
        assert cookie.attributes["path"] == "/"
        assert "httponly" in cookie.attributes

    def test_reading_only_sets_no_cookie(self, browser: Browser) -> None:
        browser.get("/api")
        response = browser.get("/whoami")
        assert response.json() == {"user": None, "new": False}
        assert response.headers.get_list("set-cookie") == []
        assert "Cookie" in response.headers["vary"]

    def test_cookies_are_secure_unless_turned_off(self, tmp_path: Path) -> None:
        with self.launch(example_env(tmp_path, secure=True)) as url:
            response = Browser(url).post("/prefs", {"theme": "dark"})
            cookies = set_cookies(response)
            assert sorted(cookies) == ["prefs", "session"]
            for cookie in cookies.values():
                assert {"secure", "httponly", "samesite", "max-age"} <= set(cookie.attributes)


class TestStarletteUnderUvicorn(AsgiExampleCases):
    @classmethod
    def launch(cls, env: dict[str, str]) -> contextlib.AbstractContextManager[str]:
        return uvicorn("starlette_app:app", env)
