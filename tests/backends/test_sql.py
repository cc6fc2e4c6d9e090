"""What the SQL backends do beyond the shared contract (tests/stores/test_contract.py).

Schema creation, purge with the real clock, what a table dump shows, failing fast when the
server is down and recovering when a connection dies, optimistic conflicts, open_store URLs.
Real servers only (tools/testenv.py exports their URLs); SQLite needs none.
"""

from __future__ import annotations

import asyncio
import os
import time
import uuid
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
import sqlalchemy as sa

from tests.support.backends import assert_store_round_trip
from tests.support.live import free_port
from tests.support.servers import server_url
from websession import ConflictError, CookieOptions, ServerStore, StoreUnavailable, open_store
from websession.backends.base import Backend
from websession.backends.mysql import MySQLBackend
from websession.backends.postgresql import PostgreSQLBackend
from websession.backends.sqlalchemy import SQLAlchemyBackend
from websession.backends.sqlite import SQLiteBackend

SECRET = "sql-backend-test-secret-0123456789"
KINDS = ["sqlite", "postgresql", "mysql", "sqla-sqlite", "sqla-postgresql", "sqla-mysql"]


def unique_table() -> str:
    return "wst_" + uuid.uuid4().hex[:16]


class Target:
    """A backend kind, the URL of its database, and a raw SQLAlchemy view of its table."""

    def __init__(self, kind: str, tmp_path: Any) -> None:
        self.kind = kind
        self.table = unique_table()
        if kind.endswith("sqlite"):
            self.path = str(tmp_path / "sessions.db")
            self.raw_url = f"sqlite:///{self.path}"
        elif kind.endswith("postgresql"):
            self.url = server_url("postgresql")
            self.raw_url = "postgresql+psycopg://" + self.url.split("://", 1)[1]
        else:
            self.url = server_url("mysql")
            self.raw_url = "mysql+pymysql://" + self.url.split("://", 1)[1]
        self.engine = sa.create_engine(self.raw_url)

    def make(self, **options: Any) -> Backend:
        options.setdefault("table", self.table)
        if self.kind == "sqlite":
            return SQLiteBackend(self.path, **options)
        if self.kind == "postgresql":
            return PostgreSQLBackend(self.url, **options)
        if self.kind == "mysql":
            return MySQLBackend.from_url(self.url, **options)
        return SQLAlchemyBackend(self.raw_url, **options)

    def has_table(self) -> bool:
        return sa.inspect(self.engine).has_table(self.table)

    def rows(self) -> list[Any]:
        table = sa.Table(self.table, sa.MetaData(), autoload_with=self.engine)
        with self.engine.connect() as conn:
            return list(conn.execute(sa.select(table)))

    def drop(self) -> None:
        with self.engine.begin() as conn:
            conn.execute(sa.text(f"DROP TABLE IF EXISTS {self.table}"))
        self.engine.dispose()


@pytest.fixture(params=KINDS)
def target(request: pytest.FixtureRequest, tmp_path: Any) -> Iterator[Target]:
    made = Target(request.param, tmp_path)
    try:
        yield made
    finally:
        made.drop()


@pytest.fixture(params=["sync", "async"])
def mode(request: pytest.FixtureRequest) -> str:
    mode: str = request.param
    return mode


def call(mode: str, backend: Backend, method: str, *args: Any, **kwargs: Any) -> Any:
    """backend.<method>(...) or asyncio.run(backend.a<method>(...)), closing async pools."""
    if mode == "sync":
        return getattr(backend, method)(*args, **kwargs)

    async def go() -> Any:
        try:
            return await getattr(backend, "a" + method)(*args, **kwargs)
        finally:
            await backend.aclose()

    return asyncio.run(go())


# -- schema ------------------------------------------------------------------------------------
def test_schema_is_created_on_first_use(target: Target, mode: str) -> None:
    backend = target.make()
    try:
        assert not target.has_table(), "the constructor must not touch the database"
        assert call(mode, backend, "get", "nobody") is None
        assert target.has_table()
        # indexed expires_at
        indexes = sa.inspect(target.engine).get_indexes(target.table)
        assert any(ix["column_names"] == ["expires_at"] for ix in indexes), indexes
    finally:
        backend.close()


