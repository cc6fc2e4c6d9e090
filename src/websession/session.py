"""The Session: a dict of values with a name, an id, cookie options and flashes."""

from __future__ import annotations

import enum
from collections.abc import Hashable, Iterator, MutableMapping
from typing import TYPE_CHECKING, Any

from .cookies import CookieOptions
from .errors import DecodeError

if TYPE_CHECKING:
    from .stores.base import Store

__all__ = ["FLASH_KEY", "Session", "SessionState"]

#: Where flashes live when no key is given (gorilla's ``flashesKey``).
FLASH_KEY = "_flash"


class SessionState(enum.Enum):
    """What the store must do with a session when it is saved."""

    CLEAN = "clean"  # nothing changed: no need to save
    MODIFIED = "modified"  # values (or options) changed
    INVALIDATED = "invalidated"  # delete it: record and cookie


class Session(MutableMapping[Hashable, Any]):
    """The values of one named session, plus what the store needs to save it.

    Any hashable key works (``session[42] = 43``). Changes made through the mapping methods are
    tracked, so an unmodified session is not saved again; a change inside a nested value is not
    seen: call :meth:`mark_modified` after ``session["cart"].append(x)``.

    Sessions are made by stores (:meth:`Store.new <websession.stores.base.Store.new>`) and
    registries, not directly.

    Attributes:
        name: the cookie name.
        id: the server-side session id, or None (cookie sessions, and before the first save).
        options: this session's own copy of its store's :class:`CookieOptions`; change
            ``options.max_age`` for "remember me".
        is_new: True unless the values came from a valid cookie (and record).
        store: the store that made the session and saves it.
        rejected: why the request's cookie was not trusted (a :class:`DecodeError`), or None.
        issued_at: when the loaded cookie or record was sealed (seconds since the epoch), or None.
    """

    __slots__ = (
        "_data",
        "_state",
        "accessed",
        "backend_key",
        "id",
        "id_cookie",
        "is_new",
        "issued_at",
        "name",
        "needs_reseal",
        "old_id",
        "options",
        "rejected",
        "store",
        "version",
    )

    def __init__(
        self,
        name: str,
        store: Store | None = None,
        *,
        options: CookieOptions | None = None,
        values: dict[Hashable, Any] | None = None,
        id: str | None = None,
        is_new: bool = True,
    ) -> None:
        self.name = name
        self.store = store
        self.options = options if options is not None else CookieOptions()
        self._data: dict[Hashable, Any] = values if values is not None else {}
        self.id = id
        self.is_new = is_new
        self.rejected: DecodeError | None = None
        self.issued_at: int | None = None
        #: an older key opened the cookie or record: the next save re-seals it with the newest
        self.needs_reseal = False
        #: the id before :meth:`regenerate_id`, whose record the next save deletes
        self.old_id: str | None = None
        #: the record's version when loaded (optimistic concurrency), or None
        self.version: int | None = None
        #: where the backend keeps the record (set by server-side stores)
        self.backend_key: str | None = None
        #: the cookie value that carries this id, reused by saves while the id and key stay
        self.id_cookie: str | None = None
        self._state = SessionState.CLEAN
        self.accessed = False

    # -- the mapping -------------------------------------------------------------------------
    def __getitem__(self, key: Hashable) -> Any:
        self.accessed = True
        return self._data[key]

    def __setitem__(self, key: Hashable, value: Any) -> None:
        self.accessed = True
        self._data[key] = value
        self.mark_modified()

    def __delitem__(self, key: Hashable) -> None:
        self.accessed = True
        del self._data[key]
        self.mark_modified()

    def __iter__(self) -> Iterator[Hashable]:
        self.accessed = True
        return iter(self._data)

    def __len__(self) -> int:
        self.accessed = True
        return len(self._data)

    def __contains__(self, key: object) -> bool:
        self.accessed = True
        return key in self._data

    def get(self, key: Hashable, default: Any = None) -> Any:
        self.accessed = True
        return self._data.get(key, default)

    def clear(self) -> None:
        self.accessed = True
        if self._data:
            self._data.clear()
            self.mark_modified()

    def __repr__(self) -> str:
        return f"<Session {self.name!r} id={self.id!r} new={self.is_new} {self._data!r}>"

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Session):
            return self._data == other._data
        if isinstance(other, dict):
            return self._data == other
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]

    def to_dict(self) -> dict[Hashable, Any]:
        """The values as a plain dict (the session's own; do not mutate it behind its back)."""
        return self._data

    # -- change tracking ---------------------------------------------------------------------
    @property
    def modified(self) -> bool:
        """True when the next save has something to write (or delete).

        Setting ``options.max_age`` below 0 counts: the save must delete the session.
        """
        return self.state is not SessionState.CLEAN

    @modified.setter
    def modified(self, value: bool) -> None:
        if value:
            self.mark_modified()
        elif self._state is SessionState.MODIFIED:
            self._state = SessionState.CLEAN

    @property
    def state(self) -> SessionState:
        """What saving will do: nothing, write, or delete."""
        if self.options.max_age < 0:
            return SessionState.INVALIDATED
        if self._state is SessionState.CLEAN and self.needs_reseal:
            return SessionState.MODIFIED
        return self._state

    def mark_modified(self) -> None:
        """Say the session changed (needed after mutating a nested value in place)."""
        if self._state is not SessionState.INVALIDATED:
            self._state = SessionState.MODIFIED

    def mark_saved(self) -> None:
        """Called by stores after a successful save."""
        self._state = SessionState.CLEAN
        self.needs_reseal = False
        self.old_id = None
        self.is_new = False

    # -- flashes -----------------------------------------------------------------------------
    def add_flash(self, value: Any, key: str = FLASH_KEY) -> None:
        """Add a flash message: a value that lasts until it is read with :meth:`flashes`."""
        current = self._data.get(key)
        if current is None:
            self._data[key] = [value]
        elif isinstance(current, list):
            current.append(value)
        elif isinstance(current, tuple):  # a serializer that gives sequences back as tuples
            self._data[key] = [*current, value]
        else:
            raise TypeError(
                f"session[{key!r}] holds a {type(current).__name__}, not a list of flashes"
            )
        self.accessed = True
        self.mark_modified()

    def flashes(self, key: str = FLASH_KEY) -> list[Any]:
        """Return the flashes under ``key`` and remove them (``[]`` when there are none).

        They are gone for the next request once the session is saved.
        """
        self.accessed = True
        if key not in self._data:
            return []
        current = self._data.pop(key)
        self.mark_modified()
        if isinstance(current, list):
            return current
        if isinstance(current, tuple):
            return list(current)
        return [current]

    def peek_flashes(self, key: str = FLASH_KEY) -> list[Any]:
        """Return the flashes under ``key`` without removing them."""
        current = self._data.get(key)
        return list(current) if isinstance(current, (list, tuple)) else []

    # -- lifecycle ---------------------------------------------------------------------------
    def regenerate_id(self) -> None:
        """Give the session a new id on its next save and delete the old record then.

        Call it when privileges change (log in, log out) to defeat session fixation. For a
        cookie session the next save issues a fresh cookie.
        """
        if self.id is not None and self.old_id is None and not self.is_new:
            self.old_id = self.id
        self.id = None
        self.mark_modified()

    def invalidate(self) -> None:
        """Delete the session on its next save: its values, its record and its cookie."""
        self._data.clear()
        self.options.max_age = -1
        self._state = SessionState.INVALIDATED

    def load(self, values: dict[Hashable, Any], *, issued_at: int | None, stale: bool) -> None:
        """Called by stores: adopt values that decoded from a trusted cookie or record."""
        self._data = values
        self.is_new = False
        self.issued_at = issued_at
        self.needs_reseal = stale
        self.rejected = None
        self._state = SessionState.CLEAN

    def reject(self, error: DecodeError) -> None:
        """Called by stores: the cookie was not trusted; the session starts empty."""
        self.rejected = error

    @property
    def reason(self) -> str | None:
        """Why the request's cookie was rejected (``"expired"``, ``"invalid_signature"``...)."""
        return self.rejected.reason if self.rejected is not None else None

    def save(self) -> str:
        """Save through the session's store and return the Set-Cookie header value."""
        if self.store is None:
            raise RuntimeError("this session has no store to save it")
        return self.store.save(self)

    async def asave(self) -> str:
        """Async twin of :meth:`save`."""
        if self.store is None:
            raise RuntimeError("this session has no store to save it")
        return await self.store.asave(self)
