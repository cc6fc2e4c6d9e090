"""websession.asgi.SessionMiddleware under uvicorn, driven over 127.0.0.1 (httpx, wsproto).

Two applications: tests/apps/asgi_app.py (plain ASGI, HTTP and WebSocket) and
tests/apps/starlette_app.py (Starlette's ``request.session``); tests/live.py starts the servers.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.live import Browser, set_cookies, uvicorn, websocket
from websession import ServerStore
from websession.backends.memory import MemoryBackend

SECRET = "asgi end-to-end secret, 32+ bytes long"


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("sessions")


@pytest.fixture(scope="module")
def server(files: Path) -> Iterator[str]:
    env = {"WEBSESSION_TEST_SECRET": SECRET, "WEBSESSION_TEST_DIR": str(files)}
    with uvicorn("tests.apps.asgi_app:app", env) as url:
        yield url


@pytest.fixture(scope="module")
def starlette_server(files: Path) -> Iterator[str]:
    env = {"WEBSESSION_TEST_SECRET": SECRET, "WEBSESSION_TEST_DIR": str(files)}
    with uvicorn("tests.apps.starlette_app:app", env) as url:
        yield url


@pytest.fixture
def browser(server: str) -> Iterator[Browser]:
    b = Browser(server)
    yield b
    b.close()


def test_counter_is_kept_across_requests(browser: Browser) -> None:
    assert [browser.get("/count").text for _ in range(3)] == ["1", "2", "3"]


def test_flash_is_shown_once(browser: Browser) -> None:
    browser.get("/flash/add", msg="saved!")
    assert browser.get("/flash/show").text == "saved!"
    assert browser.get("/flash/show").text == ""


def test_log_in_regenerates_the_id_and_log_out_deletes(browser: Browser) -> None:
    assert browser.get("/visit").text == "1"
    before = browser.cookies["auth"]
    browser.get("/login", user="alice")
    logged_in = browser.cookies["auth"]
    assert logged_in != before
    assert browser.get("/whoami").text == "alice new=False reason=None"
    old = Browser(browser.base, {"auth": before})
    assert old.get("/whoami").text == "anonymous new=True reason=not_found"
    old.close()

    cookie = set_cookies(browser.get("/logout"))["auth"]
    assert cookie.deletes
    assert cookie.attributes["max-age"] == "0"
    replay = Browser(browser.base, {"auth": logged_in})
    assert replay.get("/whoami").text == "anonymous new=True reason=not_found"
    replay.close()


def test_two_sessions_from_two_stores_in_one_request(browser: Browser) -> None:
    response = browser.get("/two", theme="dark")
    assert sorted(set_cookies(response)) == ["auth", "prefs"]
    assert browser.get("/prefs").text == "dark"
    assert browser.get("/whoami").text == "anonymous new=False reason=None"


def test_tampered_cookie_gives_a_new_session_not_an_error(browser: Browser) -> None:
    browser.get("/count")
    value = browser.cookies["session"]
    browser.cookies["session"] = value[:-3] + ("xyz" if not value.endswith("xyz") else "abc")
    response = browser.get("/count")
    assert response.status_code == 200
    assert response.text == "1"


def test_reading_sets_no_cookie_but_varies_on_it(browser: Browser) -> None:
    browser.get("/count")
    response = browser.get("/read")
    assert response.text == "1"
    assert response.headers.get_list("set-cookie") == []
    assert response.headers["vary"] == "Cookie"
    # autoload put a session in the scope, but nothing read it: no Vary, no Set-Cookie
    untouched = browser.get("/static")
    assert untouched.headers.get_list("set-cookie") == []
    assert "vary" not in untouched.headers


def test_no_save_on_5xx_unless_save_on_error(browser: Browser) -> None:
    browser.get("/count")
    response = browser.get("/error")
    assert response.status_code == 500
    assert response.headers.get_list("set-cookie") == []
    assert browser.get("/read").text == "1"
    response = browser.get("/soe/error")
    assert response.status_code == 500
    assert "session" in set_cookies(response)
    assert browser.get("/read").text == "99"


def test_cookie_attributes(browser: Browser) -> None:
    attributes = set_cookies(browser.get("/count"))["session"].attributes
    assert attributes["path"] == "/"
    assert attributes["max-age"] == "2592000"
    assert attributes["samesite"] == "Lax"
    assert "httponly" in attributes
    assert "secure" not in attributes
    assert "secure" in set_cookies(browser.get("/secure"))["strict"].attributes


def _down_cookie() -> str:
    store = ServerStore(MemoryBackend(), SECRET)
    session = store.new("down", None)
    session["x"] = 1
    return store.save(session).split(";", 1)[0].split("=", 1)[1]


def _assert_503(response) -> None:  # type: ignore[no-untyped-def]
    assert response.status_code == 503
    assert response.headers["retry-after"] == "1"
    assert "unavailable" in response.text


def test_store_unavailable_gives_503(browser: Browser) -> None:
    _assert_503(browser.get("/down/save"))
    browser.cookies["down"] = _down_cookie()
    _assert_503(browser.get("/down/load"))
    del browser.cookies["down"]
    response = browser.get("/down/mixed")
    _assert_503(response)
    assert sorted(set_cookies(response)) == ["prefs"]  # the session that was saved
    browser.cookies["down"] = _down_cookie()
    assert browser.get("/raw/down/load").status_code == 500  # unavailable_status=None


def test_store_unavailable_while_autoloading_gives_503(server: str) -> None:
    # Without the cookie the default session is made with no I/O: the store is not touched.
    b = Browser(server)
    assert b.get("/down-default/static").text == "static"
    b.cookies["down"] = _down_cookie()
    _assert_503(b.get("/down-default/static"))
    b.close()


def test_autoload_and_scope_session(browser: Browser) -> None:
    browser.get("/count")
    assert browser.get("/scope-session").text == "Session n=1"
    assert browser.get("/lazy/scope-session").text == "absent, then Session"


def test_sync_get_session_under_asgi(browser: Browser) -> None:
    assert browser.get("/sync-get").text == "new=True"  # no cookie: no I/O needed
    browser.get("/visit")
    response = browser.get("/sync-get")  # a FilesystemStore cookie: loading needs I/O
    assert response.status_code == 409
    assert "await websession.aget_session" in response.text


def test_websocket_reads_the_session_and_sets_a_cookie_on_accept(browser: Browser) -> None:
    browser.get("/count")
    browser.get("/count")
    result = websocket(browser.base, "/ws", browser.cookies)
    assert result.status == 101
    assert result.messages == ["n=2"]
    cookies = result.header_list("set-cookie")
    assert len(cookies) == 1
    assert cookies[0].startswith("session=")
    browser.cookies["session"] = cookies[0].split(";", 1)[0].split("=", 1)[1]
    assert browser.get("/ws-value").text == "hello from the socket"
    assert browser.get("/read").text == "2"


def test_websocket_with_a_store_down_is_refused_with_503(browser: Browser) -> None:
    result = websocket(browser.base, "/ws/down", {"down": _down_cookie()})
    assert result.status == 503
    assert result.header_list("retry-after") == ["1"]
    assert b"unavailable" in result.body


# -- Starlette -----------------------------------------------------------------------------------
def test_starlette_request_session(starlette_server: str) -> None:
    b = Browser(starlette_server)
    assert [b.get("/count").text for _ in range(2)] == ["1", "2"]
    b.get("/flash/add", msg="welcome")
    assert b.get("/flash/show").text == "welcome"
    assert b.get("/flash/show").text == ""
    response = b.get("/login", user="carol")
    assert sorted(set_cookies(response)) == ["auth", "prefs"]
    assert b.get("/whoami").text == "carol Session"
    assert websocket(starlette_server, "/ws", b.cookies).messages == ["n=2"]
    b.close()
