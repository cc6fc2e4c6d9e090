"""The backend contract's cases and helpers: every backend runs ``tests/stores/test_contract.py``.

A backend joins by adding a module ``tests/support/cases/<name>.py`` that defines
``CASES: list[BackendCase]``. Each case makes a fresh, empty backend; the contract builds a
:class:`websession.ServerStore` over it and checks every behaviour, sync and async.

Fixtures given to the contract (defined in ``tests/conftest.py``):

- ``backend_case``: the :class:`BackendCase` under test (parametrized over every case);
- ``clock``: a :class:`FakeClock`; backends that follow an injected clock are made with it;
- ``backend``: a fresh backend from the case (``make_with_clock(clock)`` when it has one);
- ``api``: the same test written once, run twice: ``sync`` calls ``store.new``/``store.save``
  and the backend's sync methods; ``async`` runs ``store.anew``/``store.asave`` and the
  backend's ``a*`` methods on an event loop in a worker thread (so the test body stays plain
  and backends whose sync methods need no running loop are never called inside one).
"""

from __future__ import annotations

import asyncio
import importlib
import pkgutil
import threading
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from websession.backends.base import Backend, PurgeProgress, Record
from websession.session import Session
from websession.stores.server import ServerStore

T = TypeVar("T")


@dataclass
class BackendCase:
    #: test id, e.g. "redis", "postgresql-async"
    id: str
    #: returns a fresh, empty backend (called inside the test; may call
    #: tests.support.servers.server_url)
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
    #: keeps an owner index (sessions_for/revoke); False: it must raise NotImplementedError
    owners: bool = True
    marks: list[Any] = field(default_factory=list)


class FakeClock:
    """A clock that moves only when told to: ``clock()`` returns seconds since the epoch."""

    def __init__(self, now: float = 1_800_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class Api:
    """One test body, two paths: sync calls, or the async twins on a private event loop."""

    def __init__(self, mode: str, backend: Backend) -> None:
        self.mode = mode
        self.backend = backend
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        if mode == "async":
            self._loop = asyncio.new_event_loop()
            self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
            self._thread.start()

    @property
    def is_async(self) -> bool:
        return self._loop is not None

    def run(self, coro: Coroutine[Any, Any, T]) -> T:
        assert self._loop is not None
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(timeout=60)

    def _call(self, sync: Callable[[], T], make_async: Callable[[], Awaitable[T]]) -> T:
        if self._loop is None:
            return sync()

        async def go() -> T:
            return await make_async()

        return self.run(go())

    # -- the store ---------------------------------------------------------------------------
    def new(self, store: ServerStore, name: str, cookie: str | None) -> Session:
        return self._call(lambda: store.new(name, cookie), lambda: store.anew(name, cookie))

    def save(self, session: Session) -> str:
        store = session.store
        assert store is not None
        return self._call(lambda: store.save(session), lambda: store.asave(session))

    def purge(self, store: ServerStore, progress: PurgeProgress | None = None) -> int:
        return self._call(lambda: store.purge(progress), lambda: store.apurge(progress))

    # -- the backend directly ----------------------------------------------------------------
    def get(self, key: str) -> Record | None:
        backend = self.backend
        return self._call(lambda: backend.get(key), lambda: backend.aget(key))

    def set(self, key: str, data: bytes, ttl: int, **kwargs: Any) -> int | None:
        backend = self.backend
        return self._call(
            lambda: backend.set(key, data, ttl, **kwargs),
            lambda: backend.aset(key, data, ttl, **kwargs),
        )

    def delete(self, key: str) -> None:
        backend = self.backend
        self._call(lambda: backend.delete(key), lambda: backend.adelete(key))

    # -- the owner index (OwnerIndex) and the store's owner API ---------------------------------
    def index(self, owner: str, key: str, entry: bytes, ttl: float) -> None:
        b: Any = self.backend
        self._call(
            lambda: b.index(owner, key, entry, ttl), lambda: b.aindex(owner, key, entry, ttl)
        )

    def owned(self, owner: str) -> list[tuple[str, bytes]]:
        b: Any = self.backend
        result: list[tuple[str, bytes]] = self._call(
            lambda: b.owned(owner), lambda: b.aowned(owner)
        )
        return result

    def unindex(self, owner: str, key: str) -> None:
        b: Any = self.backend
        self._call(lambda: b.unindex(owner, key), lambda: b.aunindex(owner, key))

    def sessions_for(self, store: Any, owner: str) -> list[Any]:
        result: list[Any] = self._call(
            lambda: store.sessions_for(owner), lambda: store.asessions_for(owner)
        )
        return result

    def revoke(self, store: Any, owner: str, keep: Session | None = None) -> int:
        result: int = self._call(
            lambda: store.revoke(owner, keep=keep), lambda: store.arevoke(owner, keep=keep)
        )
        return result

    def close(self) -> None:
        if self._loop is None:
            return
        try:
            self.run(self.backend.aclose())
        finally:
            self._loop.call_soon_threadsafe(self._loop.stop)
            assert self._thread is not None
            self._thread.join(timeout=10)
            self._loop.close()


def _collect() -> list[BackendCase]:
    cases: list[BackendCase] = []
    here = Path(__file__).parent / "cases"
    for info in sorted(pkgutil.iter_modules([str(here)]), key=lambda m: m.name):
        module = importlib.import_module(f"tests.support.cases.{info.name}")
        cases.extend(module.CASES)
    return cases


ALL_CASES = _collect()


def applies(case: BackendCase, requirements: dict[str, bool]) -> bool:
    facts = {
        "clocked": case.follows_clock and case.make_with_clock is not None,
        "versions": case.versions,
        "owners": case.owners,
    }
    unknown = set(requirements) - set(facts)
    if unknown:
        raise ValueError(f"unknown backend requirement(s): {sorted(unknown)}")
    return all(facts[name] == wanted for name, wanted in requirements.items())
