"""tools/unasync.py: the backends' sync code is generated from their async source and current."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
TOOL = ROOT / "tools" / "unasync.py"

SOURCE = '''"""An async backend's operations."""

from __future__ import annotations

import asyncio  # unasync: remove
import time


class AsyncThingOps:
    async def _acommand(self, target: str) -> str:
        await asyncio.sleep(0)
        return target

    async def aget(self, key: str) -> str:
        async with self._lock():
            return await self._acommand(key)

    async def aclose(self) -> None:
        time.monotonic()
'''

EXPECTED = '''# GENERATED from _async/thing.py by tools/unasync.py (make generate): do not edit.
"""A sync backend's operations."""

from __future__ import annotations

import time


class ThingOps:
    def _command(self, target: str) -> str:
        time.sleep(0)
        return target

    def get(self, key: str) -> str:
        with self._lock():
            return self._command(key)

    def close(self) -> None:
        time.monotonic()
'''


def run(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(TOOL), *map(str, args)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
    )


def test_the_generated_sync_code_in_the_repository_is_current() -> None:
    result = run("--check")
    assert result.returncode == 0, result.stderr


def _repo(tmp_path: Path) -> Path:
    """A repository with one async source (and the project's ruff settings)."""
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    backends = tmp_path / "src" / "websession" / "backends"
    (backends / "_async").mkdir(parents=True)
    (backends / "_sync").mkdir()
    (backends / "_async" / "thing.py").write_text(SOURCE)
    return tmp_path


def test_generate_writes_the_sync_code_then_check_passes(tmp_path: Path) -> None:
    root = _repo(tmp_path)
    result = run("--check", "--root", root)
    assert result.returncode == 1
    assert "_sync/thing.py: missing" in result.stderr

    assert run("--root", root).returncode == 0
    generated = root / "src/websession/backends/_sync/thing.py"
    assert generated.read_text() == EXPECTED
    assert run("--check", "--root", root).returncode == 0
    # and ruff format leaves it as it is
    fmt = subprocess.run(
        [sys.executable, "-m", "ruff", "format", "--check", str(generated)],
        cwd=root,
        capture_output=True,
        text=True,
        check=False,
    )
    assert fmt.returncode == 0, fmt.stdout + fmt.stderr


def test_check_names_an_edited_sync_file_and_an_orphan(tmp_path: Path) -> None:
    root = _repo(tmp_path)
    run("--root", root)
    sync = root / "src/websession/backends/_sync"
    (sync / "thing.py").write_text(EXPECTED.replace("time.sleep(0)", "pass"))
    (sync / "gone.py").write_text("x = 1\n")
    result = run("--check", "--root", root)
    assert result.returncode == 1
    assert "_sync/thing.py: stale" in result.stderr
    assert "_sync/gone.py: no async source" in result.stderr
    # generating again repairs both
    assert run("--root", root).returncode == 0
    assert (sync / "thing.py").read_text() == EXPECTED
    assert not (sync / "gone.py").exists()
