"""Fault test: Redis goes away under a running ASGI application, and comes back.

The test starts its OWN redis-server on a free port (so stopping it disturbs no other test),
with the suite's one launcher (``tools/testenv.py``, through ``tests.support.servers.launcher``),
serves a small ASGI app wrapped in ``websession.asgi.SessionMiddleware`` over a
``ServerStore(RedisBackend)`` with uvicorn on 127.0.0.1, and drives it with httpx carrying the
session cookie:

1. Redis up: every request answers 200 and the session counts.
2. Redis frozen (SIGSTOP: connections accepted, nothing answered): 503, within the backend's
   socket timeout plus a margin, never a hang or a 500.
3. Redis thawed: 200 again, the same session, without restarting the application.
4. Redis killed: 503 (connection refused), fast.
5. Redis restarted on the same port (empty: no persistence): 200 again with a new session,
   the application still the same process.
"""

from __future__ import annotations

import os
import shutil
import signal
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.apps.counter import serve_counter
from tests.support.servers import launcher, require

httpx = pytest.importorskip("httpx")
pytest.importorskip("uvicorn")

SOCKET_TIMEOUT = 0.5
#: one call may wait the socket timeout twice (the backend retries a broken connection once)
BOUND = 2 * SOCKET_TIMEOUT + 1.5

pytestmark = pytest.mark.slow


class RedisProcess:
    """A redis-server of this test's own, started (and restarted) by the test launcher."""

    def __init__(self) -> None:
        self.services = launcher().Services(netns=False)
        self.port = 0

    def start(self) -> None:
        if not self.port:  # the first start: a free port
            require(shutil.which("redis-server") is not None, "redis-server is not installed")
            url = self.services.start("redis")["WEBSESSION_TEST_REDIS_URL"]
            self.port = int(url.rsplit(":", 1)[1].split("/", 1)[0])
            return
        proc = self.services.respawn("redis")  # the same port, empty (no persistence)
        ping = launcher().redis_ping
        self.services.wait(lambda: ping(self.port), "redis-server", Path(os.devnull), proc)

    def signal(self, signum: int) -> None:
        self.services.procs["redis"].send_signal(signum)

    def kill(self) -> None:
        proc = self.services.procs["redis"]
        if proc.poll() is None:
            proc.send_signal(signal.SIGCONT)
            proc.kill()
            proc.wait(timeout=10)


@pytest.fixture
def redis_server() -> Iterator[RedisProcess]:
    server = RedisProcess()
    try:
        server.start()
        yield server
    finally:
        server.services.stop_all()


@pytest.fixture
def app_url(redis_server: RedisProcess) -> Iterator[str]:
    from websession.backends.redis import RedisBackend

    backend = RedisBackend.from_url(
        f"redis://127.0.0.1:{redis_server.port}/0", socket_timeout=SOCKET_TIMEOUT
    )
    try:
        with serve_counter(backend) as url:
            yield url
    finally:
        backend.close()


def _timed_get(client: Any, url: str) -> tuple[int, float, str]:
    t0 = time.monotonic()
    response = client.get(url)
    return response.status_code, time.monotonic() - t0, response.text


def test_redis_outage_gives_503_then_recovers(redis_server: RedisProcess, app_url: str) -> None:
    with httpx.Client(timeout=10) as client:
        # 1. up: the session counts
        counts = []
        for _ in range(5):
            status, _, text = _timed_get(client, app_url)
            assert status == 200
            counts.append(int(text))
        assert counts == [1, 2, 3, 4, 5]
        assert "sid" in client.cookies

        # 2. frozen: connections hang -> 503 within the socket timeout, never a hang or a 500
        redis_server.signal(signal.SIGSTOP)
        try:
            for _ in range(3):
                status, took, _ = _timed_get(client, app_url)
                assert status == 503, f"expected 503 while Redis is frozen, got {status}"
                assert took < BOUND, f"a request took {took:.2f} s with Redis frozen"
        finally:
            redis_server.signal(signal.SIGCONT)

        # 3. thawed: the same session goes on, same application process
        status, _, text = _timed_get(client, app_url)
        assert status == 200
        assert int(text) == 6

        # 4. killed: refused connections -> 503, fast
        redis_server.kill()
        for _ in range(5):
            status, took, _ = _timed_get(client, app_url)
            assert status == 503, f"expected 503 while Redis is down, got {status}"
            assert took < BOUND
        # a request without a cookie needs Redis to save: 503 too
        response = httpx.get(app_url, timeout=10)
        assert response.status_code == 503

        # 5. back on the same port (empty): requests succeed again without an app restart
        redis_server.start()
        for expected in (1, 2, 3):  # the old record is gone: a new session starts
            status, _, text = _timed_get(client, app_url)
            assert status == 200, f"expected 200 after Redis came back, got {status}"
            assert int(text) == expected


def test_sync_backend_survives_freeze_kill_and_restart(redis_server: RedisProcess) -> None:
    """The sync path (pooled connections used directly) times out, fails fast, and recovers."""
    from websession import StoreUnavailable
    from websession.backends.redis import RedisBackend

    backend = RedisBackend.from_url(
        f"redis://127.0.0.1:{redis_server.port}/0", socket_timeout=SOCKET_TIMEOUT
    )
    try:
        assert isinstance(backend.set("k", b"v", 60), int)
        assert backend.get("k") is not None  # a pooled connection now exists

        redis_server.signal(signal.SIGSTOP)
        try:
            t0 = time.monotonic()
            with pytest.raises(StoreUnavailable):
                backend.get("k")
            assert time.monotonic() - t0 < BOUND
        finally:
            redis_server.signal(signal.SIGCONT)
        record = backend.get("k")  # the timed-out connection was not reused half-read
        assert record is not None
        assert record.data == b"v"

        redis_server.kill()
        for call in (lambda: backend.get("k"), lambda: backend.set("k", b"w", 60)):
            t0 = time.monotonic()
            with pytest.raises(StoreUnavailable, match="Redis is unavailable"):
                call()
            assert time.monotonic() - t0 < BOUND

        redis_server.start()
        assert backend.get("k") is None  # empty after the restart, and no error
        assert isinstance(backend.set("k", b"again", 60), int)
    finally:
        backend.close()


def test_async_cancel_mid_command_does_not_poison_the_pool(redis_server: RedisProcess) -> None:
    """A request cancelled while Redis has not answered leaves no half-read connection."""
    import asyncio

    from websession.backends.redis import RedisBackend

    backend = RedisBackend.from_url(f"redis://127.0.0.1:{redis_server.port}/0", socket_timeout=5)

    async def go() -> None:
        try:
            await backend.aset("a", b"A", 60)
            await backend.aset("b", b"B", 60)
            redis_server.signal(signal.SIGSTOP)
            try:
                task = asyncio.ensure_future(backend.aget("a"))
                await asyncio.sleep(0.2)
                task.cancel()
                with pytest.raises(asyncio.CancelledError):
                    await task
            finally:
                redis_server.signal(signal.SIGCONT)
            # had the cancelled connection gone back to the pool, this would read "A"
            for _ in range(3):
                record = await backend.aget("b")
                assert record is not None
                assert record.data == b"B"
        finally:
            await backend.aclose()

    asyncio.run(go())
