"""websession.wsgi.SessionMiddleware under gunicorn, driven over 127.0.0.1 with httpx.

The application is tests/apps/wsgi_app.py (plain WSGI, no framework); tests/live.py starts the
server. A few unit tests at the end call the middleware directly for PEP 3333 corner cases that
a real server does not let a test provoke on demand.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

import websession
from tests.live import Browser, gunicorn, set_cookies
from websession import MemoryStore, ServerStore, get_session
from websession.backends.memory import MemoryBackend
from websession.wsgi import SessionMiddleware

SECRET = "wsgi end-to-end secret, 32+ bytes long"


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("sessions")


@pytest.fixture(scope="module")
def server(files: Path) -> Iterator[str]:
    env = {"WEBSESSION_TEST_SECRET": SECRET, "WEBSESSION_TEST_DIR": str(files)}
    with gunicorn("tests.apps.wsgi_app:app", env) as url:
        yield url


@pytest.fixture
def browser(server: str) -> Iterator[Browser]:
    b = Browser(server)
    yield b
    b.close()


def test_counter_is_kept_across_requests(browser: Browser) -> None:
    assert [browser.get("/count").text for _ in range(3)] == ["1", "2", "3"]


def test_flash_is_shown_once(browser: Browser) -> None:
    assert browser.get("/flash/add", msg="saved!").text == "ok"
    browser.get("/flash/add", msg="again")
    assert browser.get("/flash/show").text == "saved!,again"
    assert browser.get("/flash/show").text == ""


def test_log_in_regenerates_the_id(browser: Browser) -> None:
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


def test_log_out_sends_a_deletion_cookie(browser: Browser, files: Path) -> None:
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


def test_two_sessions_from_two_stores_in_one_request(browser: Browser, files: Path) -> None:
    response = browser.get("/two", theme="dark")
    cookies = set_cookies(response)
    assert sorted(cookies) == ["auth", "prefs"]
    assert len(response.headers.get_list("set-cookie")) == 2
    assert browser.get("/prefs").text == "dark"
    assert browser.get("/whoami").text == "anonymous new=False reason=None"
    assert any(p.is_file() for p in files.rglob("*"))  # the auth session is on disk


def test_tampered_cookie_gives_a_new_session_not_an_error(browser: Browser) -> None:
    browser.get("/count")
    value = browser.cookies["session"]
    middle = len(value) // 2
    browser.cookies["session"] = (
        value[:middle] + ("A" if value[middle] != "A" else "B") + value[middle + 1 :]
    )
    response = browser.get("/count")
    assert response.status_code == 200
    assert response.text == "1"
    assert "session" in set_cookies(response)


def test_reading_sets_no_cookie_but_varies_on_it(browser: Browser) -> None:
    browser.get("/count")
    response = browser.get("/read")
    assert response.text == "1"
    assert response.headers.get_list("set-cookie") == []
    assert response.headers["vary"] == "Cookie"
    untouched = browser.get("/static")
    assert untouched.headers.get_list("set-cookie") == []
    assert "vary" not in untouched.headers


def test_no_save_on_a_5xx_response(browser: Browser) -> None:
    browser.get("/count")
    response = browser.get("/error")
    assert response.status_code == 500
    assert response.headers.get_list("set-cookie") == []
    assert browser.get("/read").text == "1"


def test_save_on_error_saves_with_a_5xx(browser: Browser) -> None:
    browser.get("/count")
    response = browser.get("/soe/error")
    assert response.status_code == 500
    assert "session" in set_cookies(response)
    assert browser.get("/read").text == "99"


def test_cookie_attributes(browser: Browser) -> None:
    cookie = set_cookies(browser.get("/count"))["session"]
    attributes = cookie.attributes
    assert attributes["path"] == "/"
    assert attributes["max-age"] == "2592000"
    assert attributes["expires"].endswith(" GMT")
    assert attributes["samesite"] == "Lax"
    assert "httponly" in attributes
    assert "secure" not in attributes  # CookieOptions(secure=False) for plain HTTP
    strict = set_cookies(browser.get("/secure"))["strict"]
    assert "secure" in strict.attributes  # the default options
    assert "httponly" in strict.attributes


def _down_cookie() -> str:
    """A valid cookie for the "down" session (as if saved while the database was up)."""
    store = ServerStore(MemoryBackend(), SECRET)
    session = store.new("down", None)
    session["x"] = 1
    header = store.save(session)
    return header.split(";", 1)[0].split("=", 1)[1]


def _assert_503(response) -> None:  # type: ignore[no-untyped-def]
    assert response.status_code == 503
    assert response.headers["retry-after"] == "1"
    assert response.headers["content-type"].startswith("text/plain")
    assert "unavailable" in response.text


def test_store_unavailable_while_saving_gives_503(browser: Browser) -> None:
    response = browser.get("/down/save")
    _assert_503(response)
    assert response.headers.get_list("set-cookie") == []


def test_store_unavailable_while_loading_gives_503(browser: Browser) -> None:
    browser.cookies["down"] = _down_cookie()
    _assert_503(browser.get("/down/load"))


def test_503_carries_the_cookies_of_the_sessions_that_were_saved(browser: Browser) -> None:
    response = browser.get("/down/mixed")
    _assert_503(response)
    assert sorted(set_cookies(response)) == ["prefs"]
    assert browser.get("/prefs").text == "mixed"


def test_unavailable_status_none_lets_the_error_propagate(browser: Browser) -> None:
    browser.cookies["down"] = _down_cookie()
    assert browser.get("/raw/down/load").status_code == 500
    assert browser.get("/raw/count").text == "1"


def test_generator_application(browser: Browser) -> None:
    assert [browser.get("/gen/count").text for _ in range(2)] == ["1", "2"]
    assert browser.get("/gen/read").headers["vary"] == "Cookie"
    _assert_503(browser.get("/gen/down/save"))
    browser.cookies["down"] = _down_cookie()
    _assert_503(browser.get("/gen/down/load"))


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
