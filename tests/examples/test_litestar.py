"""examples/litestar_app.py under uvicorn: the cases of AsgiExampleCases, plus Litestar's own
``request.set_session`` / ``request.clear_session`` (the example's logout uses the latter).
"""

from __future__ import annotations

import contextlib

from tests.support.example_cases import AsgiExampleCases
from tests.support.live import Browser, set_cookies, uvicorn


class TestLitestarUnderUvicorn(AsgiExampleCases):
    @classmethod
    def launch(cls, env: dict[str, str]) -> contextlib.AbstractContextManager[str]:
        return uvicorn("litestar_app:app", env)

    def test_set_session_replaces_the_values_and_keeps_the_id(self, browser: Browser) -> None:
        browser.post("/login", {"user": "erin"})
        browser.post("/prefs", {"theme": "dark"})  # a flash waits in the session
        assert browser.get("/api").json()["visits"] == 1  # (shows both flashes)
        browser.get("/api")
        logged_in = browser.cookies["session"]
        response = browser.post("/reset")
        assert response.status_code == 303
        assert "session" in set_cookies(response)
        state = browser.get("/api").json()
        assert (state["user"], state["visits"], state["flashes"]) == ("erin", 1, [])
        # set_session changes values, not the id: the previous cookie sees the new values.
        again = Browser(browser.base, {"session": logged_in})
        assert again.get("/whoami").json() == {"user": "erin", "new": False}

    def test_clear_session_deletes_the_record(self, browser: Browser) -> None:
        browser.post("/login", {"user": "frank"})
        logged_in = browser.cookies["session"]
        cookie = set_cookies(browser.post("/logout"))["session"]
        assert cookie.deletes
        assert Browser(browser.base, {"session": logged_in}).get("/whoami").json() == {
            "user": None,
            "new": True,
        }
