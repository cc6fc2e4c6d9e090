"""PostgreSQL's one execution path: a statement on a pooled psycopg connection, written once.

The source of ``_sync/postgresql.py`` (``tools/unasync.py``): the sync and the async backend
run the same psycopg calls on pooled connections: the session statements
through libpq (binary parameters and results, prepared on each connection the first time they
run there unless ``prepare=False``; see :mod:`.._pq` for why), the rest through a cursor.
:class:`AsyncBoundedConnection` puts the backend's ``timeout`` on every wait for the server.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any, TypeVar

import psycopg
from psycopg import AsyncConnection, AsyncCursor, generators
from psycopg import errors as pg_errors
from psycopg.abc import PQGen
from psycopg.pq.abc import PGresult

from .._pq import BINARY, Statement, outcome, unprepared
from .sqlbase import FETCH_ALL, AsyncPooledOps, AsyncReturningOps

__all__ = ["AsyncBoundedConnection", "AsyncPostgreSQLOps"]

RV = TypeVar("RV")

_RACED_DDL = (pg_errors.UniqueViolation, pg_errors.DuplicateTable, pg_errors.DuplicateObject)


class AsyncBoundedConnection(AsyncConnection[Any]):
    """A psycopg connection whose every wait for the server ends after ``deadline`` seconds.

    libpq's waits have no limit, and the server's ``statement_timeout`` does not help when the
    server itself is frozen or cut off: a request would hang. psycopg drives every exchange
    through :meth:`wait`, which takes a timeout; this gives it the backend's. On expiry the
    socket is closed without further I/O (cancelling would talk to the frozen server, and
    psycopg waits up to 5 s for that) and the pool discards the broken connection.
    """

    #: seconds one exchange with the server may take (None: no limit); set by the backend
    deadline: float | None = None
    #: the cursor the backend's statements run on (binary), made once per connection: a new
    #: cursor for each statement cost a third more CPU per statement
    statements: AsyncCursor[Any]

    async def wait(self, gen: PQGen[RV], interval: float = 0.1, timeout: float | None = None) -> RV:
        try:
            return await super().wait(gen, interval, self.deadline if timeout is None else timeout)
        except pg_errors._WaitTimeout as exc:  # psycopg's own "timeout expired"
            self.pgconn.finish()
            raise psycopg.OperationalError(
                f"PostgreSQL did not answer within {self.deadline:g} s"
            ) from exc


class AsyncPostgreSQLOps(AsyncReturningOps, AsyncPooledOps):
    """The statements of :class:`~websession.backends.postgresql.PostgreSQLBackend`, run."""

    _ddl: tuple[str, ...]
    #: the session statements (by their SQL) libpq runs itself; see :mod:`.._pq`
    _statements: dict[str, Statement]
    _prepare: bool
    _timeout: float | None

    async def _aopen_pool(self) -> Any:
        """The pool: ``getconn``, ``putconn`` and ``drain`` (psycopg_pool's names)."""
        raise NotImplementedError

    async def _aconfigure(self, conn: AsyncBoundedConnection) -> None:
        """Each new pooled connection: the backend's deadline on its waits, and its cursor."""
        conn.deadline = self._timeout
        conn.statements = conn.cursor(binary=True)

    @contextlib.asynccontextmanager
    async def _aconnection(self) -> AsyncIterator[AsyncBoundedConnection]:
        pool = await self._aopen_pool()
        conn = await pool.getconn()
        try:
            yield conn
        finally:
            await pool.putconn(conn)

    async def _adrain(self) -> None:
        pool = await self._aopen_pool()
        await pool.drain()

    async def _aexecute(
        self, conn: AsyncBoundedConnection, query: str, params: tuple[Any, ...], fetch: Any
    ) -> Any:
        if not self._ready:
            for ddl in self._ddl:
                with contextlib.suppress(*_RACED_DDL):  # another process made it at that moment
                    await conn.statements.execute(ddl)
            self._ready = True
        prepared = self._statements.get(query)
        if prepared is None:  # the owner index and the like: psycopg's cursor
            cursor = await conn.statements.execute(query, params)
            if fetch == FETCH_ALL:
                return await cursor.fetchall()
            return await cursor.fetchone() if fetch else cursor.rowcount
        pgconn = conn.pgconn
        values = prepared.values(params)
        if not self._prepare:
            pgconn.send_query_params(prepared.sql, values, prepared.types, prepared.formats, BINARY)
            return outcome(pgconn, await self._aresult(conn), fetch)
        pgconn.send_query_prepared(prepared.name, values, prepared.formats, BINARY)
        result = await self._aresult(conn)
        if unprepared(result):  # once per connection: prepare it, then run it
            pgconn.send_prepare(prepared.name, prepared.sql, prepared.types)
            outcome(pgconn, await self._aresult(conn), False)
            pgconn.send_query_prepared(prepared.name, values, prepared.formats, BINARY)
            result = await self._aresult(conn)
        return outcome(pgconn, result, fetch)

    async def _aresult(self, conn: AsyncBoundedConnection) -> PGresult:
        """The result of the statement just sent: psycopg's own non-blocking exchange (the one
        its cursors use), every wait bounded by the connection's deadline."""
        results = await conn.wait(generators.execute(conn.pgconn))
        result: PGresult = results[0]
        return result