def test_explicit_create_schema(target: Target, mode: str) -> None:
    backend = target.make(create_schema=False)
    try:
        with pytest.raises(Exception):  # no table yet: the driver's own error
            call(mode, backend, "set", "k", b"v", 60)
        assert not target.has_table()
        if mode == "sync":
            backend.create_schema()  # type: ignore[attr-defined]
        else:

            async def create() -> None:
                await backend.acreate_schema()  # type: ignore[attr-defined]
                await backend.aclose()

            asyncio.run(create())
        assert target.has_table()
        assert call(mode, backend, "set", "k", b"v", 60) == 1
        backend.create_schema()  # type: ignore[attr-defined]  # idempotent
        assert call(mode, backend, "get", "k").data == b"v"
    finally:
        backend.close()


@pytest.mark.parametrize("prepare", [True, False], ids=["prepared", "unnamed"])
def test_postgresql_statements_with_and_without_prepare(prepare: bool, tmp_path: Any) -> None:
    """Prepared statements (the default) and unnamed ones (PgBouncer in transaction mode) give
    the same answers; a connection whose prepared statements the server dropped (DISCARD ALL,
    as a pooler's reset does) prepares them again."""
    target = Target("postgresql", tmp_path)
    backend = target.make(prepare=prepare)
    try:
        assert backend.set("k", b"\x00\xffdata", 60) == 1
        record = backend.get("k")
        assert record is not None
        assert record.data == b"\x00\xffdata"
        assert record.expires_at == pytest.approx(time.time() + 60, abs=5)
        version = backend.set("k", b"v2", 60, must_exist=True)
        assert version == 2
        assert backend.set("k", b"v3", 60, if_version=1) is None  # stale version
        assert backend.set("k", b"v3", 60, if_version=2) == 3
        assert backend.set("missing", b"x", 60, must_exist=True) is None
        touched = backend.get("k", touch=600)
        assert touched is not None
        assert touched.expires_at == pytest.approx(time.time() + 600, abs=5)
        assert backend.purge() == 0
        if prepare:
            conn, _ = backend._pool.acquire()
            conn.execute("DISCARD ALL")
            backend._pool.release(conn)
        assert backend.get("k").data == b"v3"  # type: ignore[union-attr]
        backend.delete("k")
        assert backend.get("k") is None
        with pytest.raises(psycopg.DataError):  # a key PostgreSQL cannot store: refused, not cut
            backend.set("bad\x00key", b"x", 60)
        assert backend.get("bad") is None
        assert backend.set("k2", b"after an error", 60) == 1  # the connection is still good
    finally:
        backend.close()
        target.drop()


def test_bad_table_names_are_refused() -> None:
    for bad in ("x; DROP TABLE y", "a b", '"quoted"', "1abc", "a.b.c", ""):
        with pytest.raises(ValueError, match="table"):
            SQLiteBackend(":memory:", table=bad)
        with pytest.raises(ValueError, match="table"):
            PostgreSQLBackend("", table=bad)
        with pytest.raises(ValueError, match="table"):
            MySQLBackend(table=bad)


# -- expiry with the real clock ----------------------------------------------------------------
@pytest.mark.slow
def test_purge_with_real_clock(target: Target, mode: str) -> None:
    backend = target.make()
    try:
        for i in range(3):
            call(mode, backend, "set", f"short-{i}", b"x", 1)
        call(mode, backend, "set", "long", b"y", 600)
        assert len(target.rows()) == 4
        time.sleep(1.5)
        assert call(mode, backend, "get", "short-0") is None  # expired: not returned
        assert call(mode, backend, "purge") == 3
        assert [row.key for row in target.rows()] == ["long"]
        assert call(mode, backend, "purge") == 0
        assert call(mode, backend, "get", "long").data == b"y"
        # an expired record is not brought back by a conditional write
        call(mode, backend, "set", "short-again", b"x", 1)
        time.sleep(1.5)
        assert call(mode, backend, "set", "short-again", b"z", 60, must_exist=True) is None
    finally:
        backend.close()


# -- what the database holds -------------------------------------------------------------------
def test_table_dump_shows_no_plaintext_and_no_ids(target: Target) -> None:
    backend = target.make()
    store = ServerStore(backend, SECRET)
    try:
        session = store.new("sid", None)
        session["card"] = "4111-1111-PLAINTEXT-1111"
        session["user"] = "alice@example.com"
        store.save(session)
        rows = target.rows()
        assert len(rows) == 1
        row = rows[0]
        assert row.key != session.id
        assert session.id not in row.key
        blob = bytes(row.data)
        for secret in (b"4111-1111-PLAINTEXT-1111", b"alice@example.com", b"card", b"user"):
            assert secret not in blob
        assert session.id is not None
        assert session.id.encode() not in blob
        assert row.version == 1
    finally:
        backend.close()


