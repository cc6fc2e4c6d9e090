"""PostgreSQL's one execution path: a statement on a pooled psycopg connection, written once.

The source of ``_sync/postgresql.py`` (``tools/unasync.py``): the sync and the async backend
run the same psycopg calls (``conn.execute`` with parameters in binary format, prepared on
each connection the first time they run there unless ``prepare=False``), on connections from
``psycopg_pool``. :class:`AsyncBoundedConnection` puts the backend's ``timeout`` on every wait
for the server (see its docs).
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any, TypeVar

import psycopg
from psycopg import AsyncConnection
from psycopg import errors as pg_errors
from psycopg.abc import PQGen
from psycopg_pool import AsyncConnectionPool

from .sqlbase import FETCH_ALL, AsyncPooledSQL, AsyncReturningSQL

__all__ = ["AsyncBoundedConnection", "AsyncPostgreSQL"]

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

    async def wait(self, gen: PQGen[RV], interval: float = 0.1, timeout: float | None = None) -> RV:
        try:
            return await super().wait(gen, interval, self.deadline if timeout is None else timeout)
        except pg_errors._WaitTimeout as exc:  # psycopg's own "timeout expired"
            self.pgconn.finish()
            raise psycopg.OperationalError(
                f"PostgreSQL did not answer within {self.deadline:g} s"
            ) from exc


class AsyncPostgreSQL(AsyncReturningSQL, AsyncPooledSQL):
    """The statements of :class:`~websession.backends.postgresql.PostgreSQLBackend`, run."""

    _ddl: tuple[str, ...]
    _timeout: float | None
    _pool_timeout: float

    async def _aopen_pool(self) -> AsyncConnectionPool[AsyncBoundedConnection]:
        raise NotImplementedError

    async def _aconfigure(self, conn: AsyncBoundedConnection) -> None:
        """Each new pooled connection: the backend's deadline on its waits."""
        conn.deadline = self._timeout

    @contextlib.asynccontextmanager
    async def _aconnection(self) -> AsyncIterator[AsyncBoundedConnection]:
        pool = await self._aopen_pool()
        async with pool.connection(self._pool_timeout) as conn:
            yield conn

    async def _adrain(self) -> None:
        pool = await self._aopen_pool()
        await pool.drain()

    async def _aexecute(
        self, conn: AsyncBoundedConnection, query: str, params: tuple[Any, ...], fetch: Any
    ) -> Any:
        if not self._ready:
            for ddl in self._ddl:
                with contextlib.suppress(*_RACED_DDL):  # another process made it at that moment
                    await conn.execute(ddl)
            self._ready = True
        cursor = await conn.execute(query, params, binary=True)
        if fetch == FETCH_ALL:
            return await cursor.fetchall()
        return await cursor.fetchone() if fetch else cursor.rowcount
