"""What stores report: typed events for an ``on_event`` hook, and the ``websession`` logger.

Every built-in store takes ``on_event=callable``; the callable receives one of the events
below after each load and save. Events carry no cookie value, session value or secret, only
the session's name, the store, a reason and a latency, so they can go to metrics and logs as
they are (see :func:`websession.metrics.prometheus`). A hook that raises is logged and ignored:
observing must never break a request.

The ``websession`` logger records, independently of any hook: each rejected cookie at DEBUG
with its reason; a cookie sealed with an older key at INFO (at most once a minute per store);
a store outage at WARNING (at most once every ten seconds per store).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .errors import ConflictError

__all__ = [
    "Conflict",
    "EventHook",
    "Loaded",
    "Rejected",
    "Saved",
    "StoreEvent",
    "Unavailable",
]

log = logging.getLogger("websession")


@dataclass(frozen=True, kw_only=True, slots=True)
class StoreEvent:
    """What every event says: which store, which session name."""

    #: the store: its class, and for a ServerStore its backend (``"ServerStore/RedisBackend"``)
    store: str
    #: the session's (cookie's) name
    name: str


@dataclass(frozen=True, kw_only=True, slots=True)
class Loaded(StoreEvent):
    """A request's cookie opened a session."""

    #: seconds the load took (decoding, and the backend read for server-side stores)
    latency: float
    #: sealed with an older key: it is re-sealed with the newest on the next save
    stale: bool = False


@dataclass(frozen=True, kw_only=True, slots=True)
class Saved(StoreEvent):
    """A session was saved (or, ``deleted``, its record and cookie removed)."""

    latency: float
    deleted: bool = False


@dataclass(frozen=True, kw_only=True, slots=True)
class Rejected(StoreEvent):
    """A request's cookie was not trusted; the session started empty."""

    #: ``session.reason``: ``"expired"``, ``"invalid_signature"``, ``"not_found"``, ...
    reason: str


@dataclass(frozen=True, kw_only=True, slots=True)
class Unavailable(StoreEvent):
    """The store's backend could not be reached (``StoreUnavailable`` was raised)."""

    #: ``"load"`` or ``"save"``
    operation: str
    latency: float
    #: the error's class name (its message may hold a host name: it goes to the log only)
    error: str


@dataclass(frozen=True, kw_only=True, slots=True)
class Conflict(StoreEvent):
    """An optimistic save lost to another request's (``ConflictError`` was raised)."""

    latency: float


#: the ``on_event`` callable's type
EventHook = Callable[[StoreEvent], Any]


class Observer:
    """A store's reporting: the hook, and the rate-limited log lines. Internal to the stores."""

    __slots__ = ("_last_outage", "_last_stale", "hook", "label")

    STALE_EVERY = 60.0
    OUTAGE_EVERY = 10.0

    def __init__(self, label: str, hook: EventHook | None) -> None:
        if hook is not None and not callable(hook):
            raise TypeError(f"on_event must be a callable taking an event, not {hook!r}")
        self.label = label
        self.hook = hook
        self._last_stale = -self.STALE_EVERY
        self._last_outage = -self.OUTAGE_EVERY

    def emit(self, event: StoreEvent) -> None:
        if self.hook is None:
            return
        try:
            self.hook(event)
        except Exception as exc:
            log.warning("websession: the on_event hook failed on %s: %r", type(event).__name__, exc)

    def loaded(
        self,
        name: str,
        started: float,
        rejected: Any,
        reason: str | None,
        stale: bool,
        opened: bool,
    ) -> None:
        """After a load: ``rejected`` is the session's error (None if trusted)."""
        if rejected is not None:
            log.debug(
                "websession: %s cookie %r rejected: %s (%s)",
                self.label,
                name,
                reason,
                type(rejected).__name__,
            )
            self.emit(Rejected(store=self.label, name=name, reason=reason or "unknown"))
            return
        if not opened:
            return
        if stale:
            now = time.monotonic()
            if now - self._last_stale >= self.STALE_EVERY:
                self._last_stale = now
                log.info(
                    "websession: %s cookie %r was sealed with an older key; it is re-sealed "
                    "with the newest on save (logged at most once a minute)",
                    self.label,
                    name,
                )
        if self.hook is not None:
            latency = time.perf_counter() - started
            self.emit(Loaded(store=self.label, name=name, latency=latency, stale=stale))

    def saved(self, name: str, started: float, deleted: bool) -> None:
        if self.hook is not None:
            latency = time.perf_counter() - started
            self.emit(Saved(store=self.label, name=name, latency=latency, deleted=deleted))

    def unavailable(self, name: str, operation: str, started: float, error: BaseException) -> None:
        now = time.monotonic()
        if now - self._last_outage >= self.OUTAGE_EVERY:
            self._last_outage = now
            log.warning(
                "websession: %s unavailable on %s of %r: %s", self.label, operation, name, error
            )
        self.emit(
            Unavailable(
                store=self.label,
                name=name,
                operation=operation,
                latency=time.perf_counter() - started,
                error=type(error).__name__,
            )
        )

    def conflict(self, name: str, started: float) -> None:
        self.emit(Conflict(store=self.label, name=name, latency=time.perf_counter() - started))

    def failed(self, name: str, operation: str, started: float, error: BaseException) -> None:
        """A save that raised: a conflict, or an outage."""
        if isinstance(error, ConflictError):
            self.conflict(name, started)
        else:
            self.unavailable(name, operation, started, error)
