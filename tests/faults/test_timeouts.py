"""Timeouts everywhere: with its DEFAULT settings, every network backend answers a frozen
server with StoreUnavailable within about 2 seconds, sync and async, and works again once the
server answers; and every one takes ``connect_timeout`` and ``timeout`` from its URL.

A frozen server is simulated per test by :class:`tests.support.faults.FreezableProxy` between the
backend and the run's shared server, so no other test is disturbed. (Sentinel and Cluster
clients learn node addresses from the servers themselves and would bypass a proxy: their
frozen primaries are SIGSTOPped in tests/backends/test_redis_sentinel.py and the fault tests.)
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import pytest

from tests.support.faults import FreezableProxy
from tests.support.servers import server_url
from websession import StoreUnavailable, open_store
from websession.backends.base import Backend

SECRET = "timeouts-test-secret-5c1d9e3a7b2f4a6c8e0d1b3f5a7c9e1d"
#: the documented default ("about 2 s") plus room for a loaded test machine
LIMIT = 3.2
PROJECT = "websession-test"


def _port(address: str) -> int:
    """The port of a URL or of ``host:port``."""
    if "://" in address:
        port = urlsplit(address).port
        assert port is not None
        return port
    return int(address.rsplit(":", 1)[1])


def _via(url: str, proxy: FreezableProxy) -> str:
    """``url`` with its host and port replaced by the proxy's."""
    parts = urlsplit(url)
    userinfo = parts.netloc.rpartition("@")[0]
    netloc = (userinfo + "@" if userinfo else "") + proxy.address
    return urlunsplit(parts._replace(netloc=netloc))


def _name() -> str:
    return f"to{uuid.uuid4().hex[:10]}"


def _redis(url: str, proxy: FreezableProxy) -> Backend:
    from websession.backends.redis import RedisBackend

    return RedisBackend.from_url(_via(url, proxy), key_prefix=f"ws-to:{_name()}:")


def _memcached(address: str, proxy: FreezableProxy) -> Backend:
    from websession.backends.memcached import MemcachedBackend

    return MemcachedBackend(proxy.address, key_prefix=f"ws-to:{_name()}:")


def _postgresql(url: str, proxy: FreezableProxy) -> Backend:
    from websession.backends.postgresql import PostgreSQLBackend

    return PostgreSQLBackend.from_url(_via(url, proxy), table=_name())


def _mysql(driver: str) -> Callable[[str, FreezableProxy], Backend]:
    def make(url: str, proxy: FreezableProxy) -> Backend:
        from websession.backends.mysql import MySQLBackend

        return MySQLBackend.from_url(_via(url, proxy), table=_name(), async_driver=driver)

    return make


def _mongodb(url: str, proxy: FreezableProxy) -> Backend:
    from websession.backends.mongodb import MongoBackend

    return MongoBackend.from_url(_via(url, proxy), database="websession_test", collection=_name())


def _dynamodb(url: str, proxy: FreezableProxy) -> Backend:
    from websession.backends.dynamodb import DynamoDBBackend

    return DynamoDBBackend(_name(), endpoint_url=f"http://{proxy.address}", region="us-east-1")


def _datastore(address: str, proxy: FreezableProxy) -> Backend:
    from websession.backends.datastore import DatastoreBackend

    return DatastoreBackend(PROJECT, namespace=_name())


def _firestore(address: str, proxy: FreezableProxy) -> Backend:
    from websession.backends.firestore import FirestoreBackend

    return FirestoreBackend(PROJECT, collection=_name())


#: id -> (server name in tests/support/servers.py, factory(server URL or address, proxy))
KINDS: dict[str, tuple[str, Callable[[str, FreezableProxy], Backend]]] = {
    "redis": ("redis", _redis),
    "memcached": ("memcached", _memcached),
    "postgresql": ("postgresql", _postgresql),
    "mysql-aiomysql": ("mysql", _mysql("aiomysql")),
    "mysql-asyncmy": ("mysql", _mysql("asyncmy")),
    "mongodb": ("mongodb", _mongodb),
    "dynamodb": ("dynamodb", _dynamodb),
    "datastore": ("datastore", _datastore),
    "firestore": ("firestore", _firestore),
}


