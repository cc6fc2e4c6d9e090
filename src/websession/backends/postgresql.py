"""PostgreSQLBackend: records in a PostgreSQL table, with psycopg 3 (sync and asyncio).

One statement, one round trip per operation: ``SELECT`` (or ``UPDATE ... RETURNING`` for a
sliding expiry), ``INSERT ... ON CONFLICT DO UPDATE ... RETURNING version``, a conditional
``UPDATE ... RETURNING version`` for ``must_exist``/``if_version``, ``DELETE``. The table is
created on first use, once per backend object (``create_schema=False`` for roles without DDL
rights; then call :meth:`create_schema` once from a role that has them, or run the DDL in
:meth:`schema_sql` yourself).

Sync and async run the same code (``_async/postgresql.py``, the sync twin generated from it):
the session statements through psycopg's libpq layer with binary parameters and results
(``_pq.py``), prepared on each connection the first time they run there (``prepare=False``
for PgBouncer in transaction mode: then each runs unnamed), on connections from
small pools of websession's own (``sqlbase.SyncPool``, ``AsyncPool``: psycopg_pool cost
more than 5% of a request's CPU sync and hung ``asyncio.run`` async, see ``_open_pool`` and
``_aopen_pool``), every wait for the server bounded by ``timeout``.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from .sqlbase import (
    DEFAULT_TABLE,
    AsyncPool,
    PooledSQL,
    ReturningSQL,
    SyncPool,
    missing_client,
    owner_table,
    split_options,
    validate_table,
)

try:
    import psycopg
    from psycopg.pq import TransactionStatus

    from ._async.postgresql import AsyncBoundedConnection, AsyncPostgreSQLOps
    from ._pq import statement
    from ._sync.postgresql import BoundedConnection, PostgreSQLOps
except ImportError as _exc:  # pragma: no cover - depends on the environment
    raise missing_client("postgresql", _exc) from _exc

__all__ = ["PostgreSQLBackend"]

_IDLE = TransactionStatus.IDLE

_OPTIONS = ("table", "create_schema", "pool_size", "prepare", "clock", "timeout")


class PostgreSQLBackend(ReturningSQL, PooledSQL, PostgreSQLOps, AsyncPostgreSQLOps):
    """Session records in a PostgreSQL table.

    Args:
        conninfo: a libpq connection string or URL (``postgresql://user@host:5432/db``);
            libpq parameters such as ``sslmode`` or ``connect_timeout`` go in it.
        table: the table (``name`` or ``schema.name``), ``websession_sessions`` by default.
        create_schema: create the table and its index on first use.
        pool_size: how many idle connections to keep per pool (one pool for threads, one for
            the event loop).
        prepare: prepare statements server-side (turn off behind PgBouncer in transaction mode).
        connect_timeout: seconds to wait for a connection (unless the conninfo sets it;
            libpq counts whole seconds, at least 2).
        timeout: seconds a statement may wait for the server's answer before the call raises
            StoreUnavailable (None: no limit). The server's ``statement_timeout`` does not
            help when the server itself is frozen or cut off; this does.
        clock: the time source that decides expiry.
        connect_kwargs: more keyword arguments for ``psycopg.connect``.
    """

    _name = "PostgreSQL"
    _connection_errors = (psycopg.OperationalError, psycopg.InterfaceError)

    def __init__(
        self,
        conninfo: str = "",
        *,
        table: str = DEFAULT_TABLE,
        create_schema: bool = True,
        pool_size: int = 10,
        prepare: bool = True,
        connect_timeout: int = 2,
        timeout: float | None = 2.0,
        clock: Callable[[], float] | None = None,
        connect_kwargs: dict[str, Any] | None = None,
    ) -> None:
        parts = validate_table(table)
        if timeout is not None and timeout <= 0:
            raise ValueError("timeout must be positive (or None for no limit)")
        if pool_size < 1:
            raise ValueError("pool_size must be at least 1")
        self._timeout = timeout
        self.table = table
        self.conninfo = conninfo
        self.pool_size = pool_size
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
        self._pool: SyncPool[BoundedConnection] = SyncPool(
            self._connect, _close, max_idle=pool_size, reusable=_reusable
        )
        self._apool: AsyncPool[AsyncBoundedConnection] = AsyncPool(
            self._aconnect, _aclose, _abandon, max_idle=pool_size, reusable=_reusable
        )

        t = ".".join(f'"{p}"' for p in parts)
        index = f'"{parts[-1]}_expires_at_idx"'
        owners = validate_table(owner_table(table))
        o = ".".join(f'"{p}"' for p in owners)
        self._ddl = (
            f"CREATE TABLE IF NOT EXISTS {t} ("
            "key VARCHAR(128) PRIMARY KEY, data BYTEA NOT NULL, "
            "expires_at DOUBLE PRECISION NOT NULL, version BIGINT NOT NULL DEFAULT 1)",
            f"CREATE INDEX IF NOT EXISTS {index} ON {t} (expires_at)",
            f"CREATE TABLE IF NOT EXISTS {o} ("
            "owner VARCHAR(64) NOT NULL, key VARCHAR(128) NOT NULL, entry BYTEA NOT NULL, "
            "expires_at DOUBLE PRECISION NOT NULL, PRIMARY KEY (owner, key))",
            f'CREATE INDEX IF NOT EXISTS "{owners[-1]}_expires_at_idx" ON {o} (expires_at)',
        )
        self._build_statements(t, "%s")
        self._build_owner_upsert(o, "%s")
        self._prepare = prepare
        self._statements = {
            query: statement(name, query, kinds)
            for name, query, kinds in (
                ("get", self._q_get, "kf"),
                ("touch", self._q_touch, "fkf"),
                ("upsert", self._q_upsert, "kbf"),
                ("update", self._q_update, "bfkf"),
                ("update_version", self._q_update_version, "bfkfi"),
                ("delete", self._q_delete, "k"),
                ("purge", self._q_purge, "fi"),
                ("count_expired", self._q_count_expired, "f"),
            )
        }

    @classmethod
    def from_url(cls, url: str, **options: Any) -> PostgreSQLBackend:
        """A backend for ``postgresql://...``; ``table``, ``create_schema``, ``pool_size``,
        ``prepare`` and ``timeout`` may be given in the query, every other parameter is libpq's
        (``connect_timeout`` among them)."""
        conninfo, query = split_options(url, _OPTIONS)
        return cls(conninfo, **{**query, **options})

    def __repr__(self) -> str:
        return f"PostgreSQLBackend(table={self.table!r})"

    def schema_sql(self) -> list[str]:
        """The statements that create the table and its index."""
        return list(self._ddl)

    # -- the pools ---------------------------------------------------------------------------
    def _open_pool(self) -> SyncPool[BoundedConnection]:
        # Not psycopg_pool's ConnectionPool: measured through the Flask app of
        # benchmarks/server_apps.py (a test client, 1,500 requests, 2026-11-29, three
        # interleaved runs), a request cost 465-482 µs of CPU with this pool and 487-553 µs
        # with ConnectionPool (5-15% more; its threads and locks), against 427-438 µs before
        # issue 11. Issue 11 keeps a hand-built pool when the library's costs more than 5%.
        return self._pool

    def _connect(self) -> BoundedConnection:
        conn = BoundedConnection.connect(self.conninfo, **self._connect_kwargs)
        self._configure(conn)
        return conn

    async def _aopen_pool(self) -> AsyncPool[AsyncBoundedConnection]:
        # Not psycopg_pool's AsyncConnectionPool: its scheduler and worker tasks outlive a
        # request, and its scheduler swallows CancelledError, so an event loop ended without
        # `await backend.aclose()` (asyncio.run in a script or a test, a framework without a
        # shutdown hook) never finished: asyncio.run hung for good cancelling them (seen in
        # tests/stores/test_revocation.py). AsyncPool has no tasks, and drops a finished
        # loop's connections on the next one's first call (and the ASGI benchmark ran 9%
        # more requests per second than before issue 11 with it: benchmarks/README.md).
        return self._apool

    async def _aconnect(self) -> AsyncBoundedConnection:
        conn = await AsyncBoundedConnection.connect(self.conninfo, **self._connect_kwargs)
        await self._aconfigure(conn)
        return conn

    def close(self) -> None:
        self._pool.close()
        self._apool.close()

    async def aclose(self) -> None:
        self._pool.close()
        await self._apool.aclose()


def _close(conn: BoundedConnection) -> None:
    conn.close()


async def _aclose(conn: AsyncBoundedConnection) -> None:
    await conn.close()


def _abandon(conn: AsyncBoundedConnection) -> None:
    conn.pgconn.finish()  # closes the socket; needs no event loop


def _reusable(conn: BoundedConnection | AsyncBoundedConnection) -> bool:
    """Whether ``conn`` may serve again: intact, and outside any transaction (the check
    psycopg_pool makes when a connection comes back). libpq's status, not ``conn.info``: that
    makes an object per call, a quarter of this backend's own CPU per statement."""
    return conn.pgconn.transaction_status == _IDLE  # UNKNOWN once the connection is closed
