"""MySQL backend on a MariaDB Galera cluster: several hosts in the URL, failover to the next.

The contract suite runs on the test run's cluster (``tests/support/cases/galera.py``). The
failover test here kills the node in use, so it starts a three-node cluster of its OWN with the
same code as ``tools/testenv.py`` and disturbs no other test.
"""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.faults import kill_spawned, load_testenv, until_ok
from tests.support.servers import require
from websession import ServerStore, StoreUnavailable, open_store
from websession.backends.mysql import MySQLBackend

SECRET = "galera-test-secret-8d2e6f0a4c1b3d5f7a9c1e3b5d7f9a1c"


def test_a_url_lists_several_hosts() -> None:
    store = open_store("mysql://u:p@db1:3307,db2,[::1]:3309/sessions?table=s", SECRET)
    backend = store.backend
    assert isinstance(backend, MySQLBackend)
    assert backend.hosts == [("db1", 3307), ("db2", 3306), ("::1", 3309)]
    assert backend._params["user"] == "u"
    assert backend._database == "sessions"
    single = MySQLBackend.from_url("mysql://u@db1/sessions")
    assert single.hosts == [("db1", 3306)]
    for made in (backend, single):
        made.close()


def test_no_host_answering_is_store_unavailable() -> None:
    from tests.support.live import free_port

    backend = MySQLBackend.from_url(
        f"mysql://u@127.0.0.1:{free_port()},127.0.0.1:{free_port()}/db?connect_timeout=1"
    )
    try:
        with pytest.raises(StoreUnavailable, match="MySQL is unavailable"):
            backend.get("k")

        async def go() -> None:
            with pytest.raises(StoreUnavailable, match="MySQL is unavailable"):
                await backend.aget("k")
            await backend.aclose()

        asyncio.run(go())
    finally:
        backend.close()


@pytest.fixture
def cluster() -> Iterator[Any]:
    require(
        Path("/usr/lib/galera/libgalera_smm.so").exists() and shutil.which("mariadbd") is not None,
        "galera-4 and mariadb-server are not installed (tools/testenv.py install)",
    )
    services = load_testenv().Services(netns=False)
    try:
        services.galera()
        yield services
    finally:
        services.stop_all()


@pytest.mark.slow
def test_losing_the_node_in_use_fails_over_and_loses_nothing(cluster: Any) -> None:
    """kill -9 the node the backend writes to: within seconds the backend is on another node,
    and every session acknowledged before the kill still loads (Galera commits on all nodes
    before it acknowledges), sync and async."""
    url = cluster.env["WEBSESSION_TEST_GALERA_URL"]
    backend = MySQLBackend.from_url(url, table="failover")
    store = ServerStore(backend, SECRET)
    try:
        cookies = []
        for n in range(200):
            session = store.new("sid", None)
            session["n"] = n
            cookies.append(store.save(session).split(";", 1)[0].split("=", 1)[1])
        in_use = backend.hosts[backend._current][1]
        node = next(k for k, (port, _, _) in cluster.galera_nodes.items() if port == in_use)
        kill_spawned(cluster, f"galera:n{node}")

        def save_one() -> str:
            session = store.new("sid", None)
            session["after"] = True
            return store.save(session)

        _, took, errors = until_ok(save_one, limit=30)
        now_on = backend.hosts[backend._current][1]
        print(
            f"\nGalera: node {node} killed; saves served by port {now_on} after {took:.1f} s"
            f" ({len(errors)} StoreUnavailable)"
        )
        assert now_on != in_use
        assert took < 15, f"the failover took {took:.1f} s"
        lost = [n for n, c in enumerate(cookies) if store.new("sid", c).get("n") != n]
        print(f"Galera failover: {len(lost)} of {len(cookies)} acknowledged sessions lost")
        assert lost == []

        async def async_side() -> int:
            session = await store.anew("sid", cookies[7])
            session["n"] += 1000
            await store.asave(session)
            again = await store.anew("sid", cookies[7])
            await backend.aclose()
            return int(again["n"])

        assert asyncio.run(async_side()) == 1007
    finally:
        backend.close()
