"""The one way a backend says its database cannot be reached: :class:`StoreUnavailable`.

Every backend turns its client's "cannot reach it now" errors (connection refused, timeouts,
a failover in progress) into ``StoreUnavailable("<service> is unavailable: <Type>: <detail>")``
and lets everything else through: a bad request is a bug to see, not an outage. Backends raise
``unavailable(...)`` where they catch errors themselves, or wrap calls in ``translate(...)``.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator

from ..errors import StoreUnavailable

__all__ = ["translate", "unavailable"]


def unavailable(service: str, exc: BaseException) -> StoreUnavailable:
    """The error for ``service`` being unreachable, naming the client's error (raise it from)."""
    detail = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
    return StoreUnavailable(f"{service} is unavailable: {detail}")


@contextlib.contextmanager
def translate(
    service: str,
    errors: tuple[type[BaseException], ...],
    when: Callable[[BaseException], bool] | None = None,
) -> Iterator[None]:
    """Raise :func:`unavailable` for ``errors`` (those ``when`` accepts) raised in the block."""
    try:
        yield
    except errors as exc:
        if when is not None and not when(exc):
            raise
        raise unavailable(service, exc) from exc
