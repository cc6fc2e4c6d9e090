"""Every backend runs the one behavioural contract in ``test_contract.py``.

A backend joins by adding a module ``tests/stores/cases_<name>.py`` that defines
``CASES: list[BackendCase]``. Each case makes a fresh, empty backend; the contract builds a
:class:`websession.ServerStore` over it and checks every behaviour, sync and async.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from websession.backends.base import Backend


@dataclass
class BackendCase:
    #: test id, e.g. "redis", "postgresql-async"
    id: str
    #: returns a fresh, empty backend (called inside the test; may call tests.servers.server_url)
    make: Callable[[], Backend]
    #: releases what ``make`` created (drop tables, flush keys); gets the backend
    cleanup: Callable[[Backend], None] | None = None
    #: the database removes expired records by itself (Redis, Memcached, MongoDB, DynamoDB)
    native_ttl: bool = False
    #: the backend follows an injected clock (memory, filesystem, sqlite...): expiry can be
    #: tested without sleeping; otherwise the contract sleeps past short real TTLs
    follows_clock: bool = False
    #: accepts ``clock=`` in ``make`` (only meaningful with follows_clock)
    make_with_clock: Callable[[Callable[[], float]], Backend] | None = None
    #: supports if_version (optimistic concurrency)
    versions: bool = True
    marks: list[Any] = field(default_factory=list)


def _collect() -> list[BackendCase]:
    cases: list[BackendCase] = []
    here = Path(__file__).parent
    for info in sorted(pkgutil.iter_modules([str(here)]), key=lambda m: m.name):
        if info.name.startswith("cases_"):
            module = importlib.import_module(f"tests.stores.{info.name}")
            cases.extend(module.CASES)
    return cases


ALL_CASES = _collect()


@pytest.fixture(params=[pytest.param(c, id=c.id, marks=c.marks) for c in ALL_CASES])
def backend_case(request: pytest.FixtureRequest) -> BackendCase:
    case: BackendCase = request.param
    return case


@pytest.fixture
def backend(backend_case: BackendCase) -> Iterator[Backend]:
    made = backend_case.make()
    try:
        yield made
    finally:
        if backend_case.cleanup is not None:
            backend_case.cleanup(made)
        made.close()
