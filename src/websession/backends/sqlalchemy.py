"""SQLAlchemyBackend: records in any database SQLAlchemy 2 supports, sync and asyncio.

SQLAlchemy Core only (a ``Table``, no ORM). Where the dialect has an upsert it is one statement:
PostgreSQL and SQLite ``INSERT ... ON CONFLICT DO UPDATE ... RETURNING``, MySQL/MariaDB
``INSERT ... ON DUPLICATE KEY UPDATE`` (the new version via ``LAST_INSERT_ID``); elsewhere an
``UPDATE`` then, if no row matched, an ``INSERT``, in one transaction.

Give it a URL (``postgresql+psycopg://...``, ``mysql+pymysql://...``, ``sqlite:///x.db``) and
it makes both engines, the sync one and the asyncio one, on first use: the asyncio URL swaps the
driver for its async sibling (pysqlite -> aiosqlite, pymysql -> aiomysql, psycopg2 -> psycopg,
and back), or give ``async_url=``. Or pass your own ``Engine`` and/or ``AsyncEngine``. Engines
it makes run in autocommit mode (each statement is its own transaction: no ``BEGIN``/``COMMIT``
round trips); engines you pass are used in ordinary transactions.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

from ..errors import StoreUnavailable
from ._errors import unavailable
from .base import (
    PURGE_BATCH,
    PURGE_PAUSE,
    PurgeProgress,
    Record,
    apurge_in_batches,
    purge_in_batches,
)
from .sqlbase import (
    DEFAULT_TABLE,
    missing_client,
    mysql_version,
    owner_table,
    row_record,
    split_options,
    validate_table,
)

try:
    import sqlalchemy as sa
    from sqlalchemy import exc as sa_exc
    from sqlalchemy.dialects import mysql as sa_mysql
    from sqlalchemy.engine import URL, Engine, make_url
except ImportError as _exc:  # pragma: no cover - depends on the environment
    raise missing_client("sqlalchemy", _exc) from _exc

__all__ = ["SQLAlchemyBackend"]

_CONNECTION_ERRORS = (
    sa_exc.OperationalError,
    sa_exc.InterfaceError,
    sa_exc.DisconnectionError,
    sa_exc.TimeoutError,
    OSError,
)
_OPTIONS = ("table", "schema", "create_schema", "async_url")
_MYSQL = ("mysql", "mariadb")
#: backend -> (sync driver -> async driver) and back
_TO_ASYNC = {
    "sqlite": {"pysqlite": "aiosqlite"},
    "postgresql": {"psycopg2": "psycopg", "psycopg": "psycopg", "pg8000": "asyncpg"},
    "mysql": {"pymysql": "aiomysql", "mysqldb": "aiomysql", "mysqlconnector": "aiomysql"},
    "mariadb": {"pymysql": "aiomysql", "mysqldb": "aiomysql", "mysqlconnector": "aiomysql"},
}
_TO_SYNC = {
    "sqlite": {"aiosqlite": "pysqlite"},
    "postgresql": {"asyncpg": "psycopg", "psycopg_async": "psycopg", "psycopg": "psycopg"},
    "mysql": {"aiomysql": "pymysql", "asyncmy": "pymysql"},
    "mariadb": {"aiomysql": "pymysql", "asyncmy": "pymysql"},
}
_ASYNC_DRIVERS = {"aiosqlite", "asyncpg", "psycopg_async", "aiomysql", "asyncmy"}


def _swap_driver(url: URL, table: dict[str, dict[str, str]]) -> URL | None:
    backend = url.get_backend_name()
    driver = url.get_driver_name()
    other = table.get(backend, {}).get(driver)
    return None if other is None else url.set(drivername=f"{backend}+{other}")


class _Statements:
    """The statements for one dialect, built once (SQLAlchemy caches their compiled form)."""

    def __init__(self, table: sa.Table, owners: sa.Table, dialect: sa.engine.Dialect) -> None:
        c = table.c
        p = sa.bindparam
        self.name = dialect.name
        self.mysql = dialect.name in _MYSQL
        self.returning = bool(dialect.update_returning) and not self.mysql
        live = sa.and_(c.key == p("p_key"), c.expires_at > p("p_now"))
        self.get = sa.select(c.data, c.expires_at, c.version).where(live)
        self.touch = sa.update(table).where(live).values(expires_at=p("p_exp"))
        if self.returning:
            self.touch = self.touch.returning(c.data, c.expires_at, c.version)
        bump = sa.func.last_insert_id(c.version + 1) if self.mysql else c.version + 1
        update = sa.update(table).values(data=p("p_data"), expires_at=p("p_exp"), version=bump)
        self.update = update.where(live)
        self.update_version = update.where(live, c.version == p("p_ver"))
        if self.returning:
            self.update = self.update.returning(c.version)
            self.update_version = self.update_version.returning(c.version)
        self.version_of = sa.select(c.version).where(c.key == p("p_key"))
        values = {"key": p("p_key"), "data": p("p_data"), "expires_at": p("p_exp"), "version": 1}
        self.insert = sa.insert(table).values(**values)
        self.upsert: Any = None
        if dialect.name in ("postgresql", "sqlite"):
            module = __import__(f"sqlalchemy.dialects.{dialect.name}", fromlist=["insert"])
            ins = module.insert(table).values(**values)
            self.upsert = ins.on_conflict_do_update(
                index_elements=[c.key],
                set_={
                    "data": ins.excluded.data,
                    "expires_at": ins.excluded.expires_at,
                    "version": c.version + 1,
                },
            ).returning(c.version)
        elif self.mysql:
            ins = sa_mysql.insert(table).values(**values)
            self.upsert = ins.on_duplicate_key_update(
                data=ins.inserted.data, expires_at=ins.inserted.expires_at, version=bump
            )
        self.delete = sa.delete(table).where(c.key == p("p_key"))
        # a purge batch: the keys of some expired rows (through the expires_at index), then
        # those rows, checked again (MySQL allows no LIMIT in a DELETE's IN subquery)
        self.expired_keys = sa.select(c.key).where(c.expires_at <= p("p_now")).limit(p("p_limit"))
        self.purge = sa.delete(table).where(
            c.key.in_(sa.bindparam("p_keys", expanding=True)), c.expires_at <= p("p_now")
        )
        self.count_expired = (
            sa.select(sa.func.count()).select_from(table).where(c.expires_at <= p("p_now"))
        )
        # the owner index (see sqlbase's module docs: a table of its own, owner first in its key)
        o = owners.c
        entry: dict[str, Any] = {
            "owner": p("p_owner"),
            "key": p("p_key"),
            "entry": p("p_entry"),
            "expires_at": p("p_exp"),
        }
        self.index_insert = sa.insert(owners).values(**entry)
        self.index_update = (
            sa.update(owners)
            .where(o.owner == p("p_owner"), o.key == p("p_key"))
            .values(entry=p("p_entry"), expires_at=p("p_exp"))
        )
        self.index_upsert: Any = None
        if dialect.name in ("postgresql", "sqlite"):
            module = __import__(f"sqlalchemy.dialects.{dialect.name}", fromlist=["insert"])
            ins = module.insert(owners).values(**entry)
            self.index_upsert = ins.on_conflict_do_update(
                index_elements=[o.owner, o.key],
                set_={"entry": ins.excluded.entry, "expires_at": ins.excluded.expires_at},
            )
        elif self.mysql:
            ins = sa_mysql.insert(owners).values(**entry)
            self.index_upsert = ins.on_duplicate_key_update(
                entry=ins.inserted.entry, expires_at=ins.inserted.expires_at
            )
        self.owned = sa.select(o.key, o.entry).where(
            o.owner == p("p_owner"), o.expires_at > p("p_now")
        )
        self.prune_owner = sa.delete(owners).where(
            o.owner == p("p_owner"), o.expires_at <= p("p_now")
        )
        self.unindex = sa.delete(owners).where(o.owner == p("p_owner"), o.key == p("p_key"))
        self.purge_owners = sa.delete(owners).where(o.expires_at <= p("p_now"))


class SQLAlchemyBackend:
    """Session records in a table, through SQLAlchemy 2 (sync ``Engine``, ``AsyncEngine``).

    Args:
        engine: a database URL, or an ``Engine``; may be None when ``async_engine`` is given.
        async_engine: an ``AsyncEngine`` or an async URL (made from ``engine``'s URL if absent).
        table: the table name, ``websession_sessions`` by default.
        schema: the database schema the table lives in.
        create_schema: create the table and its index on first use.
        engine_options: keyword arguments for ``create_engine``/``create_async_engine``.
        clock: the time source that decides expiry.
    """

    def __init__(
        self,
        engine: str | URL | Engine | None = None,
        *,
        async_engine: Any = None,
        table: str = DEFAULT_TABLE,
        schema: str | None = None,
        create_schema: bool = True,
        engine_options: dict[str, Any] | None = None,
        clock: Callable[[], float] | None = None,
    ) -> None:
        validate_table(table)
        if "." in table:
            raise ValueError("give the schema with schema=, not in the table name")
        if schema is not None:
            validate_table(schema)
        if engine is None and async_engine is None:
            raise ValueError("give a database URL or an engine")
        self._clock = clock if clock is not None else time.time
        self._create_schema = create_schema
        self._ready = not create_schema
        self._options = dict(engine_options or {})
        self._engine: Engine | None = None
        self._aengine: Any = None
        self._url: URL | None = None
        self._async_url: URL | None = None
        self._owns_engine = self._owns_aengine = False
        self._aloop: asyncio.AbstractEventLoop | None = None

        if isinstance(engine, Engine):
            self._engine = engine
        elif engine is not None:
            url = make_url(engine)
            if url.get_driver_name() in _ASYNC_DRIVERS:
                self._async_url = url
                self._url = _swap_driver(url, _TO_SYNC)
            else:
                self._url = url
                self._async_url = _swap_driver(url, _TO_ASYNC)
        if async_engine is not None:
            if isinstance(async_engine, (str, URL)):
                self._async_url = make_url(async_engine)
            else:
                self._aengine = async_engine
        if self._async_url is None and isinstance(engine, Engine):
            self._async_url = _swap_driver(engine.url, _TO_ASYNC)

        self.metadata = sa.MetaData(schema=schema)
        self.table = sa.Table(
            table,
            self.metadata,
            sa.Column(
                "key",
                sa.String(128).with_variant(
                    sa_mysql.VARCHAR(128, charset="ascii", collation="ascii_bin"), *_MYSQL
                ),
                primary_key=True,
            ),
            sa.Column(
                "data", sa.LargeBinary().with_variant(sa_mysql.LONGBLOB(), *_MYSQL), nullable=False
            ),
            sa.Column("expires_at", sa.Double(), nullable=False),
            sa.Column("version", sa.BigInteger(), nullable=False, default=1),
            sa.Index(f"{table}_expires_at_idx", "expires_at"),
        )
        ascii_key = sa.String(128).with_variant(
            sa_mysql.VARCHAR(128, charset="ascii", collation="ascii_bin"), *_MYSQL
        )
        self.owners = sa.Table(
            owner_table(table),
            self.metadata,
            sa.Column(
                "owner",
                sa.String(64).with_variant(
                    sa_mysql.VARCHAR(64, charset="ascii", collation="ascii_bin"), *_MYSQL
                ),
                primary_key=True,
            ),
            sa.Column("key", ascii_key, primary_key=True),
            sa.Column("entry", sa.LargeBinary(), nullable=False),
            sa.Column("expires_at", sa.Double(), nullable=False),
            sa.Index(f"{owner_table(table)}_expires_at_idx", "expires_at"),
        )
        self._stmts: _Statements | None = None
        self._astmts: _Statements | None = None

    @classmethod
    def from_url(cls, url: str, **options: Any) -> SQLAlchemyBackend:
        """A backend for an SQLAlchemy URL; ``table``, ``schema``, ``create_schema`` and
        ``async_url`` may be given in its query, the rest is the driver's."""
        url, query = split_options(url, _OPTIONS)
        if "async_url" in query:
            query["async_engine"] = query.pop("async_url")
        return cls(url, **{**query, **options})

    def __repr__(self) -> str:
        return f"SQLAlchemyBackend(table={self.table.name!r})"

    # -- engines -------------------------------------------------------------------------------
    def _own_options(self, url: URL) -> dict[str, Any]:
        options = dict(self._options)
        if url.get_backend_name() in ("postgresql", "sqlite", *_MYSQL):
            # one statement per operation: no BEGIN/COMMIT (nor a ROLLBACK on check-in)
            options.setdefault("isolation_level", "AUTOCOMMIT")
            options.setdefault("pool_reset_on_return", None)
        return options

    def _sync(self) -> tuple[Engine, _Statements]:
        if self._engine is None:
            if self._url is None:
                raise RuntimeError(
                    "this backend has only an async engine: use the a* methods, or give a URL"
                )
            self._engine = sa.create_engine(self._url, **self._own_options(self._url))
            self._owns_engine = True
        if self._stmts is None:
            self._stmts = _Statements(self.table, self.owners, self._engine.dialect)
        return self._engine, self._stmts

    def _async(self) -> tuple[Any, _Statements]:
        loop = asyncio.get_running_loop()
        if self._aengine is not None and self._owns_aengine and loop is not self._aloop:
            # connections belong to the loop that opened them: start a new pool
            self._aengine.sync_engine.dispose(close=False)
        self._aloop = loop
        if self._aengine is None:
            if self._async_url is None:
                raise RuntimeError(
                    "no asyncio driver is known for this URL: pass async_engine= (a URL or "
                    "an AsyncEngine)"
                )
            from sqlalchemy.ext.asyncio import create_async_engine

            url = self._async_url
            self._aengine = create_async_engine(url, **self._own_options(url))
            self._owns_aengine = True
        if self._astmts is None:
            self._astmts = _Statements(self.table, self.owners, self._aengine.dialect)
        return self._aengine, self._astmts

    def _unavailable(self, exc: BaseException) -> StoreUnavailable:
        return unavailable("the database", exc)

    # -- sync execution ------------------------------------------------------------------------
    def _call(self, work: Callable[[Any, _Statements], Any], retry: bool = True) -> Any:
        engine, stmts = self._sync()
        try:
            if self._owns_engine and engine.dialect.name in ("postgresql", "sqlite", *_MYSQL):
                with engine.connect() as conn:
                    if not self._ready:
                        self._setup(conn)
                    return work(conn, stmts)
            with engine.begin() as conn:
                if not self._ready:
                    self._setup(conn)
                return work(conn, stmts)
        except _CONNECTION_ERRORS as exc:
            if retry and getattr(exc, "connection_invalidated", False):
                return self._call(work, retry=False)
            raise self._unavailable(exc) from exc

    def _setup(self, conn: Any) -> None:
        self.metadata.create_all(conn, checkfirst=True)
        self._ready = True

    async def _acall(self, work: Callable[[Any, _Statements], Any], retry: bool = True) -> Any:
        engine, stmts = self._async()
        try:
            own = self._owns_aengine and engine.dialect.name in ("postgresql", "sqlite", *_MYSQL)
            async with engine.connect() if own else engine.begin() as conn:
                if not self._ready:
                    await conn.run_sync(self.metadata.create_all, checkfirst=True)
                    self._ready = True
                return await work(conn, stmts)
        except _CONNECTION_ERRORS as exc:
            if retry and getattr(exc, "connection_invalidated", False):
                return await self._acall(work, retry=False)
            raise self._unavailable(exc) from exc

    # -- schema --------------------------------------------------------------------------------
    def create_schema(self) -> None:
        """Create the table and its index now (if they do not exist)."""
        self._ready = False
        self._call(lambda conn, s: None)

    async def acreate_schema(self) -> None:
        """Async twin of :meth:`create_schema`."""
        self._ready = False

        async def nothing(conn: Any, s: _Statements) -> None:
            return None

        await self._acall(nothing)

    def drop_schema(self) -> None:
        """Drop the table (every session is lost); it is created again on next use."""
        self._ready = True
        self._call(lambda conn, s: self.metadata.drop_all(conn, checkfirst=True))
        self._ready = not self._create_schema

    async def adrop_schema(self) -> None:
        """Async twin of :meth:`drop_schema`."""
        self._ready = True

        async def drop(conn: Any, s: _Statements) -> None:
            await conn.run_sync(self.metadata.drop_all, checkfirst=True)

        await self._acall(drop)
        self._ready = not self._create_schema

    # -- the Backend protocol ----------------------------------------------------------------
    def _get_params(self, key: str, touch: int | None) -> dict[str, Any]:
        now = self._clock()
        if touch is None:
            return {"p_key": key, "p_now": now}
        return {"p_key": key, "p_now": now, "p_exp": now + touch}

    def _set_params(
        self, key: str, data: bytes, ttl: int, if_version: int | None
    ) -> dict[str, Any]:
        now = self._clock()
        params = {"p_key": key, "p_data": data, "p_now": now, "p_exp": now + ttl}
        if if_version is not None:
            params["p_ver"] = if_version
        return params

    def get(self, key: str, *, touch: int | None = None) -> Record | None:
        params = self._get_params(key, touch)
        if touch is None:
            row = self._call(lambda conn, s: conn.execute(s.get, params).first())
        else:
            row = self._call(lambda conn, s: _touch(conn, s, params))
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
        params = self._set_params(key, data, ttl, if_version)
        if if_version is not None:
            return self._call(lambda conn, s: _update(conn, s, s.update_version, params), False)  # type: ignore[no-any-return]
        if must_exist:
            return self._call(lambda conn, s: _update(conn, s, s.update, params))  # type: ignore[no-any-return]
        return self._call(lambda conn, s: _upsert(conn, s, params))  # type: ignore[no-any-return]

    def delete(self, key: str) -> None:
        self._call(lambda conn, s: conn.execute(s.delete, {"p_key": key}))

    #: expired rows per purge batch, and the seconds between two (see :mod:`.base`)
    purge_batch: int = PURGE_BATCH
    purge_pause: float = PURGE_PAUSE

    def purge(self, progress: PurgeProgress | None = None) -> int:
        now, batch = self._clock(), self.purge_batch
        total = None
        if progress is not None:
            total = int(
                self._call(
                    lambda conn, s: conn.execute(s.count_expired, {"p_now": now}).scalar_one()
                )
            )

        def step(limit: int) -> int:
            def work(conn: Any, s: _Statements) -> int:
                found = conn.execute(s.expired_keys, {"p_now": now, "p_limit": limit})
                keys = list(found.scalars())
                if keys:
                    conn.execute(s.purge, {"p_keys": keys, "p_now": now})
                return len(keys)

            return int(self._call(work))

        removed = purge_in_batches(
            step,
            batch=batch,
            pause=self.purge_pause,
            progress=progress,
            total=total,
        )
        self._call(lambda conn, s: conn.execute(s.purge_owners, {"p_now": now}))
        return removed

    # -- the owner index -----------------------------------------------------------------------
    def index(self, owner: str, key: str, entry: bytes, ttl: float) -> None:
        params = {
            "p_owner": owner,
            "p_key": key,
            "p_entry": bytes(entry),
            "p_exp": self._clock() + ttl,
        }
        self._call(lambda conn, s: _index(conn, s, params))

    def owned(self, owner: str) -> list[tuple[str, bytes]]:
        params = {"p_owner": owner, "p_now": self._clock()}

        def work(conn: Any, s: _Statements) -> list[tuple[str, bytes]]:
            conn.execute(s.prune_owner, params)
            return [(str(r[0]), bytes(r[1])) for r in conn.execute(s.owned, params)]

        result: list[tuple[str, bytes]] = self._call(work)
        return result

    def unindex(self, owner: str, key: str) -> None:
        self._call(lambda conn, s: conn.execute(s.unindex, {"p_owner": owner, "p_key": key}))

    async def aindex(self, owner: str, key: str, entry: bytes, ttl: float) -> None:
        params = {
            "p_owner": owner,
            "p_key": key,
            "p_entry": bytes(entry),
            "p_exp": self._clock() + ttl,
        }

        async def work(conn: Any, s: _Statements) -> None:
            if s.index_upsert is not None:
                await conn.execute(s.index_upsert, params)
            elif not (await conn.execute(s.index_update, params)).rowcount:
                await conn.execute(s.index_insert, params)

        await self._acall(work)

    async def aowned(self, owner: str) -> list[tuple[str, bytes]]:
        params = {"p_owner": owner, "p_now": self._clock()}

        async def work(conn: Any, s: _Statements) -> list[tuple[str, bytes]]:
            await conn.execute(s.prune_owner, params)
            rows = (await conn.execute(s.owned, params)).all()
            return [(str(r[0]), bytes(r[1])) for r in rows]

        result: list[tuple[str, bytes]] = await self._acall(work)
        return result

    async def aunindex(self, owner: str, key: str) -> None:
        async def work(conn: Any, s: _Statements) -> None:
            await conn.execute(s.unindex, {"p_owner": owner, "p_key": key})

        await self._acall(work)

    def close(self) -> None:
        if self._engine is not None and self._owns_engine:
            self._engine.dispose()
        if self._aengine is not None and self._owns_aengine:
            self._aengine.sync_engine.dispose(close=False)
            self._aengine = None
            self._astmts = None

    async def aget(self, key: str, *, touch: int | None = None) -> Record | None:
        params = self._get_params(key, touch)
        if touch is None:

            async def work(conn: Any, s: _Statements) -> Any:
                return (await conn.execute(s.get, params)).first()

        else:

            async def work(conn: Any, s: _Statements) -> Any:
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
        params = self._set_params(key, data, ttl, if_version)

        async def work(conn: Any, s: _Statements) -> int | None:
            if if_version is not None:
                return await _aupdate(conn, s, s.update_version, params)
            if must_exist:
                return await _aupdate(conn, s, s.update, params)
            return await _aupsert(conn, s, params)

        result: int | None = await self._acall(work, retry=if_version is None)
        return result

    async def adelete(self, key: str) -> None:
        async def work(conn: Any, s: _Statements) -> None:
            await conn.execute(s.delete, {"p_key": key})

        await self._acall(work)

    async def apurge(self, progress: PurgeProgress | None = None) -> int:
        now, batch = self._clock(), self.purge_batch
        total = None
        if progress is not None:

            async def count(conn: Any, s: _Statements) -> int:
                return int((await conn.execute(s.count_expired, {"p_now": now})).scalar_one())

            total = int(await self._acall(count))

        async def step(limit: int) -> int:
            async def work(conn: Any, s: _Statements) -> int:
                found = await conn.execute(s.expired_keys, {"p_now": now, "p_limit": limit})
                keys = list(found.scalars())
                if keys:
                    await conn.execute(s.purge, {"p_keys": keys, "p_now": now})
                return len(keys)

            return int(await self._acall(work))

        removed = await apurge_in_batches(
            step, batch=batch, pause=self.purge_pause, progress=progress, total=total
        )

        async def owners(conn: Any, s: _Statements) -> None:
            await conn.execute(s.purge_owners, {"p_now": now})

        await self._acall(owners)
        return removed

    async def aclose(self) -> None:
        if self._aengine is not None and self._owns_aengine:
            await self._aengine.dispose()
            self._aengine = None
            self._astmts = None
        if self._engine is not None and self._owns_engine:
            self._engine.dispose()


def _index(conn: Any, s: _Statements, params: dict[str, Any]) -> None:
    """Add or replace an owner-index entry: the dialect's upsert, else update-then-insert."""
    if s.index_upsert is not None:
        conn.execute(s.index_upsert, params)
    elif not conn.execute(s.index_update, params).rowcount:
        conn.execute(s.index_insert, params)


def _mysql_version(result: Any) -> int | None:
    return mysql_version(result.rowcount, result.lastrowid)


# -- the operations, written once per mode ------------------------------------------------------
def _touch(conn: Any, s: _Statements, params: dict[str, Any]) -> Any:
    if s.returning:
        return conn.execute(s.touch, params).first()
    row = conn.execute(s.get, params).first()
    if row is not None:
        conn.execute(s.touch, params)
        row = (row[0], params["p_exp"], row[2])
    return row


async def _atouch(conn: Any, s: _Statements, params: dict[str, Any]) -> Any:
    if s.returning:
        return (await conn.execute(s.touch, params)).first()
    row = (await conn.execute(s.get, params)).first()
    if row is not None:
        await conn.execute(s.touch, params)
        row = (row[0], params["p_exp"], row[2])
    return row


def _update(conn: Any, s: _Statements, stmt: Any, params: dict[str, Any]) -> int | None:
    result = conn.execute(stmt, params)
    if s.returning:
        row = result.first()
        return None if row is None else int(row[0])
    if s.mysql:
        return _mysql_version(result)
    if result.rowcount != 1:
        return None
    return int(conn.execute(s.version_of, params).scalar_one())


async def _aupdate(conn: Any, s: _Statements, stmt: Any, params: dict[str, Any]) -> int | None:
    result = await conn.execute(stmt, params)
    if s.returning:
        row = result.first()
        return None if row is None else int(row[0])
    if s.mysql:
        return _mysql_version(result)
    if result.rowcount != 1:
        return None
    return int((await conn.execute(s.version_of, params)).scalar_one())


def _upsert(conn: Any, s: _Statements, params: dict[str, Any]) -> int | None:
    if s.upsert is not None:
        result = conn.execute(s.upsert, params)
        return _mysql_version(result) if s.mysql else int(result.scalar_one())
    # generic: update, else insert (inside the caller's transaction)
    stripped = {k: v for k, v in params.items() if k != "p_now"} | {"p_now": -1.0}
    version = _update(conn, s, s.update, stripped)
    if version is not None:
        return version
    conn.execute(s.insert, params)
    return 1


async def _aupsert(conn: Any, s: _Statements, params: dict[str, Any]) -> int | None:
    if s.upsert is not None:
        result = await conn.execute(s.upsert, params)
        return _mysql_version(result) if s.mysql else int(result.scalar_one())
    stripped = {k: v for k, v in params.items() if k != "p_now"} | {"p_now": -1.0}
    version = await _aupdate(conn, s, s.update, stripped)
    if version is not None:
        return version
    await conn.execute(s.insert, params)
    return 1