# -- concurrency -------------------------------------------------------------------------------
def test_optimistic_conflict(target: Target, mode: str) -> None:
    backend = target.make()
    store = ServerStore(backend, SECRET, optimistic=True)

    def save(session: Any) -> str:
        if mode == "sync":
            return store.save(session)

        async def go() -> str:
            try:
                return await store.asave(session)
            finally:
                await backend.aclose()

        return asyncio.run(go())

    try:
        first = store.new("sid", None)
        first["n"] = 0
        cookie = store.save(first).split(";", 1)[0].split("=", 1)[1]
        a = store.new("sid", cookie)
        b = store.new("sid", cookie)
        a["n"] = 1
        b["n"] = 2
        save(a)
        with pytest.raises(ConflictError):
            save(b)
        assert store.new("sid", cookie)["n"] == 1
        # the winner can keep saving: its version moved on with its save
        a["n"] = 3
        save(a)
        assert store.new("sid", cookie)["n"] == 3
    finally:
        backend.close()


def test_versions_increase_and_conditions(target: Target, mode: str) -> None:
    backend = target.make()
    try:
        assert call(mode, backend, "set", "k", b"1", 60) == 1
        assert call(mode, backend, "set", "k", b"2", 60) == 2
        assert call(mode, backend, "set", "k", b"3", 60, if_version=1) is None
        assert call(mode, backend, "set", "k", b"3", 60, if_version=2) == 3
        assert call(mode, backend, "set", "k", b"4", 60, must_exist=True) == 4
        assert call(mode, backend, "set", "other", b"x", 60, must_exist=True) is None
        assert call(mode, backend, "set", "other", b"x", 60, if_version=1) is None
        record = call(mode, backend, "get", "k", touch=500)
        assert record.data == b"4"
        assert record.version == 4
        assert record.expires_at > time.time() + 400
        assert call(mode, backend, "get", "k").expires_at > time.time() + 400
        # keys are case-sensitive (MySQL's default collation is not)
        call(mode, backend, "set", "CaseKey", b"upper", 60)
        call(mode, backend, "set", "casekey", b"lower", 60)
        assert call(mode, backend, "get", "CaseKey").data == b"upper"
        assert call(mode, backend, "get", "casekey").data == b"lower"
        # binary data of every byte, and a large record
        blob = bytes(range(256)) * 4096
        call(mode, backend, "set", "blob", blob, 60)
        assert call(mode, backend, "get", "blob").data == blob
    finally:
        backend.close()


# -- availability ------------------------------------------------------------------------------
def dead_backend(kind: str) -> Backend:
    port = free_port()
    if kind == "postgresql":
        return PostgreSQLBackend(f"postgresql://postgres@127.0.0.1:{port}/x")
    if kind == "mysql":
        return MySQLBackend.from_url(f"mysql://u:p@127.0.0.1:{port}/x")
    if kind == "sqla-postgresql":
        return SQLAlchemyBackend(f"postgresql+psycopg://postgres@127.0.0.1:{port}/x")
    if kind == "sqla-mysql":
        return SQLAlchemyBackend(f"mysql+pymysql://u:p@127.0.0.1:{port}/x")
    return SQLiteBackend("/nonexistent-dir/sub/x.db")


@pytest.mark.parametrize("kind", ["postgresql", "mysql", "sqla-postgresql", "sqla-mysql", "sqlite"])
@pytest.mark.parametrize(
    "operation",
    [("get", ("k",)), ("set", ("k", b"v", 60)), ("delete", ("k",)), ("purge", ())],
    ids=["get", "set", "delete", "purge"],
)
def test_unreachable_database_raises_store_unavailable_fast(
    kind: str, operation: tuple[str, tuple[Any, ...]], mode: str
) -> None:
    backend = dead_backend(kind)
    method, args = operation
    started = time.monotonic()
    with pytest.raises(StoreUnavailable):
        call(mode, backend, method, *args)
    assert time.monotonic() - started < 3, "must fail fast, not hang"
    backend.close()


def _kill_connections(target: Target) -> None:
    """Terminate every other connection to the database, as a server restart would."""
    if target.kind.endswith("postgresql"):
        with target.engine.connect() as conn:
            conn.execute(
                sa.text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND pid <> pg_backend_pid()"
                )
            )
            conn.commit()
    else:
        with target.engine.connect() as conn:
            me = conn.execute(sa.text("SELECT CONNECTION_ID()")).scalar()
            ids = conn.execute(
                sa.text(
                    "SELECT id FROM information_schema.processlist "
                    "WHERE db = DATABASE() AND id <> :me"
                ),
                {"me": me},
            ).scalars()
            for pid in list(ids):
                conn.execute(sa.text(f"KILL {int(pid)}"))


