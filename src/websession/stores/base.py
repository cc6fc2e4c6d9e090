"""The Store protocol, and what every store shares: options, name checks, the size check."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from typing import Any, Protocol, runtime_checkable

from ..cookies import BROWSER_COOKIE_LIMIT, CookieOptions, _format_set_cookie, format_set_cookie
from ..errors import EncodeError, Malformed
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
        self,
        *,
        options: CookieOptions | None = None,
        clock: Callable[[], float] | None = None,
        legacy: Sequence[LegacyReader] = (),
    ) -> None:
        self.options = options if options is not None else CookieOptions()
        self.clock: Callable[[], float] = clock if clock is not None else time.time
        #: readers of the replaced library's sessions (websession.legacy), tried by the registry
        #: when a request has no valid cookie of this store
        self.legacy: tuple[LegacyReader, ...] = check_readers(legacy)

    def _blank(self, name: str) -> Session:
        options = self.options
        options.validate(name)  # the name too: a bad one fails on load, not first on save
        return Session(name, self, options=options._clone())  # type: ignore[arg-type]

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


# What a store seals in sealed mode: the session's values, or ``[values, meta]`` when the session
# carries options of its own that must outlive the request ("remember me": a max_age that is not
# the store's). Values are always a dict, so the two shapes cannot be confused. Stores in
# gorilla-compatible mode seal the bare values, as Go expects.
def pack_values(session: Session, defaults: CookieOptions, with_meta: bool) -> Any:
    """The payload to seal for ``session``."""
    values = values_of(session)
    if with_meta and session.options.max_age != defaults.max_age and session.options.max_age >= 0:
        return [values, {"max_age": session.options.max_age}]
    return values


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


def apply_meta(session: Session, meta: dict[str, Any]) -> None:
    """Restore the options a session carried (its own max_age)."""
    max_age = meta.get("max_age")
    if isinstance(max_age, int) and not isinstance(max_age, bool) and max_age >= 0:
        session.options.max_age = max_age
