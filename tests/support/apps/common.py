"""Stores shared by the test applications, configured from the environment.

The tests start the servers with ``WEBSESSION_TEST_SECRET`` (the secret every store uses) and
``WEBSESSION_TEST_DIR`` (the FilesystemStore's directory), so a test can craft cookies and look
at the files.
"""

from __future__ import annotations

import os
from urllib.parse import parse_qs

from websession import (
    CookieOptions,
    CookieStore,
    FilesystemStore,
    MemoryStore,
    Record,
    ServerStore,
    StoreUnavailable,
)

SECRET = os.environ.get("WEBSESSION_TEST_SECRET", "Q671d28JQUShiWxBavryaZzCFXa5Bp3gX8P8_PDJkyE")
DIRECTORY = os.environ.get("WEBSESSION_TEST_DIR", "")
PLAIN = CookieOptions(secure=False)  # plain-HTTP tests: browsers drop Secure cookies over http


class DownBackend:
    """A backend whose database is unreachable: every operation raises StoreUnavailable."""

    def _fail(self) -> StoreUnavailable:
        return StoreUnavailable("connection refused: 127.0.0.1:1 (test backend)")

    def get(self, key: str, *, touch: int | None = None) -> Record | None:
        raise self._fail()

    def set(self, key, data, ttl, *, must_exist=False, if_version=None) -> int | None:
        raise self._fail()

    def delete(self, key: str) -> None:
        raise self._fail()

    def purge(self) -> int:
        raise self._fail()

    def close(self) -> None:
        return None

    async def aget(self, key: str, *, touch: int | None = None) -> Record | None:
        raise self._fail()

    async def aset(self, key, data, ttl, *, must_exist=False, if_version=None) -> int | None:
        raise self._fail()

    async def adelete(self, key: str) -> None:
        raise self._fail()

    async def apurge(self) -> int:
        raise self._fail()

    async def aclose(self) -> None:
        return None


def make_stores() -> dict[str, object]:
    return {
        # the default session ("session"): server-side, in memory (one worker process)
        "memory": MemoryStore(SECRET, options=PLAIN),
        # "auth": server-side, on disk
        "files": FilesystemStore(DIRECTORY or None, SECRET, options=PLAIN),
        # "prefs": the whole session in its cookie
        "cookie": CookieStore(SECRET, options=PLAIN),
        # default cookie options: Secure
        "secure": CookieStore(SECRET),
        # a store whose database is down
        "down": ServerStore(DownBackend(), SECRET, options=PLAIN),
    }


def query(raw: str | bytes) -> dict[str, str]:
    if isinstance(raw, bytes):
        raw = raw.decode("latin-1")
    return {k: v[0] for k, v in parse_qs(raw).items()}
