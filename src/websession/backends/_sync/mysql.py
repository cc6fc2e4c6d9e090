# GENERATED from _async/mysql.py by tools/unasync.py (make generate): do not edit.
"""MySQL's and MariaDB's operations on a pooled connection, written once.

The source of ``_sync/mysql.py`` (``tools/unasync.py``): PyMySQL and the sync drivers
(aiomysql, asyncmy) share PyMySQL's cursor API, so one body serves both. MySQL has no
``RETURNING``: a write's new version comes back through ``LAST_INSERT_ID(version + 1)``
(:func:`~websession.backends.sqlbase.mysql_version`), and a sliding-expiry load is a ``SELECT``
then an ``UPDATE``.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

from ..base import Record
from ..sqlbase import mysql_version, row_record
from .sqlbase import FETCH_ALL, PooledOps

__all__ = ["MySQLOps"]


class MySQLOps(PooledOps):
    """The statements of :class:`~websession.backends.mysql.MySQLBackend`, run."""

    _ddl: tuple[str, ...]
    _q_tables: str
    _tables: tuple[str | None, str, str]
    _pool: Any
    _q_get: str
    _q_touch: str

    def _bounded(self, conn: Any, statement: Any) -> Any:
        raise NotImplementedError

    @contextlib.contextmanager
    def _connection(self) -> Iterator[Any]:
        conn, _ = self._pool.acquire()
        try:
            yield conn
        except BaseException:
            self._pool.discard(conn)  # never reused after a failed statement
            raise
        self._pool.release(conn)

    def _drain(self) -> None:
        self._pool.drain()

    def _execute(self, conn: Any, query: str, params: tuple[Any, ...], fetch: Any) -> Any:
        return self._bounded(conn, self._statement(conn, query, params, fetch))

    def _statement(self, conn: Any, query: str, params: tuple[Any, ...], fetch: Any) -> Any:
        """Run one statement: its first row (``fetch``), every row (``FETCH_ALL``), else
        ``(rowcount, lastrowid)``."""
        with conn.cursor() as cursor:
            if not self._ready:
                cursor.execute(self._q_tables, self._tables)
                if (cursor.fetchone())[0] < len(self._ddl):
                    # another connection may be creating them too: its note is no news
                    cursor.execute("SET @@SESSION.sql_notes = 0")
                    for statement in self._ddl:
                        cursor.execute(statement)
                    cursor.execute("SET @@SESSION.sql_notes = DEFAULT")
                self._ready = True
            cursor.execute(query, params)
            if fetch == FETCH_ALL:
                return cursor.fetchall()
            if fetch:
                return cursor.fetchone()
            return (cursor.rowcount, cursor.lastrowid)

    # -- the Backend protocol (delete, purge and the owner index come from SQLOps) ----------
    def get(self, key: str, *, touch: int | None = None) -> Record | None:
        now = self._clock()
        row = self._run(self._q_get, (key, now), True)
        if row is None:
            return None
        if touch is None:
            return row_record(row)
        self._run(self._q_touch, (now + touch, key, now), False)
        return Record(bytes(row[0]), now + touch, int(row[2]))

    def set(
        self,
        key: str,
        data: bytes,
        ttl: int,
        *,
        must_exist: bool = False,
        if_version: int | None = None,
    ) -> int | None:
        return mysql_version(*self._write(key, data, ttl, must_exist, if_version, False))
