"""The server-less tests on the oldest and newest Python websession supports (3.10 and 3.13).

``make test`` runs the whole suite on the development venv's Python (3.11), servers included;
this runs everything that needs no server again on the other versions, each in a small venv of
its own (``.venv-py3.10``, ``.venv-py3.13``: the package with its extras and the ``test``
dependency group), so a 3.11-only construct or a dependency that breaks on 3.13 fails
``make test``.

    python tools/pythons.py install        # make or refresh the venvs (needs the package index)
    python tools/pythons.py test [ARGS]    # run the tests on each (ARGS go to pytest)

Interpreters are found on PATH (``python3.10``) or in pyenv's versions. One that is missing is
reported and skipped locally, and fails under ``CI=true`` (CI must never pass by skipping).
``WEBSESSION_PYTHONS=3.10,3.13`` picks the versions.
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VERSIONS = [v for v in os.environ.get("WEBSESSION_PYTHONS", "3.10,3.13").split(",") if v]
# what needs no server, as `make test-fast`; tests that ask for a server skip in these runs
# (WEBSESSION_TEST_SERVERLESS, see tests/support/servers.py): the main run has the servers.
MARKERS = "not slow and not browser"


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


def interpreter(version: str) -> str | None:
    found = shutil.which(f"python{version}")
    if found and subprocess.run([found, "--version"], capture_output=True).returncode == 0:
        return found
    pyenv_root = os.environ.get("PYENV_ROOT") or os.path.expanduser("~/.pyenv")
    candidates = sorted(glob.glob(f"{pyenv_root}/versions/{version}.*/bin/python{version}"))
    return candidates[-1] if candidates else None


def venv(version: str) -> Path:
    return ROOT / f".venv-py{version}"


def missing(version: str) -> int:
    message = f"Python {version} not found (on PATH or in pyenv's versions)"
    if in_ci():
        print(f"FAIL: {message}", file=sys.stderr)
        return 1
    print(f"skipped: {message}", file=sys.stderr)
    return 0


def install() -> int:
    status = 0
    for version in VERSIONS:
        python = interpreter(version)
        if python is None:
            status |= missing(version)
            continue
        target = venv(version)
        stamp = target / ".installed"
        if stamp.exists() and stamp.stat().st_mtime >= (ROOT / "pyproject.toml").stat().st_mtime:
            continue
        started = time.monotonic()
        subprocess.run([python, "-m", "venv", "--clear", str(target)], check=True)
        pip = [str(target / "bin" / "python"), "-m", "pip", "install", "-q"]
        subprocess.run([*pip, "--upgrade", "pip>=25.1"], check=True)
        subprocess.run([*pip, "-e", ".[all]", "--group", "test"], check=True, cwd=ROOT)
        stamp.touch()
        print(f"{target.name}: installed in {time.monotonic() - started:.0f} s")
    return status


def test(pytest_args: list[str]) -> int:
    status = 0
    env = {**os.environ, "WEBSESSION_TEST_SERVERLESS": "1"}
    for version in VERSIONS:
        python = venv(version) / "bin" / "python"
        if not (venv(version) / ".installed").exists():
            status |= missing(version) if interpreter(version) is None else 1
            if interpreter(version) is not None:
                print(f"FAIL: {venv(version).name} is not installed (tools/pythons.py install)")
            continue
        print(f"== the server-less tests on Python {version}", flush=True)
        command = [str(python), "-m", "pytest", "-q", "-p", "no:cacheprovider", "-m", MARKERS]
        result = subprocess.run([*command, *pytest_args], cwd=ROOT, env=env)
        if result.returncode != 0:
            print(f"FAIL: the tests on Python {version} (exit {result.returncode})")
            status = 1
    return status


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in ("install", "test"):
        print(__doc__, file=sys.stderr)
        return 2
    return install() if argv[0] == "install" else test(argv[1:])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
