"""What the backend-specific test files (tests/backends/test_*.py) share.

The behavioural contract every backend passes is tests/stores/test_contract.py; these are the
checks and tools that several backend files repeat beyond it, written once.
"""

from __future__ import annotations

import sys
import threading
import time
import uuid
from collections.abc import Callable
from typing import Any, TypeVar

import pytest

from websession import ConflictError, CookieOptions, ServerStore
from websession.session import Session

T = TypeVar("T")


def unique_prefix(tag: str) -> str:
    """A key prefix of its own for one test, ``ws-<tag>:<random>:``."""
    return f"ws-{tag}:{uuid.uuid4().hex[:10]}:"


def cookie_value(header: str) -> str:
    """The value of the cookie a ``Set-Cookie`` header sets."""
    return header.split(";", 1)[0].split("=", 1)[1]


def race(
    count: int,
    work: Callable[[int], T],
    timeout: float = 30,
    *,
    switch_interval: float | None = None,
) -> list[T]:
    """Run ``work(0) ... work(count - 1)`` in threads released together; their results.

    Fails the test if any of them raised. ``switch_interval`` (e.g. ``1e-6``) makes the
    interpreter switch threads that often while they run, to shake out races in pure Python.
    """
    if switch_interval is not None:
        previous = sys.getswitchinterval()
        sys.setswitchinterval(switch_interval)
        try:
            return race(count, work, timeout)
        finally:
            sys.setswitchinterval(previous)
    barrier = threading.Barrier(count)
    results: list[T] = []
    errors: list[BaseException] = []

    def run(n: int) -> None:
        barrier.wait()
        try:
            results.append(work(n))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(n,)) for n in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout)
    assert not errors, errors
    return results


def assert_store_round_trip(
    store: ServerStore, name: str = "s", key: Any = "a", value: Any = 1
) -> None:
    """A new session saved through ``store`` loads again from its cookie."""
    session = store.new(name, None)
    session[key] = value
    cookie = cookie_value(store.save(session))
    assert store.new(name, cookie)[key] == value


def assert_versions_and_conditions(backend: Any) -> None:
    """Every write gives a new version; must_exist and if_version write only when they hold."""
    assert backend.set("v", b"a", 60, must_exist=True) is None
    assert backend.set("v", b"a", 60, if_version=1) is None
    assert backend.get("v") is None
    v1 = backend.set("v", b"a", 60)
    v2 = backend.set("v", b"b", 60)
    v3 = backend.set("v", b"c", 60, must_exist=True)
    assert all(isinstance(v, int) for v in (v1, v2, v3))
    assert len({v1, v2, v3}) == 3, "each write must give the record a new version"
    assert backend.set("v", b"stale", 60, if_version=v2) is None
    assert backend.get("v").data == b"c"
    v4 = backend.set("v", b"d", 60, if_version=v3)
    assert isinstance(v4, int)
    assert v4 not in (v1, v2, v3)
    record = backend.get("v")
    assert record is not None
    assert (record.data, record.version) == (b"d", v4)


def assert_optimistic_conflict(backend: Any, secret: str) -> None:
    """Two loads of one session, both saved: the second save raises ConflictError."""
    store = ServerStore(backend, secret, optimistic=True)
    session = store.new("sid", None)
    session["n"] = 0
    cookie = cookie_value(store.save(session))
    first, second = store.new("sid", cookie), store.new("sid", cookie)
    first["n"] = 1
    store.save(first)
    second["n"] = 2
    with pytest.raises(ConflictError):
        store.save(second)
    assert store.new("sid", cookie)["n"] == 1


async def exercise_async_twins(
    backend: Any, after_first_write: Callable[[], None] | None = None
) -> None:
    """The a* methods: write, read, conditional writes, delete, purge (without aclose)."""
    first = await backend.aset("k", b"v", 60)
    assert isinstance(first, int)
    if after_first_write is not None:
        after_first_write()
    record = await backend.aget("k")
    assert record is not None
    assert (record.data, record.version) == (b"v", first)
    second = await backend.aset("k", b"w", 60, if_version=first)
    assert isinstance(second, int)
    assert second != first
    assert await backend.aset("k", b"x", 60, if_version=first) is None
    assert (await backend.aget("k")).data == b"w"
    await backend.adelete("k")
    assert await backend.aget("k") is None
    assert await backend.apurge() == 0


def assert_session_expires(backend: Any, secret: str, wait: float) -> Session:
    """A session saved with a 1-second max_age is gone ``wait`` seconds later; the new one."""
    store = ServerStore(backend, secret, options=CookieOptions(max_age=1))
    session = store.new("sid", None)
    session["user"] = "ann"
    cookie = cookie_value(store.save(session))
    assert store.new("sid", cookie)["user"] == "ann"
    time.sleep(wait)
    again = store.new("sid", cookie)
    assert again.reason == "not_found"
    return again


def assert_expired_record_is_filtered(backend: Any, wait: float) -> None:
    """A record past its 1-second TTL is not loaded, nor written by must_exist/if_version.

    For databases that delete expired records only some time later (their TTL monitors).
    """
    backend.set("short", b"s", 1)
    backend.set("long", b"l", 600)
    assert backend.get("short") is not None
    time.sleep(wait)
    assert backend.get("short") is None
    assert backend.get("long") is not None
    assert backend.set("short", b"x", 60, must_exist=True) is None
    assert backend.set("short", b"x", 60, if_version=1) is None
