"""What every SQL backend does over its ``_arun`` (run one statement), written once.

The source of ``_sync/sqlbase.py`` (``tools/unasync.py``). :class:`AsyncSQLOps`: schema,
delete, a save's statement, purge and the owner index; :class:`AsyncReturningOps`:
``get``/``set`` where the database has ``UPDATE ... RETURNING`` (PostgreSQL, SQLite);
:class:`AsyncPooledOps`: ``_arun`` on a pooled connection (PostgreSQL, MySQL). The
statements themselves are built in :mod:`websession.backends.sqlbase`.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from typing import Any

from ...errors import StoreUnavailable
from ..base import PurgeProgress, Record, apurge_in_batches

__all__ = ["FETCH_ALL", "AsyncPooledOps", "AsyncReturningOps", "AsyncSQLOps"]

#: ``fetch`` value for ``_arun``: every row, not only the first
FETCH_ALL = "all"

#: a pooled connection that fails faster than this was dead already (a server restart)
_IDLE_DEATH = 0.25


def _count(result: Any) -> int:
    """The rows a non-fetching statement changed: ``_arun`` gives the count, or MySQL's
    ``(rowcount, lastrowid)``."""
    return int(result[0] if isinstance(result, tuple) else result)


class AsyncSQLOps:
    """Schema, delete, a save's statement, purge and the owner index over
    ``_arun(query, params, fetch, retry)``.

    ``_arun`` runs one statement (creating the tables first while ``_ready`` is false) and
    returns its first row (``fetch``), every row (``fetch=FETCH_ALL``) or the driver's result.
    """

    _ready: bool
    _clock: Callable[[], float]
    purge_batch: int
    purge_pause: float
    _drop: str
    _drop_owners: str
    _q_delete: str
    _q_index: str
    _q_owned: str
    _q_prune_owner: str
    _q_unindex: str
    _q_purge_owners: str
    _q_upsert: str
    _q_update: str
    _q_update_version: str
    _q_purge: str
    _q_count_expired: str

    async def _arun(
        self, query: str, params: tuple[Any, ...], fetch: Any, retry: bool = True
    ) -> Any:
        raise NotImplementedError

    async def acreate_schema(self) -> None:
        """Create the tables and their indexes now (if they do not exist)."""
        self._ready = False
        await self._arun("SELECT 1", (), True)

    async def adrop_schema(self) -> None:
        """Drop the tables (every session is lost); they are created again on next use."""
        self._ready = True
        await self._arun(self._drop, (), False)
        await self._arun(self._drop_owners, (), False)
        self._ready = False

    async def adelete(self, key: str) -> None:
        await self._arun(self._q_delete, (key,), False)

    async def _awrite(
        self, key: str, data: bytes, ttl: int, must_exist: bool, if_version: int | None, fetch: Any
    ) -> Any:
        """Run a save's statement and return what ``_arun`` gives (the backend reads the new
        version from it): an upsert, or an update of the live record, checked against
        ``if_version`` when given."""
        now = self._clock()
        if if_version is not None:
            # never retried: it may have been applied before the connection died
            args: tuple[Any, ...] = (data, now + ttl, key, now, if_version)
            return await self._arun(self._q_update_version, args, fetch, False)
        if must_exist:
            return await self._arun(self._q_update, (data, now + ttl, key, now), fetch)
        return await self._arun(self._q_upsert, (key, data, now + ttl), fetch)

    async def apurge(self, progress: PurgeProgress | None = None) -> int:
        now = self._clock()
        total = None
        if progress is not None:  # an index range count: cheap next to the deletes
            total = int((await self._arun(self._q_count_expired, (now,), True))[0])

        async def step(limit: int) -> int:
            return _count(await self._arun(self._q_purge, (now, limit), False))

        removed = await apurge_in_batches(
            step, batch=self.purge_batch, pause=self.purge_pause, progress=progress, total=total
        )
        await self.apurge_owners()
        return removed

    # -- the owner index -----------------------------------------------------------------------
    async def aindex(self, owner: str, key: str, entry: bytes, ttl: float) -> None:
        await self._arun(self._q_index, (owner, key, bytes(entry), self._clock() + ttl), False)

    async def aowned(self, owner: str) -> list[tuple[str, bytes]]:
        now = self._clock()
        await self._arun(self._q_prune_owner, (owner, now), False)  # lazily: this owner's dead
        rows = await self._arun(self._q_owned, (owner, now), FETCH_ALL)
        return [(str(row[0]), bytes(row[1])) for row in rows]

    async def aunindex(self, owner: str, key: str) -> None:
        await self._arun(self._q_unindex, (owner, key), False)

    async def apurge_owners(self) -> int:
        """Remove expired owner-index entries (called by ``purge``), in bounded batches."""
        now = self._clock()

        async def step(limit: int) -> int:
            return _count(await self._arun(self._q_purge_owners, (now, limit), False))

        return await apurge_in_batches(step, batch=self.purge_batch, pause=self.purge_pause)


class AsyncReturningOps(AsyncSQLOps):
    """``get`` and ``set`` in one statement each, with ``... RETURNING``; the non-fetching
    ``_arun`` returns the row count."""

    _q_get: str
    _q_touch: str

    async def aget(self, key: str, *, touch: int | None = None) -> Record | None:
        now = self._clock()
        if touch is None:
            row = await self._arun(self._q_get, (key, now), True)
        else:
            row = await self._arun(self._q_touch, (now + touch, key, now), True)
        return None if row is None else Record(bytes(row[0]), float(row[1]), int(row[2]))

    async def aset(
        self,
        key: str,
        data: bytes,
        ttl: int,
        *,
        must_exist: bool = False,
        if_version: int | None = None,
    ) -> int | None:
        row = await self._awrite(key, data, ttl, must_exist, if_version, True)
        return None if row is None else int(row[0])


class AsyncPooledOps(AsyncSQLOps):
    """``_arun``: one statement on a connection from the backend's pool.

    A backend gives ``_aconnection()`` (a pooled connection for the block, put back after it;
    the pool drops a broken one), ``_aexecute`` (run the statement, creating the tables first
    while ``_ready`` is false), ``_adrain`` (drop every idle connection) and its connection
    errors. A connection error raises :class:`StoreUnavailable`; one that came at once (a
    pooled connection that died idle: a server restart) drains the pool and tries once more on
    a fresh connection, unless ``retry`` is false. One that took its time (a timeout) is not
    tried again, so a frozen server costs one timeout, not two.
    """

    #: the errors that mean the connection (or the server) is gone
    _connection_errors: tuple[type[BaseException], ...]

    def _aconnection(self) -> AbstractAsyncContextManager[Any]:
        raise NotImplementedError

    async def _aexecute(self, conn: Any, query: str, params: tuple[Any, ...], fetch: Any) -> Any:
        raise NotImplementedError

    async def _adrain(self) -> None:
        raise NotImplementedError

    def _unavailable(self, exc: BaseException) -> StoreUnavailable:
        raise NotImplementedError

    async def _arun(
        self, query: str, params: tuple[Any, ...], fetch: Any, retry: bool = True
    ) -> Any:
        started = time.monotonic()
        try:
            async with self._aconnection() as conn:
                return await self._aexecute(conn, query, params, fetch)
        except self._connection_errors as exc:
            if retry and time.monotonic() - started < _IDLE_DEATH:
                await self._adrain()  # after a restart every idle connection is dead
                return await self._arun(query, params, fetch, retry=False)
            raise self._unavailable(exc) from exc
