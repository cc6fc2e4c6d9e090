"""What the SQL backends share: table names, URL options, small connection pools.

Every SQL backend keeps one table::

    key         VARCHAR(128) PRIMARY KEY    -- the store's hashed id (ASCII, case-sensitive)
    data        BLOB                        -- the sealed record
    expires_at  DOUBLE                      -- seconds since the epoch, indexed
    version     BIGINT                      -- bumped on every write (optimistic concurrency)

and, for "log out everywhere" (:class:`~websession.backends.base.OwnerIndex`), a second one
named ``<table>_owners``, created with the first (``CREATE TABLE IF NOT EXISTS``, so an
existing deployment gets it on its next start, its sessions table untouched)::

    owner       VARCHAR(64)                 -- the store's hash of the owner id
    key         VARCHAR(128)                -- a record key; PRIMARY KEY (owner, key)
    entry       BLOB                        -- what sessions_for lists (created, last save...)
    expires_at  DOUBLE                      -- indexed; purge() removes expired entries

The primary key (owner first) is the owner index: listing an owner's sessions is one range
read. Entries are rows of their own, not columns of the session row, because a
``CookieStore``'s revocations backend indexes sessions that have no row there.

``expires_at`` is compared with the backend's clock (``time.time`` unless ``clock=`` is given),
passed as a parameter: every statement carries its own "now", so an injected clock works the
same on every database, and no statement depends on the server's time zone.

The pools here are deliberately small: a LIFO list of idle connections. A connection is taken
(or opened, failing fast when the server is down), used for one statement and put back; one
that failed with a connection error is closed and every idle one is dropped with it (after a
server restart they are all dead), so the next call reconnects.

What the backends do the same way lives here once: :class:`SQLBackend` (schema and delete over
a backend's ``_run``), :class:`ReturningSQL` (the statements and the sync ``get``/``set``/``purge``
of the databases with ``UPDATE ... RETURNING``: PostgreSQL, SQLite), :class:`PooledSQL` (running
one statement on a pooled connection, sync and async: PostgreSQL, MySQL) and
:func:`mysql_version` (the version MySQL reports through ``LAST_INSERT_ID``).
"""

# The SQL is built once from a table name checked by validate_table (identifiers only).
# ruff: noqa: S608
from __future__ import annotations

import asyncio
import contextlib
import re
import time
from collections.abc import Awaitable, Callable
from typing import Any, ClassVar, Generic, TypeVar
from urllib.parse import parse_qsl, urlencode

from ..errors import StoreUnavailable
from ._errors import unavailable
from .base import (
    PURGE_BATCH,
    PURGE_PAUSE,
    PurgeProgress,
    Record,
    apurge_in_batches,
    purge_in_batches,
)

__all__ = [
    "DEFAULT_TABLE",
    "FETCH_ALL",
    "AsyncPool",
    "PooledSQL",
    "ReturningSQL",
    "SQLBackend",
    "SyncPool",
    "coerce",
    "missing_client",
    "mysql_version",
    "owner_table",
    "row_record",
    "split_options",
    "validate_table",
]

C = TypeVar("C")

#: the table every SQL backend uses unless told otherwise
DEFAULT_TABLE = "websession_sessions"

_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,62}")
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


def validate_table(name: str) -> tuple[str, ...]:
    """The parts of ``name`` (``table`` or ``schema.table``), each a plain SQL identifier."""
    parts = tuple(name.split("."))
    if not 1 <= len(parts) <= 2 or not all(_IDENTIFIER.fullmatch(p) for p in parts):
        raise ValueError(
            f"invalid table name {name!r}: use letters, digits and '_' (optionally 'schema.table')"
        )
    return parts


def missing_client(extra: str, exc: ImportError) -> ImportError:
    """The ImportError raised when a backend's client library is not installed."""
    return ImportError(
        f"this backend needs a client library that is not installed ({exc}): "
        f"pip install 'websession[{extra}]'"
    )


def coerce(value: str) -> Any:
    """A URL query value as a bool, int or float where it looks like one."""
    low = value.lower()
    if low in _TRUE:
        return True
    if low in _FALSE:
        return False
    for kind in (int, float):
        try:
            return kind(value)
        except ValueError:
            pass
    return value


def split_options(url: str, names: tuple[str, ...]) -> tuple[str, dict[str, Any]]:
    """Remove websession's own parameters ``names`` from ``url``'s query (coerced).

    Plain string surgery: ``urlunsplit`` would turn ``sqlite:////abs.db`` into ``sqlite://abs.db``.
    """
    base, sep, query = url.partition("?")
    if not sep:
        return url, {}
    kept: list[tuple[str, str]] = []
    taken: dict[str, Any] = {}
    for key, value in parse_qsl(query, keep_blank_values=True):
        if key in names:
            taken[key] = coerce(value)
        else:
            kept.append((key, value))
    if not taken:
        return url, {}
    return (base + "?" + urlencode(kept) if kept else base), taken


