"""examples/aiohttp_app.py under aiohttp's own server: the cases of AsgiExampleCases.

Started two ways: ``python -m aiohttp.web ... aiohttp_app:create_app`` and the example's own
``web.run_app`` entry point (``python aiohttp_app.py --port N``).
"""

from __future__ import annotations

import contextlib
import sys
from pathlib import Path

from tests.examples.test_starlette import AsgiExampleCases
from tests.support.example_cases import EXAMPLES, example_env
from tests.support.live import HOST, Browser, free_port, serve


def aiohttp_web(app_factory: str, env: dict[str, str]) -> contextlib.AbstractContextManager[str]:
    """``python -m aiohttp.web`` serving ``module:factory`` on a free 127.0.0.1 port."""
    port = free_port()
    argv = [sys.executable, "-m", "aiohttp.web", "-H", HOST, "-P", str(port), app_factory]
    return serve(argv, port, env)


def run_app_script(env: dict[str, str]) -> contextlib.AbstractContextManager[str]:
    """The example's ``__main__`` (``web.run_app``) on a free 127.0.0.1 port."""
    port = free_port()
    argv = [sys.executable, str(EXAMPLES / "aiohttp_app.py"), "--host", HOST,
            "--port", str(port)]  # fmt: skip
    return serve(argv, port, env)


class TestAiohttpUnderItsOwnServer(AsgiExampleCases):
    @classmethod
    def launch(cls, env: dict[str, str]) -> contextlib.AbstractContextManager[str]:
        return aiohttp_web("aiohttp_app:create_app", env)


def test_the_run_app_entry_point_serves_sessions(tmp_path: Path) -> None:
    with run_app_script(example_env(tmp_path)) as url:
        browser = Browser(url)
        assert [browser.get("/api").json()["visits"] for _ in range(3)] == [1, 2, 3]
