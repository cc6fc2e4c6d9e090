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

from tests.live import uvicorn
from tests.servers import in_ci
from tests.test_aiohttp import run_app_script
from tests.test_demo_browser import CHROMIUM_FLAGS, chromium_path
from tests.test_starlette import example_env

pytestmark = pytest.mark.browser

FOURTEEN_DAYS = 14 * 86400

Launcher = Callable[[dict[str, str]], contextlib.AbstractContextManager[str]]
SERVERS: dict[str, Launcher] = {
    "starlette": lambda env: uvicorn("starlette_app:app", env),
    "fastapi": lambda env: uvicorn("fastapi_app:app", env),
    "aiohttp": run_app_script,
    "litestar": lambda env: uvicorn("litestar_app:app", env),
}


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    executable = chromium_path()
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        if in_ci():
            pytest.fail("playwright is not installed")
        pytest.skip("playwright is not installed")
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=executable, headless=True, args=CHROMIUM_FLAGS)
        try:
            yield chromium
        finally:
            chromium.close()


def cookie_named(context: Any, name: str) -> dict[str, Any] | None:
    return next((c for c in context.cookies() if c["name"] == name), None)


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

            cookie = cookie_named(context, "session")
            assert cookie is not None, context.cookies()
            assert cookie["httpOnly"] is True
            assert cookie["sameSite"] == "Lax"
            assert cookie["path"] == "/"
            assert cookie["secure"] is False  # WEBSESSION_SECURE=0
            assert cookie["expires"] > 0  # persistent: Max-Age was sent
            assert "session=" not in page.evaluate("document.cookie")
            assert page.evaluate("document.cookie") == ""

            # A second session from the other store, then log in and out through the forms.
            page.click("text=Switch to the dark theme")
            page.wait_for_selector("body.dark")
            assert page.text_content(".flash") == "Theme: dark."
            prefs = cookie_named(context, "prefs")
            assert prefs is not None
            assert prefs["httpOnly"] is True
            before = cookie["value"]
            page.fill("input[name=user]", "zoë")
            page.click("text=Log in")
            page.wait_for_selector("#user")
            assert page.text_content("#user") == "zoë"
            assert page.text_content(".flash") == "Welcome, zoë!"
            logged_in = cookie_named(context, "session")
            assert logged_in is not None
            assert logged_in["value"] != before
            page.reload()
            assert page.query_selector(".flash") is None  # a flash is shown once

            page.click("text=Log out")
            page.wait_for_selector("input[name=user]")
            # The deletion cookie removed it; the page load after the redirect made a new one.
            after = cookie_named(context, "session")
            assert after is None or after["value"] != logged_in["value"]
            assert page.text_content("#visits") == "1"
            assert page.query_selector("body.dark") is not None  # prefs survive the logout
        finally:
            context.close()
