# Generated from _async/postgresql.py by tools/unasync.py (make generate): do not edit.
"""PostgreSQL's one execution path: a statement on a pooled psycopg connection, written once.

The source of ``_sync/postgresql.py`` (``tools/unasync.py``): the sync and the async backend
run the same psycopg calls (``conn.execute`` with parameters in binary format, prepared on
each connection the first time they run there unless ``prepare=False``), on connections from
``psycopg_pool``. :class:`SyncBoundedConnection` puts the backend's ``timeout`` on every wait
for the server (see its docs).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any, TypeVar

import psycopg
from psycopg import Connection
from psycopg import errors as pg_errors
from psycopg.abc import PQGen
from psycopg_pool import ConnectionPool

from .sqlbase import FETCH_ALL, SyncPooledSQL, SyncReturningSQL

__all__ = ["SyncBoundedConnection", "SyncPostgreSQL"]

RV = TypeVar("RV")

_RACED_DDL = (pg_errors.UniqueViolation, pg_errors.DuplicateTable, pg_errors.DuplicateObject)


class SyncBoundedConnection(Connection[Any]):
    """A psycopg connection whose every wait for the server ends after ``deadline`` seconds.

    libpq's waits have no limit, and the server's ``statement_timeout`` does not help when the
    server itself is frozen or cut off: a request would hang. psycopg drives every exchange
    through :meth:`wait`, which takes a timeout; this gives it the backend's. On expiry the
    socket is closed without further I/O (cancelling would talk to the frozen server, and
    psycopg waits up to 5 s for that) and the pool discards the broken connection.
    """

    #: seconds one exchange with the server may take (None: no limit); set by the backend
    deadline: float | None = None

    def wait(self, gen: PQGen[RV], interval: float = 0.1, timeout: float | None = None) -> RV:
        try:
            return super().wait(gen, interval, self.deadline if timeout is None else timeout)
        except pg_errors._WaitTimeout as exc:  # psycopg's own "timeout expired"
            self.pgconn.finish()
            raise psycopg.OperationalError(
                f"PostgreSQL did not answer within {self.deadline:g} s"
            ) from exc


class SyncPostgreSQL(SyncReturningSQL, SyncPooledSQL):
    """The statements of :class:`~websession.backends.postgresql.PostgreSQLBackend`, run."""

    _ddl: tuple[str, ...]
    _timeout: float | None
    _pool_timeout: float

    def _open_pool(self) -> ConnectionPool[SyncBoundedConnection]:
        raise NotImplementedError

    def _configure(self, conn: SyncBoundedConnection) -> None:
        """Each new pooled connection: the backend's deadline on its waits."""
        conn.deadline = self._timeout

    @contextlib.contextmanager
    def _connection(self) -> Iterator[SyncBoundedConnection]:
        pool = self._open_pool()
        with pool.connection(self._pool_timeout) as conn:
            yield conn

    def _drain(self) -> None:
        pool = self._open_pool()
        pool.drain()

    def _execute(
        self, conn: SyncBoundedConnection, query: str, params: tuple[Any, ...], fetch: Any
    ) -> Any:
        if not self._ready:
            for ddl in self._ddl:
                with contextlib.suppress(*_RACED_DDL):  # another process made it at that moment
                    conn.execute(ddl)
            self._ready = True
        cursor = conn.execute(query, params, binary=True)
        if fetch == FETCH_ALL:
            return cursor.fetchall()
        return cursor.fetchone() if fetch else cursor.rowcount
