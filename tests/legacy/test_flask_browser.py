"""Headless Chromium: the Flask example switches from Flask's own sessions to websession.

Log in on the example running Flask's own signed-cookie sessions (examples/flask_before.py),
restart it on websession (examples/flask_app.py, with the old key as FLASK_SECRET_KEY so
``websession.legacy.FlaskCookie`` reads the old cookie), reload: still logged in, and the
browser's cookie is now websession's sealed session id. Chromium missing: skipped locally, a
failure under CI=true.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.browser import cookies_by_name, launch_chromium, log_in
from tests.support.example_cases import SECRETS, example_env
from tests.support.live import gunicorn
from websession import FilesystemStore, Registry
from websession.legacy import FlaskCookie

pytestmark = pytest.mark.browser

FLASK_SECRET_KEY = "the Flask example's SECRET_KEY before the switch, Zk3pQ8wLm2"


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    yield from launch_chromium()


def test_logged_in_on_flask_sessions_still_logged_in_on_websession(
    chromium: Any, tmp_path: Path
) -> None:
    env = example_env(tmp_path, FLASK_SECRET_KEY=FLASK_SECRET_KEY)
    context = chromium.new_context()
    try:
        page = context.new_page()
        with gunicorn("flask_before:app", env) as url:
            page.goto(url + "/")
            log_in(page, "alice")
            flask_cookie = cookies_by_name(context)["session"]["value"]
        # Flask's own cookie: signed JSON anyone can read, which Flask's key verifies
        reader = FlaskCookie(FLASK_SECRET_KEY)
        assert reader.read(flask_cookie)["user"] == "alice"

        with gunicorn("flask_app:app", env) as url:  # the same app, now on websession
            page.goto(url + "/")
            assert page.text_content("#user") == "alice"  # still logged in
            sealed = cookies_by_name(context)["session"]["value"]
            assert sealed != flask_cookie
            page.reload()
            assert page.text_content("#user") == "alice"
            assert cookies_by_name(context)["session"]["value"] == sealed

        # The cookie is now websession's sealed session id: the example's store opens it alone,
        # and Flask's verification no longer does.
        store = FilesystemStore(tmp_path, SECRETS.split(","))
        session = Registry({"session": sealed}).get(store, "session")
        assert not session.is_new, session.reason
        assert session["user"] == "alice"
        with pytest.raises(ValueError):
            reader.read(sealed)
    finally:
        context.close()
