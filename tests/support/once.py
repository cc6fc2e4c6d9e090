"""Something costly made once per test run, however many pytest-xdist workers need it.

Each worker has a base temporary directory of its own; their parent is the run's (and without
xdist the base directory is). :func:`made_once` builds in the run's directory under a file lock:
the first worker to ask builds, the others wait and use the result. The documentation site and
the wheel and sdist are each built once, not once per worker that runs one of their tests.
"""

from __future__ import annotations

import fcntl
import os
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest


def made_once(factory: pytest.TempPathFactory, name: str, make: Callable[[Path], None]) -> Path:
    """``run_dir/name``, made by ``make(directory)`` if no worker of this run has made it yet."""
    base = factory.getbasetemp()
    run_dir = base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base
    target = run_dir / name
    with (run_dir / f"{name}.lock").open("w") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        if not (run_dir / f"{name}.done").exists():  # none yet, or a failed attempt
            shutil.rmtree(target, ignore_errors=True)
            target.mkdir()
            make(target)
            (run_dir / f"{name}.done").touch()
    return target
