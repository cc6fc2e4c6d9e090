"""PostgreSQLBackend: records in a PostgreSQL table, with psycopg 3 (sync and asyncio).

One statement, one round trip per operation: ``SELECT`` (or ``UPDATE ... RETURNING`` for a
sliding expiry), ``INSERT ... ON CONFLICT DO UPDATE ... RETURNING version``, a conditional
``UPDATE ... RETURNING version`` for ``must_exist``/``if_version``, ``DELETE``. The table is
created on first use, once per backend object (``create_schema=False`` for roles without DDL
rights; then call :meth:`create_schema` once from a role that has them, or run the DDL in
:meth:`schema_sql` yourself).

The sync methods run these statements through psycopg's libpq layer (:mod:`psycopg.pq`):
prepared on each connection the first time they run there (``prepare=False`` for PgBouncer
in transaction mode: then each runs unnamed), parameters and results in PostgreSQL's binary
format. psycopg's cursors (query conversion, adaptation, row making) cost more CPU than the
round trip itself on a local server, and these statements need none of it: seven fixed
statements over four column types. The async methods use psycopg's ``AsyncConnection``.
"""

from __future__ import annotations

import contextlib
import select
import struct
import time
from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

from .base import PurgeProgress, Record, apurge_in_batches
from .sqlbase import (
    DEFAULT_TABLE,
    FETCH_ALL,
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
    from psycopg import errors as pg_errors
    from psycopg.pq import ConnStatus, DiagnosticField, ExecStatus, TransactionStatus
    from psycopg.pq.abc import PGconn, PGresult
except ImportError as _exc:  # pragma: no cover - depends on the environment
    raise missing_client("postgresql", _exc) from _exc

__all__ = ["PostgreSQLBackend"]

_RACED_DDL = (pg_errors.UniqueViolation, pg_errors.DuplicateTable, pg_errors.DuplicateObject)
_OPTIONS = ("table", "create_schema", "pool_size", "prepare", "clock", "timeout")

_DOUBLE = struct.Struct("!d")
_BIGINT = struct.Struct("!q")
_INT = struct.Struct("!i")
_BINARY = 1
_TUPLES_OK = ExecStatus.TUPLES_OK
_COMMAND_OK = ExecStatus.COMMAND_OK
_CONNECTION_OK = ConnStatus.OK
_FATAL_ERROR = ExecStatus.FATAL_ERROR
_SQLSTATE = DiagnosticField.SQLSTATE
_NO_SUCH_STATEMENT = b"26000"  # invalid_sql_statement_name: not prepared on this connection

# How each kind of statement parameter is sent: (type OID, format, encode), all in binary. (Not
# text for the key: libpq would cut a text parameter at its first NUL without a word.)
_PARAMS: dict[str, tuple[int, int, Callable[[Any], bytes]]] = {
    "k": (1043, _BINARY, lambda v: v.encode("utf-8")),  # varchar
    "b": (17, _BINARY, bytes),  # bytea
    "f": (701, _BINARY, lambda v: _DOUBLE.pack(float(v))),  # float8
    "i": (20, _BINARY, lambda v: _BIGINT.pack(int(v))),  # int8
}
# Result columns in binary format, by type OID: bytea, float8, int8, int4.
_COLUMNS: dict[int, Callable[[bytes], Any]] = {
    17: bytes,
    701: lambda v: _DOUBLE.unpack(v)[0],
    20: lambda v: _BIGINT.unpack(v)[0],
    23: lambda v: _INT.unpack(v)[0],
}


def _column(result: PGresult, index: int) -> Any:
    """The value of column ``index`` of a one-row binary result."""
    value = result.get_value(0, index)
    if value is None:
        return None
    decode = _COLUMNS.get(result.ftype(index))
    if decode is None:
        raise TypeError(
            f"column {index} of the sessions table has type OID {result.ftype(index)}; "
            "expected the types of schema_sql() (BYTEA, DOUBLE PRECISION, BIGINT)"
        )
    return decode(value)


class _Statement(NamedTuple):
    """One of the backend's statements as libpq runs it."""

    name: bytes  # its prepared name
    sql: bytes  # with $1, $2 ... placeholders
    types: Sequence[int]
    formats: Sequence[int]
    encoders: tuple[Callable[[Any], bytes], ...]


def _statement(name: str, query: str, kinds: str) -> _Statement:
    """``query`` (with ``%s`` placeholders, one per letter of ``kinds``) for libpq."""
    parts = query.split("%s")
    if len(parts) != len(kinds) + 1:
        raise AssertionError(f"{name}: {len(parts) - 1} placeholders for {kinds!r}")
    sql = parts[0] + "".join(f"${i}{part}" for i, part in enumerate(parts[1:], 1))
    specs = [_PARAMS[k] for k in kinds]
    return _Statement(
        f"websession_{name}".encode(),
        sql.encode(),
        [t for t, _, _ in specs],
        [f for _, f, _ in specs],
        tuple(e for _, _, e in specs),
    )


class PostgreSQLBackend(ReturningSQL, PooledSQL):
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
        self._timeout = timeout
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
            query: _statement(name, query, kinds)
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

    # -- connections -------------------------------------------------------------------------
    def _connect(self) -> psycopg.Connection[Any]:
        return psycopg.Connection.connect(self.conninfo, **self._connect_kwargs)

    async def _aconnect(self) -> psycopg.AsyncConnection[Any]:
        return await psycopg.AsyncConnection.connect(self.conninfo, **self._connect_kwargs)

    def _execute(
        self, conn: psycopg.Connection[Any], query: str, params: tuple[Any, ...], fetch: Any
    ) -> Any:
        if not self._ready:
            for ddl in self._ddl:
                with contextlib.suppress(*_RACED_DDL):  # another process made it at that moment
                    conn.execute(ddl)
            self._ready = True
        statement = self._statements.get(query)
        if statement is None:  # schema, the owner index and the like: psycopg's own way
            cursor = conn.execute(query, params, binary=True)
            if fetch == FETCH_ALL:
                return cursor.fetchall()
            return cursor.fetchone() if fetch else cursor.rowcount
        pgconn = conn.pgconn
        values = [encode(v) for encode, v in zip(statement.encoders, params)]
        if self._prepare:
            pgconn.send_query_prepared(statement.name, values, statement.formats, _BINARY)
            result = self._result(pgconn)
            if (
                result.status == _FATAL_ERROR
                and result.error_field(_SQLSTATE) == _NO_SUCH_STATEMENT
            ):
                # first use on this connection (or the server forgot it: DISCARD ALL): prepare
                # it, once per connection, then run it
                pgconn.send_prepare(statement.name, statement.sql, statement.types)
                prepared = self._result(pgconn)
                if prepared.status != _COMMAND_OK:
                    raise self._error(pgconn, prepared)
                pgconn.send_query_prepared(statement.name, values, statement.formats, _BINARY)
                result = self._result(pgconn)
        else:
            pgconn.send_query_params(
                statement.sql, values, statement.types, statement.formats, _BINARY
            )
            result = self._result(pgconn)
        status = result.status
        if status == _TUPLES_OK:
            if not fetch:
                return result.ntuples
            if not result.ntuples:
                return None
            return tuple(_column(result, i) for i in range(result.nfields))
        if status == _COMMAND_OK:
            return None if fetch else result.command_tuples
        raise self._error(pgconn, result)

    def _result(self, pgconn: PGconn) -> PGresult:
        """The result of the statement just sent, waiting at most ``timeout`` seconds for it.

        libpq's blocking calls (``PQexec*``, and ``PQgetResult`` while the connection is busy)
        wait for the server without a limit, so a frozen server would hang the request: the
        statement is sent with ``PQsend*`` and every result up to the end of the statement is
        awaited here against one deadline (a timed-out connection is dropped by the caller).
        A server that froze after the first result's rows, before the statement's end, hung
        the final ``PQgetResult`` when only the first one was awaited.
        """
        deadline = None if self._timeout is None else time.monotonic() + self._timeout
        self._wait_readable(pgconn, deadline)
        result = pgconn.get_result()
        if result is None:  # pragma: no cover - libpq gives one result per statement sent
            raise psycopg.OperationalError("PostgreSQL sent no result")
        while True:  # the end of this statement's results
            self._wait_readable(pgconn, deadline)
            if pgconn.get_result() is None:
                return result

    def _wait_readable(self, pgconn: PGconn, deadline: float | None) -> None:
        """Read input until ``PQgetResult`` would not block, or fail at ``deadline``."""
        if deadline is None or not pgconn.is_busy():
            return
        poller = _poller(pgconn.socket)
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not poller(remaining):
                raise psycopg.OperationalError(
                    f"PostgreSQL did not answer within {self._timeout:g} s"
                )
            pgconn.consume_input()
            if not pgconn.is_busy():
                return

    @staticmethod
    def _error(pgconn: PGconn, result: PGresult) -> Exception:
        """The psycopg error for a failed libpq result (a connection error if it broke)."""
        if pgconn.status != _CONNECTION_OK:
            message = pgconn.get_error_message() or "the connection to the server was lost"
            return psycopg.OperationalError(message)
        return pg_errors.error_from_result(result)

    async def _aexecute(
        self, conn: psycopg.AsyncConnection[Any], query: str, params: tuple[Any, ...], fetch: Any
    ) -> Any:
        if not self._ready:
            for statement in self._ddl:
                with contextlib.suppress(*_RACED_DDL):
                    await conn.execute(statement)
            self._ready = True
        cursor = await conn.execute(query, params, binary=True)
        if fetch == FETCH_ALL:
            return await cursor.fetchall()
        return await cursor.fetchone() if fetch else cursor.rowcount

    def _reusable(self, conn: psycopg.Connection[Any] | psycopg.AsyncConnection[Any]) -> bool:
        # after a failed statement: reusable when intact and outside any transaction
        return (
            not conn.broken
            and conn.pgconn.status == _CONNECTION_OK
            and conn.info.transaction_status == TransactionStatus.IDLE
        )

    # -- the Backend protocol: get, set, delete, purge and close come from ReturningSQL and
    # PooledSQL; their async twins are here ----------------------------------------------------
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

    async def apurge(self, progress: PurgeProgress | None = None) -> int:
        now, batch = self._clock(), self.purge_batch
        total = None
        if progress is not None:
            total = int((await self._arun(self._q_count_expired, (now,), True))[0])

        async def step(limit: int) -> int:
            return int(await self._arun(self._q_purge, (now, limit), False))

        removed = await apurge_in_batches(
            step, batch=batch, pause=self.purge_pause, progress=progress, total=total
        )
        await self.apurge_owners()
        return removed


def _poller(fd: int) -> Callable[[float], bool]:
    """``wait(seconds) -> bool``: whether ``fd`` became readable within ``seconds``."""
    if hasattr(select, "poll"):
        poll = select.poll()
        poll.register(fd, select.POLLIN | select.POLLERR | select.POLLHUP)
        return lambda seconds: bool(poll.poll(seconds * 1000))
    return lambda seconds: bool(select.select([fd], [], [], seconds)[0])  # pragma: no cover


def _close(conn: psycopg.Connection[Any]) -> None:
    conn.close()


async def _aclose(conn: psycopg.AsyncConnection[Any]) -> None:
    await conn.close()


def _abandon(conn: psycopg.AsyncConnection[Any]) -> None:
    conn.pgconn.finish()  # closes the socket; needs no event loop
