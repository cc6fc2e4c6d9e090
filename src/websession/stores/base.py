"""The Store protocol, and what every store shares: options, name checks, the size check."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from typing import Any, Protocol, runtime_checkable

from .._defaults import BROWSER_SESSION_TTL
from ..cookies import BROWSER_COOKIE_LIMIT, CookieOptions, _format_set_cookie, format_set_cookie
from ..errors import AbsoluteTimeout, EncodeError, IdleTimeout, Malformed
from ..events import EventHook, Observer
from ..legacy._base import LegacyReader, check_readers
from ..session import Session, values_of

__all__ = ["BaseStore", "Store", "pack_values", "unpack_values"]

log = logging.getLogger("websession")


@runtime_checkable
class Store(Protocol):
    """Makes sessions from cookies and saves them.

    ``new`` never raises for a bad cookie: it returns an empty session whose ``rejected`` says
    why. ``save`` always saves (callers decide whether to, usually from ``session.modified``)
    and returns the ``Set-Cookie`` header value. ``anew``/``asave`` are the async twins.
    """

    options: CookieOptions

    # Optional capabilities a store may declare (read with ``getattr`` and a safe default, so a
    # custom store that declares none still works):
    #
    # - ``needs_io`` (default True): loading a session may wait on a database or files. False
    #   for stores that only compute (CookieStore, MemoryStore): then the synchronous
    #   ``get_session`` may load under ASGI.
    # - ``keeps_metadata`` (default False): ``created_at``, ``owner`` and a session's own
    #   ``max_age`` are sealed with its values and restored on load.
    # - ``values_in_cookie`` (default False): the values travel in the cookie itself
    #   (CookieStore), so an emptied session can simply delete its cookie.

    def new(self, name: str, cookie_value: str | None) -> Session:
        """Return the session ``cookie_value`` holds, or a new empty one."""
        ...

    def save(self, session: Session) -> str:
        """Persist ``session`` and return its Set-Cookie header value."""
        ...

    async def anew(self, name: str, cookie_value: str | None) -> Session:
        """Async twin of :meth:`new`."""
        ...

    async def asave(self, session: Session) -> str:
        """Async twin of :meth:`save`."""
        ...


class BaseStore:
    """Shared by the built-in stores: option copies, name checks, cookie building.

    Subclasses declare the capabilities the :class:`Store` protocol lists (``needs_io``,
    ``keeps_metadata``); code that must tell stores apart reads those, never the class.
    """

    #: loading a session may wait on I/O (see :class:`Store`)
    needs_io: bool = True
    #: created_at, owner and a session's own max_age are sealed with the values
    keeps_metadata: bool = True
    #: the values travel in the cookie itself
    values_in_cookie: bool = False

    def __init__(
        self,
        *,
        options: CookieOptions | None = None,
        clock: Callable[[], float] | None = None,
        legacy: Sequence[LegacyReader] = (),
        ttl: int = BROWSER_SESSION_TTL,
        idle_timeout: int | None = None,
        absolute_timeout: int | None = None,
        keeps_metadata: bool = True,
        on_event: EventHook | None = None,
    ) -> None:
        self.options = options if options is not None else CookieOptions()
        self.clock: Callable[[], float] = clock if clock is not None else time.time
        self.keeps_metadata = keeps_metadata
        #: seconds the server honours a browser-session cookie (max_age 0) after its last save
        self.ttl = _positive("ttl", ttl)
        #: reject a session last saved longer ago than this (seconds), or None
        self.idle_timeout = _positive("idle_timeout", idle_timeout, optional=True)
        #: reject a session created longer ago than this (seconds), or None
        self.absolute_timeout = _positive("absolute_timeout", absolute_timeout, optional=True)
        if absolute_timeout is not None and not keeps_metadata:
            raise ValueError(
                "absolute_timeout needs the session's created_at, which gorilla-compatible "
                "codecs do not keep (they seal the bare values, as Go expects); use "
                "secret_keys, or idle_timeout alone"
            )
        self._timeouts = idle_timeout is not None or absolute_timeout is not None
        #: readers of the replaced library's sessions (websession.legacy), tried by the registry
        #: when a request has no valid cookie of this store
        self.legacy: tuple[LegacyReader, ...] = check_readers(legacy)
        self._observer = Observer(type(self).__name__, on_event)

    @property
    def on_event(self) -> EventHook | None:
        """The callable that receives this store's events (:mod:`websession.events`)."""
        return self._observer.hook

    @on_event.setter
    def on_event(self, hook: EventHook | None) -> None:
        self._observer = Observer(self._observer.label, hook)

    def _observe_load(self, session: Session, started: float) -> Session:
        """Report a load of a cookie: rejected (DEBUG log, event) or loaded (event)."""
        self._observer.loaded(
            session.name,
            started,
            session.rejected,
            session.reason,
            session._needs_reseal,
            not session.is_new,
        )
        return session

    def _blank(self, name: str) -> Session:
        options = self.options
        options.validate(name)  # the name too: a bad one fails on load, not first on save
        return Session(
            name,
            self,  # type: ignore[arg-type]
            options=options._clone(),
            created_at=int(self.clock()) if self.keeps_metadata else None,
        )

    def _timed_out(
        self, issued_at: int, meta: dict[str, Any], now: float
    ) -> IdleTimeout | AbsoluteTimeout | None:
        """Why a session last saved at ``issued_at`` (created as ``meta`` says) is over, if it is.

        Only called when the store has a timeout (``self._timeouts``): the common case pays
        nothing. Seals carry whole seconds, so ``now`` is compared in whole seconds too: a
        session is never ended before its timeout, at most a second after it.
        """
        seconds = int(now)
        idle = self.idle_timeout
        if idle is not None and seconds - issued_at > idle:
            return IdleTimeout(
                f"idle for {seconds - issued_at} s since its last save; idle_timeout is {idle} s"
            )
        limit = self.absolute_timeout
        if limit is not None:
            created_at = _seconds(meta.get("created_at")) if meta else None
            if created_at is None:
                created_at = issued_at  # written before created_at existed: its last save
            if seconds - created_at > limit:
                return AbsoluteTimeout(
                    f"created {seconds - created_at} s ago; absolute_timeout is {limit} s"
                )
        return None

    def _set_cookie(self, session: Session, value: str, *, safe: bool = False) -> str:
        """The Set-Cookie line for ``value``; ``safe``: it is a sealed codec's base64url text,
        which needs no check for characters a cookie cannot carry."""
        header = _format_set_cookie(
            session.name, value, session.options, self.clock(), check_value=not safe
        )
        if len(header) > BROWSER_COOKIE_LIMIT:
            raise EncodeError(
                f"the cookie {session.name!r} would be {len(header)} bytes with its attributes; "
                f"browsers drop cookies over {BROWSER_COOKIE_LIMIT} bytes. Store less in it, or "
                "use a server-side store"
            )
        return header

    def _deletion_cookie(self, session: Session) -> str:
        options = session.options.copy(max_age=-1)
        return format_set_cookie(session.name, "", options, now=self.clock())


