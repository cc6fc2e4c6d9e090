"""The Store protocol, and what every store shares: options, name checks, the size check."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Protocol, runtime_checkable

from ..cookies import BROWSER_COOKIE_LIMIT, CookieOptions, format_set_cookie, validate_cookie_name
from ..errors import EncodeError
from ..session import Session

__all__ = ["BaseStore", "Store"]

log = logging.getLogger("websession")


@runtime_checkable
class Store(Protocol):
    """Makes sessions from cookies and saves them.

    ``new`` never raises for a bad cookie: it returns an empty session whose ``rejected`` says
    why. ``save`` always saves (callers decide whether to, usually from ``session.modified``)
    and returns the ``Set-Cookie`` header value. ``anew``/``asave`` are the async twins.
    """

    options: CookieOptions

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
    """Shared by the built-in stores: option copies, name checks, cookie building."""

    def __init__(
        self, *, options: CookieOptions | None = None, clock: Callable[[], float] | None = None
    ) -> None:
        self.options = options if options is not None else CookieOptions()
        self.clock: Callable[[], float] = clock if clock is not None else time.time

    def _blank(self, name: str) -> Session:
        validate_cookie_name(name)
        options = self.options.copy()
        options.validate(name)
        return Session(name, self, options=options)  # type: ignore[arg-type]

    def _set_cookie(self, session: Session, value: str) -> str:
        header = format_set_cookie(session.name, value, session.options, now=self.clock())
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
