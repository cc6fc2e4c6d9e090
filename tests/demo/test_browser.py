"""`websession demo`, run as users run it, driven by headless Chromium.

The demo is started as a real subprocess (the console script, in a temporary working directory
so that ``.demo-sessions`` lands there) and a real browser logs in, reloads, toggles a
preference and logs out, while the test checks what the browser stored.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.browser import cookies_by_name, launch_chromium
from tests.support.live import free_port

pytestmark = pytest.mark.browser

THIRTY_DAYS = 30 * 86400


def demo_command() -> list[str]:
    script = Path(sys.executable).with_name("websession")
    return [str(script)] if script.exists() else [sys.executable, "-m", "websession"]


class Demo:
    """One `websession demo` process at a time, in ``cwd``."""

    def __init__(self, cwd: Path) -> None:
        self.cwd = cwd
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen[str] | None = None
        self.stderr = ""

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [*demo_command(), "demo", "--port", str(self.port)],
            cwd=self.cwd,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        deadline = time.monotonic() + 20
        while True:
            if self.proc.poll() is not None:
                out, err = self.proc.communicate()
                raise AssertionError(f"the demo exited with {self.proc.returncode}:\n{out}{err}")
            try:
                with urllib.request.urlopen(self.url + "/debug", timeout=1) as response:
                    if response.status == 200:
                        return
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise AssertionError("the demo did not answer within 20 s")
            time.sleep(0.1)

    def stop(self) -> None:
        if self.proc is None:
            return
        self.proc.terminate()  # SIGTERM: the demo stops cleanly, as on Ctrl-C
        try:
            out, self.stderr = self.proc.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.communicate()
            raise
        finally:
            code, self.proc = self.proc.returncode, None
        assert code == 0, self.stderr
        assert f"websession demo: {self.url}/" in out
        assert "stopped" in self.stderr


@pytest.fixture
def demo(tmp_path: Path) -> Iterator[Demo]:
    server = Demo(tmp_path)
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    yield from launch_chromium()


def session_files(cwd: Path) -> list[Path]:
    root = cwd / ".demo-sessions" / "sessions"
    return [
        p
        for p in root.rglob("*")
        if p.is_file() and not p.name.startswith(".") and ".owners" not in p.parts
    ]


def log_in(page, name: str, *, remember: bool) -> None:
    page.fill("input[name=username]", name)
    if remember:
        page.check("#remember")
    with page.expect_navigation():
        page.click("#login")


def test_remember_me_flash_prefs_restart_and_logout(demo: Demo, browser) -> None:
    context = browser.new_context()
    page = context.new_page()
    page.goto(demo.url + "/")
    assert page.text_content("#visits") == "1"
    assert page.text_content("#status") == "Not logged in"
    assert "auth" not in cookies_by_name(context)  # no login, no auth session: no cookie

    log_in(page, "Ann", remember=True)
    assert page.url == demo.url + "/"
    assert page.locator(".flash").all_text_contents() == [
        "Welcome, Ann! You stay logged in for 30 days."
    ]
    assert page.text_content("#user") == "Ann"
    assert page.text_content("#visits") == "2"

    jar = cookies_by_name(context)
    now = time.time()
    for name in ("auth", "prefs"):
        cookie = jar[name]
        assert cookie["httpOnly"] is True, cookie
        assert cookie["sameSite"] == "Lax", cookie
        assert cookie["path"] == "/", cookie
        assert cookie["secure"] is False, cookie  # plain-HTTP demo: CookieOptions(secure=False)
    assert abs(jar["auth"]["expires"] - (now + THIRTY_DAYS)) < 120  # remember me: persistent
    assert page.evaluate("document.cookie") == ""  # HttpOnly: invisible to scripts
    assert len(session_files(demo.cwd)) == 1  # the login lives on the server, in one file

    page.reload()
    assert page.locator(".flash").count() == 0  # a flash is shown once
    assert page.text_content("#user") == "Ann"
    assert page.text_content("#visits") == "3"

    before = cookies_by_name(context)["prefs"]["value"]
    assert page.text_content("#theme") == "light"
    with page.expect_navigation():
        page.click("#toggle-theme")
    assert page.text_content("#theme") == "dark"
    assert page.get_attribute("html", "data-theme") == "dark"
    assert cookies_by_name(context)["prefs"]["value"] != before  # the preference is in the cookie

    page.goto(demo.url + "/debug")
    set_cookies = page.locator("pre.set-cookie").all_text_contents()
    assert any("Set-Cookie: auth=" in text and "HttpOnly" in text for text in set_cookies)
    assert "secure=False" in page.content()

    # restart the demo: the secret and the sessions are kept in .demo-sessions
    demo.stop()
    demo.start()
    page.goto(demo.url + "/")
    assert page.text_content("#user") == "Ann"
    assert page.text_content("#theme") == "dark"

    with page.expect_navigation():
        page.click("#logout")
    assert page.locator(".flash").all_text_contents() == ["Goodbye, Ann."]
    assert page.text_content("#status") == "Not logged in"
    jar = cookies_by_name(context)
    assert "auth" not in jar  # the deletion cookie removed it
    assert "prefs" in jar  # the preferences outlive the login
    assert page.text_content("#theme") == "dark"
    assert session_files(demo.cwd) == []  # invalidate() deleted the record too
    context.close()


def test_without_remember_me_the_cookie_ends_with_the_browser(demo: Demo, browser) -> None:
    context = browser.new_context()
    page = context.new_page()
    page.goto(demo.url + "/")
    log_in(page, "Bob", remember=False)
    assert page.text_content("#user") == "Bob"
    assert "until you close the browser" in page.locator(".flash").inner_text()

    auth = cookies_by_name(context)["auth"]
    assert auth["expires"] == -1  # a browser-session cookie: no Expires, no Max-Age
    assert auth["httpOnly"] is True
    assert auth["sameSite"] == "Lax"

    page.reload()
    page.reload()
    assert page.text_content("#user") == "Bob"
    assert cookies_by_name(context)["auth"]["expires"] == -1

    # a new browser session (a new context: what closing the browser does) is logged out
    other = browser.new_context()
    other_page = other.new_page()
    other_page.goto(demo.url + "/")
    assert other_page.text_content("#status") == "Not logged in"
    other.close()
    context.close()


def test_a_form_without_its_csrf_token_is_refused(demo: Demo, browser) -> None:
    context = browser.new_context()
    page = context.new_page()
    page.goto(demo.url + "/")
    page.evaluate("document.querySelector('input[name=csrf]').value = 'forged'")
    page.fill("input[name=username]", "Eve")
    with page.expect_navigation():
        page.click("#login")
    assert "Form expired" in page.content()
    page.goto(demo.url + "/")
    assert page.text_content("#status") == "Not logged in"
    context.close()


def test_log_out_other_devices(demo: Demo, browser) -> None:
    """Two browsers logged in as one user; one logs out the other from "Your devices"."""
    laptop = browser.new_context(user_agent="Laptop Browser/1.0")
    phone = browser.new_context(user_agent="Phone Browser/2.0")
    laptop_page, phone_page = laptop.new_page(), phone.new_page()
    for page in (laptop_page, phone_page):
        page.goto(demo.url + "/")
        log_in(page, "Dana", remember=True)
        assert page.text_content("#user") == "Dana"

    laptop_page.reload()
    rows = laptop_page.locator("#device-list tr").all_inner_texts()
    assert len(rows) == 2, rows
    assert any("Laptop Browser/1.0" in r and "(this device)" in r for r in rows), rows
    assert any("Phone Browser/2.0" in r and "(this device)" not in r for r in rows), rows
    phone_cookie = cookies_by_name(phone)["auth"]["value"]

    with laptop_page.expect_navigation():
        laptop_page.click("#logout-others")
    assert laptop_page.locator(".flash").all_text_contents() == ["Logged out 1 other device(s)."]
    assert laptop_page.text_content("#user") == "Dana"  # this device stays logged in
    assert laptop_page.text_content("#device-count") == "1"
    assert laptop_page.is_disabled("#logout-others")

    # the other browser is logged out on its next request
    phone_page.reload()
    assert phone_page.text_content("#status") == "Not logged in"
    # and its old cookie, replayed, opens nothing any more
    replay = browser.new_context()
    replay.add_cookies([{"name": "auth", "value": phone_cookie, "url": demo.url}])
    replay_page = replay.new_page()
    replay_page.goto(demo.url + "/")
    assert replay_page.text_content("#status") == "Not logged in"
    laptop_page.reload()
    assert laptop_page.text_content("#user") == "Dana"
    for context in (laptop, phone, replay):
        context.close()
