"""The Backend protocol: a small key -> (data, expiry, version) store, sync and async.

A server-side store (:class:`websession.stores.server.ServerStore`) does everything else:
ids, sealing, cookies, rotation. A new database is one class that implements these methods.
``tests/stores/test_contract.py`` is the behavioural contract every backend must pass,
third-party ones included (a backend joins with a ``BackendCase`` in ``tests/stores/cases_*.py``).
"""

from __future__ import annotations

import asyncio
import secrets
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

__all__ = [
    "PURGE_BATCH",
    "PURGE_PAUSE",
    "PURGE_TARGET",
    "AsyncFromSync",
    "Backend",
    "OwnerIndex",
    "PurgeProgress",
    "PurgeStep",
    "Record",
    "apurge_in_batches",
    "new_version",
    "next_version",
    "owner_index_of",
    "purge_in_batches",
]


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


#: what ``purge(progress=...)`` calls after each batch: the records removed so far, and the
#: fraction of the work done (0..1) where the backend can tell, else None
PurgeProgress = Callable[[int, float | None], None]

#: records the first batch of a purge deletes; later batches are sized to take PURGE_TARGET
PURGE_BATCH = 500
#: seconds a purge batch should hold its locks (the batch size follows the measured time)
PURGE_TARGET = 0.04
#: seconds between two batches, for the loads and saves waiting on the batch's locks
PURGE_PAUSE = 0.005


def _report(progress: PurgeProgress | None, removed: int, total: int | None) -> None:
    if progress is not None:
        progress(removed, None if not total else min(1.0, removed / total))


class _Batches:
    """The size of the next batch and the pause after the last, from the time it took."""

    def __init__(self, first: int, pause: float) -> None:
        self.size = max(1, first)
        self.pause = pause

    def took(self, seconds: float) -> None:
        # at most twice as many next time; down at once when a batch was slow
        scale = min(PURGE_TARGET / max(seconds, 1e-4), 2.0)
        self.size = max(10, min(int(self.size * scale), 50_000))


#: a purge step: delete at most ``limit`` expired records and return how many, or return
#: ``(removed, more)`` when a short batch does not mean the end (a scan's page, records saved
#: anew between finding and deleting them, a database's own cap on one batch)
PurgeStep = Callable[[int], int | tuple[int, bool]]


def _counted(result: int | tuple[int, bool], limit: int) -> tuple[int, bool]:
    return result if isinstance(result, tuple) else (result, result >= limit)


def purge_in_batches(
    step: PurgeStep,
    *,
    batch: int,
    pause: float,
    progress: PurgeProgress | None = None,
    total: int | None = None,
) -> int:
    """Run ``step(limit)`` (delete at most ``limit`` expired records, return how many) until a
    batch comes back short (or the step says there is no more), pausing between batches;
    return the total removed.

    Batches start at ``batch`` records and are then sized to take about :data:`PURGE_TARGET`
    seconds each, with ``pause`` seconds between two. ``total``
    (the expired records, where counting them is cheap) lets ``progress`` report a fraction.
    """
    removed, sizing = 0, _Batches(batch, pause)
    while True:
        limit = sizing.size
        started = time.monotonic()
        count, more = _counted(step(limit), limit)
        sizing.took(time.monotonic() - started)
        removed += count
        _report(progress, removed, total)
        if not more:
            return removed
        time.sleep(sizing.pause)


async def apurge_in_batches(
    step: Callable[[int], Awaitable[int | tuple[int, bool]]],
    *,
    batch: int,
    pause: float,
    progress: PurgeProgress | None = None,
    total: int | None = None,
) -> int:
    """Async twin of :func:`purge_in_batches`."""
    removed, sizing = 0, _Batches(batch, pause)
    while True:
        limit = sizing.size
        started = time.monotonic()
        count, more = _counted(await step(limit), limit)
        sizing.took(time.monotonic() - started)
        removed += count
        _report(progress, removed, total)
        if not more:
            return removed
        await asyncio.sleep(sizing.pause)


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

    def purge(self, progress: PurgeProgress | None = None) -> int:
        """Remove expired records; return how many (0 where the database expires them itself).

        Long purges work in short batches so that loads and saves running meanwhile never wait
        long; ``progress`` (optional) is called after each batch (see :data:`PurgeProgress`).
        """
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

    async def apurge(self, progress: PurgeProgress | None = None) -> int: ...

    async def aclose(self) -> None: ...


@runtime_checkable
class OwnerIndex(Protocol):
    """A backend that can list and end the sessions of one owner ("log out everywhere").

    Optional: a store asks for it only when ``sessions_for``/``revoke`` is called or a session
    has an owner. ``owner`` is a key the store makes from the application's owner id (43
    characters of ``[A-Za-z0-9_-]``, a hash, so any owner id is safe in any database);
    ``key`` is a record key; ``entry`` is a small opaque blob the store lists back (created,
    last save, the application's metadata). Each entry lives ``ttl`` seconds (by the
    backend's clock, like a record) or until it is removed: an expired entry is never listed,
    and is removed lazily (when listed, or by ``purge``) or by the database's own TTL, so the
    index does not grow without bound. Entries are independent of records: the store removes
    the entry when it deletes the record.
    """

    def index(self, owner: str, key: str, entry: bytes, ttl: float) -> None:
        """Add ``key`` to ``owner``'s sessions, or replace its entry; it lives ``ttl`` seconds
        (by the backend's clock, like a record's)."""
        ...

    def owned(self, owner: str) -> list[tuple[str, bytes]]:
        """``(key, entry)`` for each of ``owner``'s live entries, in no particular order."""
        ...

    def unindex(self, owner: str, key: str) -> None:
        """Remove ``key`` from ``owner``'s sessions (no error if it is not there)."""
        ...

    async def aindex(self, owner: str, key: str, entry: bytes, ttl: float) -> None:
        """Async twin of :meth:`index`."""
        ...

    async def aowned(self, owner: str) -> list[tuple[str, bytes]]:
        """Async twin of :meth:`owned`."""
        ...

    async def aunindex(self, owner: str, key: str) -> None:
        """Async twin of :meth:`unindex`."""
        ...


def owner_index_of(backend: object) -> OwnerIndex:
    """``backend`` as an :class:`OwnerIndex`, or NotImplementedError saying why it is not one."""
    if isinstance(backend, OwnerIndex):
        return backend
    raise NotImplementedError(
        f"{type(backend).__name__} keeps no index of sessions by owner, so it cannot list or "
        "revoke an owner's sessions (sessions_for/revoke): implement the OwnerIndex methods "
        "(index, owned, unindex and their async twins) or use a backend that has them"
    )


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

    def purge(self, progress: PurgeProgress | None = None) -> int:
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

    async def apurge(self, progress: PurgeProgress | None = None) -> int:
        return await asyncio.to_thread(self.purge, progress)

    async def aclose(self) -> None:
        await asyncio.to_thread(self.close)

    # the OwnerIndex twins, for the backends that implement index/owned/unindex
    async def aindex(self, owner: str, key: str, entry: bytes, ttl: float) -> None:
        await asyncio.to_thread(self.index, owner, key, entry, ttl)  # type: ignore[attr-defined]

    async def aowned(self, owner: str) -> list[tuple[str, bytes]]:
        result: list[tuple[str, bytes]] = await asyncio.to_thread(self.owned, owner)  # type: ignore[attr-defined]
        return result

    async def aunindex(self, owner: str, key: str) -> None:
        await asyncio.to_thread(self.unindex, owner, key)  # type: ignore[attr-defined]
