"""Purge at scale: fill a store with N expired sessions, purge it while a loop loads and saves
live sessions, and measure both. Shared by ``tests/load/test_purge.py`` (a small N) and
``benchmarks/purge.py`` (1M).

The expired records are written in bulk (SQL: one transaction, ``COPY`` on PostgreSQL; other
stores: their own ``set`` with the backend's clock turned back an hour) under random 43-char
keys like the store's id hashes. The concurrent loop runs in a thread on its own backend
object (its own connection, as another worker process would have; the memory backend is
shared, being in-process), doing ``get`` + ``set`` of one of 50 live sessions per iteration
with a 1 ms pause: a busy site's request stream, not a tight loop that would itself hold the
database's write lock most of the time.
"""

from __future__ import annotations

import os
import secrets
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

#: the stores this knows how to fill and measure
KINDS = ("memory", "file", "sqlite", "lmdb", "postgresql", "mysql")
#: network stores filled one ``set`` at a time (so measured at smaller N): ``url`` is the
#: MongoDB URL or DynamoDB endpoint; the Google emulators are found by their environment
#: variables
REMOTE_KINDS = ("mongodb", "dynamodb", "datastore", "firestore")
LIVE = 50
DATA = os.urandom(300)  # about what a small sealed session weighs


class Clock:
    """A clock that can be turned back, shared by the backends of one run."""

    def __init__(self) -> None:
        self.offset = 0.0

    def __call__(self) -> float:
        return time.time() + self.offset


def _key() -> str:
    return secrets.token_urlsafe(32)  # 43 chars of [A-Za-z0-9_-], as the store's id hashes


@dataclass
class Result:
    kind: str
    n: int
    removed: int = 0
    seconds: float = 0.0
    cpu_seconds: float = 0.0
    max_latency: float = 0.0
    p99_latency: float = 0.0
    loop_ops: int = 0
    loop_errors: list[str] = field(default_factory=list)
    batches: list[int] = field(default_factory=list)
    live_after: int = 0
    bytes_before: int | None = None
    bytes_after: int | None = None


def make_factory(kind: str, where: str, clock: Clock, url: str | None = None) -> Callable[[], Any]:
    """A function making backends of ``kind`` over one database (``where``: a directory for
    the local stores; ``url`` for the servers)."""
    if kind == "memory":
        from websession.backends.memory import MemoryBackend

        shared = MemoryBackend(clock=clock)
        return lambda: shared
    if kind == "file":
        from websession.backends.filesystem import FilesystemBackend

        return lambda: FilesystemBackend(os.path.join(where, "files"), clock=clock)
    if kind == "sqlite":
        from websession.backends.sqlite import SQLiteBackend

        return lambda: SQLiteBackend(os.path.join(where, "sessions.db"), clock=clock)
    if kind == "lmdb":
        from websession.backends.lmdb import LMDBBackend

        return lambda: LMDBBackend(os.path.join(where, "lmdb"), clock=clock, map_size=2 << 30)
    if kind == "postgresql":
        from websession.backends.postgresql import PostgreSQLBackend

        assert url is not None
        table = "purge_" + secrets.token_hex(4)
        return lambda: PostgreSQLBackend.from_url(url, table=table, clock=clock)
    if kind == "mysql":
        from websession.backends.mysql import MySQLBackend

        assert url is not None
        table = "purge_" + secrets.token_hex(4)
        return lambda: MySQLBackend.from_url(url, table=table, clock=clock)
    name = "purge_" + secrets.token_hex(4)
    if kind == "mongodb":
        from websession.backends.mongodb import MongoBackend

        assert url is not None
        return lambda: MongoBackend.from_url(url, collection=name, clock=clock)
    if kind == "dynamodb":
        from websession.backends.dynamodb import DynamoDBBackend

        assert url is not None
        return lambda: DynamoDBBackend(
            name, endpoint_url=url, region="us-east-1", read_timeout=10.0, clock=clock
        )
    if kind == "datastore":
        from websession.backends.datastore import DatastoreBackend

        return lambda: DatastoreBackend(
            "websession-purge", namespace=name, timeout=10.0, clock=clock
        )
    if kind == "firestore":
        from websession.backends.firestore import FirestoreBackend

        return lambda: FirestoreBackend(
            "websession-purge", collection=name, timeout=10.0, clock=clock
        )
    raise ValueError(f"unknown store kind {kind!r}")


def drop(kind: str, backend: Any) -> None:
    """Remove what a run of a network store left on its server."""
    if kind in ("postgresql", "mysql"):
        backend.drop_schema()
    elif kind == "dynamodb":
        backend.drop_table()
    elif kind == "mongodb":
        backend.collection.drop()


