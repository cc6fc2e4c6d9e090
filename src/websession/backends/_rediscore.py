"""What RedisBackend's sync and async sides share: configuration, clients, commands, scripts.

The operations themselves are written once, as async code, in ``_async/redis.py``; their sync
twin ``_sync/redis.py`` is generated from it (``make generate``); ``redis.py`` puts the three
together as :class:`~websession.backends.redis.RedisBackend`.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import parse_qsl, unquote, urlencode, urlsplit, urlunsplit

from ..errors import StoreUnavailable
from ._errors import unavailable
from .base import Record, new_version

if TYPE_CHECKING:  # pragma: no cover
    import redis as redis_lib
    import redis.asyncio as aredis_lib

__all__ = [
    "UNAVAILABLE",
    "NoScriptError",
    "RedisConnectionError",
    "RedisCore",
    "RedisResponseError",
    "live_entries",
    "parse_record",
]

try:
    import redis as _redis
    import redis.asyncio as _aredis
    from redis.asyncio.cluster import RedisCluster as _AsyncRedisCluster
    from redis.asyncio.retry import Retry as _AsyncRetry
    from redis.asyncio.sentinel import Sentinel as _AsyncSentinel
    from redis.backoff import NoBackoff as _NoBackoff
    from redis.cluster import RedisCluster as _RedisCluster
    from redis.exceptions import ClusterError as _ClusterError
    from redis.exceptions import ConnectionError as RedisConnectionError
    from redis.exceptions import NoScriptError
    from redis.exceptions import ReadOnlyError as _ReadOnlyError
    from redis.exceptions import RedisClusterException as _RedisClusterException
    from redis.exceptions import ResponseError as RedisResponseError
    from redis.exceptions import TimeoutError as _TimeoutError
    from redis.exceptions import TryAgainError as _TryAgainError
    from redis.retry import Retry as _Retry
    from redis.sentinel import Sentinel as _Sentinel

    UNAVAILABLE: tuple[type[BaseException], ...] = (
        RedisConnectionError,  # includes BusyLoadingError, MaxConnectionsError...
        _TimeoutError,
        _ClusterError,  # ClusterDownError, MasterDownError...
        _ReadOnlyError,  # a replica answers during failover
        _TryAgainError,  # a slot being moved
        # A cluster's layout in flux, as redis-py says it: a slot no known node covers
        # (SlotNotCoveredError), nodes that do not agree on the slots, no node reachable. It
        # also names commands it cannot route, which this backend never sends (one key, or
        # keys under one hash tag). Seen as a 500 in a failover under load before.
        _RedisClusterException,
        OSError,
        asyncio.TimeoutError,
    )
    _IMPORT_ERROR: ImportError | None = None
except ImportError as exc:  # pragma: no cover - exercised only without redis installed
    _IMPORT_ERROR = exc
    UNAVAILABLE = (OSError,)

    # stand-ins for redis-py's, never raised: RedisBackend needs redis-py
    class NoScriptError(Exception):  # type: ignore[no-redef]
        pass

    RedisConnectionError = RedisResponseError = NoScriptError  # type: ignore[misc, assignment]


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


def live_entries(reply: Any, now_ms: int) -> tuple[list[tuple[str, bytes]], list[bytes]]:
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


def parse_record(value: bytes, touch: int | None) -> Record | None:
    """A record from its stored form ``b"<version>:<expires_ms>:" + data``."""
    try:
        version, expires_ms, data = value.split(b":", 2)
        expires_at = time.time() + touch if touch else int(expires_ms) / 1000.0
        return Record(data, expires_at, int(version))
    except ValueError:
        return None  # not ours (written by something else): treat as absent


_B = TypeVar("_B", bound="RedisCore")


class RedisCore:
    """RedisBackend but its operations (``_sync``/``_async``); its docstring says the arguments."""

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
        self._sync_client = client
        self._own_client = client is None
        self._async_client = async_client
        self._own_async_client = async_client is None
        self._async_loop: asyncio.AbstractEventLoop | None = None
        self._closed = False
        # idle connections of the sync single-node client (see _checkout), and their process
        self._idle: list[Any] = []
        self._idle_pid = os.getpid()

    @classmethod
    def from_url(cls: type[_B], url: str, cluster: bool = False, **options: Any) -> _B:
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
    def _from_sentinel_url(cls: type[_B], url: str, **options: Any) -> _B:
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
    def _new_client(self, url: str | None, is_sync: bool) -> Any:
        """A sync or async redis-py client for ``url`` (cluster or single node), or, with
        sentinels, a client of the primary they name.

        Single-node and Sentinel clients get one immediate retry of a command whose connection
        broke (Redis restarted, or failed over): the pool's next connection is a fresh one. No
        backoff, so a Redis that is really down fails fast; and no retry of a timeout, so
        ``socket_timeout`` bounds a call to a frozen Redis.
        """
        retry_class: Any = _Retry if is_sync else _AsyncRetry
        retry = retry_class(_NoBackoff(), 1, supported_errors=(RedisConnectionError,))
        if self.sentinels:
            manager_class: Any = _Sentinel if is_sync else _AsyncSentinel
            # no retry of a sentinel that does not answer: the manager asks the next one anyway,
            # and redis-py's default (3 retries, backing off up to 10 s) made a request wait 15 s
            # when every sentinel was down
            sentinel_options = {"retry": retry_class(_NoBackoff(), 0), **self._sentinel_options}
            manager: Any = manager_class(self.sentinels, sentinel_kwargs=sentinel_options)
            if is_sync:
                self._manager = manager
            else:
                self._amanager = manager
            return manager.master_for(
                self.service_name,
                redis_class=_redis.Redis if is_sync else _aredis.Redis,
                retry=retry,
                **self._client_options,
            )
        assert url is not None
        if self.cluster:
            cluster_class: Any = _RedisCluster if is_sync else _AsyncRedisCluster
            return cluster_class.from_url(url, **self._client_options)
        single_class: Any = _redis.Redis if is_sync else _aredis.Redis
        return single_class.from_url(url, retry=retry, **self._client_options)

    @property
    def client(self) -> Any:
        """The sync redis-py client (made on first use when the backend was given a URL)."""
        client = self._sync_client
        if client is None:
            if self._url is None and not self.sentinels:
                raise RuntimeError(
                    "this RedisBackend was given only an async client: use the a* methods, "
                    "or pass client= too"
                )
            client = self._new_client(self._url, is_sync=True)
            self._sync_client = client
        return client

    def _client(self) -> Any:
        """The sync client (what ``_aclient`` is to the async operations)."""
        return self.client

    def _aclient(self) -> Any:
        """The async client of the running event loop (made on first use in it)."""
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
                client = self._new_client(self._url, is_sync=False)
                self._async_client = client
                self._async_loop = loop
        return client

    # -- connections: where _command and _acommand take theirs --------------------------------
    def _checkout(self, client: Any) -> Any:
        """A connection of the sync single-node client: the last one given back, else a new one
        from the client's pool factory (its address, auth, TLS, timeouts, max_connections).

        Kept here rather than in redis-py's ConnectionPool because the numbers said so (issue
        11: ``make bench-http``'s Flask + gunicorn on Redis, 8 interleaved rounds, 2026-11-29,
        loaded machine): the pool's checkout (a lock, a pid check, a poll of the socket, metrics)
        cost 6% more server CPU per request (paired median) and 15% of the requests per second
        measured against Flask-Session in the same runs (1.00x instead of 1.18x); this list
        costs nothing measurable (0.98x CPU). The async side's pool showed no such cost.
        A connection is given back only after its reply was read in full, or after redis-py
        disconnected it (it reconnects on its next use); list.pop and append are atomic, so
        threads need no lock. A forked child starts afresh (its parent's sockets are not its).
        """
        if self._idle_pid != os.getpid():
            self._idle = []
            self._idle_pid = os.getpid()
            client.connection_pool.reset()
        try:
            return self._idle.pop()
        except IndexError:
            return client.connection_pool.make_connection()

    def _checkin(self, client: Any, conn: Any) -> None:
        self._idle.append(conn)

    async def _acheckout(self, client: Any) -> Any:
        """A connection of the async single-node client, from its own pool."""
        return await client.connection_pool.get_connection()

    async def _acheckin(self, client: Any, conn: Any) -> None:
        await client.connection_pool.release(conn)

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

    # close and aclose are not twins: each closes what it can from where it runs
    def close(self) -> None:
        self._closed = True
        idle, self._idle = self._idle, []
        for conn in idle:
            conn.disconnect()
        client, self._sync_client = self._sync_client, None
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
        if self._sync_client is not None and self._own_client:
            self._sync_client.close()
            self._sync_client = None
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

    def __repr__(self) -> str:
        kind = "cluster" if self.cluster else "single"
        if self.sentinels:
            kind = f"sentinel {self.service_name!r}"
        return f"RedisBackend({kind}, key_prefix={self.key_prefix!r})"