def _cleanup(backend: Backend) -> None:
    for name in ("drop_schema", "drop_table"):
        drop = getattr(backend, name, None)
        if drop is not None:
            drop()


@pytest.fixture
def frozen_case(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[Backend, FreezableProxy, Callable[[], Backend]]]:
    """A backend through a proxy that can freeze, the proxy, and a maker of more such
    backends (with no connection yet)."""
    server, make = KINDS[request.param]
    address = server_url(server)
    proxy = FreezableProxy(_port(address))
    if server in ("datastore", "firestore"):  # the Google clients read these when made
        monkeypatch.setenv(f"{server.upper()}_EMULATOR_HOST", proxy.address)
    backend = make(address, proxy)
    try:
        yield backend, proxy, lambda: make(address, proxy)
    finally:
        proxy.thaw()
        try:
            _cleanup(backend)
        finally:
            backend.close()
            proxy.close()


def _timed(call: Callable[[], Any]) -> float:
    t0 = time.monotonic()
    with pytest.raises(StoreUnavailable):
        call()
    return time.monotonic() - t0


@pytest.mark.slow
@pytest.mark.parametrize("frozen_case", list(KINDS), indirect=True)
def test_a_frozen_server_is_answered_within_the_default_timeout(
    frozen_case: tuple[Backend, FreezableProxy, Callable[[], Backend]],
) -> None:
    backend, proxy, _ = frozen_case
    for attempt in range(3):  # a cold emulator JVM on a busy machine may miss the first deadline
        try:
            assert isinstance(backend.set("k", b"sync", 60), int)  # a pooled connection now
            break
        except StoreUnavailable:
            if attempt == 2:
                raise
    with proxy.frozen():
        sync_took = _timed(lambda: backend.get("k"))
    record = backend.get("k")  # thawed: the same backend works again
    assert record is not None
    assert record.data == b"sync"

    async def go() -> float:
        assert isinstance(await backend.aset("a", b"async", 60), int)
        proxy.freeze()
        try:
            t0 = time.monotonic()
            with pytest.raises(StoreUnavailable):
                await backend.aset("a", b"frozen", 60)
            took = time.monotonic() - t0
        finally:
            proxy.thaw()
        again = await backend.aget("a")
        assert again is not None
        assert again.data in (b"async", b"frozen")  # the frozen write may have landed late
        await backend.aclose()
        return took

    async_took = asyncio.run(go())
    print(
        f"\n{backend!r}: frozen server answered in {sync_took:.2f} s sync, {async_took:.2f} s async"
    )
    assert sync_took < LIMIT, f"sync: {sync_took:.2f} s"
    assert async_took < LIMIT, f"async: {async_took:.2f} s"


@pytest.mark.slow
@pytest.mark.parametrize("frozen_case", list(KINDS), indirect=True)
def test_a_new_connection_to_a_frozen_server_is_bounded_too(
    frozen_case: tuple[Backend, FreezableProxy, Callable[[], Backend]],
) -> None:
    """No pooled connection to use: the connection being made meets the frozen server (the
    kernel completes the TCP handshake, the server never greets). aiomysql's and asyncmy's
    connect_timeout covered the TCP connect only, and such a call waited for as long as the
    server stayed frozen (minutes, in a test that gave up)."""
    _, proxy, fresh = frozen_case
    with proxy.frozen():
        backend = fresh()
        try:
            sync_took = _timed(lambda: backend.get("k"))
        finally:
            backend.close()

    async def go() -> float:
        backend = fresh()
        proxy.freeze()
        try:
            t0 = time.monotonic()
            with pytest.raises(StoreUnavailable):  # wait_for: a hang fails, not hangs, the test
                await asyncio.wait_for(backend.aget("k"), 4 * LIMIT)
            return time.monotonic() - t0
        finally:
            proxy.thaw()
            await backend.aclose()

    async_took = asyncio.run(go())
    # What this catches is a wait without end (minutes); a new client's first call also sets
    # the client up (the Google clients' gRPC channels: 3.21 s once on a loaded machine)
    assert sync_took < 2 * LIMIT, f"sync: {sync_took:.2f} s"
    assert async_took < 2 * LIMIT, f"async: {async_took:.2f} s"


