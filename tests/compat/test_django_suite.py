"""Django's own session tests (tests/sessions_tests of the pinned sdist): SessionTestsMixin
and SessionMiddlewareTests on ``SESSION_ENGINE = "websession.django"``, once per store."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.compat.harness import check, check_pin, prepare, run_pytest
from tests.compat.suites import DJANGO
from tests.support.servers import server_url


def store_url(kind: str, tmp_path: Path) -> str:
    if kind == "memory":
        return "memory://"
    if kind == "file":
        directory = tmp_path / "sessions"
        directory.mkdir(mode=0o700)
        return f"file://{directory}"
    return server_url(kind)


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["memory", "file", "redis", "postgresql"])
def test_django_session_tests_pass_on_the_websession_engine(kind: str, tmp_path: Path) -> None:
    url = store_url(kind, tmp_path)
    check_pin(DJANGO)
    root = prepare(DJANGO, tmp_path, ["tests/sessions_tests"]) / "tests"
    outcome = run_pytest(
        root, ["sessions_tests/test_websession.py"], env={"WEBSESSION_COMPAT_STORE": url}
    )
    check(f"django-{kind}", outcome, at_least=76, of=77)
