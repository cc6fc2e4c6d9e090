"""RedisBackend: records in Redis (single node or Redis Cluster), expired by Redis itself.

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
"""

from __future__ import annotations

import asyncio
import os
import time
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from ..errors import StoreUnavailable
from .base import Record, new_version

if TYPE_CHECKING:  # pragma: no cover
    import redis as redis_lib
    import redis.asyncio as aredis_lib

__all__ = ["RedisBackend"]

try:
    import redis as _redis
    import redis.asyncio as _aredis
    from redis.asyncio.cluster import RedisCluster as _AsyncRedisCluster
    from redis.backoff import NoBackoff as _NoBackoff
    from redis.cluster import RedisCluster as _RedisCluster
    from redis.exceptions import ClusterError as _ClusterError
    from redis.exceptions import ConnectionError as _ConnectionError
    from redis.exceptions import NoScriptError as _NoScriptError
    from redis.exceptions import ReadOnlyError as _ReadOnlyError
    from redis.exceptions import ResponseError as _ResponseError
    from redis.exceptions import TimeoutError as _TimeoutError
    from redis.retry import Retry as _Retry

    _UNAVAILABLE: tuple[type[BaseException], ...] = (
        _ConnectionError,  # includes BusyLoadingError, MaxConnectionsError...
        _TimeoutError,
        _ClusterError,  # ClusterDownError, MasterDownError...
        _ReadOnlyError,  # a replica answers during failover
        OSError,
        asyncio.TimeoutError,
    )
    _IMPORT_ERROR: ImportError | None = None
except ImportError as exc:  # pragma: no cover - exercised only without redis installed
    _IMPORT_ERROR = exc
    _UNAVAILABLE = (OSError,)

# KEYS[1] = key; ARGV = new value, ttl_ms, expected version (compared as text: Lua numbers are
# doubles and would round 62-bit versions). Returns 1 when written, nil when the condition fails.
_SET_IF_VERSION = """
local cur = redis.call('GET', KEYS[1])
if not cur or string.match(cur, '^(%d+):') ~= ARGV[3] then return false end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 1
"""

_OWN_URL_OPTIONS = ("key_prefix", "prefix")


def _require_redis() -> None:
    if _IMPORT_ERROR is not None:
        raise ImportError(
            "RedisBackend needs the redis client: pip install 'websession[redis]'"
        ) from _IMPORT_ERROR


def _script_sha(script: str) -> str:
    import hashlib

    return hashlib.sha1(script.encode(), usedforsecurity=False).hexdigest()


_SET_IF_VERSION_SHA = _script_sha(_SET_IF_VERSION)


def _parse(value: bytes, touch: int | None) -> Record | None:
    """A record from its stored form ``b"<version>:<expires_ms>:" + data``."""
    try:
        version, expires_ms, data = value.split(b":", 2)
        expires_at = time.time() + touch if touch else int(expires_ms) / 1000.0
        return Record(data, expires_at, int(version))
    except ValueError:
        return None  # not ours (written by something else): treat as absent


