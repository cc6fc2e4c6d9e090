"""PostgreSQLBackend: records in a PostgreSQL table, with psycopg 3 (sync and asyncio).

One statement, one round trip per operation: ``SELECT`` (or ``UPDATE ... RETURNING`` for a
sliding expiry), ``INSERT ... ON CONFLICT DO UPDATE ... RETURNING version``, a conditional
``UPDATE ... RETURNING version`` for ``must_exist``/``if_version``, ``DELETE``. Statements are
prepared on each connection the first time they run (``prepare=False`` for PgBouncer in
transaction mode). The table is created on first use, once per backend object
(``create_schema=False`` for roles without DDL rights; then call :meth:`create_schema` once
from a role that has them, or run the DDL in :meth:`schema_sql` yourself).
"""

# The SQL is built once from a table name checked by validate_table (identifiers only).
# ruff: noqa: S608
from __future__ import annotations

import contextlib
import time
from collections.abc import Callable
from typing import Any

from ..errors import StoreUnavailable
from .base import Record
from .sqlbase import (
    DEFAULT_TABLE,
    AsyncPool,
    SyncPool,
    missing_client,
    split_options,
    validate_table,
)

try:
    import psycopg
    from psycopg import errors as pg_errors
    from psycopg.pq import TransactionStatus
except ImportError as _exc:  # pragma: no cover - depends on the environment
    raise missing_client("postgresql", _exc) from _exc

__all__ = ["PostgreSQLBackend"]

#: errors that mean "the server cannot be reached": the connection is dropped
_CONNECTION_ERRORS = (psycopg.OperationalError, psycopg.InterfaceError)
_RACED_DDL = (pg_errors.UniqueViolation, pg_errors.DuplicateTable, pg_errors.DuplicateObject)
_OPTIONS = ("table", "create_schema", "pool_size", "prepare", "clock")


