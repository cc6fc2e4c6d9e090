"""Flask's own session tests (tests/test_basic.py, tests/test_testing.py of the pinned sdist)
with ``app.session_interface = websession.flask.SessionInterface()``: the drop-in."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.compat.harness import check, check_pin, prepare, run_pytest
from tests.compat.suites import FLASK

# The tests that use the session: those named for it, and flashing (stored in the session).
SELECTION = ["tests/test_basic.py", "tests/test_testing.py", "-k", "session or flash"]


@pytest.mark.slow
def test_flask_session_tests_pass_on_the_drop_in(tmp_path: Path) -> None:
    check_pin(FLASK)
    root = prepare(FLASK, tmp_path, ["tests", "pyproject.toml"])
    outcome = run_pytest(root, SELECTION)
    check("flask", outcome, at_least=20, of=20)
