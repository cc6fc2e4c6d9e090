"""Owner-index details that the generic contract cannot see: schema migration, file safety,
bounded growth."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

import pytest

from websession import ServerStore, StoreUnavailable
from websession.backends.filesystem import FilesystemBackend
from websession.backends.memory import MemoryBackend
from websession.backends.sqlite import SQLiteBackend
from websession.stores.owners import owner_key

SECRET = "owner-index-secret-Hq3Vn8Lp1Xz6Rt0Kw5Jm2Bc9"


def test_sqlite_existing_sessions_table_gets_the_owner_table(tmp_path: Path) -> None:
    """A database made before the owner index: its sessions survive, the index is added."""
    path = tmp_path / "old.db"
    with sqlite3.connect(path) as conn:  # the schema of the previous release, one session in it
        conn.execute(
            "CREATE TABLE websession_sessions (key TEXT PRIMARY KEY NOT NULL, data BLOB NOT NULL,"
            " expires_at REAL NOT NULL, version INTEGER NOT NULL DEFAULT 1)"
        )
    old = ServerStore(SQLiteBackend(path), SECRET)
    before = old.new("s", None)
    before["kept"] = True
    cookie = old.save(before).split(";")[0].split("=", 1)[1]
    with sqlite3.connect(path) as conn:
        conn.execute("DROP TABLE websession_sessions_owners")  # as the old release left it

    store = ServerStore(SQLiteBackend(path), SECRET)
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


def test_filesystem_index_refuses_a_planted_symlink(tmp_path: Path) -> None:
    backend = FilesystemBackend(tmp_path / "store")
    outside = tmp_path / "outside"
    outside.mkdir()
    os.symlink(outside, tmp_path / "store" / ".owners")
    with pytest.raises(StoreUnavailable, match="symbolic link"):
        backend.index(owner_key("u"), "k" * 43, b"entry", 60)
    assert list(outside.iterdir()) == []


def test_filesystem_purge_removes_expired_entries_and_empty_owner_dirs(tmp_path: Path) -> None:
    now = [1_800_000_000.0]
    backend = FilesystemBackend(tmp_path / "store", clock=lambda: now[0])
    for i in range(5):
        backend.index(owner_key(f"u{i}"), f"key{i:040d}", b"e", 60)
    now[0] += 61
    backend.purge()
    assert list((tmp_path / "store" / ".owners").iterdir()) == []


def test_memory_index_does_not_keep_expired_entries() -> None:
    now = [1_800_000_000.0]
    backend = MemoryBackend(clock=lambda: now[0])
    owner = owner_key("busy")
    for i in range(1000):  # a thousand short sessions, never listed
        backend.index(owner, f"key{i:040d}", b"e", 60)
        now[0] += 1
    assert len(backend._owners[owner]) <= 61  # pruned as it goes: bounded by the live ones
