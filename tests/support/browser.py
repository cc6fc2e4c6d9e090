"""Headless Chromium for the browser tests (playwright), found and launched in one place.

Chromium or playwright missing: the test is skipped locally and FAILS under ``CI=true``
(:func:`tests.support.servers.require`): CI must never pass by skipping.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

from tests.support.servers import require

CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-default-apps",
    "--disable-extensions",
]


def chromium_path() -> str:
    """Chromium's path (``WEBSESSION_TEST_CHROMIUM``, else /usr/bin/chromium)."""
    path = os.environ.get("WEBSESSION_TEST_CHROMIUM") or "/usr/bin/chromium"
    require(
        os.path.exists(path),
        f"Chromium is not installed at {path} (run the tests with `make test`)",
    )
    return path


def launch_chromium() -> Iterator[Any]:
    """Yield a headless Chromium (a playwright Browser); close it afterwards.

    Meant for a module-scoped fixture: ``yield from launch_chromium()``.
    """
    executable = chromium_path()
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        require(False, "playwright is not installed")
        raise
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=executable, headless=True, args=CHROMIUM_FLAGS
        )
        try:
            yield chromium
        finally:
            chromium.close()


def cookies_by_name(context: Any) -> dict[str, dict[str, Any]]:
    """The cookies a browser context stored, by name."""
    return {c["name"]: c for c in context.cookies()}


# -- steps on the examples' page (examples/common.py renders it for every framework) ----------
def assert_http_only_cookie(context: Any, page: Any, name: str) -> dict[str, Any]:
    """The browser stored cookie ``name`` for plain HTTP, HttpOnly, hidden from scripts."""
    cookie = cookies_by_name(context).get(name)
    assert cookie is not None, context.cookies()
    assert cookie["httpOnly"] is True
    assert cookie["sameSite"] == "Lax"
    assert cookie["path"] == "/"
    assert cookie["secure"] is False  # WEBSESSION_SECURE=0 for plain HTTP
    assert name + "=" not in page.evaluate("document.cookie")
    return cookie


def log_in(page: Any, user: str) -> None:
    """Log in through the form: the page names the user and flashes a welcome."""
    page.fill("input[name=user]", user)
    page.click("text=Log in")
    page.wait_for_selector("#user")
    assert page.text_content("#user") == user
    assert page.text_content(".flash") == f"Welcome, {user}!"


def switch_to_the_dark_theme(page: Any, context: Any) -> dict[str, Any]:
    """Switch the theme: a flash, and the second session's (HttpOnly) cookie."""
    page.click("text=Switch to the dark theme")
    page.wait_for_selector("body.dark")
    assert page.text_content(".flash") == "Theme: dark."
    prefs = cookies_by_name(context).get("prefs")
    assert prefs is not None
    assert prefs["httpOnly"] is True
    return prefs


def log_out(page: Any) -> None:
    """Log out: the login form is back and the page counts a fresh session's first visit."""
    page.click("text=Log out")
    page.wait_for_selector("input[name=user]")
    assert page.text_content("#visits") == "1"