class SyncPool(Generic[C]):
    """Idle connections for threads: ``acquire`` one, ``release`` or ``discard`` it."""

    def __init__(
        self, connect: Callable[[], C], close: Callable[[C], None], *, max_idle: int = 10
    ) -> None:
        self._connect = connect
        self._close = close
        self.max_idle = max_idle
        self._idle: list[C] = []
        self.closed = False

    def acquire(self) -> tuple[C, bool]:
        """A connection, and whether it was reused (False: it was just opened)."""
        try:
            return self._idle.pop(), True  # list.pop is atomic: no lock needed
        except IndexError:
            return self._connect(), False

    def release(self, conn: C) -> None:
        if self.closed or len(self._idle) >= self.max_idle:
            self._quietly_close(conn)
        else:
            self._idle.append(conn)

    def discard(self, conn: C) -> None:
        """Close ``conn`` after a connection error, and every idle one with it."""
        self._quietly_close(conn)
        self.clear()

    def clear(self) -> None:
        while True:
            try:
                conn = self._idle.pop()
            except IndexError:
                return
            self._quietly_close(conn)

    def close(self) -> None:
        self.closed = True
        self.clear()

    def _quietly_close(self, conn: C) -> None:
        with contextlib.suppress(Exception):  # closing a broken connection may fail
            self._close(conn)


class AsyncPool(Generic[C]):
    """Idle connections for one event loop.

    Async connections belong to the loop that opened them: when the pool is used from another
    loop (a new ``asyncio.run``), the old loop's connections are dropped with ``abandon``, a
    synchronous close that needs no loop.
    """

    def __init__(
        self,
        connect: Callable[[], Awaitable[C]],
        close: Callable[[C], Awaitable[None]],
        abandon: Callable[[C], None],
        *,
        max_idle: int = 10,
    ) -> None:
        self._connect = connect
        self._close = close
        self._abandon = abandon
        self.max_idle = max_idle
        self._idle: list[C] = []
        self._loop: asyncio.AbstractEventLoop | None = None
        self.closed = False

    async def acquire(self) -> tuple[C, bool]:
        loop = asyncio.get_running_loop()
        if loop is not self._loop:
            self.abandon_all()
            self._loop = loop
        if self._idle:
            return self._idle.pop(), True
        return await self._connect(), False

    async def release(self, conn: C) -> None:
        if self.closed or len(self._idle) >= self.max_idle:
            await self._quietly_close(conn)
        else:
            self._idle.append(conn)

    async def discard(self, conn: C) -> None:
        self._quietly_abandon(conn)
        self.abandon_all()

    async def aclose(self) -> None:
        self.closed = True
        idle, self._idle = self._idle, []
        for conn in idle:
            await self._quietly_close(conn)

    def abandon_all(self) -> None:
        """Drop every idle connection without a loop (sync close, or a loop change)."""
        idle, self._idle = self._idle, []
        for conn in idle:
            self._quietly_abandon(conn)

    def close(self) -> None:
        self.closed = True
        self.abandon_all()

    async def _quietly_close(self, conn: C) -> None:
        try:
            await self._close(conn)
        except Exception:
            self._quietly_abandon(conn)

    def _quietly_abandon(self, conn: C) -> None:
        with contextlib.suppress(Exception):  # best effort: it is unusable anyway
            self._abandon(conn)


def mysql_version(rowcount: int, lastrowid: int) -> int | None:
    """The new version after a MySQL write that bumped it with ``LAST_INSERT_ID(version + 1)``.

    None when no row matched (the write's condition failed); 1 for a row that
    ``INSERT ... ON DUPLICATE KEY UPDATE`` inserted (no ``LAST_INSERT_ID`` was set).
    """
    if rowcount == 1 and not lastrowid:
        return 1
    return int(lastrowid) if rowcount else None


def row_record(row: Any) -> Record:
    """A ``(data, expires_at, version)`` row as a Record, for drivers that may return other
    types (``memoryview``/``bytearray`` data, ``Decimal`` numbers)."""
    return Record(bytes(row[0]), float(row[1]), int(row[2]))


#: ``fetch`` value for ``_run``: every row, not only the first
FETCH_ALL = "all"


def owner_table(name: str) -> str:
    """The owner index table's name for the sessions table ``name`` (schema kept)."""
    return name + "_owners"


