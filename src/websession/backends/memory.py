"""MemoryBackend: records in a dict, for tests and single-process development."""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable

from .base import PurgeProgress, Record, next_version

__all__ = ["MemoryBackend"]


class MemoryBackend:
    """Records in this process's memory, expired on read and by :meth:`purge`.

    Args:
        clock: the time source (seconds since the epoch).
        max_entries: at most this many records: a write of a new one beyond it evicts the least
            recently used record (read or written longest ago); 0 means no limit. Bounds the
            memory a flood of new sessions can take.
    """

    #: reads and writes are in-process: a store over it loads without I/O (a capability the
    #: store declares as ``needs_io``; a backend without this attribute is assumed to need I/O)
    needs_io = False

    def __init__(self, *, clock: Callable[[], float] | None = None, max_entries: int = 0) -> None:
        self._clock = clock if clock is not None else time.time
        if max_entries < 0:
            raise ValueError("max_entries must not be negative")
        #: in use order, least recently used first (kept only with max_entries)
        self._records: OrderedDict[str, Record] = OrderedDict()
        self._lock = threading.Lock()
        self._max_entries = max_entries
        #: owner -> {key: (entry, expires_at)}
        self._owners: dict[str, dict[str, tuple[bytes, float]]] = {}

    def __len__(self) -> int:
        return len(self._records)

    def get(self, key: str, *, touch: int | None = None) -> Record | None:
        record = self._records.get(key)
        if record is None:
            return None
        now = self._clock()
        if record.expires_at <= now:
            with self._lock:
                if self._records.get(key) is record:
                    del self._records[key]
            return None
        if touch is not None:
            with self._lock:
                if self._records.get(key) is record:
                    record = Record(record.data, now + touch, record.version)
                    self._records[key] = record
        if self._max_entries:
            with self._lock:
                if key in self._records:
                    self._records.move_to_end(key)
        return record

    def set(
        self,
        key: str,
        data: bytes,
        ttl: int,
        *,
        must_exist: bool = False,
        if_version: int | None = None,
    ) -> int | None:
        now = self._clock()
        with self._lock:
            current = self._records.get(key)
            version = next_version(current, now, must_exist=must_exist, if_version=if_version)
            if version is None:
                return None
            self._records[key] = Record(bytes(data), now + ttl, version)
            if self._max_entries:
                self._records.move_to_end(key)
                while len(self._records) > self._max_entries:
                    self._records.popitem(last=False)
            return version

    def delete(self, key: str) -> None:
        with self._lock:
            self._records.pop(key, None)

    #: records one purge step examines under the lock (loads and saves wait for it)
    purge_chunk = 2000

    def purge(self, progress: PurgeProgress | None = None) -> int:
        """Remove expired records, ``purge_chunk`` keys per hold of the lock."""
        now = self._clock()
        with self._lock:
            keys = list(self._records)  # a copy of the keys: fast, and the walk is unlocked
        removed = 0
        for start in range(0, len(keys), self.purge_chunk):
            with self._lock:
                for key in keys[start : start + self.purge_chunk]:
                    record = self._records.get(key)
                    if record is not None and record.expires_at <= now:
                        del self._records[key]
                        removed += 1
            if progress is not None:
                progress(removed, min(1.0, (start + self.purge_chunk) / len(keys)))
            time.sleep(0)  # let the threads waiting for the lock run
        with self._lock:
            for owner in list(self._owners):
                self._prune_owner_locked(owner, now)
        return removed

    # -- the owner index -----------------------------------------------------------------------
    def _prune_owner_locked(self, owner: str, now: float) -> dict[str, tuple[bytes, float]]:
        entries = self._owners.get(owner, {})
        for key in [k for k, (_, expires_at) in entries.items() if expires_at <= now]:
            del entries[key]
        if not entries:
            self._owners.pop(owner, None)
        return entries

    def index(self, owner: str, key: str, entry: bytes, ttl: float) -> None:
        with self._lock:
            entries = self._prune_owner_locked(owner, self._clock())
            entries[key] = (bytes(entry), self._clock() + ttl)
            self._owners[owner] = entries

    def owned(self, owner: str) -> list[tuple[str, bytes]]:
        with self._lock:
            entries = self._prune_owner_locked(owner, self._clock())
            return [(key, entry) for key, (entry, _) in entries.items()]

    def unindex(self, owner: str, key: str) -> None:
        with self._lock:
            entries = self._owners.get(owner)
            if entries is not None:
                entries.pop(key, None)
                if not entries:
                    del self._owners[owner]

    def close(self) -> None:
        return None

    # Memory I/O never blocks: the async twins call the sync methods directly.
    async def aget(self, key: str, *, touch: int | None = None) -> Record | None:
        return self.get(key, touch=touch)

    async def aset(
        self,
        key: str,
        data: bytes,
        ttl: int,
        *,
        must_exist: bool = False,
        if_version: int | None = None,
    ) -> int | None:
        return self.set(key, data, ttl, must_exist=must_exist, if_version=if_version)

    async def adelete(self, key: str) -> None:
        self.delete(key)

    async def apurge(self, progress: PurgeProgress | None = None) -> int:
        return self.purge(progress)

    async def aclose(self) -> None:
        return None

    async def aindex(self, owner: str, key: str, entry: bytes, ttl: float) -> None:
        self.index(owner, key, entry, ttl)

    async def aowned(self, owner: str) -> list[tuple[str, bytes]]:
        return self.owned(owner)

    async def aunindex(self, owner: str, key: str) -> None:
        self.unindex(owner, key)
