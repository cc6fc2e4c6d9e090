"""FilesystemBackend: one file per session, written atomically, locked across processes.

Two layouts:

``sharded`` (the default): ``<path>/<k[0:2]>/<key>``, where keys are the store's id hashes, so
a million sessions spread over 4096 directories. Each file is a 16-byte header (expiry as a
big-endian float64, version as a uint64) followed by the sealed data.

``gorilla``: gorilla/sessions' flat ``<path>/session_<ID>`` files holding only the
securecookie-encoded values, so Go and Python services can share one directory. A file's age
is judged as Go judges it: by the timestamp inside the securecookie value (its modification
time only for a file that holds none), so a file expires ``ttl`` seconds after its last save,
whichever process made it, and loading never extends it (Go has no such thing). The version
is a 64-bit hash of the file's content (not its mtime: file timestamps are only as fine as the
kernel's clock tick, so two writes within one tick would share a version and an optimistic
writer would overwrite the other's update).

Writes go to a temporary file in the same directory and are renamed over the old one, so a
reader never sees a partial file. Conditional writes (``must_exist``, ``if_version``) and
deletes hold an ``fcntl`` lock on the shard's ``.lock`` file, so they are atomic across
processes.

The directory must be the running user's own and not writable by group or others (sessions
are credentials: another account able to write there could plant or swap them). Inside it,
nothing follows a symbolic link: shard directories, records and ``.lock`` files are opened
relative to directory file descriptors with ``O_NOFOLLOW``, so a symlink planted in the store
cannot make it read, lock or write a file elsewhere (POSIX).
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import errno
import hashlib
import os
import re
import secrets
import stat
import struct
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Literal

from .._defaults import MAX_AGE
from ..errors import StoreUnavailable
from .base import AsyncFromSync, PurgeProgress, Record, next_version

fcntl: Any
try:  # POSIX; on other systems writes are still atomic, only cross-process locks are missing
    import fcntl
except ImportError:  # pragma: no cover
    fcntl = None

__all__ = ["FilesystemBackend"]

_KEY = re.compile(r"[A-Za-z0-9_-]{1,128}")
_HEADER = struct.Struct(">dQ")
_GORILLA_PREFIX = "session_"
_TMP_PREFIX = ".tmp-"
_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_CLOEXEC = getattr(os, "O_CLOEXEC", 0)
_DIR_FLAGS = os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) | _CLOEXEC
_OWNERS = ".owners"  # a dot name: never a shard (two characters) nor a gorilla file
_EXPIRY = struct.Struct(">d")
_PURGE_FLAGS = os.O_RDONLY | _NOFOLLOW | _CLOEXEC | getattr(os, "O_NONBLOCK", 0)
Layout = Literal["sharded", "gorilla"]


_TIMESTAMP = re.compile(rb"[+-]?[0-9]{1,19}")


def _gorilla_issued_at(data: bytes) -> int | None:
    """The timestamp inside a securecookie value: the time Go's ``Decode`` judges age by.

    Read without the keys, only to tell when the file expires; the store still checks the MAC
    (and the same age) when it decodes the file. ``None`` if there is none to read.
    """
    try:  # 28 base64 characters hold 21 bytes: any int64 timestamp and its "|"
        head = base64.urlsafe_b64decode(data[:28])
    except (binascii.Error, ValueError):
        return None
    stamp, sep, _ = head.partition(b"|")
    return int(stamp) if sep and _TIMESTAMP.fullmatch(stamp) else None


def check_private_directory(path: str) -> None:
    """Refuse a store directory another account could tamper with.

    Raises:
        PermissionError: ``path`` is owned by another user, or writable by group or others.
        NotADirectoryError: ``path`` is not a directory.
    """
    info = os.stat(path)
    if not stat.S_ISDIR(info.st_mode):
        raise NotADirectoryError(f"session store {path!r} is not a directory")
    getuid = getattr(os, "geteuid", None)
    if getuid is None:  # pragma: no cover - not POSIX: no owner or mode bits to check
        return
    if info.st_uid != getuid():
        raise PermissionError(
            f"session store {path!r} is owned by uid {info.st_uid}, not by this process's "
            f"uid {getuid()}: another account could read, plant or swap sessions there; "
            "use a directory of your own"
        )
    if info.st_mode & 0o022:
        raise PermissionError(
            f"session store {path!r} is writable by group or others (mode "
            f"{stat.S_IMODE(info.st_mode):04o}): another account could plant or swap sessions; "
            f"chmod 700 {path}"
        )


def _symlink_error(what: str) -> StoreUnavailable:
    return StoreUnavailable(f"refusing to follow a symbolic link in the session store: {what}")


def _content_version(data: bytes) -> int:
    """A gorilla-layout file's version: it changes whenever the content does."""
    return int.from_bytes(hashlib.blake2b(data, digest_size=8).digest(), "big")