class SQLBackend:
    """Schema, delete and the owner index, the same on every SQL backend over its own ``_run``.

    ``_run(query, params, fetch, retry)`` runs one statement (creating the table first while
    ``_ready`` is false) and returns its first row (``fetch``), every row
    (``fetch=FETCH_ALL``) or the driver's result.
    """

    _ready: bool
    _drop: str
    _q_delete: str
    _clock: Callable[[], float]
    _q_index: str
    _q_owned: str
    _q_prune_owner: str
    _q_unindex: str
    _q_purge_owners: str
    _drop_owners: str

    #: expired rows one purge statement deletes (each its own short transaction), and the
    #: seconds between two: a purge of a million rows never holds the table's locks for long
    purge_batch: int = PURGE_BATCH
    purge_pause: float = PURGE_PAUSE

    def _build_owner_statements(self, o: str, p: str, k: str = "key") -> str:
        """The owner index statements for the quoted table ``o`` (placeholder ``p``, the key
        column quoted as ``k``); returns the head of the upsert, whose tail is the dialect's."""
        self._drop_owners = f"DROP TABLE IF EXISTS {o}"
        self._q_owned = f"SELECT {k}, entry FROM {o} WHERE owner = {p} AND expires_at > {p}"
        self._q_prune_owner = f"DELETE FROM {o} WHERE owner = {p} AND expires_at <= {p}"
        self._q_unindex = f"DELETE FROM {o} WHERE owner = {p} AND {k} = {p}"
        # in bounded batches, as the records (MySQL replaces it: no LIMIT in an IN subquery)
        self._q_purge_owners = (
            f"DELETE FROM {o} WHERE (owner, {k}) IN "
            f"(SELECT owner, {k} FROM {o} WHERE expires_at <= {p} LIMIT {p})"
        )
        head = f"INSERT INTO {o} (owner, {k}, entry, expires_at) VALUES ({p}, {p}, {p}, {p}) "
        return head

    def _run(self, query: str, params: tuple[Any, ...], fetch: Any, retry: bool = True) -> Any:
        raise NotImplementedError

    def create_schema(self) -> None:
        """Create the tables and their indexes now (if they do not exist)."""
        self._ready = False
        self._run("SELECT 1", (), True)

    def drop_schema(self) -> None:
        """Drop the tables (every session is lost); they are created again on next use."""
        self._ready = True
        self._run(self._drop, (), False)
        self._run(self._drop_owners, (), False)
        self._ready = False

    def delete(self, key: str) -> None:
        self._run(self._q_delete, (key,), False)

    # -- the owner index -----------------------------------------------------------------------
    def index(self, owner: str, key: str, entry: bytes, ttl: float) -> None:
        self._run(self._q_index, (owner, key, bytes(entry), self._clock() + ttl), False)

    def owned(self, owner: str) -> list[tuple[str, bytes]]:
        now = self._clock()
        self._run(self._q_prune_owner, (owner, now), False)  # lazily, this owner's dead ones
        rows = self._run(self._q_owned, (owner, now), FETCH_ALL)
        return [(str(row[0]), bytes(row[1])) for row in rows]

    def unindex(self, owner: str, key: str) -> None:
        self._run(self._q_unindex, (owner, key), False)

    def purge_owners(self) -> int:
        """Remove expired owner-index entries (called by ``purge``), in bounded batches."""
        now = self._clock()

        def step(limit: int) -> int:
            result = self._run(self._q_purge_owners, (now, limit), False)
            return int(result[0] if isinstance(result, tuple) else result)

        return purge_in_batches(step, batch=self.purge_batch, pause=self.purge_pause)


