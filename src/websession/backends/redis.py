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

import asyncio
import os
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, unquote, urlencode, urlsplit, urlunsplit

from ..errors import StoreUnavailable
from ._errors import unavailable
from .base import PurgeProgress, Record, new_version

if TYPE_CHECKING:  # pragma: no cover
    import redis as redis_lib
    import redis.asyncio as aredis_lib

__all__ = ["RedisBackend"]

try:
    import redis as _redis
    import redis.asyncio as _aredis
    from redis.asyncio.cluster import RedisCluster as _AsyncRedisCluster
    from redis.asyncio.sentinel import Sentinel as _AsyncSentinel
    from redis.backoff import NoBackoff as _NoBackoff
    from redis.cluster import RedisCluster as _RedisCluster
    from redis.exceptions import ClusterError as _ClusterError
    from redis.exceptions import ConnectionError as _ConnectionError
    from redis.exceptions import NoScriptError as _NoScriptError
    from redis.exceptions import ReadOnlyError as _ReadOnlyError
    from redis.exceptions import ResponseError as _ResponseError
    from redis.exceptions import TimeoutError as _TimeoutError
    from redis.retry import Retry as _Retry
    from redis.sentinel import Sentinel as _Sentinel

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

# The owner index: one hash per owner, ``<prefix>owners:{<owner>}``, field = record key, value =
# ``b"<expires_ms>:" + entry``. One key per owner, so every command on it (and this script)
# touches one slot and works on Redis Cluster unchanged; the braces make it a hash tag, so
# anything later kept per owner lands in the same slot. KEYS[1] = the hash; ARGV = field,
# value, the entry's ttl in ms, now in ms. The hash lives as long as its longest entry;
# expired fields are dropped here once the hash has grown past a few, and when listed.
_INDEX = """
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
local ttl = tonumber(ARGV[3])
if redis.call('PTTL', KEYS[1]) < ttl then redis.call('PEXPIRE', KEYS[1], ttl) end
if redis.call('HLEN', KEYS[1]) > 16 then
  local all = redis.call('HGETALL', KEYS[1])
  local now = tonumber(ARGV[4])
  for i = 1, #all, 2 do
    local expires = tonumber(string.match(all[i + 1], '^(%d+):'))
    if not expires or expires <= now then redis.call('HDEL', KEYS[1], all[i]) end
  end
end
return 1
"""

_OWN_URL_OPTIONS = ("key_prefix", "prefix")
#: the URL parameters every networked backend takes, as redis-py names them
_TIMEOUT_ALIASES = {"timeout": "socket_timeout", "connect_timeout": "socket_connect_timeout"}
#: query parameters of redis+sentinel:// URLs that are this backend's, and their types
_SENTINEL_URL_OPTIONS: dict[str, type] = {
    "key_prefix": str,
    "prefix": str,
    "min_replicas": int,
    "wait_timeout": float,
    "socket_timeout": float,
    "socket_connect_timeout": float,
    "sentinel_password": str,
    "sentinel_username": str,
}


def _require_redis() -> None:
    if _IMPORT_ERROR is not None:
        raise ImportError(
            "RedisBackend needs the redis client: pip install 'websession[redis]'"
        ) from _IMPORT_ERROR


def _script_sha(script: str) -> str:
    import hashlib

    return hashlib.sha1(script.encode(), usedforsecurity=False).hexdigest()


_SET_IF_VERSION_SHA = _script_sha(_SET_IF_VERSION)
_INDEX_SHA = _script_sha(_INDEX)


def _pairs(reply: Any) -> list[tuple[bytes, bytes]]:
    """HGETALL's reply as pairs: a flat list (raw RESP2) or a dict (redis-py's callback)."""
    if isinstance(reply, dict):
        return list(reply.items())
    items = list(reply or [])
    return list(zip(items[::2], items[1::2]))


