"""The compat harness's verdict: listed failures must fail, everything else must pass."""

from __future__ import annotations

import pytest

from tests.compat.harness import Outcome, check, expected_failures

LISTED = "tests/middleware/test_session.py::test_domain_cookie[asyncio]"


def outcome(passed: set[str], failed: set[str]) -> Outcome:
    return Outcome(passed=passed, failed=dict.fromkeys(failed, "boom"))


def test_every_listed_failure_has_a_reason() -> None:
    for suite in ("starlette", "aiohttp-session", "django-memory"):
        reasons = expected_failures(suite)
        assert reasons
        assert all(len(reason) > 20 for reason in reasons.values())


def test_the_expected_outcome_passes() -> None:
    listed = set(expected_failures("starlette"))
    check("starlette", outcome({f"t::ok{i}" for i in range(12)}, listed), at_least=12, of=15)


def test_an_unlisted_failure_fails_the_suite() -> None:
    listed = set(expected_failures("starlette"))
    with pytest.raises(AssertionError, match="not listed"):
        check("starlette", outcome({"t::ok"}, {*listed, "t::new"}), at_least=1, of=5)


def test_a_listed_test_that_passes_fails_the_suite() -> None:
    listed = set(expected_failures("starlette")) - {LISTED}
    with pytest.raises(AssertionError, match="passing now"):
        check("starlette", outcome({"t::ok", LISTED}, listed), at_least=1, of=5)
