"""SQLiteBackend: records in an SQLite database file, with the standard library's ``sqlite3``.

WAL mode (readers never wait for the writer), ``busy_timeout`` (processes sharing the file wait
for each other's write lock instead of failing), and one statement per operation:
``INSERT ... ON CONFLICT DO UPDATE ... RETURNING`` (SQLite 3.35 or newer). One connection per
backend object, shared by threads under a lock; the async methods run it in a worker thread.
Expiry follows the backend's clock (``clock=``), so tests need not sleep.
"""

from __future__ import annotations

import asyncio
import os
import threading
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qsl, unquote

from ..errors import StoreUnavailable
from .base import AsyncFromSync, PurgeProgress
from .sqlbase import (
    DEFAULT_TABLE,
    FETCH_ALL,
    ReturningSQL,
    coerce,
    missing_client,
    owner_table,
    validate_table,
)

try:
    import sqlite3
except ImportError as _exc:  # pragma: no cover - Python built without sqlite3
    raise missing_client("sqlite", _exc) from _exc

__all__ = ["SQLiteBackend"]

#: PRAGMA cache_size while a purge runs (64 MB) and after it (SQLite's default, 2 MB)
_PURGE_CACHE = -65536
_CACHE = -2000
#: PRAGMA auto_vacuum's value for INCREMENTAL
_INCREMENTAL = 2
#: bytes the WAL file is cut back to after a checkpoint
_WAL_LIMIT = 64 * 1024 * 1024
#: one incremental vacuum step: 512 free pages (2 MB of 4 KB pages) back to the file system
_VACUUM_STEP = "PRAGMA incremental_vacuum(512);"

#: the messages of sqlite3.OperationalError that mean "the database cannot be used right now"
_UNAVAILABLE = ("locked", "busy", "unable to open", "disk i/o", "readonly", "database or disk")


