"""LMDBBackend beyond the shared contract: processes, threads, map growth, purge."""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import threading
import time
from pathlib import Path

import pytest

from tests.support.backends import assert_store_round_trip, exercise_async_twins
from tests.support.contract import FakeClock
from websession.errors import StoreUnavailable

lmdb_backend = pytest.importorskip("websession.backends.lmdb")
LMDBBackend = lmdb_backend.LMDBBackend


def _increment(backend: LMDBBackend, key: str, times: int) -> None:
    """Optimistic read-modify-write: retry until if_version succeeds."""
    for _ in range(times):
        while True:
            record = backend.get(key)
            assert record is not None
            value = int(record.data) + 1
            if backend.set(key, str(value).encode(), 600, if_version=record.version) is not None:
                break


def _worker(path: str, key: str, times: int, bulk: int) -> None:
    backend = LMDBBackend(path, map_size=1 << 16)
    _increment(backend, key, times)
    for i in range(bulk):  # enough to make some process grow the shared map
        backend.set(f"{os.getpid()}-{i}", b"x" * 512, 600)
    backend.close()


def test_processes_update_one_record_atomically(tmp_path: Path) -> None:
    path = str(tmp_path / "env")
    backend = LMDBBackend(path, map_size=1 << 16)
    backend.set("counter", b"0", 600)
    ctx = multiprocessing.get_context("spawn")
    procs = [ctx.Process(target=_worker, args=(path, "counter", 50, 200)) for _ in range(4)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(120)
        assert p.exitcode == 0
    record = backend.get("counter")
    assert record is not None
    assert record.data == b"200"  # no lost update across 4 processes
    assert record.version == 201
    assert backend.count() == 1 + 4 * 200
    # the other processes grew the map; this process adopts the new size and keeps working
    assert backend.set("after", b"y" * 4096, 600) == 1
    assert backend.get("after").data == b"y" * 4096
    backend.close()


def test_threads_update_one_record_atomically(tmp_path: Path) -> None:
    backend = LMDBBackend(tmp_path / "env")
    backend.set("counter", b"0", 600)
    threads = [
        threading.Thread(target=_increment, args=(backend, "counter", 100)) for _ in range(8)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert backend.get("counter").data == b"800"
    backend.close()


def test_forked_child_opens_its_own_environment(tmp_path: Path) -> None:
    if not hasattr(os, "fork"):
        pytest.skip("no fork")
    backend = LMDBBackend(tmp_path / "env")
    backend.set("parent", b"p", 600)
    ctx = multiprocessing.get_context("fork")
    proc = ctx.Process(target=lambda: backend.set("child", b"c", 600))
    proc.start()
    proc.join(30)
    assert proc.exitcode == 0
    assert backend.get("child").data == b"c"
    assert backend.get("parent").data == b"p"
    backend.close()


def test_map_grows_instead_of_failing(tmp_path: Path) -> None:
    backend = LMDBBackend(tmp_path / "env", map_size=32 * 1024)
    start = backend.map_size()
    for i in range(500):
        assert backend.set(f"k{i}", bytes([i % 256]) * 2000, 600) == 1
    assert backend.map_size() > start
    assert all(backend.get(f"k{i}").data == bytes([i % 256]) * 2000 for i in range(500))
    backend.close()


def test_map_growth_stops_at_max_map_size(tmp_path: Path) -> None:
    backend = LMDBBackend(tmp_path / "env", map_size=32 * 1024, max_map_size=256 * 1024)

    def fill() -> None:
        for i in range(1000):
            backend.set(f"k{i}", b"z" * 2000, 600)

    with pytest.raises(StoreUnavailable, match="full"):
        fill()
    assert backend.map_size() == 256 * 1024
    assert backend.get("k0") is not None  # what was written is still there
    backend.close()


def test_purge_in_batches_keeps_live_records(tmp_path: Path) -> None:
    clock = FakeClock(1_700_000_000.0)
    backend = LMDBBackend(tmp_path / "env", purge_batch=7, clock=clock)
    for i in range(50):
        backend.set(f"dead{i:02}", b"d", 10)
    for i in range(10):
        backend.set(f"live{i:02}", b"l", 1000)
    clock.now += 11
    assert backend.get("dead00") is None  # expired: filtered on read, still stored
    assert backend.count() == 60
    assert backend.purge() == 50
    assert backend.count() == 10
    assert backend.purge() == 0
    assert all(backend.get(f"live{i:02}").data == b"l" for i in range(10))
    backend.close()


def test_purge_counts_exactly_when_the_last_key_has_expired(tmp_path: Path) -> None:
    """The last record in key order is expired: the purge counts what it deleted, not one
    more (py-lmdb's cursor delete() answers True past the last record)."""
    clock = FakeClock(1_700_000_000.0)
    backend = LMDBBackend(tmp_path / "env", purge_batch=4, clock=clock)
    for i in range(3):
        backend.set(f"a-live{i}", b"l", 1000)
        backend.index("alice", f"a-live{i}", b"entry", 1000)
    for i in range(9):
        backend.set(f"z-dead{i}", b"d", 10)  # the last keys, in batches of 4, 4 and 1
        backend.index("alice", f"z-dead{i}", b"entry", 10)
    clock.now += 11
    reports: list[int] = []
    assert backend.purge(lambda removed, _fraction: reports.append(removed)) == 9
    assert reports[-1] == 9
    assert backend.count() == 3
    assert sorted(key for key, _ in backend.owned("alice")) == ["a-live0", "a-live1", "a-live2"]
    assert backend.purge_owners() == 0
    backend.close()


def test_purge_while_reading_and_writing_does_not_hang(tmp_path: Path) -> None:
    """Go's boltstore deadlocked deleting in a write txn nested in a read txn (issue #6)."""
    backend = LMDBBackend(tmp_path / "env", purge_batch=10, map_size=1 << 16)
    for i in range(300):
        backend.set(f"k{i}", b"v" * 100, 1)
    stop = time.monotonic() + 3
    errors: list[BaseException] = []

    def churn(n: int) -> None:
        try:
            while time.monotonic() < stop:
                backend.get(f"k{n}")
                backend.set(f"new{n}", b"w" * 300, 600)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=churn, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    time.sleep(1.2)
    removed = 0
    while time.monotonic() < stop:
        removed += backend.purge()
    for t in threads:
        t.join(30)
        assert not t.is_alive()
    assert not errors
    assert removed == 300
    backend.close()


def test_opening_a_database_beside_write_transactions_does_not_hang(tmp_path: Path) -> None:
    """The first use of the owner index opens a second database while other threads write:
    open_db's own write transaction and theirs used to wait for each other forever."""
    backend = LMDBBackend(tmp_path / "env")
    stop = time.monotonic() + 2
    errors: list[BaseException] = []

    def write(n: int) -> None:
        try:
            i = 0
            while time.monotonic() < stop:
                backend.set(f"w{n}x{i}", b"v" * 100, 600)
                i += 1
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    def index(n: int) -> None:
        try:
            i = 0
            while time.monotonic() < stop:
                backend.index(f"owner{n}", f"w{n}x{i}", b"entry", 600)
                i += 1
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(n,), daemon=True) for n in range(3)]
    threads += [threading.Thread(target=index, args=(n,), daemon=True) for n in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(20)
    assert not any(t.is_alive() for t in threads), "threads hung in LMDB"
    assert not errors
    assert backend.owned("owner0")
    backend.close()


def test_touch_extends_life(tmp_path: Path) -> None:
    clock = FakeClock(1_700_000_000.0)
    backend = LMDBBackend(tmp_path / "env", clock=clock)
    backend.set("k", b"v", 10)
    clock.now += 9
    record = backend.get("k", touch=10)
    assert record is not None
    assert record.expires_at == clock.now + 10
    assert record.version == 1  # a touch is not a new version
    clock.now += 9
    assert backend.get("k") is not None
    clock.now += 2
    assert backend.get("k", touch=10) is None
    backend.close()


def test_backends_on_one_path_share_the_environment(tmp_path: Path) -> None:
    a = LMDBBackend(tmp_path / "env")
    b = LMDBBackend(tmp_path / "env")
    a.set("k", b"v", 600)
    assert b.get("k").data == b"v"
    a.close()
    assert b.get("k").data == b"v"  # closing one does not close the other's environment
    b.close()
    with pytest.raises(StoreUnavailable):
        b.get("k")
    c = LMDBBackend(tmp_path / "env")
    assert c.get("k").data == b"v"  # durable
    c.close()


def test_named_databases_are_separate(tmp_path: Path) -> None:
    a = LMDBBackend(tmp_path / "env", database="one")
    b = LMDBBackend(tmp_path / "env", database="two")
    a.set("k", b"a", 600)
    assert b.get("k") is None
    a.close()
    b.close()


def test_keys_are_checked(tmp_path: Path) -> None:
    backend = LMDBBackend(tmp_path / "env")
    for bad in ("", "a/b", "x" * 129, "é", "a b"):
        with pytest.raises(ValueError):
            backend.set(bad, b"v", 60)
    backend.close()


def test_async_twins(tmp_path: Path) -> None:
    backend = LMDBBackend(tmp_path / "env")

    async def go() -> None:
        await exercise_async_twins(backend)
        await backend.aclose()

    asyncio.run(go())


def test_open_store_url(tmp_path: Path) -> None:
    from websession import open_store

    store = open_store(
        f"lmdb://{tmp_path}/env?map_size=65536", "gNZYYnlSykuiUlofXS4fm2UcrM3mvrI4Lfqg6Y86TpI"
    )
    assert_store_round_trip(store)
    assert isinstance(store.backend, LMDBBackend)
    store.backend.close()
