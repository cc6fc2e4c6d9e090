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
from .base import AsyncFromSync
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
                conn.execute("PRAGMA journal_mode=WAL")
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

    # -- the Backend protocol: get, set, delete and purge come from ReturningSQL ---------------
    def close(self) -> None:
        with self._lock:
            conn, self._conn = self._conn, None
            if conn is not None:
                conn.close()
                if self.path == ":memory:":  # the table went with the connection
                    self._ready = not self._create_schema
