"""SQLAlchemyBackend: records in any database SQLAlchemy 2 supports, sync and asyncio.

SQLAlchemy Core only (a ``Table``, no ORM). Where the dialect has an upsert it is one statement:
PostgreSQL and SQLite ``INSERT ... ON CONFLICT DO UPDATE ... RETURNING``, MySQL/MariaDB
``INSERT ... ON DUPLICATE KEY UPDATE`` (the new version via ``LAST_INSERT_ID``); elsewhere an
``UPDATE`` then, if no row matched, an ``INSERT``, in one transaction.

Give it a URL (``postgresql+psycopg://...``, ``mysql+pymysql://...``, ``sqlite:///x.db``) and
it makes both engines (with SQLAlchemy's own connection pools), the sync one and the asyncio
one, on first use: the asyncio URL swaps the
driver for its async sibling (pysqlite -> aiosqlite, pymysql -> aiomysql, psycopg2 -> psycopg,
and back), or give ``async_url=``. Or pass your own ``Engine`` and/or ``AsyncEngine``. Engines
it makes run in autocommit mode (each statement is its own transaction: no ``BEGIN``/``COMMIT``
round trips); engines you pass are used in ordinary transactions. The operations are written
once (``_async/sqlalchemy.py``; the sync twin is generated from it).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

from .base import PURGE_BATCH, PURGE_PAUSE
from .sqlbase import (
    DEFAULT_TABLE,
    missing_client,
    owner_table,
    split_options,
    validate_table,
)

try:
    import sqlalchemy as sa
    from sqlalchemy.dialects import mysql as sa_mysql
    from sqlalchemy.engine import URL, Engine, make_url

    from ._async.sqlalchemy import AsyncSQLAlchemyOps
    from ._sync.sqlalchemy import SQLAlchemyOps
except ImportError as _exc:  # pragma: no cover - depends on the environment
    raise missing_client("sqlalchemy", _exc) from _exc

__all__ = ["SQLAlchemyBackend"]

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


class SQLAlchemyBackend(SQLAlchemyOps, AsyncSQLAlchemyOps):
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

    def _autocommit(self, engine: Any, owned: bool) -> bool:
        """Statements run one by one in autocommit mode on the engines this backend made."""
        return owned and engine.dialect.name in ("postgresql", "sqlite", *_MYSQL)

    def _prepared(self) -> tuple[Engine, _Statements, bool]:
        if self._engine is None:
            if self._url is None:
                raise RuntimeError(
                    "this backend has only an async engine: use the a* methods, or give a URL"
                )
            self._engine = sa.create_engine(self._url, **self._own_options(self._url))
            self._owns_engine = True
        if self._stmts is None:
            self._stmts = _Statements(self.table, self.owners, self._engine.dialect)
        return self._engine, self._stmts, self._autocommit(self._engine, self._owns_engine)

    async def _aprepared(self) -> tuple[Any, _Statements, bool]:
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
        return self._aengine, self._astmts, self._autocommit(self._aengine, self._owns_aengine)

    def _schema(self, conn: Any, make: Callable[..., None]) -> None:
        make(conn, checkfirst=True)

    async def _aschema(self, conn: Any, make: Callable[..., None]) -> None:
        await conn.run_sync(make, checkfirst=True)

    #: expired rows per purge batch, and the seconds between two (see :mod:`.base`)
    purge_batch: int = PURGE_BATCH
    purge_pause: float = PURGE_PAUSE

    def close(self) -> None:
        if self._engine is not None and self._owns_engine:
            self._engine.dispose()
        if self._aengine is not None and self._owns_aengine:
            self._aengine.sync_engine.dispose(close=False)
            self._aengine = None
            self._astmts = None

    async def aclose(self) -> None:
        if self._aengine is not None and self._owns_aengine:
            await self._aengine.dispose()
            self._aengine = None
            self._astmts = None
        if self._engine is not None and self._owns_engine:
            self._engine.dispose()
