"""Flask's own session tests (tests/test_basic.py, tests/test_testing.py of the pinned sdist)
with ``app.session_interface = websession.flask.SessionInterface()``: the drop-in."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.compat.harness import Edit, Suite, check, check_pin, prepare, run_pytest

FLASK = Suite(
    name="flask",
    dist="flask",
    version="3.1.3",
    edits=[
        # Not about sessions: Flask 3.1.3's conftest predates pytest 9, which renamed
        # _pytest.monkeypatch.notset to NOTSET.
        Edit("tests/conftest.py", "monkeypatch.notset", "monkeypatch.NOTSET", count=6),
        # The one construction line: the app fixture of Flask's conftest.
        Edit(
            "tests/conftest.py",
            '        SECRET_KEY="test key",\n    )\n    return app\n',
            '        SECRET_KEY="test key",\n    )\n'
            "    from websession.flask import SessionInterface\n\n"
            "    app.session_interface = SessionInterface()\n"
            "    return app\n",
        ),
    ],
)

# The tests that use the session: those named for it, and flashing (stored in the session).
SELECTION = ["tests/test_basic.py", "tests/test_testing.py", "-k", "session or flash"]


@pytest.mark.slow
def test_flask_session_tests_pass_on_the_drop_in(tmp_path: Path) -> None:
    check_pin(FLASK)
    root = prepare(FLASK, tmp_path, ["tests", "pyproject.toml"])
    outcome = run_pytest(root, SELECTION)
    check("flask", outcome, at_least=20, of=20)