class SQLiteBackend(ReturningSQL, AsyncFromSync):
    """Session records in an SQLite table.

    Args:
        path: the database file (created if missing), or ``":memory:"`` for a private
            in-memory database.
        table: the table name, ``websession_sessions`` by default.
        create_schema: create the table and its index on first use.
        busy_timeout: seconds to wait for another process's write lock.
        synchronous: SQLite's ``PRAGMA synchronous`` (``NORMAL`` is durable in WAL mode except
            for the last transactions before a power loss; ``FULL`` for those too).
        clock: the time source that decides expiry.
    """

    def __init__(
        self,
        path: str | os.PathLike[str] = ":memory:",
        *,
        table: str = DEFAULT_TABLE,
        create_schema: bool = True,
        busy_timeout: float = 5.0,
        synchronous: str = "NORMAL",
        clock: Callable[[], float] | None = None,
    ) -> None:
        if sqlite3.sqlite_version_info < (3, 35, 0):  # pragma: no cover - old systems
            raise RuntimeError(
                f"SQLiteBackend needs SQLite 3.35 or newer (RETURNING); this is "
                f"{sqlite3.sqlite_version}: use SQLAlchemyBackend instead"
            )
        validate_table(table)
        if "." in table:
            raise ValueError("an SQLite table name cannot have a schema")
        if synchronous.upper() not in ("OFF", "NORMAL", "FULL", "EXTRA"):
            raise ValueError(f"invalid synchronous mode {synchronous!r}")
        self.path = os.fspath(path)
        self.table = table
        self.busy_timeout = busy_timeout
        self._synchronous = synchronous.upper()
        self._clock = clock if clock is not None else time.time
        self._create_schema = create_schema
        self._ready = not create_schema
        self._lock = threading.Lock()
        self._conn: sqlite3.Connection | None = None

        t = f'"{table}"'
        owners = owner_table(table)
        o = f'"{owners}"'
        self._ddl = (
            f"CREATE TABLE IF NOT EXISTS {t} (key TEXT PRIMARY KEY NOT NULL, "
            "data BLOB NOT NULL, expires_at REAL NOT NULL, version INTEGER NOT NULL DEFAULT 1)",
            f'CREATE INDEX IF NOT EXISTS "{table}_expires_at_idx" ON {t} (expires_at)',
            f"CREATE TABLE IF NOT EXISTS {o} (owner TEXT NOT NULL, key TEXT NOT NULL, "
            "entry BLOB NOT NULL, expires_at REAL NOT NULL, PRIMARY KEY (owner, key))",
            f'CREATE INDEX IF NOT EXISTS "{owners}_expires_at_idx" ON {o} (expires_at)',
        )
        self._build_statements(t, "?")
        self._build_owner_upsert(o, "?")

    @classmethod
    def from_url(cls, url: str, **options: Any) -> SQLiteBackend:
        """A backend for an SQLite URL, with SQLAlchemy's path rules.

        ``sqlite:///relative.db``, ``sqlite:////absolute.db``; ``sqlite://``,
        ``sqlite://:memory:`` and ``sqlite:///:memory:`` are in memory. Query parameters:
        ``table``, ``create_schema``, ``busy_timeout``, ``synchronous``.
        """
        query = url.partition("?")[2]
        params = {k: coerce(v) for k, v in parse_qsl(query, keep_blank_values=True)}
        return cls(cls.url_path(url), **{**params, **options})

    @staticmethod
    def url_path(url: str) -> str:
        """The database file an SQLite URL names (``":memory:"`` for an in-memory one)."""
        scheme, sep, rest = url.partition("://")
        if not sep or scheme.lower() != "sqlite":
            raise ValueError(f"not an sqlite:// URL: {url!r}")
        location = rest.partition("?")[0]
        if location in ("", ":memory:", "/:memory:", "/"):
            return ":memory:"
        if location.startswith("/"):
            return unquote(location[1:])
        raise ValueError(
            f"an SQLite URL is sqlite:///relative.db or sqlite:////absolute.db, not {url!r}"
        )

    def __repr__(self) -> str:
        return f"SQLiteBackend({self.path!r}, table={self.table!r})"

    # -- the connection ------------------------------------------------------------------------
    def _open(self) -> sqlite3.Connection:
        conn = sqlite3.connect(
            self.path,
            timeout=self.busy_timeout,
            isolation_level=None,  # autocommit: each statement is its own transaction
            check_same_thread=False,  # shared by threads under self._lock
            cached_statements=64,
        )
        try:
            if self.path != ":memory:":
                if conn.execute("PRAGMA page_count").fetchone()[0] == 0:
                    # a new database: purges give their pages back to the file system (set
                    # before the first table; an existing file changes only with vacuum())
                    conn.execute("PRAGMA auto_vacuum=INCREMENTAL")
                conn.execute("PRAGMA journal_mode=WAL")
                # after a big purge the WAL file shrinks back at the next checkpoint
                conn.execute(f"PRAGMA journal_size_limit={_WAL_LIMIT}")
            conn.execute(f"PRAGMA synchronous={self._synchronous}")
        except BaseException:
            conn.close()
            raise
        return conn

    def _run(self, query: str, params: tuple[Any, ...], fetch: Any, retry: bool = True) -> Any:
        # one connection, opened again on the next call after close(): nothing to retry
        with self._lock:
            try:
                conn = self._conn
                if conn is None:
                    conn = self._conn = self._open()
                if not self._ready:
                    for statement in self._ddl:
                        conn.execute(statement)
                    self._ready = True
                if query is _VACUUM_STEP:
                    # sqlite3's execute steps this pragma once, which frees one page;
                    # executescript steps it to its end
                    conn.executescript(query)
                    return None
                cursor = conn.execute(query, params)
                if fetch:
                    # fetchall steps the statement to its end: with RETURNING, the write (and
                    # its lock) is only committed then
                    rows = cursor.fetchall()
                    if fetch == FETCH_ALL:
                        return rows
                    return rows[0] if rows else None
                return cursor.rowcount
            except sqlite3.OperationalError as exc:
                message = str(exc).lower()
                if any(reason in message for reason in _UNAVAILABLE):
                    raise StoreUnavailable(f"SQLite database {self.path!r}: {exc}") from exc
                raise

    # -- schema (create_schema, drop_schema from SQLBackend) ------------------------------------
    async def acreate_schema(self) -> None:
        """Async twin of :meth:`create_schema`."""
        await asyncio.to_thread(self.create_schema)

    async def adrop_schema(self) -> None:
        """Async twin of :meth:`drop_schema`."""
        await asyncio.to_thread(self.drop_schema)

    # -- purge: ReturningSQL's batches, then the space back --------------------------------------
    #: seconds between two purge batches. A save in another process waiting for a batch's
    #: write lock polls it (SQLite's busy handler) at intervals growing to 25 ms in the first
    #: 128 ms; a shorter pause could fall between two polls and let the purge starve it.
    purge_pause = 0.025

    def purge(self, progress: PurgeProgress | None = None) -> int:
        """Delete expired records in short batches, then give the freed pages back.

        Each batch is one short write transaction with a pause after it, so loads and saves
        (of this process or of others sharing the file) wait milliseconds, not the whole purge.
        A database made by this backend has incremental auto-vacuum: the freed pages go back
        to the file system in steps of 4 MB. A database made before has no such mode: run
        :meth:`vacuum` once (at a quiet time: it rewrites the whole file under a lock).
        """
        # the purge's random deletes in the key index touch many pages: a larger page cache
        # for the purge keeps each batch short
        self._run(f"PRAGMA cache_size={_PURGE_CACHE}", (), False)
        try:
            removed = super().purge(progress)
            if removed and self.path != ":memory:":
                self._vacuum_incrementally()
        finally:
            self._run(f"PRAGMA cache_size={_CACHE}", (), False)
        return removed

    def _vacuum_incrementally(self) -> None:
        if int(self._run("PRAGMA auto_vacuum", (), True)[0]) != _INCREMENTAL:
            return
        while int(self._run("PRAGMA freelist_count", (), True)[0]) > 0:
            self._run(_VACUUM_STEP, (), False)
            time.sleep(self.purge_pause)

    def vacuum(self) -> None:
        """Rebuild the database file to its smallest size, with incremental auto-vacuum.

        Needed once for a database made before this backend turned incremental auto-vacuum on
        (or by another program): after it, every purge gives the space back by itself. It
        rewrites the whole file and holds the write lock meanwhile: saves wait (up to
        ``busy_timeout``), so run it when the site is quiet.
        """
        if self.path == ":memory:":
            return
        self._run("PRAGMA auto_vacuum=INCREMENTAL", (), False)
        self._run("VACUUM", (), False)

    # -- the Backend protocol: get, set and delete come from ReturningSQL -----------------------
    def close(self) -> None:
        with self._lock:
            conn, self._conn = self._conn, None
            if conn is not None:
                conn.close()
                if self.path == ":memory:":  # the table went with the connection
                    self._ready = not self._create_schema
