"""examples/aiohttp_app.py under aiohttp's own server: the cases of AsgiExampleCases.

Started two ways: ``python -m aiohttp.web ... aiohttp_app:create_app`` and the example's own
``web.run_app`` entry point (``python aiohttp_app.py --port N``).
"""

from __future__ import annotations

import contextlib
from pathlib import Path

from tests.support.example_cases import AsgiExampleCases, aiohttp_web, example_env, run_app_script
from tests.support.live import Browser


class TestAiohttpUnderItsOwnServer(AsgiExampleCases):
    @classmethod
    def launch(cls, env: dict[str, str]) -> contextlib.AbstractContextManager[str]:
        return aiohttp_web("aiohttp_app:create_app", env)


def test_the_run_app_entry_point_serves_sessions(tmp_path: Path) -> None:
    with run_app_script(example_env(tmp_path)) as url:
        browser = Browser(url)
        assert [browser.get("/api").json()["visits"] for _ in range(3)] == [1, 2, 3]
