"""MemoryBackend and MemoryStore: bounded by max_entries, least recently used evicted first."""

from __future__ import annotations

import pytest

from websession import MemoryStore, open_store
from websession.backends.memory import MemoryBackend
from websession.stores.owners import owner_key

SECRET = "vh2BMW1p6oJkZjqXwtUYOmv6H5276l3KpRL-yYwa8rQ"


def _value(header: str) -> str:
    return header.split(";", 1)[0].split("=", 1)[1]


def test_the_least_recently_used_record_is_evicted() -> None:
    backend = MemoryBackend(max_entries=3)
    for key in "abc":
        backend.set(key, key.encode(), 600)
    assert backend.get("a") is not None  # a is used again: b is now the oldest in use
    backend.set("d", b"d", 600)
    assert len(backend) == 3
    assert backend.get("b") is None
    assert [backend.get(k) is not None for k in "acd"] == [True, True, True]
    backend.set("c", b"c2", 600)  # rewriting an existing record evicts nothing, uses it
    backend.set("e", b"e", 600)
    assert backend.get("a") is None  # a was used before c and d
    assert {k for k in "acde" if backend.get(k) is not None} == {"c", "d", "e"}


def test_unexpired_records_are_evicted_too() -> None:
    """Before, max_entries only dropped expired records: a flood of live ones grew forever."""
    backend = MemoryBackend(max_entries=100)
    for i in range(10_000):
        backend.set(f"k{i}", b"x", 3600)
    assert len(backend) == 100
    assert backend.get("k9999") is not None
    assert backend.get("k0") is None


@pytest.mark.parametrize(
    "make",
    [
        lambda: MemoryStore(SECRET, max_entries=2),
        lambda: open_store("memory://?max_entries=2", SECRET),
    ],
    ids=["MemoryStore", "open_store"],
)
def test_a_store_keeps_the_sessions_in_use(make) -> None:  # type: ignore[no-untyped-def]
    store = make()
    cookies = []
    for user in ("alice", "bob"):
        session = store.new("s", None)
        session["user"] = user
        cookies.append(_value(store.save(session)))
    assert store.new("s", cookies[0])["user"] == "alice"  # alice is active again
    carol = store.new("s", None)
    carol["user"] = "carol"
    store.save(carol)
    assert store.new("s", cookies[1]).is_new  # bob, least recently used, is gone
    assert store.new("s", cookies[0])["user"] == "alice"


def test_max_entries_must_not_be_negative() -> None:
    with pytest.raises(ValueError, match="max_entries"):
        MemoryBackend(max_entries=-1)


# -- the owner index (log out everywhere): what the contract cannot see ----------
def test_memory_index_does_not_keep_expired_entries() -> None:
    now = [1_800_000_000.0]
    backend = MemoryBackend(clock=lambda: now[0])
    owner = owner_key("busy")
    for i in range(1000):  # a thousand short sessions, never listed
        backend.index(owner, f"key{i:040d}", b"e", 60)
        now[0] += 1
    assert len(backend._owners[owner]) <= 61  # pruned as it goes: bounded by the live ones