def _live_entries(reply: Any, now_ms: int) -> tuple[list[tuple[str, bytes]], list[bytes]]:
    """(live (key, entry) pairs, fields to prune) of an owner hash."""
    live: list[tuple[str, bytes]] = []
    dead: list[bytes] = []
    for field, value in _pairs(reply):
        expires, sep, entry = bytes(value).partition(b":")
        if not sep or not expires.isdigit() or int(expires) <= now_ms:
            dead.append(field)
        else:
            live.append((bytes(field).decode("ascii"), entry))
    return live, dead


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

    def __init__(
        self,
        client: redis_lib.Redis | redis_lib.RedisCluster | None = None,
        async_client: aredis_lib.Redis | aredis_lib.RedisCluster | None = None,
        *,
        url: str | None = None,
        cluster: bool = False,
        sentinels: Sequence[tuple[str, int]] | None = None,
        service_name: str | None = None,
        db: int = 0,
        sentinel_options: dict[str, Any] | None = None,
        min_replicas: int = 0,
        wait_timeout: float | None = None,
        key_prefix: str = "websession:",
        socket_timeout: float = 2.0,
        socket_connect_timeout: float | None = None,
        **client_options: Any,
    ) -> None:
        _require_redis()
        if client is None and async_client is None and url is None and not sentinels:
            raise ValueError("RedisBackend needs client=, async_client=, url= or sentinels=")
        if sentinels and (url is not None or cluster or not service_name):
            raise ValueError("sentinels= needs service_name= and excludes url= and cluster=")
        if min_replicas < 0:
            raise ValueError("min_replicas must be 0 or more")
        if min_replicas and cluster:
            raise ValueError("min_replicas is for a primary with replicas, not Redis Cluster")
        self.key_prefix = key_prefix
        self.cluster = cluster
        self._url = url
        self.sentinels = [(str(h), int(p)) for h, p in sentinels] if sentinels else None
        self.service_name = service_name
        self.min_replicas = int(min_replicas)
        if wait_timeout is None:
            wait_timeout = socket_timeout / 2
        if min_replicas and not 0 < wait_timeout < socket_timeout:
            raise ValueError("wait_timeout must be positive and shorter than socket_timeout")
        self.wait_timeout = wait_timeout
        connect_timeout = socket_connect_timeout if socket_connect_timeout else socket_timeout
        self._client_options: dict[str, Any] = {
            "socket_timeout": socket_timeout,
            "socket_connect_timeout": connect_timeout,
            **client_options,
        }
        if self.sentinels:
            self._client_options["db"] = db
        self._sentinel_options: dict[str, Any] = {
            "socket_timeout": socket_timeout,
            "socket_connect_timeout": connect_timeout,
            **(sentinel_options or {}),
        }
        # the Sentinel managers (their connections to the sentinels) of the sync and async
        # clients this backend made; closed with them
        self._manager: Any = None
        self._amanager: Any = None
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

        ``key_prefix`` may be given in the URL's query or as a keyword, and so may
        ``timeout`` and ``connect_timeout`` (seconds; redis-py's ``socket_timeout`` and
        ``socket_connect_timeout``); the other query parameters are redis-py's
        (``ssl_cert_reqs``, ...). Keywords are this class's arguments (``key_prefix``,
        ``socket_timeout``, ...) or client options.
        """
        _require_redis()
        if url.lower().startswith("redis+sentinel://"):
            return cls._from_sentinel_url(url, **options)
        parts = urlsplit(url)
        query = parse_qsl(parts.query, keep_blank_values=True)
        for alias, name in _TIMEOUT_ALIASES.items():  # the same names on every backend
            if any(k == alias for k, _ in query):
                options.setdefault(name, float(dict(query)[alias]))
                query = [(k, v) for k, v in query if k != alias]
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

    @classmethod
    def _from_sentinel_url(cls, url: str, **options: Any) -> RedisBackend:
        """``redis+sentinel://[[user]:password@]h:p[,h:p...]/service[/db][?options]``.

        The user and password are the Redis servers'; ``sentinel_password`` (and
        ``sentinel_username``) are the sentinels' own, if they have one.
        """
        parts = urlsplit(url)
        userinfo, _, hosts = parts.netloc.rpartition("@")
        sentinels: list[tuple[str, int]] = []
        for item in hosts.split(","):
            host, _, port = item.strip().rpartition(":")
            if not host or not port.isdigit():
                raise ValueError(
                    f"redis+sentinel:// lists sentinels as host:port[,host:port...]: {item!r}"
                )
            sentinels.append((host.strip("[]"), int(port)))
        path = [unquote(p) for p in parts.path.split("/") if p]
        if not path or len(path) > 2 or (len(path) == 2 and not path[1].isdigit()):
            raise ValueError(
                "a redis+sentinel:// URL names the service and optionally the db: "
                f"redis+sentinel://h:p,h:p/mymaster/0, not {url!r}"
            )
        kwargs: dict[str, Any] = {
            "service_name": path[0],
            "db": int(path[1]) if len(path) > 1 else 0,
        }
        if userinfo:
            user, _, password = userinfo.partition(":")
            if user:
                kwargs["username"] = unquote(user)
            if password:
                kwargs["password"] = unquote(password)
        sentinel_options: dict[str, Any] = {}
        for name, value in parse_qsl(parts.query, keep_blank_values=True):
            name = _TIMEOUT_ALIASES.get(name, name)
            kind = _SENTINEL_URL_OPTIONS.get(name)
            if kind is None:
                raise ValueError(f"unknown redis+sentinel:// URL parameter {name!r}")
            if name.startswith("sentinel_"):
                sentinel_options[name[len("sentinel_") :]] = value
            else:
                kwargs["key_prefix" if name == "prefix" else name] = kind(value)
        if sentinel_options:
            kwargs["sentinel_options"] = sentinel_options
        return cls(sentinels=sentinels, **{**kwargs, **options})

    # -- clients -------------------------------------------------------------------------------
    def _new_client(self, url: str | None, cluster_class: Any, single_class: Any) -> Any:
        """A client for ``url``: the sync or async classes of redis-py (cluster, single node),
        or, with sentinels, a client of the primary they name."""
        if self.sentinels:
            is_sync = single_class is _redis.Redis
            manager_class: Any = _Sentinel if is_sync else _AsyncSentinel
            manager: Any = manager_class(self.sentinels, sentinel_kwargs=self._sentinel_options)
            if is_sync:
                self._manager = manager
            else:
                self._amanager = manager
            return manager.master_for(
                self.service_name,
                redis_class=single_class,
                retry=_Retry(_NoBackoff(), 1),
                **self._client_options,
            )
        assert url is not None
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
            if self._url is None and not self.sentinels:
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
                if self._url is None and not self.sentinels:
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
        where = "Redis Cluster" if self.cluster else "Redis Sentinel" if self.sentinels else "Redis"
        return unavailable(where, exc)

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
    def _wait_args(self, wait: bool) -> tuple[Any, ...] | None:
        """The ``WAIT`` that follows a write when ``min_replicas`` asks for it."""
        if not (wait and self.min_replicas):
            return None
        return ("WAIT", self.min_replicas, max(1, int(self.wait_timeout * 1000)))

    def _acked(self, result: Any, acked: Any) -> Any:
        """``result``, once ``WAIT`` said enough replicas have the write (else StoreUnavailable).

        A write that changed nothing (a refused condition) needs no replica.
        """
        if acked is not None and result is not None and int(acked) < self.min_replicas:
            raise StoreUnavailable(
                f"Redis: only {int(acked)} of {self.min_replicas} replica(s) acknowledged the "
                f"write within {self.wait_timeout:g} s (min_replicas)"
            )
        return result

    def _command(self, *args: Any, wait: bool = False) -> Any:
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

        With ``wait`` and ``min_replicas``, a ``WAIT`` is sent right behind the command (one
        round trip) and the result is returned only if enough replicas acknowledged it.
        """
        client = self.client
        pool = None if self.cluster else getattr(client, "connection_pool", None)
        then = self._wait_args(wait)
        if pool is None:
            result = client.execute_command(*args)
            return result if then is None else self._acked(result, client.execute_command(*then))
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
            acked = None
            try:
                if self.sentinels:
                    # A sentinel-managed connection finds the primary in connect(); sending on
                    # a closed one would connect to its default address instead.
                    conn.connect()
                conn.send_command(*args)
                if then is not None:
                    conn.send_command(*then)
                try:
                    result = conn.read_response()
                except _ResponseError:
                    if then is not None:
                        conn.read_response()  # WAIT's reply: the connection stays clean
                    raise
                if then is not None:
                    acked = conn.read_response()
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
            return self._acked(result, acked)
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
                result = self._command(*command, wait=True)
            except _NoScriptError:
                assert fallback is not None
                result = self._command(*fallback, wait=True)  # EVAL also caches the script
        except _UNAVAILABLE as exc:
            raise self._unavailable(exc) from exc
        return None if result is None else version

    def delete(self, key: str) -> None:
        try:
            self._command("DEL", self._key(key), wait=True)
        except _UNAVAILABLE as exc:
            raise self._unavailable(exc) from exc

    def purge(self, progress: PurgeProgress | None = None) -> int:
        return 0  # Redis expires keys itself

    def close(self) -> None:
        self._closed = True
        self._drop_idle()
        client, self._client = self._client, None
        if client is not None and self._own_client:
            client.close()
        manager, self._manager = self._manager, None
        if manager is not None:
            manager.close()
        if self._own_async_client and self._async_client is not None:
            # Async connections can only be closed from their loop (see aclose); drop them.
            self._async_client = None
            self._async_loop = None
            self._amanager = None

    # -- async ---------------------------------------------------------------------------------
    async def _acommand(self, *args: Any, wait: bool = False) -> Any:
        """The async twin of :meth:`_command`."""
        client = self._aclient()
        pool = None if self.cluster else getattr(client, "connection_pool", None)
        then = self._wait_args(wait)
        if pool is None:
            result = await client.execute_command(*args)
            if then is None:
                return result
            return self._acked(result, await client.execute_command(*then))
        for attempt in (0, 1):
            conn = await pool.get_connection()
            try:
                await conn.send_command(*args)
                if then is None:
                    return await conn.read_response()
                await conn.send_command(*then)
                try:
                    result = await conn.read_response()
                except _ResponseError:
                    await conn.read_response()  # WAIT's reply: the connection stays clean
                    raise
                acked = await conn.read_response()
            except _ConnectionError:
                await conn.disconnect(nowait=True)
                if attempt:
                    raise
                continue  # in the finally clause the connection goes back first
            except BaseException:
                # a timeout or a cancellation may leave a reply in flight: never reuse it
                await conn.disconnect(nowait=True)
                raise
            finally:
                await pool.release(conn)
            return self._acked(result, acked)
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
                result = await self._acommand(*command, wait=True)
            except _NoScriptError:
                assert fallback is not None
                result = await self._acommand(*fallback, wait=True)
        except _UNAVAILABLE as exc:
            raise self._unavailable(exc) from exc
        return None if result is None else version

    async def adelete(self, key: str) -> None:
        try:
            await self._acommand("DEL", self._key(key), wait=True)
        except _UNAVAILABLE as exc:
            raise self._unavailable(exc) from exc

    async def apurge(self, progress: PurgeProgress | None = None) -> int:
        return 0

    async def aclose(self) -> None:
        client, self._async_client = self._async_client, None
        loop, self._async_loop = self._async_loop, None
        manager, self._amanager = self._amanager, None
        if client is not None and self._own_async_client:
            running = asyncio.get_running_loop()
            if loop is None or loop is running:
                await client.aclose()
                if manager is not None:
                    await manager.aclose()
        if self._client is not None and self._own_client:
            self._client.close()
            self._client = None
            if self._manager is not None:
                self._manager.close()
                self._manager = None

    # -- the owner index (see _INDEX) -----------------------------------------------------------
    def _owner_key(self, owner: str) -> str:
        return f"{self.key_prefix}owners:{{{owner}}}"

    def _index_commands(
        self, owner: str, key: str, entry: bytes, ttl: float
    ) -> tuple[tuple[Any, ...], tuple[Any, ...]]:
        now_ms = int(time.time() * 1000)
        ttl_ms = max(int(ttl * 1000), 1)
        value = b"%d:" % (now_ms + ttl_ms) + bytes(entry)
        args = (1, self._owner_key(owner), key, value, ttl_ms, now_ms)
        return ("EVALSHA", _INDEX_SHA, *args), ("EVAL", _INDEX, *args)

    def index(self, owner: str, key: str, entry: bytes, ttl: float) -> None:
        command, fallback = self._index_commands(owner, key, entry, ttl)
        try:
            try:
                self._command(*command)
            except _NoScriptError:
                self._command(*fallback)
        except _UNAVAILABLE as exc:
            raise self._unavailable(exc) from exc

    def owned(self, owner: str) -> list[tuple[str, bytes]]:
        k = self._owner_key(owner)
        try:
            live, dead = _live_entries(self._command("HGETALL", k), int(time.time() * 1000))
            if dead:
                self._command("HDEL", k, *dead)
        except _UNAVAILABLE as exc:
            raise self._unavailable(exc) from exc
        return live

    def unindex(self, owner: str, key: str) -> None:
        try:
            self._command("HDEL", self._owner_key(owner), key)
        except _UNAVAILABLE as exc:
            raise self._unavailable(exc) from exc

    async def aindex(self, owner: str, key: str, entry: bytes, ttl: float) -> None:
        command, fallback = self._index_commands(owner, key, entry, ttl)
        try:
            try:
                await self._acommand(*command)
            except _NoScriptError:
                await self._acommand(*fallback)
        except _UNAVAILABLE as exc:
            raise self._unavailable(exc) from exc

    async def aowned(self, owner: str) -> list[tuple[str, bytes]]:
        k = self._owner_key(owner)
        try:
            reply = await self._acommand("HGETALL", k)
            live, dead = _live_entries(reply, int(time.time() * 1000))
            if dead:
                await self._acommand("HDEL", k, *dead)
        except _UNAVAILABLE as exc:
            raise self._unavailable(exc) from exc
        return live

    async def aunindex(self, owner: str, key: str) -> None:
        try:
            await self._acommand("HDEL", self._owner_key(owner), key)
        except _UNAVAILABLE as exc:
            raise self._unavailable(exc) from exc

    def __repr__(self) -> str:
        kind = "cluster" if self.cluster else "single"
        if self.sentinels:
            kind = f"sentinel {self.service_name!r}"
        return f"RedisBackend({kind}, key_prefix={self.key_prefix!r})"