def fill_expired(kind: str, backend: Any, n: int, clock: Clock, where: str) -> None:
    """Write ``n`` records that expired an hour ago, in bulk."""
    expired_at = clock() - 3600
    chunk = 10_000
    if kind == "sqlite":
        import sqlite3

        backend.create_schema()
        conn = sqlite3.connect(backend.path, isolation_level=None)
        try:
            for start in range(0, n, chunk):
                rows = [(_key(), DATA, expired_at) for _ in range(min(chunk, n - start))]
                conn.execute("BEGIN")
                conn.executemany(f'INSERT INTO "{backend.table}" VALUES (?, ?, ?, 1)', rows)
                conn.execute("COMMIT")
        finally:
            conn.close()
        return
    if kind == "postgresql":
        import psycopg

        backend.create_schema()
        with psycopg.connect(backend.conninfo, autocommit=True) as conn:
            for start in range(0, n, chunk * 10):
                with conn.cursor().copy(
                    f'COPY "{backend.table}" (key, data, expires_at, version) FROM STDIN'
                ) as copy:
                    for _ in range(min(chunk * 10, n - start)):
                        copy.write_row((_key(), DATA, expired_at, 1))
        return
    if kind == "mysql":
        backend.create_schema()
        conn, _ = backend._pool.acquire()
        try:
            with conn.cursor() as cursor:
                for start in range(0, n, 2000):
                    rows = [(_key(), DATA, expired_at) for _ in range(min(2000, n - start))]
                    cursor.executemany(
                        f"INSERT INTO `{backend.table}` (`key`, `data`, `expires_at`, `version`) "
                        "VALUES (%s, %s, %s, 1)",
                        rows,
                    )
        finally:
            backend._pool.release(conn)
        return
    # the store's own writes, an hour ago, with a minute to live. MongoDB and DynamoDB also
    # expire records by real time on the server (nx-27017 when the collection is read,
    # DynamoDB Local's sweep): for them the whole run is a day ahead, so only purge removes.
    ahead = 86400.0 if kind in ("mongodb", "dynamodb") else 0.0
    clock.offset = ahead - 3600
    try:
        for _ in range(n):
            backend.set(_key(), DATA, 60)
    finally:
        clock.offset = ahead


def _size(kind: str, where: str) -> int | None:
    if kind == "sqlite":
        path = os.path.join(where, "sessions.db")
        return sum(os.path.getsize(p) for p in (path, path + "-wal") if os.path.exists(p))
    if kind in ("file", "lmdb"):
        total = 0
        for root, _dirs, files in os.walk(os.path.join(where, kind if kind == "lmdb" else "files")):
            for name in files:
                total += os.stat(os.path.join(root, name)).st_blocks * 512
        return total
    return None


def measure(
    kind: str,
    n: int,
    *,
    where: str | None = None,
    url: str | None = None,
    batch: int | None = None,
) -> Result:
    """Fill ``n`` expired records, purge them under a concurrent load/save loop, measure.

    ``batch`` sets the purge's first batch (``purge_batch``) where the backend has one."""
    with tempfile.TemporaryDirectory(prefix="purge-", dir=where) as tmp:
        return _measure(kind, n, tmp, url, batch)


def _measure(kind: str, n: int, where: str, url: str | None, batch: int | None) -> Result:
    clock = Clock()
    factory = make_factory(kind, where, clock, url)
    purger, other = factory(), factory()
    if batch is not None:
        purger.purge_batch = batch
    result = Result(kind, n)
    try:
        fill_expired(kind, purger, n, clock, where)
        live = [_key() for _ in range(LIVE)]
        for key in live:
            other.set(key, DATA, 3600)
        if kind == "sqlite":  # what the purge is to give back: the file after a checkpoint
            purger._run("PRAGMA wal_checkpoint(TRUNCATE)", (), True)
        # the fill's dirty pages on disk (a million session files: 4 GB), as the expired
        # sessions of a store in steady state long are: the purge must not race their writeback
        os.sync()
        result.bytes_before = _size(kind, where)

        stop = threading.Event()
        latencies: list[float] = []

        def loop() -> None:
            i = 0
            while not stop.is_set():
                key = live[i % LIVE]
                i += 1
                started = time.perf_counter()
                try:
                    if other.get(key) is None:
                        result.loop_errors.append(f"live session {key} lost")
                    other.set(key, DATA, 3600)
                except Exception as exc:  # a StoreUnavailable is a 503: count it
                    result.loop_errors.append(repr(exc))
                latencies.append(time.perf_counter() - started)
                time.sleep(0.001)

        thread = threading.Thread(target=loop, daemon=True)
        thread.start()
        time.sleep(0.2)  # the loop is running before the purge starts
        previous = [0]

        def progress(removed: int, fraction: float | None) -> None:
            result.batches.append(removed - previous[0])
            previous[0] = removed

        cpu, started = time.process_time(), time.perf_counter()
        result.removed = purger.purge(progress)
        result.seconds = time.perf_counter() - started
        result.cpu_seconds = time.process_time() - cpu
        time.sleep(0.1)
        stop.set()
        thread.join()
        result.loop_ops = len(latencies)
        if latencies:
            ordered = sorted(latencies)
            result.max_latency = ordered[-1]
            result.p99_latency = ordered[int(len(ordered) * 0.99) - 1 if len(ordered) > 1 else 0]
        result.live_after = sum(other.get(key) is not None for key in live)
        if kind == "sqlite":
            purger._run("PRAGMA wal_checkpoint(TRUNCATE)", (), True)
        result.bytes_after = _size(kind, where)
    finally:
        drop(kind, purger)
        for backend in {id(purger): purger, id(other): other}.values():
            backend.close()
    return result


def describe(result: Result) -> str:
    size = ""
    if result.bytes_before is not None and result.bytes_after is not None:
        size = f", {result.bytes_before / 1e6:.1f} MB -> {result.bytes_after / 1e6:.1f} MB"
    return (
        f"{result.kind}: purged {result.removed:,} of {result.n:,} in {result.seconds:.2f} s "
        f"({result.cpu_seconds:.2f} s CPU, {len(result.batches)} batches, largest "
        f"{max(result.batches, default=0):,}); concurrent load+save: {result.loop_ops:,} ops, "
        f"max {result.max_latency * 1000:.1f} ms, p99 {result.p99_latency * 1000:.1f} ms, "
        f"{len(result.loop_errors)} errors{size}"
    )
