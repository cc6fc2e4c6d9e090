"""The examples' live scenarios, written once and run against every framework's example.

Every example in examples/ serves the same routes (``/`` and ``/api``: count a visit and read
the flashes, ``/whoami``: read only, ``POST /login``, ``/logout``, ``/prefs``) with a default
session in a FilesystemStore and a second one, ``prefs``, in a CookieStore. :class:`ExampleCases`
drives them over a real server (fixture ``base``, with the session files in fixture ``files``);
subclasses say what differs: the redirect status, the session cookie's name, how a form is
posted (Django: with its CSRF token), what the JSON calls the flashes.
"""

from __future__ import annotations

import contextlib
import sys
import time
from collections.abc import Iterator, Mapping
from email.utils import parsedate_to_datetime
from pathlib import Path

import httpx
import pytest

from tests.support.live import HOST, ROOT, Browser, free_port, serve, set_cookies

EXAMPLES = ROOT / "examples"
FOURTEEN_DAYS = 14 * 86400
YEAR = 365 * 86400
EXPIRED = "Thu, 01 Jan 1970 00:00:01 GMT"
#: two secrets, newest first, as WEBSESSION_SECRETS takes them (comma-separated)
SECRETS = "Umf-yG9Uo0c8BTBJvF29CrK34JWDVm74rwcSQg-ixmY,vh2BMW1p6oJkZjqXwtUYOmv6H5276l3KpRL-yYwa8rQ"


def example_env(directory: Path, *, secure: bool = False, **extra: str) -> dict[str, str]:
    """The environment an example reads (examples/common.py), ``extra`` added."""
    env = {
        "PYTHONPATH": str(EXAMPLES),
        "WEBSESSION_SECRETS": SECRETS,
        "WEBSESSION_DIR": str(directory),
        **extra,
    }
    if not secure:
        env["WEBSESSION_SECURE"] = "0"  # plain HTTP: the browser (and Browser) must send it
    return env


def tamper(value: str) -> str:
    """``value`` with its middle character changed."""
    middle = len(value) // 2
    return value[:middle] + ("A" if value[middle] != "A" else "B") + value[middle + 1 :]