# What a store seals in sealed mode: ``[values, meta]``, meta holding what must outlive the
# request besides the values: ``created_at``, ``owner`` and ``device`` when set, and ``max_age``
# when the session has one of its own ("remember me"). Values are always a dict, so a bare dict
# (written by earlier versions, before created_at) is still read. Stores in gorilla-compatible
# mode seal the bare values, as Go expects: they keep none of the meta.
def pack_values(session: Session, defaults: CookieOptions, with_meta: bool) -> Any:
    """The payload to seal for ``session``.

    Raises:
        EncodeError: ``session.owner`` is set but the store seals bare values (gorilla codecs).
    """
    values = values_of(session)
    if not with_meta:
        if session._owner is not None:
            raise EncodeError(
                f"session {session.name!r}: session.owner cannot be kept by a store with "
                "gorilla-compatible codecs (they seal the bare values, as Go expects); use "
                "secret_keys for the sealed format"
            )
        return values
    meta: dict[str, Any] = {}
    if session.created_at is not None:
        meta["created_at"] = session.created_at
    if session._owner is not None:
        meta["owner"] = session._owner
    if session.device:
        meta["device"] = session.device
    max_age = session.options.max_age
    if max_age != defaults.max_age and max_age >= 0:
        meta["max_age"] = max_age
    return [values, meta]


def unpack_values(payload: Any) -> tuple[dict[Any, Any], dict[str, Any]]:
    """Split a decoded payload into (values, meta); raise Malformed for anything else."""
    if isinstance(payload, dict):
        return payload, {}
    if (
        isinstance(payload, list)
        and len(payload) == 2
        and isinstance(payload[0], dict)
        and isinstance(payload[1], dict)
    ):
        return payload[0], payload[1]
    raise Malformed("the value does not hold a mapping of session values")


def _positive(name: str, value: Any, *, optional: bool = False) -> Any:
    """``value`` if it is a positive number of seconds (or None, when ``optional``)."""
    if value is None and optional:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise ValueError(
            f"{name} must be a positive number of seconds{' or None' if optional else ''}, "
            f"not {value!r}"
        )
    return value


def _seconds(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else None


def apply_meta(session: Session, meta: dict[str, Any], sealed: bool) -> None:
    """Restore what a sealed payload carried besides the values (see :func:`pack_values`).

    ``sealed``: the store keeps metadata; a payload without ``created_at`` (written before it
    existed) dates the session from its last save. Gorilla-mode sessions keep none: None.
    """
    if not sealed:
        session.created_at = None
        return
    if meta:
        max_age = _seconds(meta.get("max_age"))
        if max_age is not None:
            session.options.max_age = max_age
        owner = meta.get("owner")
        session._owner = owner if isinstance(owner, str) else None
        device = meta.get("device")
        session.device = device if isinstance(device, dict) else None
    created_at = _seconds(meta.get("created_at")) if meta else None
    session.created_at = created_at if created_at is not None else session.issued_at
