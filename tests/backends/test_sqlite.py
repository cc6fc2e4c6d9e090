"""SQLiteBackend beyond the shared contract: the SQL cases, and sqlite:// URLs."""

from __future__ import annotations

import os
from typing import Any

import pytest

from tests.support.backends import assert_store_round_trip
from tests.support.sql import SECRET, UnreachableSqlCases
from websession import ServerStore, open_store
from websession.backends.sqlite import SQLiteBackend


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
