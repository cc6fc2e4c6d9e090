"""Starlette's own tests/middleware/test_session.py (pinned sdist) on websession's drop-in:
``from websession.starlette import SessionMiddleware`` instead of Starlette's."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.compat.harness import check, check_pin, prepare, run_pytest
from tests.compat.suites import STARLETTE

PARTS = ["pyproject.toml", "tests/__init__.py", "tests/conftest.py", "tests/types.py",
         "tests/middleware/__init__.py", "tests/middleware/test_session.py"]  # fmt: skip


@pytest.mark.slow
def test_starlette_session_tests_pass_on_the_drop_in(tmp_path: Path) -> None:
    check_pin(STARLETTE)
    root = prepare(STARLETTE, tmp_path, PARTS)
    outcome = run_pytest(root, ["tests/middleware/test_session.py"])
    check("starlette", outcome, at_least=12, of=15)
