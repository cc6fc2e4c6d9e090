"""Redis and Redis Cluster (servers started by tools/testenv.py)."""

from __future__ import annotations

import uuid

from tests.support.contract import BackendCase
from tests.support.servers import server_url
from websession.backends.base import Backend
from websession.backends.redis import RedisBackend


def _make(name: str, cluster: bool, **options: object) -> Backend:
    # A prefix of its own per backend: the servers are shared by every test of the run.
    prefix = f"ws-test:{uuid.uuid4().hex[:12]}:"
    return RedisBackend.from_url(server_url(name), cluster=cluster, key_prefix=prefix, **options)


def _cleanup(backend: Backend) -> None:
    assert isinstance(backend, RedisBackend)
    client = backend.client  # a sync client, even after aclose()
    keys = list(client.scan_iter(match=backend.key_prefix + "*", count=500))
    for key in keys:  # one by one: keys of a cluster live on different nodes
        client.delete(key)
    backend.close()


CASES = [
    BackendCase(id="redis", make=lambda: _make("redis", False), cleanup=_cleanup, native_ttl=True),
    BackendCase(
        id="redis-cluster",
        make=lambda: _make("redis-cluster", True),
        cleanup=_cleanup,
        native_ttl=True,
    ),
    # the primary that the sentinels name; every save and delete waits for the replica
    BackendCase(
        id="redis-sentinel",
        make=lambda: _make("redis-sentinel", False, min_replicas=1),
        cleanup=_cleanup,
        native_ttl=True,
    ),
]
