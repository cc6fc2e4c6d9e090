"""The SQL backends' own cases beyond the contract, written once for every SQL backend.

Each SQL backend module has its test file (tests/backends/test_sqlite.py, test_postgresql.py,
test_mysql.py, test_sqlalchemy.py); each runs :class:`UnreachableSqlCases` (or
:class:`NetworkSqlCases` for a database server) for its kind: schema creation, purge with the
real clock, what a table dump shows, optimistic conflicts, versions, failing fast when the
database cannot be reached and, for servers, recovering when pooled connections die.
Real servers only (tools/testenv.py exports their URLs); SQLite needs none.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import time
import uuid
import warnings
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any, ClassVar
from urllib.parse import urlsplit

import psutil
import pytest
import sqlalchemy as sa

from tests.support.backends import assert_store_round_trip
from tests.support.live import free_port
from tests.support.servers import server_url
from websession import ConflictError, ServerStore, StoreUnavailable, open_store
from websession.backends.base import Backend
from websession.backends.mysql import MySQLBackend
from websession.backends.postgresql import PostgreSQLBackend
from websession.backends.sqlalchemy import SQLAlchemyBackend
from websession.backends.sqlite import SQLiteBackend

SECRET = "sql-backend-test-secret-0123456789"


def unique_table() -> str:
    return "wst_" + uuid.uuid4().hex[:16]


def check_open_store_urls(kind: str, alias_scheme: str, backend_type: type) -> None:
    """``open_store`` on the ``kind`` server's URL (with ``table=`` and ``optimistic=`` in the
    query) makes a working ``backend_type`` store, and ``alias_scheme://`` names it too."""
    table = unique_table()
    url = server_url(kind)
    sep = "&" if "?" in url else "?"
    store = open_store(f"{url}{sep}table={table}&optimistic=true", SECRET, pool_size=3)
    assert store.optimistic is True
    backend: Any = store.backend
    assert backend.table == table
    try:
        assert_store_round_trip(store, "sid", 1, "one")
        assert isinstance(backend, backend_type)
        alias = open_store(f"{alias_scheme}://" + url.split("://", 1)[1], SECRET, table=table)
        assert isinstance(alias.backend, backend_type)
        alias.close()
    finally:
        backend.drop_schema()
        store.close()


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


def own_client_ports(url: str) -> list[int]:
    """The local ports of this process's connections to the server of ``url``: the servers are
    shared with the other pytest-xdist workers, whose connections are not this test's to kill."""
    port = urlsplit(url).port
    connections = psutil.Process().net_connections(kind="tcp")
    return sorted({c.laddr.port for c in connections if c.raddr and c.raddr.port == port})


def kill_connections(target: Target) -> None:
    """Terminate this process's other connections to the database, as a restart would (at
    least one: the test's backend holds one)."""
    if target.kind.endswith("postgresql"):
        with target.engine.connect() as conn:
            ports = own_client_ports(target.url)
            killed = conn.execute(
                sa.text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE pid <> pg_backend_pid() AND client_port = ANY(:ports)"
                ),
                {"ports": ports},
            ).rowcount
            conn.commit()
    else:
        with target.engine.connect() as conn:
            me = conn.execute(sa.text("SELECT CONNECTION_ID()")).scalar()
            ports = {str(p) for p in own_client_ports(target.url)}
            rows = conn.execute(
                sa.text("SELECT id, host FROM information_schema.processlist WHERE id <> :me"),
                {"me": me},
            )
            ids = [pid for pid, host in rows if host.rpartition(":")[2] in ports]
            for pid in ids:
                conn.execute(sa.text(f"KILL {int(pid)}"))
            killed = len(ids)
    assert killed, "no connection of the backend under test was found to kill"


