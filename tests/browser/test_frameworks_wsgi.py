"""The Flask, Quart and Django examples in headless Chromium, each under its real server.

For each: load the page twice (the browser keeps and sends the session cookie: the counter goes
up), check the cookie the browser stored (HttpOnly, SameSite=Lax, hidden from
``document.cookie``), then log in through the form (a flash, a new cookie) and switch the theme
(the second session's cookie). Chromium missing: skipped locally, a failure under CI=true.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
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
from tests.support.example_cases import example_env
from tests.support.live import gunicorn, hypercorn

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    yield from launch_chromium()


Server = Callable[[Path], AbstractContextManager[str]]
SERVERS: dict[str, tuple[Server, str]] = {
    "flask": (lambda d: gunicorn("flask_app:app", example_env(d)), "session"),
    "quart": (lambda d: hypercorn("quart_app:app", example_env(d)), "session"),
    "django": (
        lambda d: gunicorn(
            "django_app.wsgi:application",
            example_env(d, DJANGO_SETTINGS_MODULE="django_app.settings"),
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

            session = assert_http_only_cookie(context, page, cookie_name)
            before = session["value"]

            # Log in through the form: the flash shows once, the session gets a new cookie.
            log_in(page, "alice")
            assert page.text_content("#visits") == "3"  # the data moved to the new id
            after = cookies_by_name(context)[cookie_name]["value"]
            assert after != before
            page.reload()
            assert page.query_selector(".flash") is None
            assert page.text_content("#visits") == "4"

            # The second session: the theme, in its own cookie from another store.
            prefs = switch_to_the_dark_theme(page, context)
            assert prefs["expires"] > 0  # a persistent cookie (a year)

            # Log out: the session is deleted; the redirect lands on a fresh one (visit 1, a
            # new cookie); the prefs cookie stays.
            logged_in = cookies_by_name(context)[cookie_name]["value"]
            log_out(page)
            cookies = cookies_by_name(context)
            assert cookies[cookie_name]["value"] != logged_in
            assert "prefs" in cookies
            assert page.evaluate("document.body.className") == "dark"
        finally:
            context.close()
