"""Redis Sentinel: URLs, and a failover the store follows by itself.

The contract suite runs on the test run's Sentinel set (``tests/support/cases/redis.py``). The
failover test here kills a primary, so it starts a Sentinel set of its OWN (a primary, a
replica, three sentinels) with the same code as ``tools/testenv.py``, and disturbs no other
test.
"""

from __future__ import annotations

import asyncio
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from typing import Any

import pytest

from tests.support.faults import kill_spawned, load_testenv, until_ok
from tests.support.servers import require
from websession import ServerStore, StoreUnavailable, open_store
from websession.backends.redis import RedisBackend

SECRET = "sentinel-test-secret-3f9c1a7e5b2d4c6e8a0b1c2d3e4f5a6b"


# -- URLs (no server) ------------------------------------------------------------------------
def test_sentinel_url_names_sentinels_service_db_and_options() -> None:
    backend = RedisBackend.from_url(
        "redis+sentinel://:pw@10.0.0.1:26379,[::1]:26380,h3:26381/mymaster/3"
        "?min_replicas=1&wait_timeout=0.3&socket_timeout=1.5&prefix=app:&sentinel_password=s"
    )
    assert backend.sentinels == [("10.0.0.1", 26379), ("::1", 26380), ("h3", 26381)]
    assert backend.service_name == "mymaster"
    assert backend.min_replicas == 1
    assert backend.wait_timeout == 0.3
    assert backend.key_prefix == "app:"
    assert backend._client_options["db"] == 3
    assert backend._client_options["password"] == "pw"
    assert backend._client_options["socket_timeout"] == 1.5
    assert backend._sentinel_options["password"] == "s"
    store = open_store("redis+sentinel://127.0.0.1:1/svc?ttl=60", SECRET)
    assert isinstance(store.backend, RedisBackend)
    assert store.backend.service_name == "svc"
    assert store.backend._client_options["db"] == 0
    assert store.ttl == 60


@pytest.mark.parametrize(
    ("url", "match"),
    [
        ("redis+sentinel://127.0.0.1:1", "names the service"),
        ("redis+sentinel://127.0.0.1:1/svc/x", "names the service"),
        ("redis+sentinel://127.0.0.1/svc", "host:port"),
        ("redis+sentinel://127.0.0.1:1/svc?colour=blue", "unknown"),
        ("redis+sentinel://127.0.0.1:1/svc?min_replicas=1&wait_timeout=5", "wait_timeout"),
    ],
)
def test_bad_sentinel_urls_are_refused(url: str, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        open_store(url, SECRET)


def test_sentinels_all_down_is_store_unavailable_at_once() -> None:
    """Every sentinel refusing connections fails the call at once, sync and async: redis-py's
    default retry of a sentinel (backing off up to 10 s) once made it take 15 s."""
    from tests.support.live import free_port

    sentinels = f"127.0.0.1:{free_port()},127.0.0.1:{free_port()}"
    backend = RedisBackend.from_url(f"redis+sentinel://{sentinels}/mymaster", socket_timeout=0.5)

    async def async_get() -> None:
        try:
            await backend.aget("k")
        finally:
            await backend.aclose()

    try:
        for call in (lambda: backend.get("k"), lambda: asyncio.run(async_get())):
            started = time.monotonic()
            with pytest.raises(StoreUnavailable, match="Redis Sentinel is unavailable"):
                call()
            assert time.monotonic() - started < 1.0
    finally:
        backend.close()


# -- a Sentinel set of our own ---------------------------------------------------------------
@pytest.fixture
def sentinel_set() -> Iterator[Any]:
    require(shutil.which("redis-server") is not None, "redis-server is not installed")
    services = load_testenv().Services(netns=False)
    try:
        services.redis_sentinel()
        yield services
    finally:
        services.stop_all()


def _role(port: int) -> str:
    out = subprocess.run(
        ["redis-cli", "-p", str(port), "role"], capture_output=True, text=True, timeout=5
    ).stdout
    return out.split("\n", 1)[0].strip()


@pytest.mark.slow
def test_failover_is_followed_and_min_replicas_loses_nothing(sentinel_set: Any) -> None:
    """kill -9 the primary: the sentinels promote the replica within seconds, the store
    follows by itself (sync and async), and with ``min_replicas=1`` every save that was
    acknowledged before the kill still loads afterwards."""
    info = sentinel_set.sentinel_set
    url = sentinel_set.env["WEBSESSION_TEST_REDIS_SENTINEL_URL"]
    primary = info["primary"]
    backend = RedisBackend.from_url(url, min_replicas=1, socket_timeout=0.5)
    store = ServerStore(backend, SECRET)
    try:
        cookies = []
        for n in range(200):
            session = store.new("sid", None)
            session["n"] = n
            cookies.append(store.save(session))
        cookies = [c.split(";", 1)[0].split("=", 1)[1] for c in cookies]

        async def async_round_trip() -> int:
            session = await store.anew("sid", cookies[0])
            return int(session["n"])

        assert asyncio.run(async_round_trip()) == 0

        kill_spawned(sentinel_set, f"redis:{primary}")

        def save_one() -> str:
            session = store.new("sid", None)
            session["after"] = True
            return store.save(session)

        # min_replicas=1 and the only replica promoted: a save cannot be replicated until the
        # old primary comes back as a replica, so first only loads succeed
        _, took, errors = until_ok(lambda: store.new("sid", cookies[1]), limit=15)
        print(f"\nSentinel failover: loads served again after {took:.1f} s ({len(errors)} 503s)")
        assert took < 10, f"the failover took {took:.1f} s"
        assert _role(info["replica"]) == "master"
        assert all("unavailable" in e or "replica" in e for e in errors)
        lost = [n for n, c in enumerate(cookies) if store.new("sid", c).get("n") != n]
        print(f"Sentinel failover with min_replicas=1: {len(lost)} of {len(cookies)} lost")
        assert lost == []
        with pytest.raises(StoreUnavailable, match="only 0 of 1 replica"):
            save_one()

        # the old primary back on its port as a replica of the new one (as an operator would
        # restart it; left alone, the sentinels convert it too, but only after some seconds)
        d = info["dirs"][primary]
        follow = ["--replicaof", "127.0.0.1", str(info["replica"])]
        cmd = [*load_testenv().redis_cmd(primary, d), *follow]
        sentinel_set.spawn(f"redis:{primary}", cmd, d / "redis.log")
        _, took, _ = until_ok(save_one, limit=20)
        print(f"Sentinel: saves replicated again {took:.1f} s after the old primary restarted")
        assert _role(primary) == "slave"
        assert asyncio.run(async_round_trip()) == 0  # the async client follows too
    finally:
        backend.close()


@pytest.mark.slow
def test_frozen_primary_gives_store_unavailable_within_the_timeout(sentinel_set: Any) -> None:
    url = sentinel_set.env["WEBSESSION_TEST_REDIS_SENTINEL_URL"]
    primary = sentinel_set.procs[f"redis:{sentinel_set.sentinel_set['primary']}"]
    backend = RedisBackend.from_url(url, socket_timeout=0.5)
    try:
        backend.set("k", b"v", 60)
        primary.send_signal(signal.SIGSTOP)
        try:
            t0 = time.monotonic()
            with pytest.raises(StoreUnavailable):
                backend.get("k")
            assert time.monotonic() - t0 < 2.5
        finally:
            primary.send_signal(signal.SIGCONT)
        record = backend.get("k")
        assert record is not None
        assert record.data == b"v"
    finally:
        backend.close()
