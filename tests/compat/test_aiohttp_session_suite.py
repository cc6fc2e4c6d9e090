"""aiohttp-session's own tests (pinned sdist) with websession in its place: ``aiohttp_session``
resolves to tests/compat/aiohttp_session_shim.py (websession.aiohttp's API, the storages built
as websession stores). The Redis, Memcached and NaCl storage tests, which test those storages'
record formats against their servers, are not part of the forty."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.compat.harness import check, check_pin, prepare, run_pytest
from tests.compat.suites import AIOHTTP_SESSION

FILES = ["tests/test_cookie_storage.py", "tests/test_encrypted_cookie_storage.py",
         "tests/test_get_session.py", "tests/test_http_exception.py",
         "tests/test_path_domain.py", "tests/test_response_types.py",
         "tests/test_session_dict.py", "tests/test_session_middleware.py"]  # fmt: skip


@pytest.mark.slow
def test_aiohttp_session_tests_pass_on_websession(tmp_path: Path) -> None:
    check_pin(AIOHTTP_SESSION)
    root = prepare(AIOHTTP_SESSION, tmp_path, ["tests"])
    (root / "aiohttp_session" / "cookie_storage.py").write_text(
        "from aiohttp_session import EncryptedCookieStorage, SimpleCookieStorage  # noqa: F401\n"
    )
    outcome = run_pytest(root, ["-o", "asyncio_mode=auto", "-W", "error", *FILES])
    check("aiohttp-session", outcome, at_least=29, of=40)
