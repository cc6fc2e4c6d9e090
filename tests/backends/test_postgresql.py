"""PostgreSQLBackend beyond the shared contract: the SQL cases, prepared and unnamed statements,
postgresql:// URLs. Against the test run's PostgreSQL (tools/testenv.py).
"""

from __future__ import annotations

import time
from typing import Any

import psycopg
import pytest

from tests.support.sql import (
    SECRET,
    NetworkSqlCases,
    Target,
    check_open_store_urls,
    dead_backend,
)
from websession import ServerStore, StoreUnavailable
from websession.backends.postgresql import PostgreSQLBackend


class TestPostgreSQL(NetworkSqlCases):
    KIND = "postgresql"


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


def test_store_unavailable_reaches_the_store_caller() -> None:
    store = ServerStore(dead_backend("postgresql"), SECRET)
    session = store.new("sid", None)
    session["x"] = 1
    with pytest.raises(StoreUnavailable):
        store.save(session)


def test_open_store_postgresql_urls() -> None:
    check_open_store_urls("postgresql", "postgres", PostgreSQLBackend)
