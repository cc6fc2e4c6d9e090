"""MemcachedBackend: records in one or several memcached servers, expired by memcached itself.

A record is one memcached item, ``b"<version>:<expires_at_ms>:" + data``. Every write gives it a
new random version, so a plain save is one ``set`` and a ``must_exist`` save one ``replace``
(atomic: only if the item is there, so a session deleted meanwhile is not brought back, and
concurrent saves never fail each other). Only ``if_version`` (optimistic mode) reads first:
``gets``, compare the version, then ``cas``.

Several servers: each key goes to one server, picked by rendezvous hashing (pymemcache's
``RendezvousHash``, the same mapping as pymemcache's ``HashClient``), identically by the sync
(pymemcache) and async (aiomcache) sides, so both see the same records. A server that fails a
call (refused, reset, or silent past the timeout) makes that call raise
:class:`websession.StoreUnavailable` (a 503) and is then left out for ``dead_timeout`` seconds
(30 by default), as ``HashClient``'s ``dead_timeout`` does: its keys go to their next server in
the rendezvous order, so its users get new sessions while every other server's sessions keep
working; then it is tried again. Nothing is split or brought back by this: a session unknown
to the server a key now goes to is a new session with a new key, and a save of a session
loaded before the failure is a ``must_exist`` write that fails there (``replace``), so the
store ends it instead of writing it to a second server. ``dead_timeout=0`` never leaves a
server out: its keys raise StoreUnavailable until it is back.

Memcached reads an expiry above 30 days as a Unix timestamp; longer TTLs are sent that way.
"""

from __future__ import annotations

from ._async.memcached import AsyncMemcachedOps
from ._sync.memcached import MemcachedOps

__all__ = ["MemcachedBackend"]


class MemcachedBackend(MemcachedOps, AsyncMemcachedOps):
    """Session records in memcached.

    Args:
        servers: ``"host:port"``, ``"host:port,host:port"``, or a list of them (or of
            ``(host, port)`` tuples).
        key_prefix: prepended to every key.
        timeout: seconds before a call gives up (raising StoreUnavailable).
        connect_timeout: seconds before connecting gives up (default: ``timeout``).
        max_pool_size: connections per server (sync and async each).
        dead_timeout: seconds a server that failed a call is left out of the key mapping
            (its keys go to the next server meanwhile); 0 keeps it in (its keys raise
            StoreUnavailable until it is back). Only with several servers.
    """