class PostgreSQLBackend:
    """Session records in a PostgreSQL table.

    Args:
        conninfo: a libpq connection string or URL (``postgresql://user@host:5432/db``);
            libpq parameters such as ``sslmode`` or ``connect_timeout`` go in it.
        table: the table (``name`` or ``schema.name``), ``websession_sessions`` by default.
        create_schema: create the table and its index on first use.
        pool_size: how many idle connections to keep per pool (one pool for threads, one for
            the event loop).
        prepare: prepare statements server-side (turn off behind PgBouncer in transaction mode).
        connect_timeout: seconds to wait for a connection (unless the conninfo sets it).
        clock: the time source that decides expiry.
        connect_kwargs: more keyword arguments for ``psycopg.connect``.
    """

    def __init__(
        self,
        conninfo: str = "",
        *,
        table: str = DEFAULT_TABLE,
        create_schema: bool = True,
        pool_size: int = 10,
        prepare: bool = True,
        connect_timeout: int = 5,
        clock: Callable[[], float] | None = None,
        connect_kwargs: dict[str, Any] | None = None,
    ) -> None:
        parts = validate_table(table)
        self.table = table
        self.conninfo = conninfo
        self._clock = clock if clock is not None else time.time
        self._ready = not create_schema
        kwargs: dict[str, Any] = {
            "autocommit": True,
            "prepare_threshold": 0 if prepare else None,
        }
        if "connect_timeout" not in conninfo:
            kwargs["connect_timeout"] = connect_timeout
        kwargs.update(connect_kwargs or {})
        self._connect_kwargs = kwargs
        self._pool: SyncPool[psycopg.Connection[Any]] = SyncPool(
            self._connect, _close, max_idle=pool_size
        )
        self._apool: AsyncPool[psycopg.AsyncConnection[Any]] = AsyncPool(
            self._aconnect, _aclose, _abandon, max_idle=pool_size
        )

        t = ".".join(f'"{p}"' for p in parts)
        index = f'"{parts[-1]}_expires_at_idx"'
        self._ddl = (
            f"CREATE TABLE IF NOT EXISTS {t} ("
            "key VARCHAR(128) PRIMARY KEY, data BYTEA NOT NULL, "
            "expires_at DOUBLE PRECISION NOT NULL, version BIGINT NOT NULL DEFAULT 1)",
            f"CREATE INDEX IF NOT EXISTS {index} ON {t} (expires_at)",
        )
        self._drop = f"DROP TABLE IF EXISTS {t}"
        self._q_get = (
            f"SELECT data, expires_at, version FROM {t} WHERE key = %s AND expires_at > %s"
        )
        self._q_touch = (
            f"UPDATE {t} SET expires_at = %s WHERE key = %s AND expires_at > %s "
            "RETURNING data, expires_at, version"
        )
        self._q_upsert = (
            f"INSERT INTO {t} AS s (key, data, expires_at, version) VALUES (%s, %s, %s, 1) "
            "ON CONFLICT (key) DO UPDATE SET data = EXCLUDED.data, "
            "expires_at = EXCLUDED.expires_at, version = s.version + 1 RETURNING version"
        )
        self._q_update = (
            f"UPDATE {t} SET data = %s, expires_at = %s, version = version + 1 "
            "WHERE key = %s AND expires_at > %s RETURNING version"
        )
        self._q_update_version = (
            f"UPDATE {t} SET data = %s, expires_at = %s, version = version + 1 "
            "WHERE key = %s AND expires_at > %s AND version = %s RETURNING version"
        )
        self._q_delete = f"DELETE FROM {t} WHERE key = %s"
        self._q_purge = f"DELETE FROM {t} WHERE expires_at <= %s"

    @classmethod
    def from_url(cls, url: str, **options: Any) -> PostgreSQLBackend:
        """A backend for ``postgresql://...``; ``table``, ``create_schema``, ``pool_size`` and
        ``prepare`` may be given in the query, every other parameter is libpq's."""
        conninfo, query = split_options(url, _OPTIONS)
        return cls(conninfo, **{**query, **options})

    def __repr__(self) -> str:
        return f"PostgreSQLBackend(table={self.table!r})"

    def schema_sql(self) -> list[str]:
        """The statements that create the table and its index."""
        return list(self._ddl)

    # -- connections -------------------------------------------------------------------------
    def _connect(self) -> psycopg.Connection[Any]:
        return psycopg.Connection.connect(self.conninfo, **self._connect_kwargs)

    async def _aconnect(self) -> psycopg.AsyncConnection[Any]:
        return await psycopg.AsyncConnection.connect(self.conninfo, **self._connect_kwargs)

    def _setup(self, conn: psycopg.Connection[Any]) -> None:
        for statement in self._ddl:
            with contextlib.suppress(*_RACED_DDL):  # another process made it at the same moment
                conn.execute(statement)
        self._ready = True

    async def _asetup(self, conn: psycopg.AsyncConnection[Any]) -> None:
        for statement in self._ddl:
            with contextlib.suppress(*_RACED_DDL):
                await conn.execute(statement)
        self._ready = True

    def _run(self, query: str, params: tuple[Any, ...], fetch: bool, retry: bool = True) -> Any:
        pool = self._pool
        try:
            conn, reused = pool.acquire()
        except _CONNECTION_ERRORS as exc:
            raise StoreUnavailable(f"PostgreSQL is unavailable: {exc}") from exc
        try:
            if not self._ready:
                self._setup(conn)
            cursor = conn.execute(query, params, binary=True)
            result = cursor.fetchone() if fetch else cursor.rowcount
        except _CONNECTION_ERRORS as exc:
            pool.discard(conn)
            if reused and retry:  # an idle connection died (server restart): once more, fresh
                return self._run(query, params, fetch, retry=False)
            raise StoreUnavailable(f"PostgreSQL is unavailable: {exc}") from exc
        except BaseException:
            if conn.broken or conn.info.transaction_status != TransactionStatus.IDLE:
                pool.discard(conn)
            else:
                pool.release(conn)
            raise
        pool.release(conn)
        return result

    async def _arun(
        self, query: str, params: tuple[Any, ...], fetch: bool, retry: bool = True
    ) -> Any:
        pool = self._apool
        try:
            conn, reused = await pool.acquire()
        except (*_CONNECTION_ERRORS, OSError) as exc:
            raise StoreUnavailable(f"PostgreSQL is unavailable: {exc}") from exc
        try:
            if not self._ready:
                await self._asetup(conn)
            cursor = await conn.execute(query, params, binary=True)
            result = await cursor.fetchone() if fetch else cursor.rowcount
        except _CONNECTION_ERRORS as exc:
            await pool.discard(conn)
            if reused and retry:
                return await self._arun(query, params, fetch, retry=False)
            raise StoreUnavailable(f"PostgreSQL is unavailable: {exc}") from exc
        except BaseException:
            if conn.broken or conn.info.transaction_status != TransactionStatus.IDLE:
                await pool.discard(conn)
            else:
                await pool.release(conn)
            raise
        await pool.release(conn)
        return result

    # -- schema --------------------------------------------------------------------------------
    def create_schema(self) -> None:
        """Create the table and its index now (if they do not exist)."""
        self._ready = False
        self._run("SELECT 1", (), fetch=True)

    async def acreate_schema(self) -> None:
        self._ready = False
        await self._arun("SELECT 1", (), fetch=True)

    def drop_schema(self) -> None:
        """Drop the table (every session is lost); it is created again on next use."""
        self._ready = True
        self._run(self._drop, (), fetch=False)
        self._ready = False

    async def adrop_schema(self) -> None:
        self._ready = True
        await self._arun(self._drop, (), fetch=False)
        self._ready = False

    # -- the Backend protocol ----------------------------------------------------------------
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
            row = self._run(
                self._q_update_version, (data, now + ttl, key, now, if_version), True, False
            )
        elif must_exist:
            row = self._run(self._q_update, (data, now + ttl, key, now), True)
        else:
            row = self._run(self._q_upsert, (key, data, now + ttl), True)
        return None if row is None else int(row[0])

    def delete(self, key: str) -> None:
        self._run(self._q_delete, (key,), False)

    def purge(self) -> int:
        count: int = self._run(self._q_purge, (self._clock(),), False)
        return count

    def close(self) -> None:
        self._pool.close()
        self._apool.close()

    async def aget(self, key: str, *, touch: int | None = None) -> Record | None:
        now = self._clock()
        if touch is None:
            row = await self._arun(self._q_get, (key, now), True)
        else:
            row = await self._arun(self._q_touch, (now + touch, key, now), True)
        return None if row is None else Record(row[0], row[1], row[2])

    async def aset(
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
            row = await self._arun(
                self._q_update_version, (data, now + ttl, key, now, if_version), True, False
            )
        elif must_exist:
            row = await self._arun(self._q_update, (data, now + ttl, key, now), True)
        else:
            row = await self._arun(self._q_upsert, (key, data, now + ttl), True)
        return None if row is None else int(row[0])

    async def adelete(self, key: str) -> None:
        await self._arun(self._q_delete, (key,), False)

    async def apurge(self) -> int:
        count: int = await self._arun(self._q_purge, (self._clock(),), False)
        return count

    async def aclose(self) -> None:
        self._pool.close()
        await self._apool.aclose()


def _close(conn: psycopg.Connection[Any]) -> None:
    conn.close()


async def _aclose(conn: psycopg.AsyncConnection[Any]) -> None:
    await conn.close()


def _abandon(conn: psycopg.AsyncConnection[Any]) -> None:
    conn.pgconn.finish()  # closes the socket; needs no event loop
