"""The Backend protocol: a small key -> (data, expiry, version) store, sync and async.

A server-side store (:class:`websession.stores.server.ServerStore`) does everything else:
ids, sealing, cookies, rotation. A new database is one class that implements these methods.
``tests/stores/test_contract.py`` is the behavioural contract every backend must pass,
third-party ones included (a backend joins with a ``BackendCase`` in ``tests/stores/cases_*.py``).
"""

from __future__ import annotations

import asyncio
import secrets
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

__all__ = ["AsyncFromSync", "Backend", "Record", "new_version", "next_version"]


@dataclass(frozen=True, slots=True)
class Record:
    """What a backend holds for one key."""

    #: the sealed session data
    data: bytes
    #: when the record expires (seconds since the epoch)
    expires_at: float
    #: bumped on every write; compared on write in optimistic mode
    version: int = 1


def new_version() -> int:
    """A fresh record version: random, 62 bits, never 0.

    The protocol only asks that a write give its record a version different from the one it
    replaced. Random versions let databases without read-modify-write primitives (Redis,
    Memcached) write in one command that needs no read first.
    """
    return secrets.randbits(62) | 1


def next_version(
    current: Record | None, now: float, *, must_exist: bool, if_version: int | None
) -> int | None:
    """For a backend that reads before it writes: the version a write gets, or None if refused.

    ``current`` is the stored record (an expired one counts as absent). The write is refused
    when ``must_exist`` or ``if_version`` asks for a live record and there is none, or when
    ``if_version`` does not match; otherwise the version is one more than the current one.
    """
    if current is not None and current.expires_at <= now:
        current = None
    if current is None:
        return None if (must_exist or if_version is not None) else 1
    if if_version is not None and current.version != if_version:
        return None
    return current.version + 1


@runtime_checkable
class Backend(Protocol):
    """Where a server-side store keeps its records.

    Keys are short ASCII strings (``[A-Za-z0-9_-]``, at most 128 characters) made by the store;
    data is opaque bytes. Every method has an ``a``-prefixed async twin. Backends that cannot
    reach their database raise :class:`websession.StoreUnavailable`.
    """

    def get(self, key: str, *, touch: int | None = None) -> Record | None:
        """The record under ``key``, or None when there is none or it has expired.

        With ``touch``, also extend the record's life to ``touch`` seconds from now (sliding
        expiry; Redis ``GETEX``).
        """
        ...

    def set(
        self,
        key: str,
        data: bytes,
        ttl: int,
        *,
        must_exist: bool = False,
        if_version: int | None = None,
    ) -> int | None:
        """Write ``data`` under ``key`` to expire in ``ttl`` seconds; return its new version.

        With ``must_exist`` the write happens only if a live record is there (so a save after a
        concurrent delete does not bring the session back); with ``if_version`` only if the
        live record has that version. When the condition fails nothing is written and the
        result is None.
        """
        ...

    def delete(self, key: str) -> None:
        """Remove the record under ``key`` (no error if there is none)."""
        ...

    def purge(self) -> int:
        """Remove expired records; return how many (0 where the database expires them itself)."""
        ...

    def close(self) -> None:
        """Release connections."""
        ...

    async def aget(self, key: str, *, touch: int | None = None) -> Record | None: ...

    async def aset(
        self,
        key: str,
        data: bytes,
        ttl: int,
        *,
        must_exist: bool = False,
        if_version: int | None = None,
    ) -> int | None: ...

    async def adelete(self, key: str) -> None: ...

    async def apurge(self) -> int: ...

    async def aclose(self) -> None: ...


class AsyncFromSync:
    """Async twins for a backend whose I/O is local and blocking: run it in a worker thread."""

    def get(self, key: str, *, touch: int | None = None) -> Record | None:
        raise NotImplementedError

    def set(
        self,
        key: str,
        data: bytes,
        ttl: int,
        *,
        must_exist: bool = False,
        if_version: int | None = None,
    ) -> int | None:
        raise NotImplementedError

    def delete(self, key: str) -> None:
        raise NotImplementedError

    def purge(self) -> int:
        raise NotImplementedError

    def close(self) -> None:
        return None

    async def aget(self, key: str, *, touch: int | None = None) -> Record | None:
        return await asyncio.to_thread(self.get, key, touch=touch)

    async def aset(
        self,
        key: str,
        data: bytes,
        ttl: int,
        *,
        must_exist: bool = False,
        if_version: int | None = None,
    ) -> int | None:
        return await asyncio.to_thread(
            self.set, key, data, ttl, must_exist=must_exist, if_version=if_version
        )

    async def adelete(self, key: str) -> None:
        await asyncio.to_thread(self.delete, key)

    async def apurge(self) -> int:
        return await asyncio.to_thread(self.purge)

    async def aclose(self) -> None:
        await asyncio.to_thread(self.close)
