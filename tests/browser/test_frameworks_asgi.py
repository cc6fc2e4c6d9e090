"""The Starlette, FastAPI, aiohttp and Litestar examples driven by headless Chromium.

Each example runs in its real server (uvicorn; aiohttp's own ``web.run_app``) on 127.0.0.1 with
``WEBSESSION_SECURE=0`` (plain HTTP). A real browser loads the page twice (it must keep the
session cookie and send it back: the counter goes up), then checks what it stored: the cookie
is HttpOnly (``context.cookies()``) and hidden from scripts (``document.cookie``). It then
switches the theme (a second cookie, from the CookieStore), logs in through the form and out.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.browser import (
    assert_http_only_cookie,
    cookies_by_name,
    launch_chromium,
    log_in,
    log_out,
    switch_to_the_dark_theme,
)
from tests.support.example_cases import example_env, run_app_script
from tests.support.live import uvicorn

pytestmark = pytest.mark.browser


Launcher = Callable[[dict[str, str]], contextlib.AbstractContextManager[str]]
SERVERS: dict[str, Launcher] = {
    "starlette": lambda env: uvicorn("starlette_app:app", env),
    "fastapi": lambda env: uvicorn("fastapi_app:app", env),
    "aiohttp": run_app_script,
    "litestar": lambda env: uvicorn("litestar_app:app", env),
}


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    yield from launch_chromium()


@pytest.mark.parametrize("framework", sorted(SERVERS))
def test_the_browser_keeps_the_session_cookie(framework: str, browser: Any, tmp_path: Path) -> None:
    with SERVERS[framework](example_env(tmp_path)) as url:
        context = browser.new_context()
        try:
            page = context.new_page()
            page.goto(url + "/")
            assert page.text_content("#visits") == "1"
            page.goto(url + "/")
            assert page.text_content("#visits") == "2"  # the cookie came back
            page.reload()
            assert page.text_content("#visits") == "3"

            cookie = assert_http_only_cookie(context, page, "session")
            assert cookie["expires"] > 0  # persistent: Max-Age was sent
            assert page.evaluate("document.cookie") == ""

            # A second session from the other store, then log in and out through the forms.
            switch_to_the_dark_theme(page, context)
            before = cookie["value"]
            log_in(page, "zoë")
            logged_in = cookies_by_name(context).get("session")
            assert logged_in is not None
            assert logged_in["value"] != before
            page.reload()
            assert page.query_selector(".flash") is None  # a flash is shown once

            log_out(page)
            # The deletion cookie removed it; the page load after the redirect made a new one.
            after = cookies_by_name(context).get("session")
            assert after is None or after["value"] != logged_in["value"]
            assert page.query_selector("body.dark") is not None  # prefs survive the logout
        finally:
            context.close()
