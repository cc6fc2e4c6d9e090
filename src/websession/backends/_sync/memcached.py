# GENERATED from _async/memcached.py by tools/unasync.py (make generate): do not edit.
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

__all__ = ["MemcachedOps"]


class MemcachedOps(MemcachedCore):
    """The store's backend protocol on memcached: sync methods (``get``, ``set``, ...)."""

    def get(self, key: str, *, touch: int | None = None) -> Record | None:
        k = self._key(key)

        def op(client: Any) -> bytes | None:
            if touch and not client.touch(k, exptime(touch)):
                return None
            value: bytes | None = client.get(k)
            return value

        return unpack(self._call(self._node(k), op), touch)

    def set(
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

        def op(client: Any) -> int | None:
            if if_version is None:
                if must_exist:
                    return version if client.replace(k, value, expires) else None
                client.set(k, value, expires)
                return version
            for _ in range(CAS_ATTEMPTS):
                raw, cas = client.gets(k)
                current = unpack(raw)
                if current is None or current.version != if_version:
                    return None
                if client.cas(k, value, cas, expires):
                    return version
                # the CAS token moved (a touch, or a write): read the version again
            return None

        result: int | None = self._call(self._node(k), op)
        return result

    def delete(self, key: str) -> None:
        k = self._key(key)
        self._call(self._node(k), lambda client: client.delete(k))

    def purge(self, progress: PurgeProgress | None = None) -> int:
        return 0  # memcached expires items itself

    # -- no owner index (see MemcachedCore.owner_index) -----------------------------------------
    def index(self, owner: str, key: str, entry: bytes, ttl: float) -> None:
        raise NotImplementedError(self._NO_INDEX)

    def owned(self, owner: str) -> list[tuple[str, bytes]]:
        raise NotImplementedError(self._NO_INDEX)

    def unindex(self, owner: str, key: str) -> None:
        raise NotImplementedError(self._NO_INDEX)
