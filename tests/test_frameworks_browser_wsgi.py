"""The Flask, Quart and Django examples in headless Chromium, each under its real server.

For each: load the page twice (the browser keeps and sends the session cookie: the counter goes
up), check the cookie the browser stored (HttpOnly, SameSite=Lax, hidden from
``document.cookie``), then log in through the form (a flash, a new cookie) and switch the theme
(the second session's cookie). Chromium missing: skipped locally, a failure under CI=true.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

import pytest

from tests.live import ROOT, gunicorn, hypercorn
from tests.servers import in_ci

pytestmark = pytest.mark.browser

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
    path = os.environ.get("WEBSESSION_TEST_CHROMIUM") or "/usr/bin/chromium"
    if os.path.exists(path):
        return path
    message = f"Chromium is not installed at {path} (run the tests with `make test`)"
    if in_ci():
        pytest.fail(message)
    pytest.skip(message)


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    executable = chromium_path()
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        if in_ci():
            pytest.fail("playwright is not installed")
        pytest.skip("playwright is not installed")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=executable, headless=True, args=CHROMIUM_FLAGS
        )
        yield browser
        browser.close()


def env(directory: Path, **extra: str) -> dict[str, str]:
    return {
        "PYTHONPATH": str(ROOT / "examples"),
        "WEBSESSION_SECRETS": "browser test secret, 32+ bytes long!!",
        "WEBSESSION_DIR": str(directory),
        "WEBSESSION_SECURE": "0",  # http://127.0.0.1: a Secure cookie would not be sent back
        **extra,
    }


Server = Callable[[Path], AbstractContextManager[str]]
SERVERS: dict[str, tuple[Server, str]] = {
    "flask": (lambda d: gunicorn("flask_app:app", env(d)), "session"),
    "quart": (lambda d: hypercorn("quart_app:app", env(d)), "session"),
    "django": (
        lambda d: gunicorn(
            "django_app.wsgi:application", env(d, DJANGO_SETTINGS_MODULE="django_app.settings")
        ),
        "sessionid",
    ),
}


@pytest.mark.parametrize("framework", list(SERVERS))
def test_the_browser_keeps_and_sends_the_session_cookie(
    framework: str, chromium: Any, tmp_path: Path
) -> None:
    serve, cookie_name = SERVERS[framework]
    with serve(tmp_path) as url:
        context = chromium.new_context()
        try:
            page = context.new_page()
            page.goto(url + "/")
            assert page.text_content("#visits") == "1"
            page.goto(url + "/")
            assert page.text_content("#visits") == "2"  # the cookie came back

            cookies = {c["name"]: c for c in context.cookies()}
            session = cookies[cookie_name]
            assert session["httpOnly"] is True
            assert session["sameSite"] == "Lax"
            assert session["path"] == "/"
            assert session["secure"] is False  # WEBSESSION_SECURE=0 for plain HTTP
            assert cookie_name + "=" not in page.evaluate("document.cookie")
            before = session["value"]

            # Log in through the form: the flash shows once, the session gets a new cookie.
            page.fill("input[name=user]", "alice")
            page.click("text=Log in")
            page.wait_for_selector("#user")
            assert page.text_content("#user") == "alice"
            assert page.text_content(".flash") == "Welcome, alice!"
            assert page.text_content("#visits") == "3"  # the data moved to the new id
            after = {c["name"]: c for c in context.cookies()}[cookie_name]["value"]
            assert after != before
            page.reload()
            assert page.query_selector(".flash") is None
            assert page.text_content("#visits") == "4"

            # The second session: the theme, in its own cookie from another store.
            page.click("text=Switch to the dark theme")
            page.wait_for_selector("body.dark")
            prefs = {c["name"]: c for c in context.cookies()}["prefs"]
            assert prefs["httpOnly"] is True
            assert prefs["expires"] > 0  # a persistent cookie (a year)
            assert page.text_content(".flash") == "Theme: dark."

            # Log out: the session is deleted; the redirect lands on a fresh one (visit 1, a
            # new cookie); the prefs cookie stays.
            logged_in = {c["name"]: c for c in context.cookies()}[cookie_name]["value"]
            page.click("text=Log out")
            page.wait_for_selector("input[name=user]")
            assert page.text_content("#visits") == "1"
            cookies = {c["name"]: c for c in context.cookies()}
            assert cookies[cookie_name]["value"] != logged_in
            assert "prefs" in cookies
            assert page.evaluate("document.body.className") == "dark"
        finally:
            context.close()
