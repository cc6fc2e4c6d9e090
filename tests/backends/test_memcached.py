"""MemcachedBackend against real memcached servers.

The test run's memcached comes from tools/testenv.py; the tests that need several servers
start extra ``memcached`` processes of their own on free ports and stop them afterwards.
"""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator

import pytest

from tests.support.backends import (
    assert_optimistic_conflict,
    assert_session_expires,
    assert_versions_and_conditions,
    cookie_value,
    unique_prefix,
)
from tests.support.faults import process_state
from tests.support.live import free_port
from tests.support.servers import in_ci, server_url
from websession import ServerStore, StoreUnavailable
from websession.backends._memcachedcore import exptime as _exptime
from websession.backends.memcached import MemcachedBackend

SECRET = "memcached-test-secret-0123456789-abcd"


def _prefix() -> str:
    return unique_prefix("mtest")


def _wait_port(port: int, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"memcached on {port} did not start")


class Memcached:
    """A private memcached process (a real server) on a free port."""

    def __init__(self, port: int | None = None) -> None:
        self.port = port or free_port()
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> Memcached:
        exe = shutil.which("memcached")
        if exe is None:
            if in_ci():
                pytest.fail("memcached is not installed")
            pytest.skip("memcached is not installed")
        self.proc = subprocess.Popen(
            [exe, "-u", "root", "-l", "127.0.0.1", "-p", str(self.port), "-U", "0", "-m", "16"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        _wait_port(self.port)
        return self

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=10)
        self.proc = None

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"


@pytest.fixture
def backend() -> Iterator[MemcachedBackend]:
    made = MemcachedBackend(server_url("memcached"), key_prefix=_prefix())
    yield made
    made.close()


@pytest.fixture
def three_servers() -> Iterator[list[Memcached]]:
    server_url("memcached")  # the run's servers are expected: skip/fail like the others
    servers = [Memcached().start() for _ in range(3)]
    try:
        yield servers
    finally:
        for server in servers:
            server.stop()


def test_native_ttl_expiry(backend: MemcachedBackend) -> None:
    assert isinstance(backend.set("short", b"data", 1), int)
    record = backend.get("short")
    assert record is not None
    assert record.expires_at == pytest.approx(time.time() + 1, abs=0.5)
    time.sleep(2.1)  # memcached's clock ticks in whole seconds
    assert backend.get("short") is None
    assert backend.purge() == 0


def test_store_session_expires(backend: MemcachedBackend) -> None:
    assert_session_expires(backend, SECRET, 2.1)  # memcached's clock ticks in whole seconds


def test_touch_extends_life(backend: MemcachedBackend) -> None:
    backend.set("slide", b"x", 1)
    record = backend.get("slide", touch=60)
    assert record is not None
    assert record.expires_at == pytest.approx(time.time() + 60, abs=2)
    time.sleep(2.1)
    assert backend.get("slide") is not None


def test_ttl_over_30_days_is_sent_as_a_timestamp(backend: MemcachedBackend) -> None:
    assert _exptime(3600) == 3600
    assert _exptime(30 * 86400) == 30 * 86400
    assert _exptime(31 * 86400) == pytest.approx(time.time() + 31 * 86400, abs=2)
    # a relative 31-day exptime would be read as a 1970 timestamp: already expired
    assert isinstance(backend.set("long", b"x", 400 * 86400), int)
    assert backend.get("long") is not None


def test_versions_and_conditions(backend: MemcachedBackend) -> None:
    assert_versions_and_conditions(backend)


def test_optimistic_conflict(backend: MemcachedBackend) -> None:
    assert_optimistic_conflict(backend, SECRET)


async def test_concurrent_writes_are_atomic(backend: MemcachedBackend) -> None:
    first = await backend.aset("race", b"0", 60)

    async def write(i: int) -> int | None:
        return await backend.aset("race", str(i).encode(), 60, must_exist=True)

    versions = await asyncio.gather(*(write(i) for i in range(20)))
    # A save to an existing session must never fail under load: the store would take a None
    # for "deleted meanwhile" and log the user out.
    assert None not in versions
    assert len({first, *versions}) == 21, "every write gets its own version"
    record = await backend.aget("race")
    assert record is not None
    assert record.version in versions
    await backend.aclose()


def test_several_servers_share_keys_consistently(three_servers: list[Memcached]) -> None:
    addresses = ",".join(s.address for s in three_servers)
    made = MemcachedBackend.from_url(f"memcached://{addresses}?key_prefix={_prefix()}")
    store = ServerStore(made, SECRET)
    cookies = []
    for i in range(60):
        session = store.new("sid", None)
        session["i"] = i
        cookies.append(cookie_value(store.save(session)))
    counts = {}
    for server in three_servers:
        only = MemcachedBackend(server.address)
        stats = only._client(server.address).stats()
        only.close()
        counts[server.port] = stats[b"curr_items"]
    assert all(n > 0 for n in counts.values()), counts
    assert sum(counts.values()) == 60

    async def load_async() -> list[int]:
        try:
            return [(await store.anew("sid", c))["i"] for c in cookies]
        finally:
            await made.aclose()

    # the async side (aiomcache) finds every record where the sync side (pymemcache) put it
    assert asyncio.run(load_async()) == list(range(60))
    for i, cookie in enumerate(cookies):
        assert store.new("sid", cookie)["i"] == i
    made.close()


def test_mapping_matches_pymemcache_hashclient(three_servers: list[Memcached]) -> None:
    from pymemcache.client.hash import HashClient

    made = MemcachedBackend([s.address for s in three_servers], key_prefix="")
    hashed = HashClient([("127.0.0.1", s.port) for s in three_servers])
    try:
        for i in range(50):
            key = f"key-{i}"
            assert made.node_for(key) == hashed.hasher.get_node(key)
    finally:
        made.close()
        hashed.close()


@pytest.mark.slow
def test_a_down_server_is_left_out_for_dead_timeout(three_servers: list[Memcached]) -> None:
    """One server of three lost: the call that finds it down is a 503; then its keys go to
    their next server (its sessions start anew) while the others' keep working, until
    ``dead_timeout`` is up and it is used again."""
    addresses = [s.address for s in three_servers]
    made = MemcachedBackend(addresses, key_prefix=_prefix(), timeout=1, dead_timeout=1.5)
    down = three_servers[1]
    keys = [f"k{i}" for i in range(30)]
    for key in keys:
        made.set(key, b"v", 60)
    on_down = [k for k in keys if made.node_for(k) == down.address]
    on_up = [k for k in keys if made.node_for(k) != down.address]
    assert len(on_down) >= 3
    assert on_up
    down.stop()
    with pytest.raises(StoreUnavailable, match=down.address):
        made.get(on_down[0])
    assert all(made.node_for(k) != down.address for k in keys)
    assert [made.get(k) for k in on_down] == [None] * len(on_down)  # new sessions
    assert all(made.get(k) is not None for k in on_up)  # the rest keep working
    # a session loaded before the loss is not written to a second server (must_exist fails)
    assert made.set(on_down[1], b"stale", 60, must_exist=True) is None
    assert isinstance(made.set(on_down[2], b"new", 60), int)

    async def async_side() -> None:
        try:  # the async side maps the same way
            assert await made.aget(on_up[0]) is not None
            record = await made.aget(on_down[2])
            assert record is not None
            assert record.data == b"new"
        finally:
            await made.aclose()

    asyncio.run(async_side())
    restarted = Memcached(down.port).start()  # back on its port, empty
    try:
        time.sleep(1.6)
        assert made.node_for(on_down[0]) == down.address
        assert made.get(on_down[0]) is None
        assert isinstance(made.set(on_down[0], b"again", 60), int)
        assert made.get(on_down[0]) is not None
    finally:
        restarted.stop()
        made.close()


@pytest.mark.slow
def test_a_down_server_is_unavailable_not_remapped(three_servers: list[Memcached]) -> None:
    """``dead_timeout=0``: a lost server's keys are 503s until it is back, never moved."""
    made = MemcachedBackend(
        [s.address for s in three_servers], key_prefix=_prefix(), timeout=1, dead_timeout=0
    )
    down = three_servers[1]
    keys = [f"k{i}" for i in range(30)]
    for key in keys:
        made.set(key, b"v", 60)
    down.stop()
    on_down = [k for k in keys if made.node_for(k) == down.address]
    on_up = [k for k in keys if made.node_for(k) != down.address]
    assert on_down
    assert on_up
    for key in on_down:
        with pytest.raises(StoreUnavailable, match=down.address):
            made.get(key)
    for key in on_up:
        assert made.get(key) is not None

    async def async_side() -> None:
        try:
            with pytest.raises(StoreUnavailable):
                await made.aget(on_down[0])
            assert await made.aget(on_up[0]) is not None
        finally:
            await made.aclose()

    asyncio.run(async_side())
    # back on the same port: the backend recovers by itself (empty, memcached keeps nothing)
    restarted = Memcached(down.port).start()
    try:
        assert made.get(on_down[0]) is None
        assert isinstance(made.set(on_down[0], b"again", 60), int)
        assert made.get(on_down[0]) is not None
    finally:
        restarted.stop()
        made.close()


def test_unreachable_server_raises_store_unavailable() -> None:
    made = MemcachedBackend(f"127.0.0.1:{free_port()}", timeout=1)
    with pytest.raises(StoreUnavailable):
        made.get("k")
    with pytest.raises(StoreUnavailable):
        made.set("k", b"v", 60)

    async def go() -> None:
        try:
            with pytest.raises(StoreUnavailable):
                await made.aget("k")
            with pytest.raises(StoreUnavailable):
                await made.adelete("k")
        finally:
            await made.aclose()

    asyncio.run(go())


def test_from_url_rejects_unknown_options() -> None:
    with pytest.raises(ValueError, match="unknown"):
        MemcachedBackend.from_url("memcached://127.0.0.1:11211?bogus=1")
    made = MemcachedBackend.from_url(
        "memcached://127.0.0.1:1,127.0.0.1:2?timeout=0.5&dead_timeout=4"
    )
    assert made.servers == [("127.0.0.1", 1), ("127.0.0.1", 2)]
    assert made.timeout == 0.5
    assert made.dead_timeout == 4



@pytest.mark.parametrize("call", ["aset", "aget", "adelete"])
def test_a_connection_closed_mid_reply_is_unavailable_not_a_hung_loop(call: str) -> None:
    """The connection ends after the command was read, before any reply (a proxy between app
    and memcached killed, or memcached itself at the wrong moment): the call raises
    StoreUnavailable within the timeout. aiomcache 0.8 alone reads replies in loops that spin
    at EOF without yielding (aio-libs/aiomcache#502): the whole event loop hung at 100% CPU, so
    no ``wait_for`` could end it (a fault-matrix request waited 30 s, then its client gave up).

    Deterministic with real processes: memcached frozen (the command it is sent waits in its
    socket), socat relaying to it (it has read the command: its side of our socket is empty),
    then socat killed: our socket sees a clean EOF where the reply should be."""
    import os
    import signal
    import threading

    server_url("memcached")  # the run's servers are expected: skip/fail like the others
    socat = shutil.which("socat")
    if socat is None:
        if in_ci():
            pytest.fail("socat is not installed (tools/testenv.py install)")
        pytest.skip("socat is not installed")
    server = Memcached().start()
    assert server.proc is not None
    port = free_port()
    relay = subprocess.Popen(
        # backlog: the pool opens its connections at once (socat's default of 5 drops some)
        [socat, f"TCP-LISTEN:{port},bind=127.0.0.1,fork,reuseaddr,backlog=64",
         f"TCP:{server.address}"],
        start_new_session=True,  # its children with it: killed as a group below
    )
    _wait_port(port)
    made = MemcachedBackend(f"127.0.0.1:{port}", timeout=2)
    outcome: list[BaseException | None] = []

    async def go() -> None:
        await made.aset("warm", b"v", 60)  # pooled connections through the relay, ready
        assert server.proc is not None
        os.kill(server.proc.pid, signal.SIGSTOP)
        while process_state(server.proc.pid) != "T":  # stopped only once the kernel says so
            await asyncio.sleep(0.01)
        args = {"aset": ("k", b"v", 60), "aget": ("k",), "adelete": ("k",)}[call]
        pending = asyncio.ensure_future(getattr(made, call)(*args))
        await asyncio.sleep(0.3)  # relayed, waiting for memcached
        os.killpg(relay.pid, signal.SIGKILL)
        try:
            await pending
            outcome.append(None)  # answered: the test failed to set the fault up
        except BaseException as exc:  # what the caller sees, checked below
            outcome.append(exc)

    # in a thread of its own: a hung event loop must fail this test, not hang the run
    def run() -> None:
        try:
            asyncio.run(go())
        except BaseException as exc:  # the setup failed: not the outcome asserted below
            outcome.append(RuntimeError(f"the setup failed: {exc!r}"))

    thread = threading.Thread(target=run, daemon=True)
    t0 = time.monotonic()
    thread.start()
    thread.join(timeout=15)
    try:
        assert not thread.is_alive(), f"{call} hung its event loop on a closed connection"
        assert len(outcome) == 1, outcome
        assert isinstance(outcome[0], StoreUnavailable), outcome
        assert time.monotonic() - t0 < 5
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(relay.pid, signal.SIGKILL)
        relay.wait(timeout=10)
        os.kill(server.proc.pid, signal.SIGCONT)
        server.stop()
        made.close()
