"""The Session: a dict of values with a name, an id, cookie options and flashes."""

from __future__ import annotations

import copy
import enum
from collections.abc import Hashable, Iterable, Iterator
from typing import TYPE_CHECKING, Any

from .cookies import CookieOptions
from .errors import DecodeError

if TYPE_CHECKING:
    from _collections_abc import dict_items, dict_keys, dict_values

    from .stores.base import Store

__all__ = ["FLASH_KEY", "Session", "SessionState", "values_of"]

#: Where flashes live when no key is given (gorilla's ``flashesKey``).
FLASH_KEY = "_flash"


class SessionState(enum.Enum):
    """What the store must do with a session when it is saved."""

    CLEAN = "clean"  # nothing changed: no need to save
    MODIFIED = "modified"  # values (or options) changed
    INVALIDATED = "invalidated"  # delete it: record and cookie


_CLEAN = SessionState.CLEAN
_MODIFIED = SessionState.MODIFIED


# dict's own methods, called on the session itself: they read or write its items without going
# through the overrides below (no change tracking, no ``accessed``): for stores and internals.
_getitem = dict.__getitem__
_setitem = dict.__setitem__
_delitem = dict.__delitem__
_get = dict.get
_pop = dict.pop
_clear = dict.clear
_update = dict.update
_iter = dict.__iter__
_len = dict.__len__
_contains = dict.__contains__
_items = dict.items
_keys = dict.keys
_values = dict.values
_eq = dict.__eq__
_ne = dict.__ne__
_repr = dict.__repr__
_MISSING: Any = object()


def values_of(session: Session) -> dict[Hashable, Any]:
    """A plain-dict copy of the session's values, without marking it accessed (for stores)."""
    return dict(_items(session))