class ReturningSQL(SQLBackend):
    """PostgreSQL and SQLite: one statement per operation, ``UPDATE/INSERT ... RETURNING``.

    The statements are the same on both but for the driver's placeholder (``%s``, ``?``); the
    non-fetching ``_run`` returns the row count.
    """

    _clock: Callable[[], float]
    _q_get: str
    _q_touch: str
    _q_upsert: str
    _q_update: str
    _q_update_version: str
    _q_purge: str
    _q_count_expired: str

    def _build_statements(self, t: str, p: str) -> None:
        """The statements for the quoted table name ``t`` and the placeholder ``p``."""
        self._drop = f"DROP TABLE IF EXISTS {t}"
        self._q_get = (
            f"SELECT data, expires_at, version FROM {t} WHERE key = {p} AND expires_at > {p}"
        )
        self._q_touch = (
            f"UPDATE {t} SET expires_at = {p} WHERE key = {p} AND expires_at > {p} "
            "RETURNING data, expires_at, version"
        )
        self._q_upsert = (
            f"INSERT INTO {t} AS s (key, data, expires_at, version) VALUES ({p}, {p}, {p}, 1) "
            "ON CONFLICT (key) DO UPDATE SET data = EXCLUDED.data, "
            "expires_at = EXCLUDED.expires_at, version = s.version + 1 RETURNING version"
        )
        update = (
            f"UPDATE {t} SET data = {p}, expires_at = {p}, version = version + 1 "
            f"WHERE key = {p} AND expires_at > {p}"
        )
        self._q_update = update + " RETURNING version"
        self._q_update_version = update + f" AND version = {p} RETURNING version"
        self._q_delete = f"DELETE FROM {t} WHERE key = {p}"
        # a bounded batch through the expires_at index; the key is the primary key everywhere
        self._q_purge = (
            f"DELETE FROM {t} WHERE key IN (SELECT key FROM {t} WHERE expires_at <= {p} LIMIT {p})"
        )
        self._q_count_expired = f"SELECT COUNT(*) FROM {t} WHERE expires_at <= {p}"

    def _build_owner_upsert(self, o: str, p: str) -> None:
        head = self._build_owner_statements(o, p)
        self._q_index = (
            head + "ON CONFLICT (owner, key) DO UPDATE SET entry = EXCLUDED.entry, "
            "expires_at = EXCLUDED.expires_at"
        )

    def get(self, key: str, *, touch: int | None = None) -> Record | None:
        now = self._clock()
        if touch is None:
            row = self._run(self._q_get, (key, now), True)
        else:
            row = self._run(self._q_touch, (now + touch, key, now), True)
        return None if row is None else Record(row[0], row[1], row[2])

    def set(
        self,
        key: str,
        data: bytes,
        ttl: int,
        *,
        must_exist: bool = False,
        if_version: int | None = None,
    ) -> int | None:
        now = self._clock()
        if if_version is not None:
            # never retried: it may have been applied before the connection died
            row = self._run(
                self._q_update_version, (data, now + ttl, key, now, if_version), True, False
            )
        elif must_exist:
            row = self._run(self._q_update, (data, now + ttl, key, now), True)
        else:
            row = self._run(self._q_upsert, (key, data, now + ttl), True)
        return None if row is None else int(row[0])

    def purge(self, progress: PurgeProgress | None = None) -> int:
        now, batch = self._clock(), self.purge_batch
        total = None
        if progress is not None:  # an index range count: cheap next to the deletes
            total = int(self._run(self._q_count_expired, (now,), True)[0])
        removed = purge_in_batches(
            lambda limit: int(self._run(self._q_purge, (now, limit), False)),
            batch=batch,
            pause=self.purge_pause,
            progress=progress,
            total=total,
        )
        self.purge_owners()
        return removed


#: a pooled connection that fails faster than this was dead already (see _died_idle)
_IDLE_DEATH = 0.25


class _StatementTimeout(Exception):
    """A statement that did not answer within the backend's timeout."""