class ExampleCases:
    """What every example must do over a real server (fixtures ``base`` and ``files``)."""

    #: the status of the redirect after a form is posted
    REDIRECT = 303
    #: the default session's cookie
    SESSION = "session"
    #: the key of ``/api``'s JSON that lists the flashed messages
    FLASHES = "flashes"
    #: the value and Expires attribute of a deletion cookie
    DELETED = ""
    EXPIRED = EXPIRED
    #: the visits a fresh browser makes before it can post a form (Django: one, for the token)
    VISITS_BEFORE_A_POST = 0
    #: cookie values that must give a fresh session, never a 500
    GARBAGE = [
        "",
        "x",
        "%%%",
        "../../etc/passwd",
        "a" * 1800,
        "AX1HMu8A" + "_" * 80,
        '"quoted"',
        "=;=",
    ]

    @pytest.fixture
    def browser(self, base: str) -> Iterator[Browser]:
        b = Browser(base)
        yield b
        b.close()

    def post(
        self, browser: Browser, path: str, data: Mapping[str, str] | None = None
    ) -> httpx.Response:
        """POST a form the way the example's page does."""
        return browser.post(path, data)

    def test_counter_is_kept_across_requests(self, browser: Browser) -> None:
        assert [browser.get("/api").json()["visits"] for _ in range(4)] == [1, 2, 3, 4]

    def test_a_flash_is_shown_once(self, browser: Browser) -> None:
        browser.get("/api")
        response = self.post(browser, "/prefs", {"theme": "dark"})
        assert response.status_code == self.REDIRECT
        assert browser.get("/api").json()[self.FLASHES] == ["Theme: dark."]
        assert browser.get("/api").json()[self.FLASHES] == []

    def test_the_html_page_counts_and_shows_the_flash_escaped(self, browser: Browser) -> None:
        self.post(browser, "/login", {"user": "<script>x</script>"})
        page = browser.get("/").text
        assert "Welcome, &lt;script&gt;x&lt;/script&gt;!" in page
        assert "<script>x" not in page
        visits = self.VISITS_BEFORE_A_POST + 1
        assert f'<b id="visits">{visits}</b>' in page
        assert f'<b id="visits">{visits + 1}</b>' in browser.get("/").text

    def test_log_in_regenerates_the_id_and_keeps_the_data(self, browser: Browser) -> None:
        browser.get("/api")
        browser.get("/api")
        before = browser.cookies[self.SESSION]
        response = self.post(browser, "/login", {"user": "alice"})
        assert response.status_code == self.REDIRECT
        assert self.SESSION in set_cookies(response)
        assert browser.cookies[self.SESSION] != before
        assert browser.get("/whoami").json() == {"user": "alice", "new": False}
        state = browser.get("/api").json()
        assert (state["user"], state["visits"], state[self.FLASHES]) == (
            "alice",
            3,
            ["Welcome, alice!"],
        )
        # The pre-login cookie no longer loads anything: its record was deleted (no fixation).
        attacker = Browser(browser.base, {self.SESSION: before})
        assert attacker.get("/whoami").json() == {"user": None, "new": True}

    def test_an_empty_login_flashes_and_keeps_the_id(self, browser: Browser) -> None:
        browser.get("/api")
        before = browser.cookies[self.SESSION]
        self.post(browser, "/login", {"user": "  "})
        assert browser.get("/api").json()[self.FLASHES] == ["Give a name to log in."]
        # Same id (the cookie may be re-sealed, so its text differs): the old cookie still works.
        again = Browser(browser.base, {self.SESSION: before})
        assert again.get("/whoami").json() == {"user": None, "new": False}

    def test_log_out_deletes_the_record_and_the_cookie(self, browser: Browser) -> None:
        self.post(browser, "/login", {"user": "bob"})
        logged_in = browser.cookies[self.SESSION]
        response = self.post(browser, "/logout")
        assert response.status_code == self.REDIRECT
        cookie = set_cookies(response)[self.SESSION]
        assert cookie.deletes
        assert cookie.value == self.DELETED
        assert cookie.attributes["max-age"] == "0"
        assert cookie.attributes["expires"] == self.EXPIRED
        assert cookie.attributes["path"] == "/"
        assert self.SESSION not in browser.cookies
        assert browser.get("/whoami").json() == {"user": None, "new": True}
        replay = Browser(browser.base, {self.SESSION: logged_in})
        assert replay.get("/whoami").json() == {"user": None, "new": True}

    def test_two_sessions_from_two_stores_in_one_response(
        self, browser: Browser, files: Path
    ) -> None:
        browser.get("/api")
        response = self.post(browser, "/prefs", {"theme": "dark"})
        assert sorted(set_cookies(response)) == sorted(["prefs", self.SESSION])
        assert len(response.headers.get_list("set-cookie")) == 2
        # Both persist: the theme from the prefs cookie, the flash and count from the files.
        state = browser.get("/api").json()
        assert (state["theme"], state[self.FLASHES], state["visits"]) == (
            "dark",
            ["Theme: dark."],
            2,
        )
        assert browser.get("/api").json()["theme"] == "dark"
        assert any(p.is_file() for p in files.rglob("*"))  # the default session is on disk
        # The session cookie is only an id (the values are on disk); prefs holds the values.
        assert len(browser.cookies[self.SESSION]) < len(browser.cookies["prefs"]) + 64
        # The prefs cookie is the whole (sealed) session: it works on its own.
        alone = Browser(browser.base, {"prefs": browser.cookies["prefs"]})
        state = alone.get("/api").json()
        assert (state["theme"], state["visits"]) == ("dark", 1)

    @pytest.mark.parametrize("which", ["session", "prefs"])
    def test_a_tampered_cookie_gives_a_fresh_session_not_an_error(
        self, browser: Browser, which: str
    ) -> None:
        name = self.SESSION if which == "session" else "prefs"
        self.post(browser, "/login", {"user": "carol"})
        self.post(browser, "/prefs", {"theme": "dark"})
        browser.cookies[name] = tamper(browser.cookies[name])
        response = browser.get("/api")
        assert response.status_code == 200
        state = response.json()
        if which == "session":
            assert (state["user"], state["visits"], state["theme"]) == (None, 1, "dark")
            assert self.SESSION in set_cookies(response)  # a new session replaces it
        else:
            assert (state["user"], state["theme"]) == ("carol", "light")

    def test_garbage_cookies_never_give_a_500(self, browser: Browser) -> None:
        # (a Cookie header over 4 KiB gets a 431 from some servers themselves: kept below that)
        for junk in self.GARBAGE:
            other = Browser(browser.base, {self.SESSION: junk, "prefs": junk})
            response = other.get("/api")
            assert response.status_code == 200, junk[:20]
            assert response.json()["visits"] == 1
            assert other.get("/whoami").status_code == 200

    def test_the_prefs_cookie_has_its_own_store_options(self, browser: Browser) -> None:
        cookie = set_cookies(self.post(browser, "/prefs", {"theme": "dark"}))["prefs"]
        assert cookie.attributes["max-age"] == str(YEAR)
        assert cookie.attributes["samesite"] == "Lax"
        assert cookie.attributes["path"] == "/"
        assert "httponly" in cookie.attributes

    def test_reading_only_sets_no_cookie(self, browser: Browser) -> None:
        browser.get("/api")
        response = browser.get("/whoami")
        assert response.json() == {"user": None, "new": False}
        assert response.headers.get_list("set-cookie") == []
        assert response.headers["vary"] == "Cookie"


class FlaskLikeCases(ExampleCases):
    """The Flask and Quart examples: :class:`ExampleCases`, plus Flask's cookie settings."""

    REDIRECT = 302  # flask.redirect / quart.redirect

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


class AsgiExampleCases(ExampleCases):
    """The ASGI-served examples (and aiohttp's); subclasses say how to start the server."""

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

    def test_cookies_are_secure_unless_turned_off(self, tmp_path: Path) -> None:
        with self.launch(example_env(tmp_path, secure=True)) as url:
            response = Browser(url).post("/prefs", {"theme": "dark"})
            cookies = set_cookies(response)
            assert sorted(cookies) == ["prefs", "session"]
            for cookie in cookies.values():
                assert {"secure", "httponly", "samesite", "max-age"} <= set(cookie.attributes)


# -- the aiohttp example's two ways to start ----------------------------------------------------
def aiohttp_web(app_factory: str, env: dict[str, str]) -> contextlib.AbstractContextManager[str]:
    """``python -m aiohttp.web`` serving ``module:factory`` on a free 127.0.0.1 port."""
    port = free_port()
    argv = [sys.executable, "-m", "aiohttp.web", "-H", HOST, "-P", str(port), app_factory]
    return serve(argv, port, env)


def run_app_script(env: dict[str, str]) -> contextlib.AbstractContextManager[str]:
    """The example's ``__main__`` (``web.run_app``) on a free 127.0.0.1 port."""
    port = free_port()
    argv = [sys.executable, str(EXAMPLES / "aiohttp_app.py"), "--host", HOST,
            "--port", str(port)]  # fmt: skip
    return serve(argv, port, env)
