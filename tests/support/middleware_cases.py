"""Cases shared by the WSGI and ASGI middleware tests (tests/integrations/test_{wsgi,asgi}.py).

Both serve the pages of tests/support/apps/routes.py (``handle``) behind websession's
middleware, under a real server; :class:`MiddlewareCases` holds the server fixtures and the
cases whose pages and answers are the same under both, and subclasses say how to start the
server.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.live import Browser, set_cookies
from websession import ServerStore
from websession.backends.memory import MemoryBackend


def down_cookie(secret: str) -> str:
    """A valid cookie for the "down" session (as if saved while the database was up)."""
    store = ServerStore(MemoryBackend(), secret)
    session = store.new("down", None)
    session["x"] = 1
    header = store.save(session)
    return header.split(";", 1)[0].split("=", 1)[1]


def assert_503(response: Any) -> None:
    """The middleware's answer when a store cannot reach its database."""
    assert response.status_code == 503
    assert response.headers["retry-after"] == "1"
    assert response.headers["content-type"].startswith("text/plain")
    assert "unavailable" in response.text


class MiddlewareCases:
    """tests/support/apps' pages behind the middleware, over a real server (``launch``)."""

    #: the secret every store of tests/support/apps uses (WEBSESSION_TEST_SECRET)
    SECRET: str
    #: the application the server runs ("module:attribute")
    APP: str

    @staticmethod
    def launch(app: str, env: dict[str, str]) -> contextlib.AbstractContextManager[str]:
        """Start a server (tests.support.live.gunicorn or .uvicorn) running ``app``."""
        raise NotImplementedError

    @classmethod
    def serve(cls, app: str, files: Path) -> Iterator[str]:
        env = {"WEBSESSION_TEST_SECRET": cls.SECRET, "WEBSESSION_TEST_DIR": str(files)}
        with cls.launch(app, env) as url:
            yield url

    @pytest.fixture(scope="class")
    @classmethod
    def server(cls, files: Path) -> Iterator[str]:
        yield from cls.serve(cls.APP, files)

    @pytest.fixture(scope="class")
    @classmethod
    def files(cls, tmp_path_factory: pytest.TempPathFactory) -> Path:
        return tmp_path_factory.mktemp("sessions")

    @pytest.fixture
    def browser(self, server: str) -> Iterator[Browser]:
        b = Browser(server)
        yield b
        b.close()

    def down_cookie(self) -> str:
        return down_cookie(self.SECRET)

    def test_counter_is_kept_across_requests(self, browser: Browser) -> None:
        assert [browser.get("/count").text for _ in range(3)] == ["1", "2", "3"]

    def test_two_sessions_from_two_stores_in_one_request(
        self, browser: Browser, files: Path
    ) -> None:
        response = browser.get("/two", theme="dark")
        cookies = set_cookies(response)
        assert sorted(cookies) == ["auth", "prefs"]
        assert len(response.headers.get_list("set-cookie")) == 2
        assert browser.get("/prefs").text == "dark"
        assert browser.get("/whoami").text == "anonymous new=False reason=None"
        assert any(p.is_file() for p in files.rglob("*"))  # the auth session is on disk

    def test_reading_sets_no_cookie_but_varies_on_it(self, browser: Browser) -> None:
        browser.get("/count")
        response = browser.get("/read")
        assert response.text == "1"
        assert response.headers.get_list("set-cookie") == []
        assert response.headers["vary"] == "Cookie"
        # (ASGI: autoload put a session in the scope, but nothing read it): no Vary, no cookie
        untouched = browser.get("/static")
        assert untouched.headers.get_list("set-cookie") == []
        assert "vary" not in untouched.headers

    def test_cookie_attributes(self, browser: Browser) -> None:
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
