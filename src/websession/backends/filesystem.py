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
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import errno
import hashlib
import os
import re
import struct
import tempfile
import time
from collections.abc import Callable, Iterator
from typing import Any, Literal

from .._defaults import MAX_AGE
from ..errors import StoreUnavailable
from .base import AsyncFromSync, Record, next_version

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


def _content_version(data: bytes) -> int:
    """A gorilla-layout file's version: it changes whenever the content does."""
    return int.from_bytes(hashlib.blake2b(data, digest_size=8).digest(), "big")


class FilesystemBackend(AsyncFromSync):
    """Session records as files under ``path``.

    Args:
        path: the directory (created if missing, mode 0700).
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

    def __repr__(self) -> str:
        return f"FilesystemBackend({self.path!r}, layout={self.layout!r})"

    # -- paths -------------------------------------------------------------------------------
    def _dir(self, key: str) -> str:
        if not _KEY.fullmatch(key):  # never let a key name a path outside the store
            raise ValueError(f"invalid session key {key!r}")
        if self.layout == "gorilla":
            return self.path
        return os.path.join(self.path, key[:2])

    def _file(self, key: str) -> str:
        name = _GORILLA_PREFIX + key if self.layout == "gorilla" else key
        return os.path.join(self._dir(key), name)

    @contextlib.contextmanager
    def _locked(self, directory: str) -> Iterator[None]:
        if fcntl is None:
            yield
            return
        fd = os.open(os.path.join(directory, ".lock"), os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)

    # -- reading -----------------------------------------------------------------------------
    def _read(self, key: str) -> Record | None:
        path = self._file(key)
        try:
            with open(path, "rb") as fh:
                raw = fh.read()
                stat = os.fstat(fh.fileno())
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise StoreUnavailable(f"cannot read {path}: {exc}") from exc
        if self.layout == "gorilla":
            issued_at = _gorilla_issued_at(raw)
            born = stat.st_mtime if issued_at is None else issued_at
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
            directory = self._dir(key)
            with self._locked(directory):
                current = self._read(key)
                if current is not None and current.version == record.version:
                    self._write(
                        directory, key, current.data, self._clock() + touch, current.version
                    )
        return record

    # -- writing -----------------------------------------------------------------------------
    def _write(self, directory: str, key: str, data: bytes, expires_at: float, version: int) -> int:
        blob = data if self.layout == "gorilla" else _HEADER.pack(expires_at, version) + data
        try:
            fd, tmp = tempfile.mkstemp(prefix=_TMP_PREFIX, dir=directory)
        except FileNotFoundError:
            os.makedirs(directory, mode=0o700, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=_TMP_PREFIX, dir=directory)
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(blob)
                if self.fsync:
                    fh.flush()
                    os.fsync(fh.fileno())
            if self.layout == "gorilla" and self._own_clock:
                # the file's mtime is its age: keep it on the injected clock's time line
                now = self._clock()
                os.utime(tmp, (now, now))
            final = self._file(key)
            os.replace(tmp, final)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
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
        directory = self._dir(key)
        try:
            os.makedirs(directory, mode=0o700, exist_ok=True)
            with self._locked(directory):
                current = self._read(key)
                now = self._clock()
                version = next_version(current, now, must_exist=must_exist, if_version=if_version)
                if version is None:
                    return None
                return self._write(directory, key, data, now + ttl, version)
        except OSError as exc:
            if exc.errno in (errno.ENOSPC, errno.EACCES, errno.EROFS, errno.EDQUOT):
                raise StoreUnavailable(f"cannot write session file: {exc}") from exc
            raise

    def delete(self, key: str) -> None:
        directory = self._dir(key)
        if not os.path.isdir(directory):
            return
        with self._locked(directory), contextlib.suppress(FileNotFoundError):
            os.unlink(self._file(key))

    def purge(self) -> int:
        """Delete expired files (and temporary files left by a crash); return how many records."""
        now = self._clock()
        removed = 0
        directories = (
            [self.path]
            if self.layout == "gorilla"
            else [
                os.path.join(self.path, d)
                for d in sorted(os.listdir(self.path))
                if len(d) == 2 and os.path.isdir(os.path.join(self.path, d))
            ]
        )
        for directory in directories:
            with self._locked(directory):
                for name in os.listdir(directory):
                    path = os.path.join(directory, name)
                    if name.startswith(_TMP_PREFIX):
                        with contextlib.suppress(OSError):
                            if os.stat(path).st_mtime < now - 3600:
                                os.unlink(path)
                        continue
                    if self.layout == "gorilla":
                        if not name.startswith(_GORILLA_PREFIX):
                            continue
                        key = name[len(_GORILLA_PREFIX) :]
                    else:
                        key = name
                    if not _KEY.fullmatch(key):
                        continue
                    record = self._read(key)
                    if record is not None and record.expires_at <= now:
                        with contextlib.suppress(FileNotFoundError):
                            os.unlink(path)
                        removed += 1
        return removed

    def count(self) -> int:
        """How many record files there are (expired ones included)."""
        total = 0
        for _root, _dirs, files in os.walk(self.path):
            total += sum(1 for f in files if not f.startswith("."))
        return total
