"""The one conftest of the suite: the test servers, the backend contract's fixtures.

Servers start on first use (:func:`tests.support.servers.server_url`), once per session (per
pytest-xdist worker), and the session fixture ``test_servers`` stops them at the end. Under
``make test`` with pytest-xdist, the controller starts them once for every worker instead
(:func:`tests.support.servers.share`), and the long tests are spread over the workers' first
shares (:func:`tests.support.schedule.spread_slow`): their waits overlap the other tests
rather than end the run.

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

import os
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import pytest

from tests.support import servers
from tests.support.schedule import spread_slow

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


def _hinted(items: list[pytest.Item]) -> set[str]:
    """The servers the collected tests name (in their file, function or parameter ids)."""
    names = sorted(servers.SERVERS, key=len, reverse=True)  # "redis-cluster" before "redis"
    found: set[str] = set()
    for item in items:
        text = item.nodeid.lower().replace("_", "-")
        for name in names:
            if name in text:
                found.add(name)
                text = text.replace(name, "")
    return found


def _xdist_controller(config: pytest.Config) -> bool:
    """True in the process that runs pytest-xdist's workers (and no test)."""
    return bool(getattr(config.option, "numprocesses", None)) and not hasattr(
        config, "workerinput"
    )


def pytest_configure(config: pytest.Config) -> None:
    # make test: every server once, started while the workers start and collect, rather than
    # a set per worker (each with its JVMs and its Galera cluster competing for the CPU)
    if (
        _xdist_controller(config)
        and os.environ.get("WEBSESSION_TEST_PRESTART") == "1"
        and not servers.serverless()
    ):
        servers.share(set(servers.SERVERS))


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node: Any) -> None:
    # (pytest-xdist's controller) a worker's own options say dist "no": tell it the real one
    node.workerinput["websession_dist"] = node.config.option.dist


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    workerinput = getattr(config, "workerinput", None)
    if workerinput is not None and workerinput.get("websession_dist") == "worksteal":
        items[:] = spread_slow(items, int(workerinput["workercount"]))


def pytest_unconfigure(config: pytest.Config) -> None:
    if _xdist_controller(config):
        servers.unshare()


@pytest.fixture(scope="session", autouse=True)
def test_servers(request: pytest.FixtureRequest) -> Iterator[servers.Pool]:
    """The servers this process started (or waits for: see :func:`servers.share`).

    ``WEBSESSION_TEST_PRESTART=1`` (``make test``) starts, in parallel and in the background,
    every server the collected tests name, so the first test of each does not wait alone;
    otherwise each starts when a test first asks for it.
    """
    pool = servers.pool()
    if os.environ.get("WEBSESSION_TEST_PRESTART") == "1" and not servers.serverless():
        pool.prestart(_hinted(request.session.items))
    try:
        yield pool
    finally:
        pool.stop()


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    timings = servers.pool().timings if servers._pool is not None else {}
    if timings:
        took = ", ".join(f"{name} {seconds:.1f} s" for name, seconds in sorted(timings.items()))
        terminalreporter.write_line(f"test servers started: {took}")