class FilesystemBackend(AsyncFromSync):
    """Session records as files under ``path``.

    Args:
        path: the directory (created if missing, mode 0700); it must belong to this process's
            user and not be writable by group or others.
        layout: ``"sharded"`` (default) or ``"gorilla"`` (see the module docs).
        ttl: with the gorilla layout, how long a file lives after its last write.
        fsync: fsync each file before renaming it into place (durable across power loss, slower).
        clock: the time source.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        layout: Layout = "sharded",
        ttl: int = MAX_AGE,
        fsync: bool = False,
        clock: Callable[[], float] | None = None,
    ) -> None:
        if layout not in ("sharded", "gorilla"):
            raise ValueError(f"layout must be 'sharded' or 'gorilla', not {layout!r}")
        self.path = os.path.abspath(os.fspath(path))
        self.layout: Layout = layout
        self.ttl = ttl
        self.fsync = fsync
        self._clock = clock if clock is not None else time.time
        self._own_clock = clock is not None
        os.makedirs(self.path, mode=0o700, exist_ok=True)
        check_private_directory(self.path)

    def __repr__(self) -> str:
        return f"FilesystemBackend({self.path!r}, layout={self.layout!r})"

    # -- paths -------------------------------------------------------------------------------
    def _check(self, key: str) -> str:
        if not _KEY.fullmatch(key):  # never let a key name a path outside the store
            raise ValueError(f"invalid session key {key!r}")
        return _GORILLA_PREFIX + key if self.layout == "gorilla" else key

    def _dir(self, key: str) -> str:
        """The directory of ``key``'s file (for messages; I/O goes through :meth:`_opendir`)."""
        self._check(key)
        return self.path if self.layout == "gorilla" else os.path.join(self.path, key[:2])

    @contextlib.contextmanager
    def _opendir(self, key: str, *, create: bool = False) -> Iterator[int | None]:
        """A descriptor of ``key``'s directory, never through a symlink; None if it is absent.

        The store's own directory may be reached through links (it is configuration); a shard
        directory inside it may not.
        """
        self._check(key)
        root = os.open(self.path, _DIR_FLAGS)
        try:
            if self.layout == "gorilla":
                yield root
                return
            shard = key[:2]
            try:
                fd = self._open_shard(root, shard)
            except FileNotFoundError:
                if not create:
                    yield None
                    return
                with contextlib.suppress(FileExistsError):
                    os.mkdir(shard, 0o700, dir_fd=root)
                fd = self._open_shard(root, shard)
            try:
                yield fd
            finally:
                os.close(fd)
        finally:
            os.close(root)

    def _open_shard(self, root: int, shard: str) -> int:
        try:
            return os.open(shard, _DIR_FLAGS | _NOFOLLOW, dir_fd=root)
        except OSError as exc:
            if exc.errno in (errno.ELOOP, errno.ENOTDIR):
                raise _symlink_error(os.path.join(self.path, shard)) from exc
            raise

    @contextlib.contextmanager
    def _locked(self, directory: int) -> Iterator[None]:
        if fcntl is None:
            yield
            return
        try:
            fd = os.open(
                ".lock", os.O_RDWR | os.O_CREAT | _NOFOLLOW | _CLOEXEC, 0o600, dir_fd=directory
            )
        except OSError as exc:
            if exc.errno == errno.ELOOP:
                raise _symlink_error(".lock") from exc
            raise
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)

    # -- reading -----------------------------------------------------------------------------
    def _read(self, key: str) -> Record | None:
        try:
            with self._opendir(key) as directory:
                return None if directory is None else self._read_at(directory, key)
        except FileNotFoundError:
            return None  # the store's directory itself was removed
        except OSError as exc:
            raise StoreUnavailable(f"cannot read {self._dir(key)}: {exc}") from exc

    def _read_at(self, directory: int, key: str) -> Record | None:
        name = self._check(key)
        try:
            fd = os.open(name, os.O_RDONLY | _NOFOLLOW | _CLOEXEC, dir_fd=directory)
        except FileNotFoundError:
            return None
        except OSError as exc:
            if exc.errno == errno.ELOOP:
                raise _symlink_error(os.path.join(self._dir(key), name)) from exc
            raise StoreUnavailable(
                f"cannot read {os.path.join(self._dir(key), name)}: {exc}"
            ) from exc
        with os.fdopen(fd, "rb") as fh:
            info = os.fstat(fh.fileno())
            if not stat.S_ISREG(info.st_mode):
                return None  # not a record of ours (a FIFO would block a read): treat as absent
            raw = fh.read()
        if self.layout == "gorilla":
            issued_at = _gorilla_issued_at(raw)
            born = info.st_mtime if issued_at is None else issued_at
            return Record(raw, born + self.ttl, _content_version(raw))
        if len(raw) < _HEADER.size:
            return None  # not a record of ours: treat as absent
        expires_at, version = _HEADER.unpack_from(raw)
        return Record(raw[_HEADER.size :], expires_at, version)

    def get(self, key: str, *, touch: int | None = None) -> Record | None:
        record = self._read(key)
        if record is None:
            return None
        if record.expires_at <= self._clock():
            return None
        if touch is not None and self.layout != "gorilla":  # a gorilla file ages by its content
            with self._opendir(key) as directory:
                if directory is None:
                    return record
                with self._locked(directory):
                    current = self._read_at(directory, key)
                    if current is not None and current.version == record.version:
                        self._write(
                            directory, key, current.data, self._clock() + touch, current.version
                        )
        return record

    # -- writing -----------------------------------------------------------------------------
    def _write(self, directory: int, key: str, data: bytes, expires_at: float, version: int) -> int:
        blob = data if self.layout == "gorilla" else _HEADER.pack(expires_at, version) + data
        # mkstemp's job, relative to the directory's descriptor (mkstemp takes only paths)
        tmp = _TMP_PREFIX + secrets.token_hex(8)
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | _NOFOLLOW | _CLOEXEC
        fd = os.open(tmp, flags, 0o600, dir_fd=directory)
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(blob)
                if self.fsync:
                    fh.flush()
                    os.fsync(fh.fileno())
                if self.layout == "gorilla" and self._own_clock:
                    # the file's mtime is its age: keep it on the injected clock's time line
                    fh.flush()  # a later flush would set the mtime again
                    now = self._clock()
                    os.utime(fh.fileno(), (now, now))
            # rename replaces a symlink planted at the final name; it never writes through it
            os.replace(tmp, self._check(key), src_dir_fd=directory, dst_dir_fd=directory)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp, dir_fd=directory)
            raise
        if self.layout == "gorilla":
            return _content_version(blob)
        return version

    def set(
        self,
        key: str,
        data: bytes,
        ttl: int,
        *,
        must_exist: bool = False,
        if_version: int | None = None,
    ) -> int | None:
        try:
            with self._opendir(key, create=True) as directory:
                assert directory is not None
                with self._locked(directory):
                    current = self._read_at(directory, key)
                    now = self._clock()
                    version = next_version(
                        current, now, must_exist=must_exist, if_version=if_version
                    )
                    if version is None:
                        return None
                    return self._write(directory, key, data, now + ttl, version)
        except OSError as exc:
            if exc.errno in (errno.ENOSPC, errno.EACCES, errno.EROFS, errno.EDQUOT):
                raise StoreUnavailable(f"cannot write session file: {exc}") from exc
            raise

    def delete(self, key: str) -> None:
        with self._opendir(key) as directory:
            if directory is None:
                return
            with self._locked(directory), contextlib.suppress(FileNotFoundError):
                os.unlink(self._check(key), dir_fd=directory)

    #: files one purge step examines while holding a directory's lock (saves to that
    #: directory wait for it), and the seconds between two steps in the same directory
    purge_chunk = 256
    purge_pause = 0.001
    #: directories purged at the same time: two per CPU. Removing a file is mostly system
    #: time with short waits on the disk; on 2 vCPUs 4 threads purged 300,000 files in 13.8 s
    #: (18 s of CPU) where 8 took 17.9 s (25.5 s of CPU, contending) and 2 took 17.0 s.
    purge_threads = min(8, 2 * (os.cpu_count() or 1))

    def purge(self, progress: PurgeProgress | None = None) -> int:
        """Delete expired files (and temporary files left by a crash); return how many records.

        One directory at a time, at most ``purge_chunk`` files per hold of its lock, so a save
        never waits long. A sharded record's expiry is in its first 16 bytes: only those are
        read. ``progress`` gets the fraction of the shard directories done.
        """
        now = self._clock()
        removed = 0
        root = os.open(self.path, _DIR_FLAGS)
        try:
            if self.layout == "gorilla":
                removed += self._purge_dir(os.dup(root), now)
                if progress is not None:
                    progress(removed, 1.0)
            else:
                with os.scandir(root) as entries:
                    shards = sorted(
                        e.name
                        for e in entries
                        if len(e.name) == 2
                        and _KEY.fullmatch(e.name)
                        and e.is_dir(follow_symlinks=False)
                    )

                def shard(name: str) -> int:
                    try:
                        fd = os.open(name, _DIR_FLAGS | _NOFOLLOW, dir_fd=root)
                    except OSError:
                        return 0  # gone meanwhile, or not a real directory: nothing of ours
                    return self._purge_dir(fd, now)

                # Several directories at once: an unlink also waits on the disk (a cold
                # directory block, the journal), and the waits of different directories
                # overlap; each directory still has one purger holding its lock.
                with ThreadPoolExecutor(self.purge_threads) as pool:
                    for done, count in enumerate(pool.map(shard, shards), 1):
                        removed += count
                        if progress is not None:
                            progress(removed, done / len(shards))
        finally:
            os.close(root)
        self.purge_owners()
        return removed

    def _purge_dir(self, directory: int, now: float) -> int:
        """Purge one directory (its descriptor, closed here)."""
        removed = 0
        try:
            # d_type from the listing: symlinks, FIFOs and the like are never opened
            with os.scandir(directory) as entries:
                names = [e.name for e in entries if e.is_file(follow_symlinks=False)]
            for start in range(0, len(names), self.purge_chunk):
                if start:
                    time.sleep(self.purge_pause)
                with self._locked(directory):
                    for name in names[start : start + self.purge_chunk]:
                        removed += self._purge_file(directory, name, now)
        finally:
            os.close(directory)
        return removed

    def _purge_file(self, directory: int, name: str, now: float) -> int:
        """Remove ``name`` if it is an expired record (1) or an old temporary file (0)."""
        if name.startswith(_TMP_PREFIX):
            with contextlib.suppress(OSError):
                info = os.stat(name, dir_fd=directory, follow_symlinks=False)
                if info.st_mtime < now - 3600:
                    os.unlink(name, dir_fd=directory)
            return 0
        if self.layout == "gorilla":
            if not name.startswith(_GORILLA_PREFIX):
                return 0
            key = name[len(_GORILLA_PREFIX) :]
            if not _KEY.fullmatch(key):
                return 0
            try:
                record = self._read_at(directory, key)
            except StoreUnavailable:
                return 0  # a symlink or an unreadable file: not ours to judge
            expired = record is not None and record.expires_at <= now
        else:
            if not _KEY.fullmatch(name):
                return 0
            try:  # the header only; O_NONBLOCK: a FIFO swapped in meanwhile cannot block
                fd = os.open(name, _PURGE_FLAGS, dir_fd=directory)
            except OSError:
                return 0  # gone meanwhile, a symlink, unreadable: not ours to judge
            try:
                header = os.read(fd, _HEADER.size)
            except OSError:
                return 0
            finally:
                os.close(fd)
            expired = len(header) == _HEADER.size and _HEADER.unpack(header)[0] <= now
        if not expired:
            return 0
        with contextlib.suppress(FileNotFoundError):
            os.unlink(name, dir_fd=directory)
        return 1

    def count(self) -> int:
        """How many record files there are (expired ones included)."""
        total = 0
        for _root, dirs, files in os.walk(self.path):
            dirs[:] = [d for d in dirs if d != _OWNERS]  # the owner index holds no records
            total += sum(1 for f in files if not f.startswith("."))
        return total

    # -- the owner index -----------------------------------------------------------------------
    # One directory per owner, one small file per session in it (``.owners/<owner>/<key>``:
    # expiry as a float64, then the entry), written by temp file + rename. No file is ever
    # read, changed and written back, so processes sharing the directory need no lock: a
    # write replaces one file atomically, a removal unlinks it, a listing reads what is there.
    # Like the records, everything below the store's own directory is reached through
    # directory descriptors and O_NOFOLLOW: a symlink planted there is refused, never followed.
    @contextlib.contextmanager
    def _owner_dir(self, owner: str, *, create: bool) -> Iterator[int | None]:
        """A descriptor of ``owner``'s index directory; None if it is absent (and not made)."""
        if not _KEY.fullmatch(owner):
            raise ValueError(f"invalid owner key {owner!r}")
        fds: list[int] = []
        try:
            fds.append(os.open(self.path, _DIR_FLAGS))
            for name in (_OWNERS, owner):
                try:
                    fd = os.open(name, _DIR_FLAGS | _NOFOLLOW, dir_fd=fds[-1])
                except FileNotFoundError:
                    if not create:
                        yield None
                        return
                    with contextlib.suppress(FileExistsError):
                        os.mkdir(name, 0o700, dir_fd=fds[-1])
                    fd = os.open(name, _DIR_FLAGS | _NOFOLLOW, dir_fd=fds[-1])
                except OSError as exc:
                    if exc.errno in (errno.ELOOP, errno.ENOTDIR):
                        raise _symlink_error(os.path.join(_OWNERS, name)) from exc
                    raise
                fds.append(fd)
            yield fds[-1]
        finally:
            for fd in reversed(fds):
                os.close(fd)

    def index(self, owner: str, key: str, entry: bytes, ttl: float) -> None:
        if not _KEY.fullmatch(key):
            raise ValueError(f"invalid session key {key!r}")
        blob = _EXPIRY.pack(self._clock() + ttl) + bytes(entry)
        for attempt in (0, 1):
            try:
                with self._owner_dir(owner, create=True) as directory:
                    assert directory is not None
                    tmp = _TMP_PREFIX + secrets.token_hex(8)
                    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | _NOFOLLOW | _CLOEXEC
                    fd = os.open(tmp, flags, 0o600, dir_fd=directory)
                    try:
                        with os.fdopen(fd, "wb") as fh:
                            fh.write(blob)
                        os.replace(tmp, key, src_dir_fd=directory, dst_dir_fd=directory)
                    except BaseException:
                        with contextlib.suppress(OSError):
                            os.unlink(tmp, dir_fd=directory)
                        raise
                return
            except FileNotFoundError:  # purge removed the empty directory meanwhile: again
                if attempt:
                    raise
            except OSError as exc:
                raise StoreUnavailable(f"cannot write the owner index: {exc}") from exc

    def owned(self, owner: str) -> list[tuple[str, bytes]]:
        now = self._clock()
        found: list[tuple[str, bytes]] = []
        with self._owner_dir(owner, create=False) as directory:
            if directory is None:
                return []
            for name in os.listdir(directory):
                if not _KEY.fullmatch(name):
                    continue  # a temporary file being written
                try:
                    fd = os.open(name, os.O_RDONLY | _NOFOLLOW | _CLOEXEC, dir_fd=directory)
                except FileNotFoundError:
                    continue  # removed meanwhile
                except OSError as exc:
                    if exc.errno == errno.ELOOP:
                        continue  # a planted symlink: not an entry of ours
                    raise StoreUnavailable(f"cannot read the owner index: {exc}") from exc
                with os.fdopen(fd, "rb") as fh:
                    if not stat.S_ISREG(os.fstat(fh.fileno()).st_mode):
                        continue
                    raw = fh.read()
                if len(raw) < _EXPIRY.size or _EXPIRY.unpack_from(raw)[0] <= now:
                    with contextlib.suppress(FileNotFoundError):
                        os.unlink(name, dir_fd=directory)  # expired: prune it
                    continue
                found.append((name, raw[_EXPIRY.size :]))
        return found

    def unindex(self, owner: str, key: str) -> None:
        if not _KEY.fullmatch(key):
            raise ValueError(f"invalid session key {key!r}")
        with self._owner_dir(owner, create=False) as directory:
            if directory is not None:
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(key, dir_fd=directory)

    def purge_owners(self) -> int:
        """Remove expired owner-index entries and emptied owner directories (``purge`` calls
        it); return how many entries."""
        try:
            root = os.open(os.path.join(self.path, _OWNERS), _DIR_FLAGS | _NOFOLLOW)
        except FileNotFoundError:
            return 0
        except OSError as exc:
            if exc.errno in (errno.ELOOP, errno.ENOTDIR):
                raise _symlink_error(_OWNERS) from exc
            raise
        removed = 0
        try:
            for owner in os.listdir(root):
                if not _KEY.fullmatch(owner):
                    continue
                with self._owner_dir(owner, create=False) as directory:
                    before = 0 if directory is None else len(os.listdir(directory))
                removed += max(before - len(self.owned(owner)), 0)
                with contextlib.suppress(OSError):  # only if empty (index() retries on a race)
                    os.rmdir(owner, dir_fd=root)
        finally:
            os.close(root)
        return removed
