"""examples/django_app (``SESSION_ENGINE = "websession.django"``) under gunicorn (WSGI) and
uvicorn (ASGI), driven over HTTP.

The cases every example shares (tests/support/example_cases.py: counter, messages, login with
``cycle_key``, logout with ``flush``, a second session from another store, tampering) plus
Django's own: CSRF, cookie attributes, ``set_expiry(0)``, an async view. The engine in process
(Django's ``SessionTestsMixin`` behaviours on three stores): tests/integrations/test_django.py.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping
from email.utils import parsedate_to_datetime
from pathlib import Path

import httpx
import pytest

from tests.support.example_cases import ExampleCases, example_env
from tests.support.live import Browser, gunicorn, set_cookies, uvicorn

SESSION_AGE = 14 * 86400  # SESSION_COOKIE_AGE of examples/django_app (common.SESSION_AGE)


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("django-sessions")


def django_env(directory: Path) -> dict[str, str]:
    return example_env(directory, DJANGO_SETTINGS_MODULE="django_app.settings")


@pytest.fixture(scope="module", params=["gunicorn", "uvicorn"])
def base(request: pytest.FixtureRequest, files: Path) -> Iterator[str]:
    if request.param == "gunicorn":
        server = gunicorn("django_app.wsgi:application", django_env(files))
    else:
        server = uvicorn("django_app.asgi:application", django_env(files), lifespan="off")
    with server as url:
        yield url


class TestDjangoExample(ExampleCases):
    """The shared cases (Django's cookie, its messages, forms posted with the CSRF token), plus
    what Django's settings and views decide."""

    REDIRECT = 302  # HttpResponseRedirect
    SESSION = "sessionid"  # SESSION_COOKIE_NAME
    FLASHES = "messages"  # django.contrib.messages
    DELETED = '""'  # HttpResponse.delete_cookie: an empty, quoted value
    EXPIRED = "Thu, 01 Jan 1970 00:00:00 GMT"
    VISITS_BEFORE_A_POST = 1  # GET /api: the csrftoken cookie

    def post(
        self, browser: Browser, path: str, data: Mapping[str, str] | None = None
    ) -> httpx.Response:
        """POST a form the way a page of the site would: with Django's CSRF token."""
        if "csrftoken" not in browser.cookies:
            browser.get("/api")
        return browser.post(path, data or {}, **{"X-CSRFToken": browser.cookies["csrftoken"]})

    def test_a_post_without_the_csrf_token_is_refused(self, browser: Browser) -> None:
        assert browser.post("/login", {"user": "mallory"}).status_code == 403

    def test_cookie_attributes_follow_the_django_settings(self, browser: Browser) -> None:
        cookie = set_cookies(browser.get("/api"))["sessionid"]
        assert cookie.attributes["max-age"] == str(SESSION_AGE)  # SESSION_COOKIE_AGE
        expires = parsedate_to_datetime(cookie.attributes["expires"]).timestamp()
        assert abs(expires - (time.time() + SESSION_AGE)) < 60
        assert cookie.attributes["samesite"] == "Lax"
        assert cookie.attributes["path"] == "/"
        assert "httponly" in cookie.attributes
        assert "secure" not in cookie.attributes  # SESSION_COOKIE_SECURE = False here

    def test_set_expiry_0_makes_a_browser_session_cookie(self, browser: Browser) -> None:
        # The example's login calls set_expiry(0) unless "remember me" is ticked.
        cookie = set_cookies(self.post(browser, "/login", {"user": "dave"}))["sessionid"]
        assert "max-age" not in cookie.attributes
        assert "expires" not in cookie.attributes
        assert browser.get("/api").json()["browser_session"] is True
        remembered = Browser(browser.base)
        cookie = set_cookies(self.post(remembered, "/login", {"user": "erin", "remember": "1"}))
        assert cookie["sessionid"].attributes["max-age"] == str(SESSION_AGE)

    def test_an_async_view_uses_the_async_session_api(self, browser: Browser) -> None:
        assert [browser.get("/async").json()["async_visits"] for _ in range(3)] == [1, 2, 3]
        self.post(browser, "/prefs", {"theme": "dark"})
        assert browser.get("/async").json() == {"async_visits": 4, "theme": "dark"}
        assert browser.get("/api").json()["visits"] == 2  # the same session as the sync views
