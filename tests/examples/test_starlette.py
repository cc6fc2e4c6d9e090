"""examples/starlette_app.py under uvicorn, driven over 127.0.0.1 with a cookie-keeping client.

:class:`AsgiExampleCases` is the shared cases of tests/support/example_cases.py, plus the cookie
options the ASGI examples set through their stores; it is run again by
tests/examples/test_{fastapi,aiohttp,litestar}.py against their own servers.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from email.utils import parsedate_to_datetime
from pathlib import Path

import pytest

from tests.support.example_cases import FOURTEEN_DAYS, ExampleCases, example_env
from tests.support.live import Browser, set_cookies, uvicorn


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


class TestStarletteUnderUvicorn(AsgiExampleCases):
    @classmethod
    def launch(cls, env: dict[str, str]) -> contextlib.AbstractContextManager[str]:
        return uvicorn("starlette_app:app", env)