@contextlib.contextmanager
def nothing_warned_or_logged(caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    """The block raises no Python warning and logs nothing at WARNING or above."""
    # earlier tests' garbage first: an unclosed transport of theirs, collected during the
    # block, would warn in it
    gc.collect()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        yield
    assert not caught, [f"{w.category.__name__}: {w.message}" for w in caught]
    logged = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert not logged, logged


class SqlBackendCases:
    """What every SQL backend does beyond the contract; a subclass sets ``KIND`` (a Target kind)."""

    KIND: ClassVar[str]

    @pytest.fixture
    def target(self, tmp_path: Any) -> Iterator[Target]:
        made = Target(self.KIND, tmp_path)
        try:
            yield made
        finally:
            made.drop()

    @pytest.fixture(params=["sync", "async"])
    def mode(self, request: pytest.FixtureRequest) -> str:
        mode: str = request.param
        return mode

    # -- schema --------------------------------------------------------------------------------
    def test_schema_is_created_on_first_use(self, target: Target, mode: str) -> None:
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

    def test_an_existing_table_is_used_without_a_warning(
        self, target: Target, mode: str, caplog: pytest.LogCaptureFixture
    ) -> None:
        """An application's every start opens a table that exists: nothing lands in its log."""
        first = target.make()  # the first start creates the table
        try:
            call(mode, first, "set", "k", b"v", 60)
        finally:
            first.close()
        with nothing_warned_or_logged(caplog):
            backend = target.make()
            try:
                assert call(mode, backend, "get", "k").data == b"v"
            finally:
                backend.close()

    def test_concurrent_first_requests_create_the_table_once_without_a_warning(
        self, target: Target, mode: str, caplog: pytest.LogCaptureFixture
    ) -> None:
        """A new deployment's first requests arrive together, each on its own connection
        (tasks of one event loop, or threads)."""
        backend = target.make()

        async def first_requests() -> list[Any]:
            try:
                return await asyncio.gather(*(backend.aget(f"k{i}") for i in range(8)))
            finally:
                await backend.aclose()

        with nothing_warned_or_logged(caplog):
            if mode == "async":
                answers = asyncio.run(first_requests())
            else:
                with ThreadPoolExecutor(8) as pool:
                    answers = list(pool.map(backend.get, [f"k{i}" for i in range(8)]))
            assert answers == [None] * 8
        backend.close()
        assert target.has_table()

    def test_explicit_create_schema(self, target: Target, mode: str) -> None:
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

    # -- expiry with the real clock ------------------------------------------------------------
    @pytest.mark.slow
    def test_purge_with_real_clock(self, target: Target, mode: str) -> None:
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

    # -- what the database holds ---------------------------------------------------------------
    def test_table_dump_shows_no_plaintext_and_no_ids(self, target: Target) -> None:
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

    # -- concurrency ---------------------------------------------------------------------------
    def test_optimistic_conflict(self, target: Target, mode: str) -> None:
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

    def test_versions_increase_and_conditions(self, target: Target, mode: str) -> None:
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


class UnreachableSqlCases(SqlBackendCases):
    """:class:`SqlBackendCases`, and a database that cannot be reached fails fast."""

    @pytest.mark.parametrize(
        "operation",
        [("get", ("k",)), ("set", ("k", b"v", 60)), ("delete", ("k",)), ("purge", ())],
        ids=["get", "set", "delete", "purge"],
    )
    def test_unreachable_database_raises_store_unavailable_fast(
        self, operation: tuple[str, tuple[Any, ...]], mode: str
    ) -> None:
        backend = dead_backend(self.KIND)
        method, args = operation
        started = time.monotonic()
        with pytest.raises(StoreUnavailable):
            call(mode, backend, method, *args)
        assert time.monotonic() - started < 3, "must fail fast, not hang"
        backend.close()


class NetworkSqlCases(UnreachableSqlCases):
    """:class:`UnreachableSqlCases` for a database server: pooled connections that die."""

    def test_recovers_when_pooled_connections_die(self, tmp_path: Any) -> None:
        target = Target(self.KIND, tmp_path)
        backend = target.make()
        try:
            backend.set("k", b"v", 60)
            assert backend.get("k").data == b"v"  # type: ignore[union-attr]
            kill_connections(target)
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
                    kill_connections(target)
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
