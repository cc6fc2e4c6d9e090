"""SQLiteBackend beyond the shared contract: the SQL cases, and sqlite:// URLs."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from tests.support.backends import assert_store_round_trip
from tests.support.sql import SECRET, UnreachableSqlCases
from websession import ServerStore, open_store
from websession.backends.sqlite import SQLiteBackend
from websession.stores.owners import owner_key


class TestSQLite(UnreachableSqlCases):
    KIND = "sqlite"


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


# -- the owner index (log out everywhere): what the contract cannot see ----------
OWNER_SECRET = "owner-index-secret-Hq3Vn8Lp1Xz6Rt0Kw5Jm2Bc9"


def test_sqlite_existing_sessions_table_gets_the_owner_table(tmp_path: Path) -> None:
    """A database made before the owner index: its sessions survive, the index is added."""
    path = tmp_path / "old.db"
    with sqlite3.connect(path) as conn:  # the schema of the previous release, one session in it
        conn.execute(
            "CREATE TABLE websession_sessions (key TEXT PRIMARY KEY NOT NULL, data BLOB NOT NULL,"
            " expires_at REAL NOT NULL, version INTEGER NOT NULL DEFAULT 1)"
        )
    old = ServerStore(SQLiteBackend(path), OWNER_SECRET)
    before = old.new("s", None)
    before["kept"] = True
    cookie = old.save(before).split(";")[0].split("=", 1)[1]
    with sqlite3.connect(path) as conn:
        conn.execute("DROP TABLE websession_sessions_owners")  # as the old release left it

    store = ServerStore(SQLiteBackend(path), OWNER_SECRET)
    assert store.new("s", cookie)["kept"] is True
    session = store.new("s", None)
    session.owner = "user-1"
    store.save(session)
    assert [i.id_hash for i in store.sessions_for("user-1")] == [session.id_hash]
    with sqlite3.connect(path) as conn:
        plan = " ".join(
            str(row)
            for row in conn.execute(
                "EXPLAIN QUERY PLAN SELECT key, entry FROM websession_sessions_owners "
                "WHERE owner = ? AND expires_at > ?",
                (owner_key("user-1"), 0),
            )
        )
    assert "USING INDEX" in plan or "PRIMARY KEY" in plan, plan  # the owner column is indexed
