"""What the Google Cloud backends (Datastore, Firestore) share: errors, deadlines, timestamps.

Imports only google-api-core, which both clients depend on.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from ..errors import StoreUnavailable
from ._errors import translate

try:
    from google.api_core import exceptions as gexc
    from google.api_core import retry as _gretry
    from google.api_core import retry_async as _gretry_async

    IMPORT_ERROR: ImportError | None = None
    #: a call the service did not answer in time, or at all
    UNANSWERED: tuple[type[BaseException], ...] = (
        gexc.ServiceUnavailable,
        gexc.DeadlineExceeded,
        gexc.RetryError,
        OSError,
        asyncio.TimeoutError,
    )
except ImportError as exc:  # pragma: no cover - exercised only without the clients installed
    IMPORT_ERROR = exc
    UNANSWERED = (OSError, asyncio.TimeoutError)

__all__ = [
    "ATTEMPTS",
    "UNANSWERED",
    "auntil_written",
    "blind_save",
    "contended",
    "gexc",
    "require",
    "retries",
    "stamp",
    "unavailable",
    "until_written",
    "url_options",
]

T = TypeVar("T")

#: read-then-write attempts before a contended operation gives up (StoreUnavailable)
ATTEMPTS = 5


def require(error: ImportError | None, backend: str, extra: str, package: str) -> None:
    """Raise an ImportError naming the extra when the client (``error``) or api-core is missing."""
    error = error or IMPORT_ERROR
    if error is not None:
        raise ImportError(
            f"{backend} needs {package}: pip install 'websession[{extra}]'"
        ) from error


def unavailable(service: str) -> contextlib.AbstractContextManager[None]:
    """Turn "cannot reach the service now" into StoreUnavailable; let request errors through."""
    return translate(
        service,
        (
            *UNANSWERED,
            gexc.InternalServerError,
            gexc.TooManyRequests,  # ResourceExhausted
            gexc.Unknown,
            gexc.Aborted,  # still contended after the client's own tries
        ),
    )


def contended(service: str) -> StoreUnavailable:
    return StoreUnavailable(f"{service}: too much contention ({ATTEMPTS} attempts refused)")


def blind_save(ttl: int, must_exist: bool, if_version: int | None) -> bool:
    """Check ``ttl``; True when a save has nothing to check first (no ``must_exist``, no
    ``if_version``): one blind write with a fresh random version, so plain saves never wait
    for each other. Otherwise the save reads, decides and writes under :func:`until_written`.
    """
    if ttl <= 0:
        raise ValueError("ttl must be positive")
    return not must_exist and if_version is None


def until_written(
    service: str, changed: tuple[type[BaseException], ...], attempt: Callable[[], T]
) -> T:
    """``attempt()`` (read, decide, write) again while its write is refused because the record
    changed after the read (``changed``: Datastore's aborted transaction, Firestore's failed
    precondition), so the check and the write are atomic; after ATTEMPTS, StoreUnavailable."""
    for _ in range(ATTEMPTS):
        try:
            return attempt()
        except changed:
            continue
    raise contended(service)


async def auntil_written(
    service: str, changed: tuple[type[BaseException], ...], attempt: Callable[[], Awaitable[T]]
) -> T:
    """Async twin of :func:`until_written`."""
    for _ in range(ATTEMPTS):
        try:
            return await attempt()
        except changed:
            continue
    raise contended(service)


def stamp(seconds: float) -> dt.datetime:
    """A UTC timestamp (what TTL policies need) from seconds since the epoch."""
    return dt.datetime.fromtimestamp(seconds, dt.timezone.utc)


def _never(exc: Exception) -> bool:
    return False


def retries(timeout: float) -> tuple[Any, Any]:
    """(sync, async) retry policies that do not retry.

    google-api-core's defaults keep retrying an unreachable server for a minute, and a retry
    inside the deadline still gets a whole new deadline per attempt (a frozen server then
    costs twice the timeout): one attempt, one deadline, and StoreUnavailable. gRPC
    reconnects by itself for the next call.
    """
    sync = _gretry.Retry(predicate=_never, timeout=timeout)
    asynchronous = _gretry_async.AsyncRetry(predicate=_never, timeout=timeout)
    return sync, asynchronous


def url_options(url: str, scheme: str, names: tuple[str, ...]) -> tuple[str | None, dict[str, Any]]:
    """The project and the options of ``SCHEME://PROJECT?name=value...``.

    ``timeout`` becomes a float; ``connect_timeout`` is refused with the reason, since gRPC
    has no connect step apart from a call.
    """
    from urllib.parse import parse_qsl, unquote, urlsplit

    parts = urlsplit(url)
    if parts.scheme != scheme:
        raise ValueError(f"not a {scheme}:// URL: {url!r}")
    project = unquote(parts.netloc + parts.path).strip("/") or None
    query: dict[str, Any] = {}
    for name, value in parse_qsl(parts.query, keep_blank_values=True):
        if name in names:
            query[name] = value
        elif name == "timeout":
            query[name] = float(value)
        elif name == "connect_timeout":
            raise ValueError(
                f"{scheme}:// takes no connect_timeout: gRPC connects within each call, "
                "so timeout= (each call's deadline) bounds connecting too"
            )
        else:
            raise ValueError(f"unknown {scheme}:// URL parameter {name!r}")
    return project, query