class Session(dict[Hashable, Any]):
    """The values of one named session (a ``dict``), plus its name, id, options and flashes.

    It is a real ``dict`` subclass: ``json.dumps(session)``, ``dict(session)``, ``session |
    other``, ``session |= other`` and equality with a dict work as for any dict, and ``copy()``
    and ``|`` return plain dicts. Any hashable key works (``session[42] = 43``).

    Every method of dict that changes the items marks the session modified, so an unmodified
    session is not saved again, and every method that reads them marks it ``accessed`` (the
    response then varies by cookie). A change inside a nested value is not seen: call
    :meth:`mark_modified` after ``session["cart"].append(x)``.

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
        issued_at: when the loaded cookie or record was sealed, that is the session's last
            save (seconds since the epoch), or None for a new session.
        created_at: when the session was first made (seconds since the epoch); sealed with
            it, so it survives saves and :meth:`regenerate_id`. None when the store cannot keep
            it (gorilla-compatible codecs seal the bare values, as Go expects).
        accessed: True once the values were read or written during this request.
        device: what the application says about the device this session is on (e.g.
            ``{"user_agent": ...}``), sealed with the session (not in gorilla mode) and listed by
            ``store.sessions_for(owner)`` ("your devices"); None by default. Small values of
            the serializer's types; set it, then save.

    Everything else on a session (the record's key and version, the cookie a save can send
    again, whether an older key sealed it) is the store's bookkeeping, kept in underscore
    attributes that only stores use.
    """

    __slots__ = (
        "_backend_key",
        "_id_cookie",
        "_needs_reseal",
        "_owner",
        "_revocation",
        "_state",
        "_version",
        "accessed",
        "created_at",
        "device",
        "id",
        "is_new",
        "issued_at",
        "name",
        "options",
        "rejected",
        "store",
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
        created_at: int | None = None,
    ) -> None:
        if values:
            _update(self, values)
        self.name = name
        self.store = store
        self.options = options if options is not None else CookieOptions()
        self.id = id
        self.is_new = is_new
        self.rejected: DecodeError | None = None
        self.issued_at: int | None = None
        self.created_at = created_at
        self._owner: str | None = None
        self.device: dict[str, Any] | None = None
        # The store's bookkeeping:
        #: an older key opened the cookie or record: the next save re-seals it with the newest
        self._needs_reseal = False
        #: the record's version when loaded (optimistic concurrency), or None
        self._version: int | None = None
        #: where the backend keeps the record (server-side stores); the next save deletes it
        #: when the id changed (regenerate_id)
        self._backend_key: str | None = None
        #: the cookie value that carries this id, reused by saves while the id and key stay
        self._id_cookie: str | None = None
        #: a revocable cookie session's (revocation id, its birth in µs, owner key at load)
        self._revocation: tuple[str, int, str | None] | None = None
        self._state = SessionState.CLEAN
        self.accessed = False

    @property
    def id_hash(self) -> str | None:
        """A stable handle of this session that is safe to show (not a credential), or None.

        Compare it with :attr:`SessionInfo.id_hash <websession.SessionInfo.id_hash>` in
        ``store.sessions_for(owner)`` to mark "this device". Server-side stores: the record's
        key (a keyed hash of the id); cookie sessions with revocations: a hash of their
        revocation id; None before the first save and for other cookie sessions.
        """
        return self._backend_key

    @property
    def owner(self) -> str | None:
        """Who the session belongs to (any string, e.g. ``"user-42"``), or None.

        Sealed with the session (cookie and record alike), so it is restored on every later
        request; "log out everywhere" finds a user's sessions by it. Setting it marks the
        session modified.
        """
        return self._owner

    @owner.setter
    def owner(self, value: str | None) -> None:
        if value is not None and not isinstance(value, str):
            raise TypeError(f"session.owner must be a str or None, not {type(value).__name__}")
        if value != self._owner:
            self._owner = value
            self.mark_modified()

    # -- the mapping: reads mark the session accessed ------------------------------------------
    # Each override calls dict's own method on ``self`` (module-level aliases: the cheapest call
    # from Python), so the items live in the dict itself and the C-level readers (``json``,
    # ``dict(session)``, msgpack) see them.
    def __getitem__(self, key: Hashable) -> Any:
        self.accessed = True
        return _getitem(self, key)

    def get(self, key: Hashable, default: Any = None) -> Any:
        """As :meth:`dict.get`; counts as reading the session (``accessed``)."""
        self.accessed = True
        return _get(self, key, default)

    def __contains__(self, key: object) -> bool:
        self.accessed = True
        return _contains(self, key)

    def __iter__(self) -> Iterator[Hashable]:
        self.accessed = True
        return _iter(self)

    def __reversed__(self) -> Iterator[Hashable]:
        self.accessed = True
        return dict.__reversed__(self)

    def __len__(self) -> int:
        self.accessed = True
        return _len(self)

    def keys(self) -> dict_keys[Hashable, Any]:
        """As :meth:`dict.keys`; counts as reading the session."""
        self.accessed = True
        return _keys(self)

    def values(self) -> dict_values[Hashable, Any]:
        """As :meth:`dict.values`; counts as reading the session."""
        self.accessed = True
        return _values(self)

    def items(self) -> dict_items[Hashable, Any]:
        """As :meth:`dict.items`; counts as reading the session."""
        self.accessed = True
        return _items(self)

    def copy(self) -> dict[Hashable, Any]:
        """The values as a new plain dict."""
        self.accessed = True
        return dict(_items(self))

    # copy.copy, copy.deepcopy and pickle see the values, as a plain dict: the store a session
    # belongs to (keys, connections) is neither copied nor pickled.
    def __copy__(self) -> dict[Hashable, Any]:
        return self.copy()

    def __deepcopy__(self, memo: dict[int, Any]) -> dict[Hashable, Any]:
        self.accessed = True
        return copy.deepcopy(dict(_items(self)), memo)

    def __reduce__(self) -> tuple[type[dict[Hashable, Any]], tuple[dict[Hashable, Any]]]:
        self.accessed = True
        return (dict, (dict(_items(self)),))

    def __or__(self, other: Any) -> Any:
        if not isinstance(other, dict):
            return NotImplemented
        self.accessed = True
        merged = dict(_items(self))
        merged.update(other)
        return merged

    def __ror__(self, other: Any) -> Any:
        if not isinstance(other, dict):
            return NotImplemented
        self.accessed = True
        merged = dict(other)
        _update(merged, _items(self))
        return merged

    def __eq__(self, other: object) -> bool:
        self.accessed = True
        return _eq(self, other)

    def __ne__(self, other: object) -> bool:
        self.accessed = True
        return _ne(self, other)

    __hash__ = None

    def __repr__(self) -> str:
        self.accessed = True
        return f"<Session {self.name!r} id={self.id!r} new={self.is_new} {_repr(self)}>"

    @classmethod
    def fromkeys(cls, iterable: Iterable[Hashable], value: Any = None) -> dict[Hashable, Any]:  # type: ignore[override]
        """A plain dict (a session is only made by a store)."""
        return dict.fromkeys(iterable, value)

    # -- the mapping: writes mark the session modified -------------------------------------------
    # ``mark_modified`` is inlined in the hot ones (a method call per write costs more than the
    # write). The test suite lists dict's methods by introspection and fails on any mutating
    # one not overridden here, so a method added by a future Python cannot bypass the tracking.
    def __setitem__(self, key: Hashable, value: Any) -> None:
        self.accessed = True
        _setitem(self, key, value)
        if self._state is _CLEAN:
            self._state = _MODIFIED

    def __delitem__(self, key: Hashable) -> None:
        self.accessed = True
        _delitem(self, key)
        if self._state is _CLEAN:
            self._state = _MODIFIED

    def pop(self, key: Hashable, default: Any = _MISSING) -> Any:
        """As :meth:`dict.pop`; marks the session modified when a key was removed."""
        # Popping a key that is not there neither reads nor changes the session (Starlette's
        # own Session test asks the same of a drop-in).
        if _contains(self, key):
            self.accessed = True
            self.mark_modified()
            return _pop(self, key)
        if default is _MISSING:
            raise KeyError(key)
        return default

    def popitem(self) -> tuple[Hashable, Any]:
        """As :meth:`dict.popitem`; marks the session modified."""
        self.accessed = True
        item = dict.popitem(self)  # KeyError when empty: nothing changed
        self.mark_modified()
        return item

    def setdefault(self, key: Hashable, default: Any = None) -> Any:
        """As :meth:`dict.setdefault`; marks the session modified when the key was added."""
        self.accessed = True
        if _contains(self, key):
            return _getitem(self, key)
        _setitem(self, key, default)
        self.mark_modified()
        return default

    def update(self, other: Any = (), /, **kwargs: Any) -> None:
        """As :meth:`dict.update`; marks the session modified when given anything."""
        self.accessed = True
        if kwargs or other:
            self.mark_modified()
        _update(self, other, **kwargs)

    def __ior__(self, other: Any) -> Session:
        self.accessed = True
        self.mark_modified()
        _update(self, other)
        return self

    def clear(self) -> None:
        """As :meth:`dict.clear`; marks the session modified when it had values."""
        self.accessed = True
        if _len(self):
            _clear(self)
            self.mark_modified()

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
        if self._state is SessionState.CLEAN and self._needs_reseal:
            return SessionState.MODIFIED
        return self._state

    def mark_modified(self) -> None:
        """Say the session changed (needed after mutating a nested value in place)."""
        if self._state is not SessionState.INVALIDATED:
            self._state = SessionState.MODIFIED

    def mark_saved(self) -> None:
        """Called by stores after a successful save."""
        self._state = SessionState.CLEAN
        self._needs_reseal = False
        self.is_new = False

    # -- flashes -----------------------------------------------------------------------------
    def add_flash(self, value: Any, key: str = FLASH_KEY) -> None:
        """Add a flash message: a value that lasts until it is read with :meth:`flashes`."""
        current = _get(self, key)
        if current is None:
            _setitem(self, key, [value])
        elif isinstance(current, list):
            current.append(value)
        elif isinstance(current, tuple):  # a serializer that gives sequences back as tuples
            _setitem(self, key, [*current, value])
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
        if not _contains(self, key):
            return []
        current = _pop(self, key)
        self.mark_modified()
        if isinstance(current, list):
            return current
        if isinstance(current, tuple):
            return list(current)
        return [current]

    def peek_flashes(self, key: str = FLASH_KEY) -> list[Any]:
        """Return the flashes under ``key`` without removing them."""
        self.accessed = True
        current = _get(self, key)
        return list(current) if isinstance(current, (list, tuple)) else []

    # -- lifecycle ---------------------------------------------------------------------------
    def regenerate_id(self) -> None:
        """Give the session a new id on its next save and delete the old record then.

        Call it when privileges change (log in, log out) to defeat session fixation. For a
        cookie session the next save issues a fresh cookie.
        """
        self.id = None
        self.mark_modified()

    def invalidate(self) -> None:
        """Delete the session on its next save: its values, its record and its cookie."""
        _clear(self)
        self.options.max_age = -1
        self._state = SessionState.INVALIDATED

    def load(self, values: dict[Hashable, Any], *, issued_at: int | None, stale: bool) -> None:
        """Called by stores: adopt values that decoded from a trusted cookie or record."""
        if _len(self):
            _clear(self)
        _update(self, values)
        self.is_new = False
        self.issued_at = issued_at
        self._needs_reseal = stale
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
