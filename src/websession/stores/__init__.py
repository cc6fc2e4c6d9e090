"""Stores: where sessions live (the cookie itself, or a backend behind a session id)."""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence

from .._defaults import BROWSER_SESSION_TTL
from ..backends.filesystem import FilesystemBackend
from ..backends.memory import MemoryBackend
from ..codecs.base import Codec
from ..codecs.keys import SecretKeys
from ..cookies import CookieOptions
from ..events import EventHook
from ..legacy._base import LegacyReader
from ..serializers.base import Serializer
from .base import BaseStore, Store
from .cookie import CookieStore
from .server import ServerStore, new_session_id

__all__ = [
    "BaseStore",
    "CookieStore",
    "FilesystemStore",
    "MemoryStore",
    "ServerStore",
    "Store",
    "new_session_id",
]


def default_directory() -> str:
    """The per-user state directory FilesystemStore uses when given no path (XDG base dirs)."""
    state = os.environ.get("XDG_STATE_HOME", "")
    if not os.path.isabs(state):  # the spec says to ignore a relative value
        state = os.path.join(os.path.expanduser("~"), ".local", "state")
    return os.path.join(state, "websession", "sessions")


class FilesystemStore(ServerStore):
    """Sessions in files under ``path``: the cookie holds only a sealed session id.

    Args:
        path: the directory (created if missing, mode 0700). It must belong to this user and
            not be writable by group or others (``PermissionError`` otherwise). By default a
            private per-user directory, ``$XDG_STATE_HOME/websession/sessions``
            (``~/.local/state/websession/sessions``): never a shared one such as ``/tmp``,
            where another account could create the directory first.
        secret_keys: secrets, newest first (see :class:`ServerStore`).
        codecs: gorilla-compatible codecs instead: then the directory uses gorilla/sessions'
            ``session_<ID>`` layout and Go services can share it.
        options: cookie options every session starts with.
        fsync: fsync every write (durable across power loss, slower).

    The other arguments (``ttl``, ``idle_timeout``, ``absolute_timeout``, ``rolling``,
    ``optimistic``, ``clock``, ``legacy``, ``serializer``, ``on_event``) are
    :class:`ServerStore`'s.
    """

    def __init__(
        self,
        path: str | os.PathLike[str] | None = None,
        secret_keys: SecretKeys | None = None,
        *,
        codecs: Sequence[Codec] | None = None,
        options: CookieOptions | None = None,
        fsync: bool = False,
        ttl: int = BROWSER_SESSION_TTL,
        idle_timeout: int | None = None,
        absolute_timeout: int | None = None,
        rolling: bool = False,
        optimistic: bool = False,
        clock: Callable[[], float] | None = None,
        legacy: Sequence[LegacyReader] = (),
        serializer: Serializer | None = None,
        on_event: EventHook | None = None,
    ) -> None:
        directory = path if path is not None else default_directory()
        backend = FilesystemBackend(
            directory,
            layout="gorilla" if codecs is not None else "sharded",
            ttl=max(ttl, options.max_age if options else 0),
            fsync=fsync,
            clock=clock,
        )
        super().__init__(
            backend,
            secret_keys,
            codecs=codecs,
            options=options,
            ttl=ttl,
            idle_timeout=idle_timeout,
            absolute_timeout=absolute_timeout,
            rolling=rolling,
            optimistic=optimistic,
            clock=clock,
            legacy=legacy,
            serializer=serializer,
            on_event=on_event,
        )


class MemoryStore(ServerStore):
    """Sessions in this process's memory (tests, development). Same options as ServerStore.

    ``max_entries`` bounds the number of sessions kept: beyond it the least recently used is
    evicted (its user gets a new session). 0, the default, means no bound.
    """

    def __init__(
        self,
        secret_keys: SecretKeys | None = None,
        *,
        codecs: Sequence[Codec] | None = None,
        options: CookieOptions | None = None,
        ttl: int = BROWSER_SESSION_TTL,
        idle_timeout: int | None = None,
        absolute_timeout: int | None = None,
        rolling: bool = False,
        optimistic: bool = False,
        clock: Callable[[], float] | None = None,
        legacy: Sequence[LegacyReader] = (),
        serializer: Serializer | None = None,
        max_entries: int = 0,
        on_event: EventHook | None = None,
    ) -> None:
        super().__init__(
            MemoryBackend(clock=clock, max_entries=max_entries),
            secret_keys,
            codecs=codecs,
            options=options,
            ttl=ttl,
            idle_timeout=idle_timeout,
            absolute_timeout=absolute_timeout,
            rolling=rolling,
            optimistic=optimistic,
            clock=clock,
            legacy=legacy,
            serializer=serializer,
            on_event=on_event,
        )