class PooledSQL(SQLBackend):
    """One statement on a pooled connection, sync (``_run``) and async (``_arun``).

    A backend gives ``_execute``/``_aexecute`` (run the statement on a connection, creating the
    table first while ``_ready`` is false), its connection errors and its name. A connection
    error raises :class:`StoreUnavailable`; on a reused connection (it may have died idle: a
    server restart) the statement is first tried once more on a fresh one, unless ``retry`` is
    false. After any other error the connection is put back only if ``_reusable`` says so.
    """

    #: for the messages: "<name> is unavailable: ..."
    _name: ClassVar[str]
    #: seconds one statement may take (None: no limit); a statement that has not answered by
    #: then raises StoreUnavailable and its connection is dropped (a frozen server must not
    #: hang the request)
    _timeout: float | None = None
    #: the errors that mean the connection (or the server) is gone
    _connection_errors: ClassVar[tuple[type[BaseException], ...]]
    _pool: SyncPool[Any]
    _apool: AsyncPool[Any]

    def _execute(self, conn: Any, query: str, params: tuple[Any, ...], fetch: Any) -> Any:
        raise NotImplementedError

    async def _aexecute(self, conn: Any, query: str, params: tuple[Any, ...], fetch: Any) -> Any:
        raise NotImplementedError

    def _reusable(self, conn: Any) -> bool:
        """Whether ``conn`` may go back to the pool after a statement failed (not by default)."""
        return False

    def _unavailable(self, exc: BaseException) -> StoreUnavailable:
        return unavailable(self._name, exc)

    def _died_idle(self, reused: bool, started: float) -> bool:
        """Whether a connection error means a pooled connection died while idle (a server
        restart): it was reused and failed at once. One that failed by timing out is not
        tried again, so a frozen server costs one timeout, not two."""
        return reused and time.monotonic() - started < _IDLE_DEATH

    def _run(self, query: str, params: tuple[Any, ...], fetch: Any, retry: bool = True) -> Any:
        pool = self._pool
        try:
            conn, reused = pool.acquire()
        except self._connection_errors as exc:
            raise self._unavailable(exc) from exc
        started = time.monotonic()
        try:
            result = self._execute(conn, query, params, fetch)
        except self._connection_errors as exc:
            pool.discard(conn)
            if retry and self._died_idle(reused, started):  # once more, on a fresh connection
                return self._run(query, params, fetch, retry=False)
            raise self._unavailable(exc) from exc
        except BaseException:
            if self._reusable(conn):
                pool.release(conn)
            else:
                pool.discard(conn)
            raise
        pool.release(conn)
        return result

    async def _arun(
        self, query: str, params: tuple[Any, ...], fetch: Any, retry: bool = True
    ) -> Any:
        pool = self._apool
        try:
            conn, reused = await pool.acquire()
        except self._connection_errors as exc:
            raise self._unavailable(exc) from exc
        except OSError as exc:  # asyncio's own connect errors
            raise self._unavailable(exc) from exc
        started = time.monotonic()
        try:
            if self._timeout is None:
                result = await self._aexecute(conn, query, params, fetch)
            else:
                result = await self._abounded(conn, self._aexecute(conn, query, params, fetch))
        except self._connection_errors as exc:
            await pool.discard(conn)
            if retry and self._died_idle(reused, started):
                return await self._arun(query, params, fetch, retry=False)
            raise self._unavailable(exc) from exc
        except _StatementTimeout as exc:
            await pool.discard(conn)  # abandoned already: mid-statement, never reused
            raise self._unavailable(exc) from exc
        except BaseException:
            if self._reusable(conn):
                await pool.release(conn)
            else:
                await pool.discard(conn)
            raise
        await pool.release(conn)
        return result

    async def _abounded(self, conn: Any, statement: Awaitable[Any]) -> Any:
        """Await ``statement`` for at most ``_timeout`` seconds.

        Not ``asyncio.wait_for``: cancelling a driver mid-statement makes it talk to the
        server (psycopg sends a cancel request and waits up to 10 s for a frozen server to
        answer it). Here the connection is first abandoned (its socket closed, no I/O), so the
        cancelled statement ends at once, and the caller gets StoreUnavailable on time.
        """
        task = asyncio.ensure_future(statement)
        try:
            done, _ = await asyncio.wait((task,), timeout=self._timeout)
        except BaseException:  # our caller was cancelled: so is the statement
            task.cancel()
            raise
        if done:
            return task.result()
        self._apool._quietly_abandon(conn)
        task.cancel()
        with contextlib.suppress(BaseException):
            await task
        raise _StatementTimeout(f"no answer within {self._timeout:g} s")

    async def acreate_schema(self) -> None:
        self._ready = False
        await self._arun("SELECT 1", (), True)

    async def adrop_schema(self) -> None:
        self._ready = True
        await self._arun(self._drop, (), False)
        await self._arun(self._drop_owners, (), False)
        self._ready = False

    async def adelete(self, key: str) -> None:
        await self._arun(self._q_delete, (key,), False)

    async def aindex(self, owner: str, key: str, entry: bytes, ttl: float) -> None:
        await self._arun(self._q_index, (owner, key, bytes(entry), self._clock() + ttl), False)

    async def aowned(self, owner: str) -> list[tuple[str, bytes]]:
        now = self._clock()
        await self._arun(self._q_prune_owner, (owner, now), False)
        rows = await self._arun(self._q_owned, (owner, now), FETCH_ALL)
        return [(str(row[0]), bytes(row[1])) for row in rows]

    async def aunindex(self, owner: str, key: str) -> None:
        await self._arun(self._q_unindex, (owner, key), False)

    async def apurge_owners(self) -> int:
        now = self._clock()

        async def step(limit: int) -> int:
            result = await self._arun(self._q_purge_owners, (now, limit), False)
            return int(result[0] if isinstance(result, tuple) else result)

        return await apurge_in_batches(step, batch=self.purge_batch, pause=self.purge_pause)

    def close(self) -> None:
        self._pool.close()
        self._apool.close()

    async def aclose(self) -> None:
        self._pool.close()
        await self._apool.aclose()
