"""websession.asgi.SessionMiddleware under uvicorn, driven over 127.0.0.1 (httpx, wsproto).

Two applications: tests/support/apps/asgi_app.py (plain ASGI, HTTP and WebSocket) and
tests/support/apps/starlette_app.py (Starlette's ``request.session``); tests/support/live.py
starts the servers.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.live import Browser, set_cookies, uvicorn, websocket
from tests.support.middleware_cases import MiddlewareCases, assert_503

SECRET = "asgi end-to-end secret, 32+ bytes long"


class TestAsgiUnderUvicorn(MiddlewareCases):
    SECRET = SECRET
    APP = "tests.support.apps.asgi_app:app"
    launch = staticmethod(uvicorn)

    @pytest.fixture(scope="class")
    @classmethod
    def starlette_server(cls, files: Path) -> Iterator[str]:
        yield from cls.serve("tests.support.apps.starlette_app:app", files)

    def test_flash_is_shown_once(self, browser: Browser) -> None:
        browser.get("/flash/add", msg="saved!")
        assert browser.get("/flash/show").text == "saved!"
        assert browser.get("/flash/show").text == ""

    def test_log_in_regenerates_the_id_and_log_out_deletes(self, browser: Browser) -> None:
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

    def test_tampered_cookie_gives_a_new_session_not_an_error(self, browser: Browser) -> None:
        browser.get("/count")
        value = browser.cookies["session"]
        browser.cookies["session"] = value[:-3] + ("xyz" if not value.endswith("xyz") else "abc")
        response = browser.get("/count")
        assert response.status_code == 200
        assert response.text == "1"

    def test_no_save_on_5xx_unless_save_on_error(self, browser: Browser) -> None:
        browser.get("/count")
        response = browser.get("/error")
        assert response.status_code == 500
        assert response.headers.get_list("set-cookie") == []
        assert browser.get("/read").text == "1"
        response = browser.get("/soe/error")
        assert response.status_code == 500
        assert "session" in set_cookies(response)
        assert browser.get("/read").text == "99"

    def test_store_unavailable_gives_503(self, browser: Browser) -> None:
        assert_503(browser.get("/down/save"))
        browser.cookies["down"] = self.down_cookie()
        assert_503(browser.get("/down/load"))
        del browser.cookies["down"]
        response = browser.get("/down/mixed")
        assert_503(response)
        assert sorted(set_cookies(response)) == ["prefs"]  # the session that was saved
        browser.cookies["down"] = self.down_cookie()
        assert browser.get("/raw/down/load").status_code == 500  # unavailable_status=None

    def test_store_unavailable_while_autoloading_gives_503(self, server: str) -> None:
        # Without the cookie the default session is made with no I/O: the store is not touched.
        b = Browser(server)
        assert b.get("/down-default/static").text == "static"
        b.cookies["down"] = self.down_cookie()
        assert_503(b.get("/down-default/static"))
        b.close()

    def test_autoload_and_scope_session(self, browser: Browser) -> None:
        browser.get("/count")
        assert browser.get("/scope-session").text == "Session n=1"
        assert browser.get("/lazy/scope-session").text == "absent, then Session"

    def test_sync_get_session_under_asgi(self, browser: Browser) -> None:
        assert browser.get("/sync-get").text == "new=True"  # no cookie: no I/O needed
        browser.get("/visit")
        response = browser.get("/sync-get")  # a FilesystemStore cookie: loading needs I/O
        assert response.status_code == 409
        assert "await websession.aget_session" in response.text

    def test_websocket_reads_the_session_and_sets_a_cookie_on_accept(
        self, browser: Browser
    ) -> None:
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

    def test_websocket_with_a_store_down_is_refused_with_503(self, browser: Browser) -> None:
        result = websocket(browser.base, "/ws/down", {"down": self.down_cookie()})
        assert result.status == 503
        assert result.header_list("retry-after") == ["1"]
        assert b"unavailable" in result.body

    # -- Starlette
    def test_starlette_request_session(self, starlette_server: str) -> None:
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
