"""LMDBBackend: sessions in an LMDB environment, the embedded store closest to Go's Bolt.

One environment (a directory holding ``data.mdb`` and ``lock.mdb``) with a named database.
Each value is a 16-byte header (expiry as a big-endian float64, version as a uint64) followed
by the sealed data, the layout :class:`~websession.backends.filesystem.FilesystemBackend` uses.

Why it is safe:

- Conditional writes (``must_exist``, ``if_version``) read and write in one write transaction;
  LMDB allows one writer at a time across every process that opens the environment, so they
  are atomic across threads and processes.
- Readers never block writers and never take a lock (MVCC); :meth:`get` only reads. Expired
  records are skipped on read and removed by :meth:`purge`, which walks the database with a
  cursor in batches, each batch in its own short write transaction. (Go's boltstore deleted
  expired records in a write transaction opened *inside* a read transaction, which deadlocks
  under load: there is no nesting here.)
- A full map is grown (doubled, up to ``max_map_size``) instead of failing, and a map grown by
  another process is picked up (``MDB_MAP_RESIZED``). Resizing waits for this process's
  transactions to finish, as LMDB requires.
- LMDB must not open one environment twice in a process (closing the second handle would drop
  the first one's locks): backends on the same path share one environment, and a process made
  by ``fork`` (a pre-forking server's worker) drops the inherited handle and opens its own. Fork
  while no transaction is running (as servers do, before serving requests).

Async methods run the sync ones in a worker thread.
"""

from __future__ import annotations

import contextlib
import functools
import os
import re
import struct
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import lmdb

from ..errors import StoreUnavailable
from .base import PURGE_PAUSE, AsyncFromSync, PurgeProgress, Record, next_version

__all__ = ["LMDBBackend"]

_KEY = re.compile(r"[A-Za-z0-9_-]{1,128}")
_HEADER = struct.Struct(">dQ")
_EXPIRY = struct.Struct(">d")
_MIB = 1024 * 1024


class _Gate:
    """A shared/exclusive lock: transactions share it, a map resize takes it alone."""

    def __init__(self) -> None:
        self._cond = threading.Condition(threading.Lock())
        self._shared = 0
        self._exclusive = False

    @contextlib.contextmanager
    def shared(self) -> Iterator[None]:
        with self._cond:
            while self._exclusive:
                self._cond.wait()
            self._shared += 1
        try:
            yield
        finally:
            with self._cond:
                self._shared -= 1
                if not self._shared:
                    self._cond.notify_all()

    @contextlib.contextmanager
    def exclusive(self) -> Iterator[None]:
        with self._cond:
            while self._exclusive:
                self._cond.wait()
            self._exclusive = True  # new transactions wait from now on
            while self._shared:
                self._cond.wait()
        try:
            yield
        finally:
            with self._cond:
                self._exclusive = False
                self._cond.notify_all()


class _Env:
    """One open environment, shared by every backend on its path in this process."""

    def __init__(self, env: Any, pid: int) -> None:
        self.env = env
        self.pid = pid
        self.gate = _Gate()
        self.users = 0
        self.dbs: dict[bytes, Any] = {}


_ENVS: dict[str, _Env] = {}
_ENVS_LOCK = threading.Lock()


def _delete(cursor: Any) -> bool:
    """Delete the cursor's record and move to the next one; False when there is none.

    py-lmdb's ``delete()`` still returns True after deleting the last record, leaving the
    cursor unpositioned (an empty key: LMDB keys are never empty). Taken as a record, that
    position was counted as one more deletion."""
    return bool(cursor.delete()) and cursor.key() != b""