@pytest.mark.parametrize("kind", ["postgresql", "mysql", "sqla-postgresql", "sqla-mysql"])
def test_recovers_when_pooled_connections_die(kind: str, tmp_path: Any) -> None:
    target = Target(kind, tmp_path)
    backend = target.make()
    try:
        backend.set("k", b"v", 60)
        assert backend.get("k").data == b"v"  # type: ignore[union-attr]
        _kill_connections(target)
        time.sleep(0.2)
        # the pooled connection is dead: dropped, and the call is retried on a new one
        for _ in range(2):
            try:
                record = backend.get("k")
            except StoreUnavailable:
                continue  # acceptable once; never twice
            break
        else:
            pytest.fail("the backend kept a dead connection")
        assert record is not None
        assert record.data == b"v"
        assert backend.set("k", b"w", 60) is not None

        async def async_side() -> None:
            try:
                await backend.aset("k", b"a", 60)
                _kill_connections(target)
                await asyncio.sleep(0.2)
                for _ in range(2):
                    try:
                        got = await backend.aget("k")
                    except StoreUnavailable:
                        continue
                    assert got is not None
                    assert got.data == b"a"
                    return
                pytest.fail("the async pool kept a dead connection")
            finally:
                await backend.aclose()

        asyncio.run(async_side())
    finally:
        backend.close()
        target.drop()


def test_store_unavailable_reaches_the_store_caller() -> None:
    store = ServerStore(dead_backend("postgresql"), SECRET)
    session = store.new("sid", None)
    session["x"] = 1
    with pytest.raises(StoreUnavailable):
        store.save(session)


# -- open_store URLs ---------------------------------------------------------------------------
def _roundtrip(store: ServerStore) -> None:
    assert_store_round_trip(store, "sid", 1, "one")


def test_open_store_sqlite(tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    absolute = open_store(f"sqlite:///{tmp_path}/abs.db?table=t1&ttl=60", SECRET)
    assert isinstance(absolute.backend, SQLiteBackend)
    assert absolute.backend.path == f"{tmp_path}/abs.db"
    assert absolute.backend.table == "t1"
    assert absolute.ttl == 60
    _roundtrip(absolute)
    absolute.close()
    monkeypatch.chdir(tmp_path)
    relative = open_store("sqlite:///rel.db", SECRET)
    assert relative.backend.path == "rel.db"  # type: ignore[attr-defined]
    _roundtrip(relative)
    relative.close()
    assert os.path.exists(tmp_path / "rel.db")
    for url in ("sqlite://", "sqlite://:memory:", "sqlite:///:memory:"):
        memory = open_store(url, SECRET)
        assert memory.backend.path == ":memory:"  # type: ignore[attr-defined]
        _roundtrip(memory)
        memory.close()


def test_open_store_sqlite_follows_clock(tmp_path: Any) -> None:
    now = [1_900_000_000.0]

    def clock() -> float:
        return now[0]

    store = open_store(f"sqlite:///{tmp_path}/c.db", SECRET, clock=clock, ttl=60)
    assert store.backend._clock is clock  # type: ignore[attr-defined]
    store.close()


@pytest.mark.parametrize("name", ["postgresql", "mysql"])
def test_open_store_network_sql(name: str) -> None:
    table = unique_table()
    url = server_url(name)
    sep = "&" if "?" in url else "?"
    store = open_store(f"{url}{sep}table={table}&optimistic=true", SECRET, pool_size=3)
    assert store.optimistic is True
    backend: Any = store.backend
    assert backend.table == table
    try:
        _roundtrip(store)
        if name == "postgresql":
            assert isinstance(backend, PostgreSQLBackend)
            alias = open_store("postgres://" + url.split("://", 1)[1], SECRET, table=table)
            assert isinstance(alias.backend, PostgreSQLBackend)
            alias.close()
        else:
            assert isinstance(backend, MySQLBackend)
            alias = open_store("mariadb://" + url.split("://", 1)[1], SECRET, table=table)
            assert isinstance(alias.backend, MySQLBackend)
            alias.close()
    finally:
        backend.drop_schema()
        store.close()


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
        _roundtrip(store)

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
