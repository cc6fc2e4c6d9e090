"""SQLAlchemyBackend's operations, written once over an engine's connection.

The source of ``_sync/sqlalchemy.py`` (``tools/unasync.py``): SQLAlchemy's ``AsyncConnection``
and ``Connection`` take the same statements, so one body serves both; the engines, their
pools (SQLAlchemy's own) and the dialect's statements (``_Statements``) are made in
:mod:`websession.backends.sqlalchemy`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import sqlalchemy as sa
from sqlalchemy import exc as sa_exc

from ...errors import StoreUnavailable
from .._errors import unavailable
from ..base import PurgeProgress, Record, apurge_in_batches
from ..sqlbase import mysql_version, row_record

__all__ = ["AsyncSQLAlchemyOps"]

_CONNECTION_ERRORS = (
    sa_exc.OperationalError,
    sa_exc.InterfaceError,
    sa_exc.DisconnectionError,
    sa_exc.TimeoutError,
    OSError,
)

#: work on a connection: ``work(conn, statements)`` (a coroutine function here)
Work = Callable[[Any, Any], Any]


class AsyncSQLAlchemyOps:
    """The Backend protocol over ``_aprepared()``: (engine, the dialect's statements, whether
    to run each statement on its own in autocommit mode rather than in a transaction)."""

    _ready: bool
    _create_schema: bool
    _clock: Callable[[], float]
    metadata: sa.MetaData
    purge_batch: int
    purge_pause: float

    async def _aprepared(self) -> tuple[Any, Any, bool]:
        raise NotImplementedError

    async def _aschema(self, conn: Any, make: Callable[..., None]) -> None:
        """Run ``metadata.create_all``/``drop_all`` on ``conn``."""
        raise NotImplementedError

    def _unavailable(self, exc: BaseException) -> StoreUnavailable:
        return unavailable("the database", exc)

    async def _acall(self, work: Work, retry: bool = True) -> Any:
        engine, stmts, autocommit = await self._aprepared()
        try:
            if not self._ready:
                await self._acreate(engine)
            async with engine.connect() if autocommit else engine.begin() as conn:
                return await work(conn, stmts)
        except _CONNECTION_ERRORS as exc:
            if retry and getattr(exc, "connection_invalidated", False):
                return await self._acall(work, retry=False)
            raise self._unavailable(exc) from exc

    async def _acreate(self, engine: Any) -> None:
        """``create_all``: it looks for each table, then creates the missing ones. Another
        connection or process (a new deployment's first requests arrive together) can create
        a table between the look and the CREATE, which then fails ("already exists"): looking
        again finds it. One connection for all the tries, so a database that cannot be reached
        fails once, as any call does; a lost connection is not tried again here (``_acall``
        decides), and an error that persists is raised after the third try."""
        async with engine.connect() as conn:
            for attempt in range(3):
                try:
                    async with conn.begin():
                        await self._aschema(conn, self.metadata.create_all)
                    break
                except sa_exc.DBAPIError:
                    if attempt == 2 or conn.invalidated:
                        raise
                    await asyncio.sleep(0.05 * (attempt + 1))  # the other's CREATE commits
        self._ready = True

    # -- schema --------------------------------------------------------------------------------
    async def acreate_schema(self) -> None:
        """Create the table and its index now (if they do not exist)."""
        self._ready = False

        async def nothing(conn: Any, s: Any) -> None:
            return None

        await self._acall(nothing)

    async def adrop_schema(self) -> None:
        """Drop the table (every session is lost); it is created again on next use."""
        self._ready = True

        async def drop(conn: Any, s: Any) -> None:
            await self._aschema(conn, self.metadata.drop_all)

        await self._acall(drop)
        self._ready = not self._create_schema

    # -- the Backend protocol ----------------------------------------------------------------
    async def aget(self, key: str, *, touch: int | None = None) -> Record | None:
        now = self._clock()
        params = {"p_key": key, "p_now": now}
        if touch is not None:
            params["p_exp"] = now + touch

        async def work(conn: Any, s: Any) -> Any:
            if touch is None:
                return (await conn.execute(s.get, params)).first()
            return await _atouch(conn, s, params)

        row = await self._acall(work)
        return None if row is None else row_record(row)

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
        params = {"p_key": key, "p_data": data, "p_now": now, "p_exp": now + ttl}
        if if_version is not None:
            params["p_ver"] = if_version

        async def work(conn: Any, s: Any) -> int | None:
            if if_version is not None:
                return await _aupdate(conn, s, s.update_version, params)
            if must_exist:
                return await _aupdate(conn, s, s.update, params)
            return await _aupsert(conn, s, params)

        # an if_version write is never retried: it may have been applied before the error
        result: int | None = await self._acall(work, retry=if_version is None)
        return result

    async def adelete(self, key: str) -> None:
        async def work(conn: Any, s: Any) -> None:
            await conn.execute(s.delete, {"p_key": key})

        await self._acall(work)

    async def apurge(self, progress: PurgeProgress | None = None) -> int:
        now = self._clock()
        total = None
        if progress is not None:

            async def count(conn: Any, s: Any) -> int:
                return int((await conn.execute(s.count_expired, {"p_now": now})).scalar_one())

            total = int(await self._acall(count))

        async def step(limit: int) -> int:
            async def work(conn: Any, s: Any) -> int:
                found = await conn.execute(s.expired_keys, {"p_now": now, "p_limit": limit})
                keys = list(found.scalars())
                if keys:
                    await conn.execute(s.purge, {"p_keys": keys, "p_now": now})
                return len(keys)

            return int(await self._acall(work))

        removed = await apurge_in_batches(
            step, batch=self.purge_batch, pause=self.purge_pause, progress=progress, total=total
        )

        async def owners(conn: Any, s: Any) -> None:
            await conn.execute(s.purge_owners, {"p_now": now})

        await self._acall(owners)
        return removed

    # -- the owner index -----------------------------------------------------------------------
    async def aindex(self, owner: str, key: str, entry: bytes, ttl: float) -> None:
        params = {
            "p_owner": owner,
            "p_key": key,
            "p_entry": bytes(entry),
            "p_exp": self._clock() + ttl,
        }

        async def work(conn: Any, s: Any) -> None:
            if s.index_upsert is not None:  # the dialect's upsert, else update-then-insert
                await conn.execute(s.index_upsert, params)
            elif not (await conn.execute(s.index_update, params)).rowcount:
                await conn.execute(s.index_insert, params)

        await self._acall(work)

    async def aowned(self, owner: str) -> list[tuple[str, bytes]]:
        params = {"p_owner": owner, "p_now": self._clock()}

        async def work(conn: Any, s: Any) -> list[tuple[str, bytes]]:
            await conn.execute(s.prune_owner, params)
            rows = (await conn.execute(s.owned, params)).all()
            return [(str(r[0]), bytes(r[1])) for r in rows]

        result: list[tuple[str, bytes]] = await self._acall(work)
        return result

    async def aunindex(self, owner: str, key: str) -> None:
        async def work(conn: Any, s: Any) -> None:
            await conn.execute(s.unindex, {"p_owner": owner, "p_key": key})

        await self._acall(work)


# -- the operations that depend on the dialect ---------------------------------------------------
async def _atouch(conn: Any, s: Any, params: dict[str, Any]) -> Any:
    if s.returning:
        return (await conn.execute(s.touch, params)).first()
    row = (await conn.execute(s.get, params)).first()
    if row is not None:
        await conn.execute(s.touch, params)
        row = (row[0], params["p_exp"], row[2])
    return row


async def _aupdate(conn: Any, s: Any, stmt: Any, params: dict[str, Any]) -> int | None:
    result = await conn.execute(stmt, params)
    if s.returning:
        row = result.first()
        return None if row is None else int(row[0])
    if s.mysql:
        return mysql_version(result.rowcount, result.lastrowid)
    if result.rowcount != 1:
        return None
    return int((await conn.execute(s.version_of, params)).scalar_one())


async def _aupsert(conn: Any, s: Any, params: dict[str, Any]) -> int | None:
    if s.upsert is not None:
        result = await conn.execute(s.upsert, params)
        if s.mysql:
            return mysql_version(result.rowcount, result.lastrowid)
        return int(result.scalar_one())
    # generic: update, else insert (inside the caller's transaction)
    stripped = {k: v for k, v in params.items() if k != "p_now"} | {"p_now": -1.0}
    version = await _aupdate(conn, s, s.update, stripped)
    if version is not None:
        return version
    await conn.execute(s.insert, params)
    return 1
