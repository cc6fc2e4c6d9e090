"""MemcachedBackend's operations, written once: ``make generate`` makes _sync/ from _async/.

They run on pymemcache (sync) and on aiomcache: the calls used here
(``get``, ``gets``, ``set``, ``replace``, ``cas``, ``touch``, ``delete``) take the same
positional arguments and answer the same way in both (pymemcache's clients are made with
``default_noreply=False``, so every write waits for its reply).
"""

from __future__ import annotations

from typing import Any

from .._memcachedcore import CAS_ATTEMPTS, MemcachedCore, exptime, pack, unpack
from ..base import PurgeProgress, Record, new_version

__all__ = ["AsyncMemcachedOps"]


class AsyncMemcachedOps(MemcachedCore):
    """The store's backend protocol on memcached: async methods (``aget``, ``aset``, ...)."""

    async def aget(self, key: str, *, touch: int | None = None) -> Record | None:
        k = self._key(key)

        async def op(client: Any) -> bytes | None:
            if touch and not await client.touch(k, exptime(touch)):
                return None
            value: bytes | None = await client.get(k)
            return value

        return unpack(await self._acall(self._node(k), op), touch)

    async def aset(
        self,
        key: str,
        data: bytes,
        ttl: int,
        *,
        must_exist: bool = False,
        if_version: int | None = None,
    ) -> int | None:
        expires = exptime(ttl)
        k = self._key(key)
        version = new_version()
        value = pack(version, ttl, data)

        async def op(client: Any) -> int | None:
            if if_version is None:
                if must_exist:
                    return version if await client.replace(k, value, expires) else None
                await client.set(k, value, expires)
                return version
            for _ in range(CAS_ATTEMPTS):
                raw, cas = await client.gets(k)
                current = unpack(raw)
                if current is None or current.version != if_version:
                    return None
                if await client.cas(k, value, cas, expires):
                    return version
                # the CAS token moved (a touch, or a write): read the version again
            return None

        result: int | None = await self._acall(self._node(k), op)
        return result

    async def adelete(self, key: str) -> None:
        k = self._key(key)
        await self._acall(self._node(k), lambda client: client.delete(k))

    async def apurge(self, progress: PurgeProgress | None = None) -> int:
        return 0  # memcached expires items itself

    # -- no owner index (see MemcachedCore.owner_index) -----------------------------------------
    async def aindex(self, owner: str, key: str, entry: bytes, ttl: float) -> None:
        raise NotImplementedError(self._NO_INDEX)

    async def aowned(self, owner: str) -> list[tuple[str, bytes]]:
        raise NotImplementedError(self._NO_INDEX)

    async def aunindex(self, owner: str, key: str) -> None:
        raise NotImplementedError(self._NO_INDEX)
