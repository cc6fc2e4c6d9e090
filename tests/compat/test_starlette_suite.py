"""Starlette's own tests/middleware/test_session.py (pinned sdist) on websession's drop-in:
``from websession.starlette import SessionMiddleware`` instead of Starlette's."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.compat.harness import Edit, Suite, check, check_pin, prepare, run_pytest

STARLETTE = Suite(
    name="starlette",
    dist="starlette",
    version="1.10.0",
    edits=[
        # Not about sessions: the venv has httpx, which Starlette's test client still accepts
        # (with a deprecation warning its own configuration ignores); its typing helper
        # imports the httpx2 fork by name.
        Edit("tests/types.py", "import httpx2 as httpx", "import httpx"),
        # The construction lines: the middleware's import...
        Edit(
            "tests/middleware/test_session.py",
            "from starlette.middleware.sessions import Session, SessionMiddleware",
            "from websession import Session\nfrom websession.starlette import SessionMiddleware",
        ),
        # ...and the sessions test_session_tracks_modification makes from a dict of values.
        Edit(
            "tests/middleware/test_session.py",
            "= Session(",
            '= Session("session", values=',
            count=7,
        ),
    ],
)

PARTS = ["pyproject.toml", "tests/__init__.py", "tests/conftest.py", "tests/types.py",
         "tests/middleware/__init__.py", "tests/middleware/test_session.py"]  # fmt: skip


@pytest.mark.slow
def test_starlette_session_tests_pass_on_the_drop_in(tmp_path: Path) -> None:
    check_pin(STARLETTE)
    root = prepare(STARLETTE, tmp_path, PARTS)
    outcome = run_pytest(root, ["tests/middleware/test_session.py"])
    check("starlette", outcome, at_least=12, of=15)
