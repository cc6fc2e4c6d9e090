"""The test servers' launcher, as a test run meets it: a server that cannot start fails its
tests under ``CI=true`` and skips them locally; one that can is started for the test alone."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.servers import serverless

ROOT = Path(__file__).resolve().parents[2]

NEEDS_REDIS = """
from tests.support.servers import server_url


def test_needs_redis():
    assert server_url("redis").startswith("redis://127.0.0.1:")
"""


def _run(tmp_path: Path, *, ci: bool, broken: bool) -> subprocess.CompletedProcess[str]:
    """pytest on a one-test file that asks for Redis, with a redis-server that exits at once
    (``broken``) or the real one; no URL given, so the launcher must start it."""
    test_file = tmp_path / "test_needs_redis.py"
    test_file.write_text(NEEDS_REDIS)
    env = {k: v for k, v in os.environ.items() if not k.startswith("WEBSESSION_TEST")}
    env["CI"] = "true" if ci else ""
    env["PYTHONPATH"] = str(ROOT)
    if broken:
        bin_dir = tmp_path / "bin"
        bin_dir.mkdir()
        fake = bin_dir / "redis-server"
        fake.write_text("#!/bin/sh\necho 'this redis-server cannot start' >&2\nexit 1\n")
        fake.chmod(0o755)
        env["PATH"] = f"{bin_dir}{os.pathsep}{env.get('PATH', '')}"
    pytest_args = [str(test_file), "-q", "-rs", "-p", "no:cacheprovider"]
    command = [sys.executable, "-m", "pytest", *pytest_args]
    return subprocess.run(
        command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120
    )


def test_a_server_that_cannot_start_fails_its_test_under_ci(tmp_path: Path) -> None:
    result = _run(tmp_path, ci=True, broken=True)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "1 failed" in result.stdout
    assert "redis did not start" in result.stdout
    assert "this redis-server cannot start" in result.stdout  # the log's tail says why


def test_a_server_that_cannot_start_skips_its_test_locally(tmp_path: Path) -> None:
    result = _run(tmp_path, ci=False, broken=True)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 skipped" in result.stdout
    assert "redis did not start" in result.stdout


def test_the_server_a_test_asks_for_is_started_for_it(tmp_path: Path) -> None:
    if serverless():
        pytest.skip("starts a redis-server: not in a server-less run")
    result = _run(tmp_path, ci=True, broken=False)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 passed" in result.stdout


SHARED = """
import os
import pytest
from tests.support.servers import server_url


@pytest.mark.parametrize("n", range(4))
def test_needs_redis(n):
    with open(os.path.join(os.environ["OUT"], f"{n}.txt"), "w") as out:
        out.write(os.environ["PYTEST_XDIST_WORKER"] + " " + server_url("redis"))
"""


def test_xdist_workers_share_the_servers_the_controller_started(tmp_path: Path) -> None:
    """make test: one Redis for every worker, started by the controller (and stopped by it)."""
    if serverless():
        pytest.skip("starts a redis-server: not in a server-less run")
    (tmp_path / "test_shared.py").write_text(SHARED)
    (tmp_path / "conftest.py").write_text("from tests.conftest import *  # noqa: F403\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith("WEBSESSION_TEST")}
    env.update(
        CI="true",
        PYTHONPATH=str(ROOT),
        OUT=str(tmp_path),
        WEBSESSION_TEST_PRESTART="1",
        WEBSESSION_TESTENV_ONLY="redis",
    )
    command = [sys.executable, "-m", "pytest", "test_shared.py", "-q", "-p", "no:cacheprovider"]
    command += ["-n", "2"]
    result = subprocess.run(
        command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stdout + result.stderr
    seen = [(tmp_path / f"{n}.txt").read_text().split() for n in range(4)]
    assert {worker for worker, _ in seen} == {"gw0", "gw1"}, seen  # both workers ran tests
    assert len({url for _, url in seen}) == 1, seen  # and both had the same Redis
    assert "test servers started: redis" in result.stdout
    assert "stopped 1 server process(es)" in result.stderr

