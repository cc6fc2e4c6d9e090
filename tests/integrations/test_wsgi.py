"""websession.wsgi.SessionMiddleware under gunicorn, driven over 127.0.0.1 with httpx.

The application is tests/support/apps/wsgi_app.py (plain WSGI, no framework);
tests/support/live.py starts the server. A few unit tests at the end call the middleware
directly for PEP 3333 corner cases that a real server does not let a test provoke on demand.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

import websession
from tests.support.example_cases import tamper
from tests.support.live import Browser, gunicorn, set_cookies
from tests.support.middleware_cases import MiddlewareCases, assert_503
from websession import MemoryStore, get_session
from websession.wsgi import SessionMiddleware

SECRET = "wsgi end-to-end secret, 32+ bytes long"


class TestWsgiUnderGunicorn(MiddlewareCases):
    SECRET = SECRET
    APP = "tests.support.apps.wsgi_app:app"
    launch = staticmethod(gunicorn)

    def test_flash_is_shown_once(self, browser: Browser) -> None:
        assert browser.get("/flash/add", msg="saved!").text == "ok"
        browser.get("/flash/add", msg="again")
        assert browser.get("/flash/show").text == "saved!,again"
        assert browser.get("/flash/show").text == ""

    def test_log_in_regenerates_the_id(self, browser: Browser) -> None:
        assert browser.get("/visit").text == "1"
        assert browser.get("/visit").text == "2"
        before = browser.cookies["auth"]
        response = browser.get("/login", user="alice")
        assert "auth" in set_cookies(response)
        after = browser.cookies["auth"]
        assert after != before
        assert browser.get("/whoami").text == "alice new=False reason=None"
        # The pre-login cookie no longer loads anything: its record was deleted (no fixation).
        attacker = Browser(browser.base, {"auth": before})
        assert attacker.get("/whoami").text == "anonymous new=True reason=not_found"
        attacker.close()

    def test_log_out_sends_a_deletion_cookie(self, browser: Browser, files: Path) -> None:
        browser.get("/login", user="bob")
        logged_in = browser.cookies["auth"]
        response = browser.get("/logout")
        cookie = set_cookies(response)["auth"]
        assert cookie.value == ""
        assert cookie.attributes["max-age"] == "0"
        assert cookie.attributes["expires"] == "Thu, 01 Jan 1970 00:00:01 GMT"
        assert "auth" not in browser.cookies
        # The record is gone: replaying the old cookie gives an anonymous, new session.
        replay = Browser(browser.base, {"auth": logged_in})
        assert replay.get("/whoami").text == "anonymous new=True reason=not_found"
        replay.close()

    def test_tampered_cookie_gives_a_new_session_not_an_error(self, browser: Browser) -> None:
        browser.get("/count")
        browser.cookies["session"] = tamper(browser.cookies["session"])
        response = browser.get("/count")
        assert response.status_code == 200
        assert response.text == "1"
        assert "session" in set_cookies(response)

    def test_no_save_on_a_5xx_response(self, browser: Browser) -> None:
        browser.get("/count")
        response = browser.get("/error")
        assert response.status_code == 500
        assert response.headers.get_list("set-cookie") == []
        assert browser.get("/read").text == "1"

    def test_save_on_error_saves_with_a_5xx(self, browser: Browser) -> None:
        browser.get("/count")
        response = browser.get("/soe/error")
        assert response.status_code == 500
        assert "session" in set_cookies(response)
        assert browser.get("/read").text == "99"

    def test_store_unavailable_while_saving_gives_503(self, browser: Browser) -> None:
        response = browser.get("/down/save")
        assert_503(response)
        assert response.headers.get_list("set-cookie") == []

    def test_store_unavailable_while_loading_gives_503(self, browser: Browser) -> None:
        browser.cookies["down"] = self.down_cookie()
        assert_503(browser.get("/down/load"))

    def test_503_carries_the_cookies_of_the_sessions_that_were_saved(
        self, browser: Browser
    ) -> None:
        response = browser.get("/down/mixed")
        assert_503(response)
        assert sorted(set_cookies(response)) == ["prefs"]
        assert browser.get("/prefs").text == "mixed"

    def test_unavailable_status_none_lets_the_error_propagate(self, browser: Browser) -> None:
        browser.cookies["down"] = self.down_cookie()
        assert browser.get("/raw/down/load").status_code == 500
        assert browser.get("/raw/count").text == "1"

    def test_generator_application(self, browser: Browser) -> None:
        assert [browser.get("/gen/count").text for _ in range(2)] == ["1", "2"]
        assert browser.get("/gen/read").headers["vary"] == "Cookie"
        assert_503(browser.get("/gen/down/save"))
        browser.cookies["down"] = self.down_cookie()
        assert_503(browser.get("/gen/down/load"))


# -- direct calls: get_session's errors and PEP 3333's exc_info path --------------------------
def test_get_session_without_middleware_says_what_to_do() -> None:
    with pytest.raises(RuntimeError, match=r"websession\.wsgi\.SessionMiddleware"):
        get_session({})

    class Request:
        environ: dict[str, object] = {}

    with pytest.raises(RuntimeError, match="SessionMiddleware"):
        websession.get_session(Request())
    with pytest.raises(RuntimeError, match="cannot find"):
        websession.get_session(object())


def _call(app, cookie: str | None = None):  # type: ignore[no-untyped-def]
    calls: list[tuple[str, list[tuple[str, str]], object]] = []

    def start_response(status, headers, exc_info=None):  # type: ignore[no-untyped-def]
        calls.append((status, list(headers), exc_info))
        return lambda data: None

    environ = {"REQUEST_METHOD": "GET", "PATH_INFO": "/"}
    if cookie:
        environ["HTTP_COOKIE"] = cookie
    body = b"".join(app(environ, start_response))
    return calls, body


def test_request_objects_with_environ_are_accepted() -> None:
    store = MemoryStore(SECRET)

    class Request:  # like werkzeug's and Django's: .environ / .META
        def __init__(self, environ: dict[str, object]) -> None:
            self.environ = environ
            self.META = environ

    def app(environ, start_response):  # type: ignore[no-untyped-def]
        request = Request(environ)
        assert get_session(request) is get_session(environ, "session", store)
        get_session(request)["k"] = 1
        start_response("200 OK", [("Vary", "Accept-Encoding")])
        return [b"ok"]

    calls, _ = _call(SessionMiddleware(app, store))
    headers = calls[0][1]
    assert ("Vary", "Accept-Encoding, Cookie") in headers
    assert sum(1 for k, _ in headers if k == "Set-Cookie") == 1


def test_exc_info_replacement_keeps_the_cookies_of_sessions_already_saved() -> None:
    store = MemoryStore(SECRET)

    def app(environ, start_response):  # type: ignore[no-untyped-def]
        get_session(environ)["user"] = "alice"
        start_response("200 OK", [])
        try:
            raise ValueError("rendering failed")
        except ValueError:
            start_response("500 Internal Server Error", [], sys.exc_info())
        return [b"error page"]

    calls, body = _call(SessionMiddleware(app, store))
    assert body == b"error page"
    assert [c[0] for c in calls] == ["200 OK", "500 Internal Server Error"]
    first = [v for k, v in calls[0][1] if k == "Set-Cookie"]
    second = [v for k, v in calls[1][1] if k == "Set-Cookie"]
    assert len(first) == 1
    assert second == first  # saved once, and the cookie still sent with the error page
