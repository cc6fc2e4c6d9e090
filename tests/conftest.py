"""The one conftest of the suite: the backend contract's parametrization and fixtures.

The contract (``tests/stores/test_contract.py``, ``test_contract_revocation.py``) runs on every
case of ``tests/support/cases/``; the machinery is in :mod:`tests.support.contract`. It is
imported only when a test asks for ``backend_case``, so running one file elsewhere (say
``tests/codecs``) does not import every backend's client.

Fixtures:

- ``backend_case``: the :class:`~tests.support.contract.BackendCase` under test (parametrized
  over every case the test's ``@pytest.mark.backends(...)`` requirements keep);
- ``clock``: a :class:`~tests.support.contract.FakeClock`; backends that follow an injected
  clock are made with it;
- ``backend``: a fresh backend from the case (``make_with_clock(clock)`` when it has one);
- ``api``: the same test body run twice, ``sync`` and ``async``
  (:class:`~tests.support.contract.Api`).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from tests.support.contract import Api, BackendCase, FakeClock
    from websession.backends.base import Backend


# tryfirst: ``backend_case`` is parametrized before ``api``'s params: ids read ``[redis-sync]``
@pytest.hookimpl(tryfirst=True)
def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Run each contract test on every backend case it applies to.

    ``@pytest.mark.backends(clocked=True)`` keeps the cases whose backend follows the fake clock,
    ``clocked=False`` the others, ``versions=True`` those with record versions. A test that does
    not apply to a backend is not generated for it, rather than skipped.
    """
    if "backend_case" not in metafunc.fixturenames:
        return
    from tests.support.contract import ALL_CASES, applies

    marker = metafunc.definition.get_closest_marker("backends")
    requirements: dict[str, bool] = dict(marker.kwargs) if marker else {}
    cases = [c for c in ALL_CASES if applies(c, requirements)]
    metafunc.parametrize("backend_case", [pytest.param(c, id=c.id, marks=c.marks) for c in cases])


@pytest.fixture
def clock() -> FakeClock:
    from tests.support.contract import FakeClock

    return FakeClock()


@pytest.fixture
def backend(backend_case: BackendCase, clock: FakeClock) -> Iterator[Backend]:
    if backend_case.follows_clock and backend_case.make_with_clock is not None:
        made = backend_case.make_with_clock(clock)
    else:
        made = backend_case.make()
    try:
        yield made
    finally:
        if backend_case.cleanup is not None:
            backend_case.cleanup(made)
        made.close()


@pytest.fixture(params=["sync", "async"])
def api(request: pytest.FixtureRequest, backend: Backend) -> Iterator[Api]:
    from tests.support.contract import Api

    runner = Api(request.param, backend)
    try:
        yield runner
    finally:
        runner.close()