class LMDBBackend(AsyncFromSync):
    """Session records in an LMDB environment at ``path`` (a directory, created if missing).

    Args:
        path: the environment's directory.
        map_size: the initial map size in bytes (the most the file may hold before it is grown;
            LMDB reserves address space, not disk).
        max_map_size: never grow the map beyond this; a write that needs more raises
            :class:`~websession.StoreUnavailable`. 0 means no limit.
        database: the named database inside the environment.
        sync: flush to disk on every commit (durable across power loss). ``False`` is faster
            and still crash-safe for the process, as LMDB never corrupts its file.
        max_readers: the most concurrent read transactions across all processes.
        purge_batch: how many expired records :meth:`purge` deletes per write transaction.
        clock: the time source (seconds since the epoch).

    The first backend to open a path sets the environment's options; backends opened later on
    the same path in the same process share it.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        map_size: int = 64 * _MIB,
        max_map_size: int = 0,
        database: str = "sessions",
        sync: bool = True,
        max_readers: int = 126,
        purge_batch: int = 1000,
        clock: Callable[[], float] | None = None,
    ) -> None:
        if map_size <= 0:
            raise ValueError("map_size must be positive")
        if purge_batch <= 0:
            raise ValueError("purge_batch must be positive")
        self.path = os.path.realpath(os.fspath(path))
        self.database = database.encode("utf-8")
        self.max_map_size = max_map_size
        self.purge_batch = purge_batch
        self._clock = clock if clock is not None else time.time
        self._options: dict[str, Any] = {
            "map_size": map_size,
            "sync": sync,
            "max_readers": max_readers,
        }
        self._closed = False
        self._shared = self._acquire()

    def __repr__(self) -> str:
        return f"LMDBBackend({self.path!r})"

    # -- the environment ---------------------------------------------------------------------
    def _acquire(self) -> _Env:
        with _ENVS_LOCK:
            shared = _ENVS.get(self.path)
            if shared is not None and shared.pid != os.getpid():
                # A child made by fork must not use its parent's handle: drop it and open a
                # fresh one. Closing it here touches only this process's reader slots (none:
                # no spare transactions are cached) and no locks (fcntl locks are not
                # inherited), so the parent's handle is unharmed.
                with contextlib.suppress(lmdb.Error):
                    shared.env.close()
                shared = None
            if shared is None:
                os.makedirs(self.path, mode=0o700, exist_ok=True)
                try:
                    env = lmdb.open(
                        self.path,
                        subdir=True,
                        max_dbs=16,
                        lock=True,
                        readahead=False,
                        max_spare_txns=0,
                        metasync=self._options["sync"],
                        **self._options,
                    )
                except lmdb.Error as exc:
                    raise StoreUnavailable(
                        f"cannot open LMDB environment {self.path}: {exc}"
                    ) from exc
                shared = _Env(env, os.getpid())
                _ENVS[self.path] = shared
            shared.users += 1
            return shared

    def _env(self) -> _Env:
        if self._closed:
            raise StoreUnavailable(f"{self!r} is closed")
        shared = self._shared
        if shared.pid != os.getpid():
            self._shared = shared = self._acquire()
        return shared

    def _db(self, shared: _Env, name: bytes | None = None) -> Any:
        name = self.database if name is None else name
        db = shared.dbs.get(name)
        if db is None:
            for _attempt in range(8):
                try:
                    # Alone: open_db runs a write transaction of its own while holding the GIL,
                    # so beside another thread's write transaction in this process the two
                    # waited for each other forever (seen under a 4-thread fill).
                    with shared.gate.exclusive():
                        db = shared.dbs.get(name)
                        if db is None:
                            db = shared.env.open_db(name, create=True)
                    break
                except lmdb.MapResizedError:  # opening runs a transaction too
                    self._adopt_size(shared)
                except lmdb.MapFullError:
                    self._grow(shared)
                except lmdb.Error as exc:
                    raise StoreUnavailable(f"LMDB error at {self.path}: {exc}") from exc
            else:  # pragma: no cover
                raise StoreUnavailable(f"cannot open database {name!r} at {self.path}")
            shared.dbs[name] = db
        return db

    def _grow(self, shared: _Env, needed: int = 0) -> None:
        """Double the map (our own write found it full)."""
        with shared.gate.exclusive():
            current = shared.env.info()["map_size"]
            new = max(current * 2, needed)
            if self.max_map_size and new > self.max_map_size:
                if current >= self.max_map_size:
                    raise StoreUnavailable(
                        f"LMDB map at {self.path} is full ({current} bytes, max_map_size)"
                    )
                new = self.max_map_size
            shared.env.set_mapsize(new)

    def _adopt_size(self, shared: _Env) -> None:
        """Another process grew the map: adopt its size."""
        with shared.gate.exclusive():
            shared.env.set_mapsize(0)

    def _txn(self, fn: Callable[[Any], Any], *, write: bool) -> Any:
        """Run ``fn(txn)`` in one transaction, growing or re-reading the map as needed."""
        shared = self._env()
        db = self._db(shared)
        for _attempt in range(64):
            try:
                with shared.gate.shared(), shared.env.begin(db=db, write=write) as txn:
                    return fn(txn)
            except lmdb.MapFullError:
                self._grow(shared)
            except lmdb.MapResizedError:
                self._adopt_size(shared)
            except lmdb.Error as exc:
                raise StoreUnavailable(f"LMDB error at {self.path}: {exc}") from exc
        raise StoreUnavailable(f"LMDB map at {self.path} could not be grown")  # pragma: no cover

    @staticmethod
    def _key(key: str) -> bytes:
        if not _KEY.fullmatch(key):
            raise ValueError(f"invalid session key {key!r}")
        return key.encode("ascii")

    @staticmethod
    def _unpack(raw: bytes | None) -> Record | None:
        if raw is None or len(raw) < _HEADER.size:
            return None
        expires_at, version = _HEADER.unpack_from(raw)
        return Record(bytes(raw[_HEADER.size :]), expires_at, version)

    # -- the Backend protocol ----------------------------------------------------------------
    def get(self, key: str, *, touch: int | None = None) -> Record | None:
        k = self._key(key)
        if touch is None:
            record = self._unpack(self._txn(lambda txn: txn.get(k), write=False))
            if record is None or record.expires_at <= self._clock():
                return None
            return record

        def touch_txn(txn: Any) -> Record | None:
            record = self._unpack(txn.get(k))
            now = self._clock()
            if record is None or record.expires_at <= now:
                return None
            record = Record(record.data, now + touch, record.version)
            txn.put(k, _HEADER.pack(record.expires_at, record.version) + record.data)
            return record

        result: Record | None = self._txn(touch_txn, write=True)
        return result

    def set(
        self,
        key: str,
        data: bytes,
        ttl: int,
        *,
        must_exist: bool = False,
        if_version: int | None = None,
    ) -> int | None:
        k = self._key(key)
        payload = bytes(data)

        def write(txn: Any) -> int | None:
            now = self._clock()
            current = self._unpack(txn.get(k))
            version = next_version(current, now, must_exist=must_exist, if_version=if_version)
            if version is None:
                return None
            txn.put(k, _HEADER.pack(now + ttl, version) + payload)
            return version

        result: int | None = self._txn(write, write=True)
        return result

    def delete(self, key: str) -> None:
        k = self._key(key)
        self._txn(lambda txn: txn.delete(k), write=True)

    def purge(self, progress: PurgeProgress | None = None) -> int:
        """Delete expired records, ``purge_batch`` per write transaction; return how many."""
        removed = 0
        start: bytes | None = b""
        while start is not None:
            start, count = self._txn(functools.partial(self._purge_batch, start=start), write=True)
            removed += count
            if progress is not None:
                progress(removed, None)
            if start is not None:
                time.sleep(PURGE_PAUSE)  # the write lock is free for the waiting saves
        self.purge_owners()
        return removed

    def _purge_batch(self, txn: Any, *, start: bytes) -> tuple[bytes | None, int]:
        now = self._clock()
        removed = 0
        cursor = txn.cursor()
        more = cursor.set_range(start) if start else cursor.first()
        while more:
            if removed >= self.purge_batch:
                return cursor.key(), removed  # resume here in a new transaction
            record = self._unpack(cursor.value())
            if record is None or record.expires_at <= now:
                more = _delete(cursor)
                removed += 1
            else:
                more = cursor.next()
        return None, removed

    def count(self) -> int:
        """How many records there are (expired ones included)."""
        db = self._db(self._env())
        result: int = self._txn(lambda txn: txn.stat(db)["entries"], write=False)
        return result

    # -- the owner index -----------------------------------------------------------------------
    # A sub-database ``<database>.owners`` keyed ``<owner>/<key>`` (so one owner's entries are
    # one cursor range), each value an expiry (float64) and the entry. Writes are LMDB write
    # transactions, atomic across processes like the records'.
    def _owners_db(self, shared: _Env) -> Any:
        return self._db(shared, self.database + b".owners")

    @staticmethod
    def _owner_prefix(owner: str) -> bytes:
        if not _KEY.fullmatch(owner):
            raise ValueError(f"invalid owner key {owner!r}")
        return owner.encode("ascii") + b"/"

    def index(self, owner: str, key: str, entry: bytes, ttl: float) -> None:
        k = self._owner_prefix(owner) + self._key(key)
        db = self._owners_db(self._env())
        value = _EXPIRY.pack(self._clock() + ttl) + bytes(entry)
        self._txn(lambda txn: txn.put(k, value, db=db), write=True)

    def owned(self, owner: str) -> list[tuple[str, bytes]]:
        prefix = self._owner_prefix(owner)
        db = self._owners_db(self._env())
        now = self._clock()

        def scan(txn: Any) -> tuple[list[tuple[str, bytes]], list[bytes]]:
            live: list[tuple[str, bytes]] = []
            dead: list[bytes] = []
            cursor = txn.cursor(db=db)
            more = cursor.set_range(prefix)
            while more:
                k = bytes(cursor.key())
                if not k.startswith(prefix):
                    break
                raw = bytes(cursor.value())
                if len(raw) < _EXPIRY.size or _EXPIRY.unpack_from(raw)[0] <= now:
                    dead.append(k)
                else:
                    live.append((k[len(prefix) :].decode("ascii"), raw[_EXPIRY.size :]))
                more = cursor.next()
            return live, dead

        live, dead = self._txn(scan, write=False)
        if dead:  # prune lazily, in a short write transaction of its own

            def prune(txn: Any) -> None:
                for k in dead:
                    raw = txn.get(k, db=db)
                    if raw is not None and _EXPIRY.unpack_from(raw)[0] <= now:
                        txn.delete(k, db=db)

            self._txn(prune, write=True)
        result: list[tuple[str, bytes]] = live
        return result

    def unindex(self, owner: str, key: str) -> None:
        k = self._owner_prefix(owner) + self._key(key)
        db = self._owners_db(self._env())
        self._txn(lambda txn: txn.delete(k, db=db), write=True)

    def purge_owners(self) -> int:
        """Remove expired owner-index entries (called by :meth:`purge`); return how many."""
        shared = self._env()
        name = self.database + b".owners"
        if name not in shared.dbs:  # never used here: purge only if another process made it
            with shared.gate.shared(), shared.env.begin() as txn:
                if txn.get(name) is None:  # named databases are keys of the main database
                    return 0
        db = self._owners_db(shared)
        now = self._clock()

        def sweep(txn: Any) -> int:
            removed = 0
            cursor = txn.cursor(db=db)
            more = cursor.first()
            while more:
                raw = bytes(cursor.value())
                if len(raw) < _EXPIRY.size or _EXPIRY.unpack_from(raw)[0] <= now:
                    more = _delete(cursor)
                    removed += 1
                else:
                    more = cursor.next()
            return removed

        count: int = self._txn(sweep, write=True)
        return count

    def map_size(self) -> int:
        """The environment's current map size in bytes."""
        result: int = self._env().env.info()["map_size"]
        return result

    def close(self) -> None:
        """Release this backend's share of the environment (closed when no backend uses it)."""
        if self._closed:
            return
        self._closed = True
        shared = self._shared
        with _ENVS_LOCK:
            shared.users -= 1
            if shared.users > 0 or shared.pid != os.getpid():
                return
            if _ENVS.get(self.path) is shared:
                del _ENVS[self.path]
        with shared.gate.exclusive():
            shared.env.close()