class RedisBackend:
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
        key_prefix: prepended to every key (``"websession:"``).
        socket_timeout: seconds before a call to Redis gives up (raising StoreUnavailable).
        socket_connect_timeout: seconds before connecting gives up.
        **client_options: passed to the redis-py client constructors (``max_connections``,
            ``ssl_ca_certs``, ``password``, ...).

    Use :meth:`from_url` for the common case.
    """

    def __init__(
        self,
        client: redis_lib.Redis | redis_lib.RedisCluster | None = None,
        async_client: aredis_lib.Redis | aredis_lib.RedisCluster | None = None,
        *,
        url: str | None = None,
        cluster: bool = False,
        key_prefix: str = "websession:",
        socket_timeout: float = 2.0,
        socket_connect_timeout: float | None = None,
        **client_options: Any,
    ) -> None:
        _require_redis()
        if client is None and async_client is None and url is None:
            raise ValueError("RedisBackend needs client=, async_client= or url=")
        self.key_prefix = key_prefix
        self.cluster = cluster
        self._url = url
        connect_timeout = socket_connect_timeout if socket_connect_timeout else socket_timeout
        self._client_options: dict[str, Any] = {
            "socket_timeout": socket_timeout,
            "socket_connect_timeout": connect_timeout,
            **client_options,
        }
        self._client = client
        self._own_client = client is None
        self._async_client = async_client
        self._own_async_client = async_client is None
        self._async_loop: asyncio.AbstractEventLoop | None = None
        self._closed = False
        # Idle connections of the sync single-node client, kept here rather than in redis-py's
        # pool (see _command); and the process they belong to (a forked child must not share
        # its parent's sockets).
        self._idle: list[Any] = []
        self._idle_pid = os.getpid()

    @classmethod
    def from_url(cls, url: str, cluster: bool = False, **options: Any) -> RedisBackend:
        """A backend for ``url`` (``redis://[[user]:password@]host[:port][/db][?options]``).

        ``key_prefix`` may be given in the URL's query or as a keyword; the other query
        parameters are redis-py's (``socket_timeout``, ``ssl_cert_reqs``, ...). Keywords are
        this class's arguments (``key_prefix``, ``socket_timeout``, ...) or client options.
        """
        _require_redis()
        parts = urlsplit(url)
        query = parse_qsl(parts.query, keep_blank_values=True)
        own = {k: v for k, v in query if k in _OWN_URL_OPTIONS}
        rest = [(k, v) for k, v in query if k not in _OWN_URL_OPTIONS]
        if rest and any(k == "cluster" for k, _ in rest):
            flag = dict(rest)["cluster"].lower()
            cluster = cluster or flag in ("1", "true", "yes", "on")
            rest = [(k, v) for k, v in rest if k != "cluster"]
        url = urlunsplit(parts._replace(query=urlencode(rest)))
        for name, value in own.items():
            options.setdefault("key_prefix" if name == "prefix" else name, value)
        return cls(url=url, cluster=cluster, **options)

    # -- clients -------------------------------------------------------------------------------
    def _new_client(self, url: str, cluster_class: Any, single_class: Any) -> Any:
        """A client for ``url``: the sync or async classes of redis-py (cluster, single node)."""
        if self.cluster:
            return cluster_class.from_url(url, **self._client_options)
        # One immediate retry: a pooled connection that broke (Redis restarted) is replaced by a
        # fresh one. No backoff, so a Redis that is really down fails fast.
        return single_class.from_url(url, retry=_Retry(_NoBackoff(), 1), **self._client_options)

    @property
    def client(self) -> Any:
        """The sync redis-py client (made on first use when the backend was given a URL)."""
        client = self._client
        if client is None:
            if self._url is None:
                raise RuntimeError(
                    "this RedisBackend was given only an async client: use the a* methods, "
                    "or pass client= too"
                )
            client = self._new_client(self._url, _RedisCluster, _redis.Redis)
            self._client = client
        return client

    def _aclient(self) -> Any:
        client = self._async_client
        if self._own_async_client:
            loop = asyncio.get_running_loop()
            if client is not None and self._async_loop is not loop:
                # redis.asyncio connections belong to the loop that made them: a client made in
                # another (finished) event loop would fail here. Make a new one.
                client = None
            if client is None:
                if self._url is None:
                    raise RuntimeError(
                        "this RedisBackend was given only a sync client: use the sync methods, "
                        "or pass async_client= too"
                    )
                client = self._new_client(self._url, _AsyncRedisCluster, _aredis.Redis)
                self._async_client = client
                self._async_loop = loop
        return client

    def _key(self, key: str) -> str:
        return self.key_prefix + key

    def _unavailable(self, exc: BaseException) -> StoreUnavailable:
        where = "Redis Cluster" if self.cluster else "Redis"
        return StoreUnavailable(f"{where} is unavailable: {type(exc).__name__}: {exc}")

    def _write(
        self, key: str, data: bytes, ttl: int, must_exist: bool, if_version: int | None
    ) -> tuple[int, tuple[Any, ...], tuple[Any, ...] | None]:
        """(new version, the plain command, the Lua fallback command when EVALSHA misses)."""
        if ttl <= 0:
            raise ValueError("ttl must be positive")
        version = new_version()
        ttl_ms = ttl * 1000
        value = b"%d:%d:" % (version, int(time.time() * 1000) + ttl_ms) + data
        k = self._key(key)
        if if_version is None:
            command = ("SET", k, value, "PX", ttl_ms, *(("XX",) if must_exist else ()))
            return version, command, None
        args = (1, k, value, ttl_ms, str(if_version))
        return version, ("EVALSHA", _SET_IF_VERSION_SHA, *args), ("EVAL", _SET_IF_VERSION, *args)

    # -- sync ----------------------------------------------------------------------------------
    def _command(self, *args: Any) -> Any:
        """Run one command: on a single node straight on an idle connection, else via the client.

        redis-py's generic command path (retry wrapper, metrics, response callbacks) and its
        pool's checkout (a lock, metrics, and a poll of the socket for stray data) cost more
        than the round trip itself on a fast local Redis. For the few commands used here (GET,
        GETEX, SET, EVALSHA, DEL) the raw reply is the answer, so a single node skips both.
        Connections come from the client's pool factory (its host, auth, TLS, timeouts and
        ``max_connections``) and are kept in a LIFO list here; one goes back to the list only
        after its reply was read in full, or disconnected (it reconnects on its next use), so
        none is ever reused half-read. When an idle connection turns out stale (Redis
        restarted), the command is tried once more on it, reconnected; each idle connection
        heals that way on its next use, and no thread touches a connection another one holds.
        """
        client = self.client
        pool = None if self.cluster else getattr(client, "connection_pool", None)
        if pool is None:
            return client.execute_command(*args)
        idle = self._idle
        if self._idle_pid != os.getpid():
            # forked: the parent's sockets are not ours (nor are its pool's counts)
            self._idle = idle = []
            self._idle_pid = os.getpid()
            pool.reset()
        try:
            conn, reused = idle.pop(), True  # list.pop is atomic: no lock needed
        except IndexError:
            conn, reused = pool.make_connection(), False
        for attempt in (0, 1):
            try:
                conn.send_command(*args)
                result = conn.read_response()
            except _ConnectionError:
                conn.disconnect()
                if not reused or attempt:
                    idle.append(conn)
                    raise
                continue  # it went stale while idle (Redis restarted): once more, reconnected
            except _ResponseError:
                idle.append(conn)  # an error reply was read in full: the connection is fine
                raise
            except BaseException:
                conn.disconnect()  # a timeout or an interrupt may leave a reply in flight
                idle.append(conn)
                raise
            idle.append(conn)
            return result
        raise AssertionError("unreachable")  # pragma: no cover

    def _drop_idle(self) -> None:
        idle, self._idle = self._idle, []
        for conn in idle:
            conn.disconnect()

    def get(self, key: str, *, touch: int | None = None) -> Record | None:
        try:
            if touch:
                value = self._command("GETEX", self._key(key), "PX", touch * 1000)
            else:
                value = self._command("GET", self._key(key))
        except _UNAVAILABLE as exc:
            raise self._unavailable(exc) from exc
        return None if value is None else _parse(value, touch)

    def set(
        self,
        key: str,
        data: bytes,
        ttl: int,
        *,
        must_exist: bool = False,
        if_version: int | None = None,
    ) -> int | None:
        version, command, fallback = self._write(key, data, ttl, must_exist, if_version)
        try:
            try:
                result = self._command(*command)
            except _NoScriptError:
                assert fallback is not None
                result = self._command(*fallback)  # EVAL also caches the script
        except _UNAVAILABLE as exc:
            raise self._unavailable(exc) from exc
        return None if result is None else version

    def delete(self, key: str) -> None:
        try:
            self._command("DEL", self._key(key))
        except _UNAVAILABLE as exc:
            raise self._unavailable(exc) from exc

    def purge(self) -> int:
        return 0  # Redis expires keys itself

    def close(self) -> None:
        self._closed = True
        self._drop_idle()
        client, self._client = self._client, None
        if client is not None and self._own_client:
            client.close()
        if self._own_async_client and self._async_client is not None:
            # Async connections can only be closed from their loop (see aclose); drop them.
            self._async_client = None
            self._async_loop = None

    # -- async ---------------------------------------------------------------------------------
    async def _acommand(self, *args: Any) -> Any:
        """The async twin of :meth:`_command`."""
        client = self._aclient()
        pool = None if self.cluster else getattr(client, "connection_pool", None)
        if pool is None:
            return await client.execute_command(*args)
        for attempt in (0, 1):
            conn = await pool.get_connection()
            try:
                await conn.send_command(*args)
                return await conn.read_response()
            except _ConnectionError:
                await conn.disconnect(nowait=True)
                if attempt:
                    raise
            except BaseException:
                # a timeout or a cancellation may leave a reply in flight: never reuse it
                await conn.disconnect(nowait=True)
                raise
            finally:
                await pool.release(conn)
        raise AssertionError("unreachable")  # pragma: no cover

    async def aget(self, key: str, *, touch: int | None = None) -> Record | None:
        try:
            if touch:
                value = await self._acommand("GETEX", self._key(key), "PX", touch * 1000)
            else:
                value = await self._acommand("GET", self._key(key))
        except _UNAVAILABLE as exc:
            raise self._unavailable(exc) from exc
        return None if value is None else _parse(value, touch)

    async def aset(
        self,
        key: str,
        data: bytes,
        ttl: int,
        *,
        must_exist: bool = False,
        if_version: int | None = None,
    ) -> int | None:
        version, command, fallback = self._write(key, data, ttl, must_exist, if_version)
        try:
            try:
                result = await self._acommand(*command)
            except _NoScriptError:
                assert fallback is not None
                result = await self._acommand(*fallback)
        except _UNAVAILABLE as exc:
            raise self._unavailable(exc) from exc
        return None if result is None else version

    async def adelete(self, key: str) -> None:
        try:
            await self._acommand("DEL", self._key(key))
        except _UNAVAILABLE as exc:
            raise self._unavailable(exc) from exc

    async def apurge(self) -> int:
        return 0

    async def aclose(self) -> None:
        client, self._async_client = self._async_client, None
        loop, self._async_loop = self._async_loop, None
        if client is not None and self._own_async_client:
            running = asyncio.get_running_loop()
            if loop is None or loop is running:
                await client.aclose()
        if self._client is not None and self._own_client:
            self._client.close()
            self._client = None

    def __repr__(self) -> str:
        kind = "cluster" if self.cluster else "single"
        return f"RedisBackend({kind}, key_prefix={self.key_prefix!r})"
