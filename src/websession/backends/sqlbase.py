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

What the backends do the same way lives here once: :class:`SQLBackend` (the owner index's
statements; schema, delete and the owner index over a backend's ``_run``), :class:`ReturningSQL`
(the statements of the databases with ``UPDATE ... RETURNING``: PostgreSQL, SQLite),
:class:`PooledSQL` (one statement on a pooled connection: PostgreSQL, MySQL) and
:func:`mysql_version` (the version MySQL reports through ``LAST_INSERT_ID``). The operations
themselves are written once, as asyncio code in ``_async/sqlbase.py``; ``_sync/sqlbase.py`` is
generated from it (``make generate``).

:class:`SyncPool` and :class:`AsyncPool` are small pools for PyMySQL and the async MySQL
drivers (a LIFO list of idle connections; one that failed with a connection error is closed
and every idle one is dropped with it), and for PostgreSQL: psycopg_pool cost more than 5% of
a request's CPU sync and hung ``asyncio.run`` async (see ``PostgreSQLBackend._open_pool``).
"""

# The SQL is built once from a table name checked by validate_table (identifiers only).
# ruff: noqa: S608
from __future__ import annotations

import asyncio
import contextlib
import re
from collections.abc import Awaitable, Callable
from typing import Any, ClassVar, Generic, TypeVar
from urllib.parse import parse_qsl, urlencode

from ..errors import StoreUnavailable
from ._async.sqlbase import FETCH_ALL, AsyncPooledOps
from ._errors import unavailable
from ._sync.sqlbase import PooledOps, ReturningOps, SQLOps
from .base import PURGE_BATCH, PURGE_PAUSE, Record

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
        self,
        connect: Callable[[], C],
        close: Callable[[C], None],
        *,
        max_idle: int = 10,
        reusable: Callable[[C], bool] = lambda conn: True,
    ) -> None:
        self._connect = connect
        self._close = close
        self._reusable = reusable
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

    # psycopg_pool's names (PostgreSQL's one source calls these on SyncPool and AsyncPool)
    def getconn(self) -> C:
        """A connection, reused or new."""
        return self.acquire()[0]

    def putconn(self, conn: C) -> None:
        """Put ``conn`` back if ``reusable`` says so, else close it."""
        if self._reusable(conn):
            self.release(conn)
        else:
            self._quietly_close(conn)

    def discard(self, conn: C) -> None:
        """Close ``conn`` after a connection error, and every idle one with it."""
        self._quietly_close(conn)
        self.clear()

    def drain(self) -> None:
        """Close every idle connection (after a server restart they are all dead)."""
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
        reusable: Callable[[C], bool] = lambda conn: True,
    ) -> None:
        self._connect = connect
        self._close = close
        self._abandon = abandon
        self._reusable = reusable
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

    # psycopg_pool's names (PostgreSQL's one source calls these on SyncPool and AsyncPool)
    async def getconn(self) -> C:
        """A connection, reused or new."""
        return (await self.acquire())[0]

    async def putconn(self, conn: C) -> None:
        """Put ``conn`` back if ``reusable`` says so (it is intact, outside a transaction),
        else close it."""
        if self._reusable(conn):
            await self.release(conn)
        else:
            self._quietly_abandon(conn)

    async def discard(self, conn: C) -> None:
        self._quietly_abandon(conn)
        self.abandon_all()

    async def drain(self) -> None:
        """Drop every idle connection (after a server restart they are all dead)."""
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


def owner_table(name: str) -> str:
    """The owner index table's name for the sessions table ``name`` (schema kept)."""
    return name + "_owners"


class SQLBackend(SQLOps):
    """The owner index's statements, and (from ``SQLOps``) schema, delete and the owner index
    over the backend's ``_run``, the same on every SQL backend.

    ``_run(query, params, fetch, retry)`` runs one statement (creating the table first while
    ``_ready`` is false) and returns its first row (``fetch``), every row
    (``fetch=FETCH_ALL``) or the driver's result.
    """

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


class ReturningSQL(SQLBackend, ReturningOps):
    """PostgreSQL and SQLite: one statement per operation, ``UPDATE/INSERT ... RETURNING``.

    The statements are the same on both but for the driver's placeholder (``%s``, ``?``); the
    non-fetching ``_run`` returns the row count. ``get``/``set``/``purge`` come from
    ``ReturningOps`` (and ``AsyncReturningOps`` for the async twins).
    """

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


class PooledSQL(SQLBackend, PooledOps, AsyncPooledOps):
    """One statement on a pooled connection, sync (``_run``) and async (``_arun``): see
    ``AsyncPooledOps`` for the rules; a backend gives its pool's ``_connection``/``_aconnection``,
    ``_drain``/``_adrain``, ``_execute``/``_aexecute``, its connection errors and its name."""

    #: for the messages: "<name> is unavailable: ..."
    _name: ClassVar[str]

    def _unavailable(self, exc: BaseException) -> StoreUnavailable:
        return unavailable(self._name, exc)
