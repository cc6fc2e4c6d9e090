# GENERATED from _async/sqlalchemy.py by tools/unasync.py (make generate): do not edit.
"""SQLAlchemyBackend's operations, written once over an engine's connection.

The source of ``_sync/sqlalchemy.py`` (``tools/unasync.py``): SQLAlchemy's ``Connection``
and ``Connection`` take the same statements, so one body serves both; the engines, their
pools (SQLAlchemy's own) and the dialect's statements (``_Statements``) are made in
:mod:`websession.backends.sqlalchemy`.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import sqlalchemy as sa
from sqlalchemy import exc as sa_exc

from ...errors import StoreUnavailable
from .._errors import unavailable
from ..base import PurgeProgress, Record, purge_in_batches
from ..sqlbase import mysql_version, row_record

__all__ = ["SQLAlchemyOps"]

_CONNECTION_ERRORS = (
    sa_exc.OperationalError,
    sa_exc.InterfaceError,
    sa_exc.DisconnectionError,
    sa_exc.TimeoutError,
    OSError,
)

#: work on a connection: ``work(conn, statements)`` (a coroutine function here)
Work = Callable[[Any, Any], Any]


class SQLAlchemyOps:
    """The Backend protocol over ``_prepared()``: (engine, the dialect's statements, whether
    to run each statement on its own in autocommit mode rather than in a transaction)."""

    _ready: bool
    _create_schema: bool
    _clock: Callable[[], float]
    metadata: sa.MetaData
    purge_batch: int
    purge_pause: float

    def _prepared(self) -> tuple[Any, Any, bool]:
        raise NotImplementedError

    def _schema(self, conn: Any, make: Callable[..., None]) -> None:
        """Run ``metadata.create_all``/``drop_all`` on ``conn``."""
        raise NotImplementedError

    def _unavailable(self, exc: BaseException) -> StoreUnavailable:
        return unavailable("the database", exc)

    def _call(self, work: Work, retry: bool = True) -> Any:
        engine, stmts, autocommit = self._prepared()
        try:
            if not self._ready:
                self._create(engine)
            with engine.connect() if autocommit else engine.begin() as conn:
                return work(conn, stmts)
        except _CONNECTION_ERRORS as exc:
            if retry and getattr(exc, "connection_invalidated", False):
                return self._call(work, retry=False)
            raise self._unavailable(exc) from exc

    def _create(self, engine: Any) -> None:
        """``create_all``: it looks for each table, then creates the missing ones. Another
        connection or process (a new deployment's first requests arrive together) can create
        a table between the look and the CREATE, which then fails ("already exists"): looking
        again finds it. One connection for all the tries, so a database that cannot be reached
        fails once, as any call does; a lost connection is not tried again here (``_call``
        decides), and an error that persists is raised after the third try."""
        with engine.connect() as conn:
            for attempt in range(3):
                try:
                    with conn.begin():
                        self._schema(conn, self.metadata.create_all)
                    break
                except sa_exc.DBAPIError:
                    if attempt == 2 or conn.invalidated:
                        raise
                    time.sleep(0.05 * (attempt + 1))  # the other's CREATE commits
        self._ready = True

    # -- schema --------------------------------------------------------------------------------
    def create_schema(self) -> None:
        """Create the table and its index now (if they do not exist)."""
        self._ready = False

        def nothing(conn: Any, s: Any) -> None:
            return None

        self._call(nothing)

    def drop_schema(self) -> None:
        """Drop the table (every session is lost); it is created again on next use."""
        self._ready = True

        def drop(conn: Any, s: Any) -> None:
            self._schema(conn, self.metadata.drop_all)

        self._call(drop)
        self._ready = not self._create_schema

    # -- the Backend protocol ----------------------------------------------------------------
    def get(self, key: str, *, touch: int | None = None) -> Record | None:
        now = self._clock()
        params = {"p_key": key, "p_now": now}
        if touch is not None:
            params["p_exp"] = now + touch

        def work(conn: Any, s: Any) -> Any:
            if touch is None:
                return (conn.execute(s.get, params)).first()
            return _touch(conn, s, params)

        row = self._call(work)
        return None if row is None else row_record(row)

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
        params = {"p_key": key, "p_data": data, "p_now": now, "p_exp": now + ttl}
        if if_version is not None:
            params["p_ver"] = if_version

        def work(conn: Any, s: Any) -> int | None:
            if if_version is not None:
                return _update(conn, s, s.update_version, params)
            if must_exist:
                return _update(conn, s, s.update, params)
            return _upsert(conn, s, params)

        # an if_version write is never retried: it may have been applied before the error
        result: int | None = self._call(work, retry=if_version is None)
        return result

    def delete(self, key: str) -> None:
        def work(conn: Any, s: Any) -> None:
            conn.execute(s.delete, {"p_key": key})

        self._call(work)

    def purge(self, progress: PurgeProgress | None = None) -> int:
        now = self._clock()
        total = None
        if progress is not None:

            def count(conn: Any, s: Any) -> int:
                return int((conn.execute(s.count_expired, {"p_now": now})).scalar_one())

            total = int(self._call(count))

        def step(limit: int) -> int:
            def work(conn: Any, s: Any) -> int:
                found = conn.execute(s.expired_keys, {"p_now": now, "p_limit": limit})
                keys = list(found.scalars())
                if keys:
                    conn.execute(s.purge, {"p_keys": keys, "p_now": now})
                return len(keys)

            return int(self._call(work))

        removed = purge_in_batches(
            step, batch=self.purge_batch, pause=self.purge_pause, progress=progress, total=total
        )

        def owners(conn: Any, s: Any) -> None:
            conn.execute(s.purge_owners, {"p_now": now})

        self._call(owners)
        return removed

    # -- the owner index -----------------------------------------------------------------------
    def index(self, owner: str, key: str, entry: bytes, ttl: float) -> None:
        params = {
            "p_owner": owner,
            "p_key": key,
            "p_entry": bytes(entry),
            "p_exp": self._clock() + ttl,
        }

        def work(conn: Any, s: Any) -> None:
            if s.index_upsert is not None:  # the dialect's upsert, else update-then-insert
                conn.execute(s.index_upsert, params)
            elif not (conn.execute(s.index_update, params)).rowcount:
                conn.execute(s.index_insert, params)

        self._call(work)

    def owned(self, owner: str) -> list[tuple[str, bytes]]:
        params = {"p_owner": owner, "p_now": self._clock()}

        def work(conn: Any, s: Any) -> list[tuple[str, bytes]]:
            conn.execute(s.prune_owner, params)
            rows = (conn.execute(s.owned, params)).all()
            return [(str(r[0]), bytes(r[1])) for r in rows]

        result: list[tuple[str, bytes]] = self._call(work)
        return result

    def unindex(self, owner: str, key: str) -> None:
        def work(conn: Any, s: Any) -> None:
            conn.execute(s.unindex, {"p_owner": owner, "p_key": key})

        self._call(work)


# -- the operations that depend on the dialect ---------------------------------------------------
def _touch(conn: Any, s: Any, params: dict[str, Any]) -> Any:
    if s.returning:
        return (conn.execute(s.touch, params)).first()
    row = (conn.execute(s.get, params)).first()
    if row is not None:
        conn.execute(s.touch, params)
        row = (row[0], params["p_exp"], row[2])
    return row


def _update(conn: Any, s: Any, stmt: Any, params: dict[str, Any]) -> int | None:
    result = conn.execute(stmt, params)
    if s.returning:
        row = result.first()
        return None if row is None else int(row[0])
    if s.mysql:
        return mysql_version(result.rowcount, result.lastrowid)
    if result.rowcount != 1:
        return None
    return int((conn.execute(s.version_of, params)).scalar_one())


def _upsert(conn: Any, s: Any, params: dict[str, Any]) -> int | None:
    if s.upsert is not None:
        result = conn.execute(s.upsert, params)
        if s.mysql:
            return mysql_version(result.rowcount, result.lastrowid)
        return int(result.scalar_one())
    # generic: update, else insert (inside the caller's transaction)
    stripped = {k: v for k, v in params.items() if k != "p_now"} | {"p_now": -1.0}
    version = _update(conn, s, s.update, stripped)
    if version is not None:
        return version
    conn.execute(s.insert, params)
    return 1
