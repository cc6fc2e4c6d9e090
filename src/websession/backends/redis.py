"""RedisBackend: records in Redis (single node, Sentinel or Cluster), expired by Redis itself.

Each record is ONE Redis string, so a load is one ``GET`` (or ``GETEX`` for sliding expiry) and
works unchanged on Redis Cluster::

    b"<version>:<expires_at_ms>:" + data

Every write gives the record a new random 62-bit version (the protocol only needs versions to
differ), so no write has to read first: a plain save is one ``SET ... PX``, a ``must_exist``
save one ``SET ... XX PX`` (atomic: only if the record is there, so a session deleted meanwhile
is not brought back, and concurrent saves never fail each other), and only ``if_version``
(optimistic mode) runs a small Lua script that compares versions before writing. All on one
key, so Cluster-safe. Redis removes expired records itself; ``purge`` is 0.

Connection errors and timeouts raise :class:`websession.StoreUnavailable`; a broken pooled
connection is dropped and the next call reconnects, so the backend recovers by itself when Redis
comes back. ``socket_timeout`` (2 s by default) bounds every call.

The operations are written once, as async code (``_async/redis.py``); the sync ones
(``_sync/redis.py``) are generated from it by ``make generate``; what both share is in
``_rediscore.py``.

**Sentinel** (``redis+sentinel://h:p[,h:p...]/service/db``): the backend asks the sentinels
for the current primary whenever it connects, and a connection that finds its server gone or
demoted to a replica (``READONLY``) reconnects through them, so a failover is followed without
any restart. Redis replicates asynchronously: a primary that dies can take its last
acknowledged writes with it. ``min_replicas=N`` closes that gap for sessions: every save and
delete is followed (in the same round trip) by ``WAIT N``, and one that fewer than N replicas
acknowledged within ``wait_timeout`` raises :class:`websession.StoreUnavailable` rather than
reporting a save that a failover could undo.
"""

from __future__ import annotations

from ._async.redis import AsyncRedisOps
from ._sync.redis import RedisOps

__all__ = ["RedisBackend"]


class RedisBackend(RedisOps, AsyncRedisOps):
    """Session records in Redis or Redis Cluster.

    Args:
        client: a ``redis.Redis`` or ``redis.cluster.RedisCluster`` for the sync methods.
            It must not decode responses (``decode_responses=False``, the default).
        async_client: a ``redis.asyncio.Redis`` or ``redis.asyncio.cluster.RedisCluster`` for
            the async methods.
        url: instead of clients, a ``redis://``, ``rediss://`` or ``unix://`` URL; both clients
            are then made (lazily) by this backend, with ``socket_timeout``, one immediate retry
            on a broken connection, and the other ``client_options``.
        cluster: with ``url``, connect to a Redis Cluster.
        sentinels: instead of ``url``, the ``(host, port)`` of Redis Sentinels; the backend
            then talks to the primary they name for ``service_name`` and follows failovers.
        service_name: with ``sentinels``, the monitored primary's name (``mymaster``).
        db: with ``sentinels``, the database number.
        sentinel_options: with ``sentinels``, options for the connections to the sentinels
            (``password``, ...; their socket timeouts default to the backend's).
        min_replicas: after every save and delete, wait until this many replicas have it
            (``WAIT``); fewer within ``wait_timeout`` raises StoreUnavailable. 0: no wait.
        wait_timeout: seconds ``WAIT`` may take (default: half of ``socket_timeout``).
        key_prefix: prepended to every key (``"websession:"``).
        socket_timeout: seconds before a call to Redis gives up (raising StoreUnavailable).
        socket_connect_timeout: seconds before connecting gives up.
        **client_options: passed to the redis-py client constructors (``max_connections``,
            ``ssl_ca_certs``, ``password``, ...).

    Use :meth:`from_url` for the common case.
    """
