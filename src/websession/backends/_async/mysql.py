"""MySQL's and MariaDB's operations on a pooled connection, written once.

The source of ``_sync/mysql.py`` (``tools/unasync.py``): PyMySQL and the async drivers
(aiomysql, asyncmy) share PyMySQL's cursor API, so one body serves both. MySQL has no
``RETURNING``: a write's new version comes back through ``LAST_INSERT_ID(version + 1)``
(:func:`~websession.backends.sqlbase.mysql_version`), and a sliding-expiry load is a ``SELECT``
then an ``UPDATE``.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any

from ..base import Record
from ..sqlbase import mysql_version, row_record
from .sqlbase import FETCH_ALL, AsyncPooledOps

__all__ = ["AsyncMySQLOps"]


class AsyncMySQLOps(AsyncPooledOps):
    """The statements of :class:`~websession.backends.mysql.MySQLBackend`, run."""

    _ddl: tuple[str, ...]
    _q_tables: str
    _tables: tuple[str | None, str, str]
    _apool: Any
    _q_get: str
    _q_touch: str

    async def _abounded(self, conn: Any, statement: Any) -> Any:
        raise NotImplementedError

    @contextlib.asynccontextmanager
    async def _aconnection(self) -> AsyncIterator[Any]:
        conn, _ = await self._apool.acquire()
        try:
            yield conn
        except BaseException:
            await self._apool.discard(conn)  # never reused after a failed statement
            raise
        await self._apool.release(conn)

    async def _adrain(self) -> None:
        await self._apool.drain()

    async def _aexecute(self, conn: Any, query: str, params: tuple[Any, ...], fetch: Any) -> Any:
        return await self._abounded(conn, self._astatement(conn, query, params, fetch))

    async def _astatement(self, conn: Any, query: str, params: tuple[Any, ...], fetch: Any) -> Any:
        """Run one statement: its first row (``fetch``), every row (``FETCH_ALL``), else
        ``(rowcount, lastrowid)``."""
        async with conn.cursor() as cursor:
            if not self._ready:
                await cursor.execute(self._q_tables, self._tables)
                if (await cursor.fetchone())[0] < len(self._ddl):
                    # another connection may be creating them too: its note is no news
                    await cursor.execute("SET @@SESSION.sql_notes = 0")
                    for statement in self._ddl:
                        await cursor.execute(statement)
                    await cursor.execute("SET @@SESSION.sql_notes = DEFAULT")
                self._ready = True
            await cursor.execute(query, params)
            if fetch == FETCH_ALL:
                return await cursor.fetchall()
            if fetch:
                return await cursor.fetchone()
            return (cursor.rowcount, cursor.lastrowid)

    # -- the Backend protocol (delete, purge and the owner index come from AsyncSQLOps) ----------
    async def aget(self, key: str, *, touch: int | None = None) -> Record | None:
        now = self._clock()
        row = await self._arun(self._q_get, (key, now), True)
        if row is None:
            return None
        if touch is None:
            return row_record(row)
        await self._arun(self._q_touch, (now + touch, key, now), False)
        return Record(bytes(row[0]), now + touch, int(row[2]))

    async def aset(
        self,
        key: str,
        data: bytes,
        ttl: int,
        *,
        must_exist: bool = False,
        if_version: int | None = None,
    ) -> int | None:
        return mysql_version(*await self._awrite(key, data, ttl, must_exist, if_version, False))