# -- the URL parameters (no server) ----------------------------------------------------------
@pytest.mark.parametrize(
    ("url", "check"),
    [
        (
            "redis://127.0.0.1:1/0?connect_timeout=0.7&timeout=1.5",
            lambda b: (
                b._client_options["socket_connect_timeout"],
                b._client_options["socket_timeout"],
            ),
        ),
        (
            "redis+sentinel://127.0.0.1:1/mymaster?connect_timeout=0.7&timeout=1.5",
            lambda b: (
                b._client_options["socket_connect_timeout"],
                b._client_options["socket_timeout"],
            ),
        ),
        (
            "memcached://127.0.0.1:1?connect_timeout=0.7&timeout=1.5",
            lambda b: (b.connect_timeout, b.timeout),
        ),
        (
            "postgresql://u@127.0.0.1:1/db?connect_timeout=7&timeout=1.5",
            lambda b: (7 if "connect_timeout=7" in b.conninfo else None, b._timeout),
        ),
        (
            "mysql://u@127.0.0.1:1/db?connect_timeout=0.7&timeout=1.5",
            lambda b: (b._params["connect_timeout"], b._timeout),
        ),
        (
            "mongodb://127.0.0.1:1/?connect_timeout=0.7&timeout=1.5",
            lambda b: (
                b._client_options["connectTimeoutMS"] / 1000,
                b._client_options["timeoutMS"] / 1000,  # the whole operation
            ),
        ),
        (
            "dynamodb://t?region=us-east-1&connect_timeout=0.7&timeout=1.5",
            lambda b: (b.client.meta.config.connect_timeout, b.client.meta.config.read_timeout),
        ),
    ],
)
def test_timeouts_are_set_from_the_url(url: str, check: Callable[[Any], Any]) -> None:
    store = open_store(url, SECRET)
    try:
        connect, operation = check(store.backend)
        assert connect == (7 if url.startswith("postgresql") else 0.7)
        assert operation == 1.5
    finally:
        store.backend.close()


def test_default_timeouts_are_about_two_seconds() -> None:
    """What a user gets without asking (the README's store table says the same)."""
    from websession.backends.dynamodb import DynamoDBBackend
    from websession.backends.memcached import MemcachedBackend
    from websession.backends.mysql import MySQLBackend
    from websession.backends.postgresql import PostgreSQLBackend
    from websession.backends.redis import RedisBackend

    redis = RedisBackend(url="redis://127.0.0.1:1/0")
    assert redis._client_options["socket_timeout"] == 2.0
    assert redis._client_options["socket_connect_timeout"] == 2.0
    memcached = MemcachedBackend("127.0.0.1:1")
    assert (memcached.connect_timeout, memcached.timeout) == (2.0, 2.0)
    pg = PostgreSQLBackend("postgresql://u@127.0.0.1:1/db")
    assert (pg._connect_kwargs["connect_timeout"], pg._timeout) == (2, 2.0)
    mysql = MySQLBackend(port=1)
    assert (mysql._params["connect_timeout"], mysql._timeout) == (2, 2.0)
    dynamo = DynamoDBBackend("t", region="us-east-1")
    config = dynamo.client.meta.config
    assert (config.connect_timeout, config.read_timeout) == (2.0, 1.0)
    assert config.retries["total_max_attempts"] == 2
    for backend in (redis, memcached, pg, mysql, dynamo):
        backend.close()
