"""What the SQL backends share: table names, URL options, small connection pools.

Every SQL backend keeps one table::

    key         VARCHAR(128) PRIMARY KEY    -- the store's hashed id (ASCII, case-sensitive)
    data        BLOB                        -- the sealed record
    expires_at  DOUBLE                      -- seconds since the epoch, indexed
    version     BIGINT                      -- bumped on every write (optimistic concurrency)

``expires_at`` is compared with the backend's clock (``time.time`` unless ``clock=`` is given),
passed as a parameter: every statement carries its own "now", so an injected clock works the
same on every database, and no statement depends on the server's time zone.

The pools here are deliberately small: a LIFO list of idle connections. A connection is taken
(or opened, failing fast when the server is down), used for one statement and put back; one
that failed with a connection error is closed and every idle one is dropped with it (after a
server restart they are all dead), so the next call reconnects.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections.abc import Awaitable, Callable
from typing import Any, Generic, TypeVar
from urllib.parse import parse_qsl, urlencode

__all__ = [
    "DEFAULT_TABLE",
    "AsyncPool",
    "SyncPool",
    "coerce",
    "missing_client",
    "split_options",
    "validate_table",
]

C = TypeVar("C")

#: the table every SQL backend uses unless told otherwise
DEFAULT_TABLE = "websession_sessions"

_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,62}")
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


def validate_table(name: str) -> tuple[str, ...]:
    """The parts of ``name`` (``table`` or ``schema.table``), each a plain SQL identifier."""
    parts = tuple(name.split("."))
    if not 1 <= len(parts) <= 2 or not all(_IDENTIFIER.fullmatch(p) for p in parts):
        raise ValueError(
            f"invalid table name {name!r}: use letters, digits and '_' (optionally 'schema.table')"
        )
    return parts


def missing_client(extra: str, exc: ImportError) -> ImportError:
    """The ImportError raised when a backend's client library is not installed."""
    return ImportError(
        f"this backend needs a client library that is not installed ({exc}): "
        f"pip install 'websession[{extra}]'"
    )


def coerce(value: str) -> Any:
    """A URL query value as a bool, int or float where it looks like one."""
    low = value.lower()
    if low in _TRUE:
        return True
    if low in _FALSE:
        return False
    for kind in (int, float):
        try:
            return kind(value)
        except ValueError:
            pass
    return value


def split_options(url: str, names: tuple[str, ...]) -> tuple[str, dict[str, Any]]:
    """Remove websession's own parameters ``names`` from ``url``'s query (coerced).

    Plain string surgery: ``urlunsplit`` would turn ``sqlite:////abs.db`` into ``sqlite://abs.db``.
    """
    base, sep, query = url.partition("?")
    if not sep:
        return url, {}
    kept: list[tuple[str, str]] = []
    taken: dict[str, Any] = {}
    for key, value in parse_qsl(query, keep_blank_values=True):
        if key in names:
            taken[key] = coerce(value)
        else:
            kept.append((key, value))
    if not taken:
        return url, {}
    return (base + "?" + urlencode(kept) if kept else base), taken


class SyncPool(Generic[C]):
    """Idle connections for threads: ``acquire`` one, ``release`` or ``discard`` it."""

    def __init__(
        self, connect: Callable[[], C], close: Callable[[C], None], *, max_idle: int = 10
    ) -> None:
        self._connect = connect
        self._close = close
        self.max_idle = max_idle
        self._idle: list[C] = []
        self.closed = False

    def acquire(self) -> tuple[C, bool]:
        """A connection, and whether it was reused (False: it was just opened)."""
        try:
            return self._idle.pop(), True  # list.pop is atomic: no lock needed
        except IndexError:
            return self._connect(), False

    def release(self, conn: C) -> None:
        if self.closed or len(self._idle) >= self.max_idle:
            self._quietly_close(conn)
        else:
            self._idle.append(conn)

    def discard(self, conn: C) -> None:
        """Close ``conn`` after a connection error, and every idle one with it."""
        self._quietly_close(conn)
        self.clear()

    def clear(self) -> None:
        while True:
            try:
                conn = self._idle.pop()
            except IndexError:
                return
            self._quietly_close(conn)

    def close(self) -> None:
        self.closed = True
        self.clear()

    def _quietly_close(self, conn: C) -> None:
        with contextlib.suppress(Exception):  # closing a broken connection may fail
            self._close(conn)


class AsyncPool(Generic[C]):
    """Idle connections for one event loop.

    Async connections belong to the loop that opened them: when the pool is used from another
    loop (a new ``asyncio.run``), the old loop's connections are dropped with ``abandon``, a
    synchronous close that needs no loop.
    """

    def __init__(
        self,
        connect: Callable[[], Awaitable[C]],
        close: Callable[[C], Awaitable[None]],
        abandon: Callable[[C], None],
        *,
        max_idle: int = 10,
    ) -> None:
        self._connect = connect
        self._close = close
        self._abandon = abandon
        self.max_idle = max_idle
        self._idle: list[C] = []
        self._loop: asyncio.AbstractEventLoop | None = None
        self.closed = False

    async def acquire(self) -> tuple[C, bool]:
        loop = asyncio.get_running_loop()
        if loop is not self._loop:
            self.abandon_all()
            self._loop = loop
        if self._idle:
            return self._idle.pop(), True
        return await self._connect(), False

    async def release(self, conn: C) -> None:
        if self.closed or len(self._idle) >= self.max_idle:
            await self._quietly_close(conn)
        else:
            self._idle.append(conn)

    async def discard(self, conn: C) -> None:
        self._quietly_abandon(conn)
        self.abandon_all()

    async def aclose(self) -> None:
        self.closed = True
        idle, self._idle = self._idle, []
        for conn in idle:
            await self._quietly_close(conn)

    def abandon_all(self) -> None:
        """Drop every idle connection without a loop (sync close, or a loop change)."""
        idle, self._idle = self._idle, []
        for conn in idle:
            self._quietly_abandon(conn)

    def close(self) -> None:
        self.closed = True
        self.abandon_all()

    async def _quietly_close(self, conn: C) -> None:
        try:
            await self._close(conn)
        except Exception:
            self._quietly_abandon(conn)

    def _quietly_abandon(self, conn: C) -> None:
        with contextlib.suppress(Exception):  # best effort: it is unusable anyway
            self._abandon(conn)
