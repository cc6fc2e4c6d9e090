"""SQLAlchemyBackend beyond the shared contract: the SQL cases over SQLite, PostgreSQL and
MySQL, sqlalchemy+... URLs, engines given by the caller, the async driver each sync one maps to.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
import sqlalchemy as sa

from tests.support.backends import assert_store_round_trip
from tests.support.servers import server_url
from tests.support.sql import SECRET, NetworkSqlCases, SqlBackendCases, unique_table
from websession import CookieOptions, open_store
from websession.backends.sqlalchemy import SQLAlchemyBackend


class TestSQLAlchemyOnSQLite(SqlBackendCases):
    # Not UnreachableSqlCases (test_sql_backends.py never ran it here): an async call on a file
    # that cannot be opened leaves aiosqlite's worker thread reporting to the closed event loop
    # (PytestUnhandledThreadExceptionWarning), a defect of the backend's async error path.
    KIND = "sqla-sqlite"


class TestSQLAlchemyOnPostgreSQL(NetworkSqlCases):
    KIND = "sqla-postgresql"


class TestSQLAlchemyOnMySQL(NetworkSqlCases):
    KIND = "sqla-mysql"


@pytest.mark.parametrize("name", ["sqlite", "postgresql", "mysql"])
def test_open_store_sqlalchemy(name: str, tmp_path: Any) -> None:
    table = unique_table()
    if name == "sqlite":
        url = f"sqlalchemy+sqlite:///{tmp_path}/sqla.db"
    else:
        driver = {"postgresql": "postgresql+psycopg", "mysql": "mysql+pymysql"}[name]
        url = f"sqlalchemy+{driver}://" + server_url(name).split("://", 1)[1]
    store = open_store(url, SECRET, table=table, options=CookieOptions(max_age=0))
    backend: Any = store.backend
    assert isinstance(backend, SQLAlchemyBackend)
    try:
        assert_store_round_trip(store, "sid", 1, "one")

        async def async_roundtrip() -> None:
            session = await store.anew("sid", None)
            session["a"] = 1
            header = await store.asave(session)
            cookie = header.split(";", 1)[0].split("=", 1)[1]
            assert (await store.anew("sid", cookie))["a"] == 1
            await store.aclose()

        asyncio.run(async_roundtrip())
    finally:
        backend.drop_schema()
        store.close()


def test_sqlalchemy_with_given_engines(tmp_path: Any) -> None:
    from sqlalchemy.ext.asyncio import create_async_engine

    engine = sa.create_engine(f"sqlite:///{tmp_path}/given.db")
    aengine = create_async_engine(f"sqlite+aiosqlite:///{tmp_path}/given.db")
    backend = SQLAlchemyBackend(engine, async_engine=aengine, table="given")
    backend.set("k", b"sync", 60)

    async def go() -> None:
        record = await backend.aget("k")
        assert record is not None
        assert record.data == b"sync"
        assert await backend.aset("k", b"async", 60, must_exist=True) == 2
        await backend.aclose()
        await aengine.dispose()

    asyncio.run(go())
    assert backend.get("k").data == b"async"  # type: ignore[union-attr]
    backend.close()
    # engines passed in are the caller's: close() does not dispose them
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM given")).scalar() == 1
    engine.dispose()


def test_missing_async_driver_mapping_is_explained() -> None:
    backend = SQLAlchemyBackend("sqlite+pysqlite:///:memory:", table="t")
    assert backend._async_url is not None
    assert backend._async_url.drivername == "sqlite+aiosqlite"
    backend = SQLAlchemyBackend("postgresql+asyncpg://u@h/db", table="t")
    assert backend._url is not None
    assert backend._url.drivername == "postgresql+psycopg"
    backend = SQLAlchemyBackend("mysql+pymysql://u@h/db", table="t")
    assert backend._async_url is not None
    assert backend._async_url.drivername == "mysql+aiomysql"
