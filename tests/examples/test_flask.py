"""examples/flask_app.py under gunicorn (two workers sharing a FilesystemStore), over HTTP.

The cases are :class:`~tests.support.example_cases.FlaskLikeCases`: those every example shares
plus what Flask's session settings decide (run again on the Quart example, test_quart.py). The
adapter's own behaviours, in process: tests/integrations/test_flask.py.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.example_cases import FlaskLikeCases, example_env
from tests.support.live import Browser, free_port, gunicorn, serve


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("flask-sessions")


@pytest.fixture(scope="module")
def base(files: Path) -> Iterator[str]:
    # Two workers: requests land on either, and share the sessions through the files.
    port = free_port()
    argv = [sys.executable, "-m", "gunicorn", "--bind", f"127.0.0.1:{port}", "--workers", "2",
            "--graceful-timeout", "2", "flask_app:app"]  # fmt: skip
    with serve(argv, port, example_env(files)) as url:
        yield url


class TestFlaskUnderGunicorn(FlaskLikeCases):
    pass


def test_the_example_runs_with_one_worker_too(tmp_path: Path) -> None:
    with gunicorn("flask_app:app", example_env(tmp_path)) as url:
        browser = Browser(url)
        assert [browser.get("/api").json()["visits"] for _ in range(2)] == [1, 2]
