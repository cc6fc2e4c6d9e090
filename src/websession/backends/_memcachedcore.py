"""What MemcachedBackend's sync and async sides share: servers, routing, clients, record format.

The operations are written once, as async code, in ``_async/memcached.py``; ``_sync/memcached.py``
is generated from it (``make generate``); ``memcached.py`` puts them together.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from typing import Any, TypeVar
from urllib.parse import parse_qsl, unquote, urlsplit

from ..errors import StoreUnavailable
from ._errors import unavailable
from .base import Record

__all__ = ["CAS_ATTEMPTS", "MemcachedCore", "exptime", "pack", "unpack"]

_MAX_RELATIVE_TTL = 60 * 60 * 24 * 30  # memcached: larger exptimes are Unix timestamps
CAS_ATTEMPTS = 16

try:
    import aiomcache as _aiomcache
    from aiomcache.pool import Connection as _Connection
    from aiomcache.pool import MemcachePool as _MemcachePool
    from pymemcache.client.base import PooledClient as _PooledClient
    from pymemcache.client.rendezvous import RendezvousHash as _RendezvousHash
    from pymemcache.exceptions import MemcacheUnexpectedCloseError as _UnexpectedClose

    _IMPORT_ERROR: ImportError | None = None
    _SYNC_UNAVAILABLE: tuple[type[BaseException], ...] = (OSError, _UnexpectedClose)
except ImportError as exc:  # pragma: no cover - only without the extra installed
    _IMPORT_ERROR = exc
    _SYNC_UNAVAILABLE = (OSError,)

_ASYNC_UNAVAILABLE: tuple[type[BaseException], ...] = (
    OSError,
    EOFError,
    asyncio.TimeoutError,
    asyncio.IncompleteReadError,
    ConnectionError,
)


if _IMPORT_ERROR is None:

    class _EOFReader(asyncio.StreamReader):
        """A reader whose ``readline`` raises at EOF instead of returning what it has.

        aiomcache 0.8 reads replies in loops that end only on a whole line; at EOF ``readline``
        returns ``b""`` at once, without yielding, so a connection closed before its reply
        (the server or a proxy gone at the wrong moment) spun the event loop at 100% CPU, past
        any ``wait_for`` (aio-libs/aiomcache#502, open). The raised IncompleteReadError is an
        error aiomcache records on the connection (then dropped) and we report unavailable.
        """

        async def readline(self) -> bytes:
            line = await super().readline()
            if not line.endswith(b"\n"):
                raise asyncio.IncompleteReadError(line, None)
            return line

    class _Pool(_MemcachePool):
        """aiomcache's pool, its connections read through :class:`_EOFReader`."""

        async def _create_new_conn(self) -> _Connection | None:
            # aiomcache's own, with asyncio.open_connection spelled out to choose the reader
            if self.size() >= self._maxsize:
                return None
            loop = asyncio.get_running_loop()
            reader = _EOFReader(loop=loop)
            protocol = asyncio.StreamReaderProtocol(reader, loop=loop)
            transport, _ = await loop.create_connection(
                lambda: protocol, self._host, self._port, **self.conn_args
            )
            writer = asyncio.StreamWriter(transport, protocol, reader, loop)
            if self.size() >= self._maxsize:  # others filled the pool meanwhile
                writer.close()
                return None
            return _Connection(reader, writer)

    class _AsyncClient(_aiomcache.Client):
        def __init__(self, host: str, port: int, *, pool_size: int) -> None:
            super().__init__(host, port, pool_size=pool_size)
            self._pool = _Pool(host, port, minsize=pool_size, maxsize=pool_size)


def _parse_servers(servers: str | list[str] | list[tuple[str, int]]) -> list[tuple[str, int]]:
    items: list[Any] = servers.split(",") if isinstance(servers, str) else list(servers)
    parsed: list[tuple[str, int]] = []
    for item in items:
        if isinstance(item, tuple):
            parsed.append((str(item[0]), int(item[1])))
            continue
        text = item.strip()
        if not text:
            continue
        host, sep, port = text.rpartition(":")
        if not sep or not host:
            host, port = text, "11211"
        parsed.append((host.strip("[]"), int(port)))
    if not parsed:
        raise ValueError("MemcachedBackend needs at least one server (host:port)")
    return parsed


def pack(version: int, ttl: int, data: bytes) -> bytes:
    expires_ms = int(time.time() * 1000) + ttl * 1000
    return b"%d:%d:" % (version, expires_ms) + data


def unpack(value: bytes | None, touch: int | None = None) -> Record | None:
    if value is None:
        return None
    try:
        version, expires_ms, data = value.split(b":", 2)
        expires_at = time.time() + touch if touch else int(expires_ms) / 1000.0
        return Record(data, expires_at, int(version))
    except ValueError:
        return None


def exptime(ttl: int) -> int:
    """Memcached's exptime for a TTL: relative up to 30 days, a Unix timestamp beyond."""
    if ttl <= 0:
        raise ValueError("ttl must be positive")
    return ttl if ttl <= _MAX_RELATIVE_TTL else int(time.time()) + ttl


_B = TypeVar("_B", bound="MemcachedCore")


class MemcachedCore:
    """MemcachedBackend but its operations (``_sync``, ``_async``): the arguments are its."""

    def __init__(
        self,
        servers: str | list[str] | list[tuple[str, int]],
        *,
        key_prefix: str = "websession:",
        timeout: float = 2.0,
        connect_timeout: float | None = None,
        max_pool_size: int = 16,
        dead_timeout: float = 30.0,
    ) -> None:
        if _IMPORT_ERROR is not None:
            raise ImportError(
                "MemcachedBackend needs pymemcache and aiomcache: "
                "pip install 'websession[memcached]'"
            ) from _IMPORT_ERROR
        self.servers = _parse_servers(servers)
        self.key_prefix = key_prefix
        self.timeout = timeout
        self.connect_timeout = timeout if connect_timeout is None else connect_timeout
        self.max_pool_size = max_pool_size
        # Node names as pymemcache's HashClient makes them, so keys map the same way.
        self._names = [f"{host}:{port}" for host, port in self.servers]
        self._hasher = _RendezvousHash(nodes=list(self._names)) if len(self.servers) > 1 else None
        self.dead_timeout = dead_timeout
        #: node -> time.monotonic() until which it is left out
        self._dead: dict[str, float] = {}
        #: the mapping over the nodes left in, by the set of nodes left out
        self._hashers: dict[frozenset[str], Any] = {}
        self._sync: dict[str, Any] = {}
        self._async: dict[str, Any] = {}
        self._async_loop: asyncio.AbstractEventLoop | None = None

    @classmethod
    def from_url(cls: type[_B], url: str, **options: Any) -> _B:
        """``memcached://host:port[,host:port...][?key_prefix=&timeout=&connect_timeout=&
        dead_timeout=&max_pool_size=]``."""
        parts = urlsplit(url)
        if parts.scheme != "memcached":
            raise ValueError(f"not a memcached:// URL: {url!r}")
        servers = unquote(parts.netloc) or "127.0.0.1:11211"
        for name, value in parse_qsl(parts.query):
            if name == "key_prefix":
                options.setdefault("key_prefix", value)
            elif name in ("timeout", "connect_timeout", "dead_timeout"):
                options.setdefault(name, float(value))
            elif name == "max_pool_size":
                options.setdefault("max_pool_size", int(value))
            else:
                raise ValueError(f"unknown memcached:// option {name!r}")
        return cls(servers, **options)

    # -- routing -------------------------------------------------------------------------------
    def _key(self, key: str) -> bytes:
        return (self.key_prefix + key).encode("ascii")

    def _node(self, full_key: bytes) -> str:
        if self._hasher is None:
            return self._names[0]
        hasher = self._hasher if not self._dead else self._live_hasher()
        node: str = hasher.get_node(full_key.decode("ascii"))
        return node

    def _live_hasher(self) -> Any:
        """The rendezvous mapping over the servers not left out (those whose time is up are
        back in; with every server out, all of them: there is nowhere better to go)."""
        now = time.monotonic()
        for node, until in list(self._dead.items()):
            if until <= now:
                self._dead.pop(node, None)
        out = frozenset(self._dead)
        if not out or len(out) == len(self._names):
            return self._hasher
        hasher = self._hashers.get(out)
        if hasher is None:
            hasher = _RendezvousHash(nodes=[n for n in self._names if n not in out])
            self._hashers[out] = hasher
        return hasher

    def node_for(self, key: str) -> str:
        """The ``host:port`` of the server that holds ``key``."""
        return self._node(self._key(key))

    def _client(self, node: str) -> Any:
        client = self._sync.get(node)
        if client is None:
            host, port = self.servers[self._names.index(node)]
            client = _PooledClient(
                (host, port),
                connect_timeout=self.connect_timeout,
                timeout=self.timeout,
                default_noreply=False,
                max_pool_size=self.max_pool_size,
                no_delay=True,
            )
            self._sync[node] = client
        return client

    def _aclient(self, node: str) -> Any:
        loop = asyncio.get_running_loop()
        if self._async_loop is not loop:
            self._async = {}  # aiomcache connections belong to the loop that made them
            self._async_loop = loop
        client = self._async.get(node)
        if client is None:
            host, port = self.servers[self._names.index(node)]
            client = _AsyncClient(host, port, pool_size=self.max_pool_size)
            self._async[node] = client
        return client

    def _unavailable(self, node: str, exc: BaseException) -> StoreUnavailable:
        """The error for a call ``node`` failed; the node is left out for ``dead_timeout``."""
        if self._hasher is not None and self.dead_timeout > 0:
            self._dead[node] = time.monotonic() + self.dead_timeout
        return unavailable(f"memcached {node}", exc)

    def _call(self, node: str, op: Any) -> Any:
        """``op(client)`` on ``node``'s client; its unreachable errors as StoreUnavailable.

        pymemcache's pool drops a connection that failed, so nothing half-read is reused.
        """
        try:
            return op(self._client(node))
        except _SYNC_UNAVAILABLE as exc:
            raise self._unavailable(node, exc) from exc

    # close and aclose are not twins: each closes what it can from where it runs
    def close(self) -> None:
        clients, self._sync = self._sync, {}
        for client in clients.values():
            client.close()
        self._async = {}  # closed by aclose() from their own loop
        self._async_loop = None

    # -- async ---------------------------------------------------------------------------------
    async def _acall(self, node: str, op: Any) -> Any:
        """``await op(client)`` on ``node``'s client, within ``timeout`` (what ``_call`` is to
        the sync operations; pymemcache's sockets have the timeout, aiomcache's do not)."""
        client = self._aclient(node)
        try:
            return await asyncio.wait_for(op(client), self.timeout)
        except _ASYNC_UNAVAILABLE as exc:
            # A timed-out or broken connection may still have a reply in flight: drop this
            # server's whole client (its pool) so nothing half-read is ever reused.
            if self._async.get(node) is client:
                del self._async[node]
            with contextlib.suppress(Exception):  # already failing: raise the first error
                await asyncio.wait_for(client.close(), self.timeout)
            raise self._unavailable(node, exc) from exc

    async def aclose(self) -> None:
        clients, self._async = self._async, {}
        self._async_loop = None
        for client in clients.values():
            await client.close()
        self.close()

    # -- no owner index (the methods that refuse it are in the operations) ---------------------
    # Memcached cannot list keys or keep a set that survives eviction: an index of an owner's
    # sessions could lose entries under memory pressure, and revoke() would then silently leave
    # sessions alive. Refuse plainly instead.
    #: stores skip indexing on save; sessions_for/revoke get a NotImplementedError saying this
    owner_index = False
    _NO_INDEX = (
        "MemcachedBackend cannot list or revoke an owner's sessions (sessions_for/revoke): "
        "memcached has no way to enumerate keys and may evict any item, so an index of an "
        "owner's sessions could silently lose entries. Keep sessions that must be revocable "
        "in Redis, SQL, MongoDB, DynamoDB, LMDB or files; a session still ends on its own "
        "with invalidate() on this backend"
    )

    def __repr__(self) -> str:
        return f"MemcachedBackend({','.join(self._names)!r}, key_prefix={self.key_prefix!r})"
