"""Revocable cookie sessions: what ``CookieStore(..., revocations=backend)`` keeps and checks.

A cookie session lives in its cookie: without help from a server, a copy of the cookie opens
until it expires, whatever ``invalidate()``, ``regenerate_id()`` or "log out everywhere" did.
With a revocations backend (any :class:`~websession.Backend` with an owner index: Redis, SQL,
memory for one process...), each cookie session carries a sealed revocation id (``rid``: when
its lineage began, in microseconds, and 9 random bytes), and the backend holds three small things:

- per owner, one record ``revoked-owner-<owner key>``: an **epoch** (``revoke()`` time: every
  cookie of that owner whose lineage began before it is revoked), the one revocation id kept
  by ``revoke(owner, keep=session)``, and the revocation ids ended one by one
  (``invalidate()``/``regenerate_id()``), each until its cookie would have expired anyway;
- per ended anonymous session (no owner), one record ``revoked-rid-<hash>`` that lives as long
  as that cookie could;
- the owner index (``sessions_for``): one entry per live cookie session of an owner, written
  on each save.

A load reads ONE small record: the owner's (or, for a session without an owner, its own
``revoked-rid-`` record), and remembers the answer for ``cache_seconds`` (5 by default) per
process. Why 5: a page view is a burst of requests (the page, its XHRs, assets behind the same
middleware) that then cost one read per worker instead of one each, while a revoked cookie
keeps working in *other* worker processes for at most those 5 seconds; the process that
revoked sees it at once (it updates its own cache). ``cache_seconds=0`` reads every time.

Writes are read-modify-write with the record's version (``set(..., if_version=)``), retried
on a conflict, so concurrent revocations of one owner do not lose each other.
"""

from __future__ import annotations

import base64
import hashlib
import logging
import os
import threading
import time
from collections.abc import Callable, Generator
from typing import Any

import msgpack

from ..backends.base import Backend, Record
from ..errors import ConflictError
from ..session import Session, SessionState
from .owners import SessionInfo, check_owner, owner_key, pack_entry, unpack_entry

__all__ = ["Revocations", "born_of", "make_rid", "rid_key"]

log = logging.getLogger("websession")

_Op = tuple[str, tuple[Any, ...], dict[str, Any]]
Steps = Generator[_Op, Any, Any]
_NO: dict[str, Any] = {}

#: a revocation record outlives any cookie it may have to refuse (browsers cap cookies at 400
#: days; a store's lifetime may be longer)
_MIN_RECORD_TTL = 400 * 86400
_ATTEMPTS = 8
_CACHE_LIMIT = 10000


def _micros(seconds: float) -> int:
    return int(seconds * 1_000_000)


def make_rid(born: int) -> str:
    """A revocation id: its lineage's birth (µs, 7 bytes) and 9 random bytes, base64url."""
    raw = born.to_bytes(7, "big") + os.urandom(9)
    return base64.urlsafe_b64encode(raw).decode("ascii")


def born_of(rid: str) -> int | None:
    """When ``rid``'s lineage began (µs since the epoch), or None if it is not a revocation id."""
    try:
        raw = base64.urlsafe_b64decode(rid.encode("ascii"))
    except (ValueError, UnicodeEncodeError):
        return None
    return int.from_bytes(raw[:7], "big") if len(raw) == 16 else None


def rid_key(rid: str) -> str:
    """The non-secret handle of a revocation id (its hash): index key and ``session.id_hash``."""
    digest = hashlib.sha256(b"websession rid\x00" + rid.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).decode("ascii").rstrip("=")


def _owner_record(okey: str) -> str:
    return "revoked-owner-" + okey


def _rid_record(key: str) -> str:
    return "revoked-rid-" + key


class _OwnerState:
    """What an owner's record holds: epoch, the kept id, the ids ended one by one."""

    __slots__ = ("epoch", "keep", "revoked")

    def __init__(
        self, epoch: int = 0, keep: str | None = None, revoked: dict[str, list[int]] | None = None
    ) -> None:
        self.epoch = epoch
        self.keep = keep
        self.revoked: dict[str, list[int]] = revoked if revoked is not None else {}

    @classmethod
    def parse(cls, record: Record | None) -> _OwnerState:
        if record is None:
            return cls()
        try:
            body = msgpack.unpackb(record.data, raw=False)
            revoked = {str(k): [int(v[0]), int(v[1])] for k, v in dict(body.get("r") or {}).items()}
            keep = body.get("k")
            return cls(int(body.get("e") or 0), keep if isinstance(keep, str) else None, revoked)
        except (ValueError, TypeError, AttributeError, IndexError, msgpack.UnpackException):
            log.warning("websession: unreadable revocation record; treating it as empty")
            return cls()

    def pack(self) -> bytes:
        packed: bytes = msgpack.packb({"e": self.epoch, "k": self.keep, "r": self.revoked})
        return packed

    def prune(self, now_us: int) -> None:
        """Drop ids that expired, and those the epoch ends anyway."""
        self.revoked = {
            k: v
            for k, v in self.revoked.items()
            if v[1] > now_us and (v[0] > self.epoch or k == self.keep)
        }

    def refuses(self, key: str | None, born: int, now_us: int) -> bool:
        if born <= self.epoch and (key is None or key != self.keep):
            return True
        ended = self.revoked.get(key) if key is not None else None
        return ended is not None and ended[1] > now_us


class Revocations:
    """The revocation state of cookie sessions, over a backend (see the module docs)."""

    def __init__(
        self,
        backend: Backend,
        *,
        cache_seconds: float = 5.0,
        clock: Callable[[], float] | None = None,
        lifetime: int,
    ) -> None:
        if cache_seconds < 0:
            raise ValueError("cache_seconds must be 0 or more")
        self.backend = backend
        self.cache_seconds = cache_seconds
        self.clock: Callable[[], float] = clock if clock is not None else time.time
        self.record_ttl = max(lifetime, _MIN_RECORD_TTL)
        self._cache: dict[str, tuple[float, Any]] = {}
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"<Revocations backend={self.backend!r} cache={self.cache_seconds}s>"

    # -- the cache ---------------------------------------------------------------------------
    def _cached(self, key: str) -> tuple[bool, Any]:
        hit = self._cache.get(key)
        if hit is not None and time.monotonic() - hit[0] < self.cache_seconds:
            return True, hit[1]
        return False, None

    def _remember(self, key: str, value: Any) -> None:
        with self._lock:
            if len(self._cache) >= _CACHE_LIMIT:
                self._cache.clear()  # cheap and bounded; the next loads refill it
            self._cache[key] = (time.monotonic(), value)

    def _owner_state(self, okey: str) -> Steps:
        hit, state = self._cached(_owner_record(okey))
        if hit:
            return state
        record = yield ("get", (_owner_record(okey),), _NO)
        state = _OwnerState.parse(record)
        self._remember(_owner_record(okey), state)
        return state

    # -- loading -----------------------------------------------------------------------------
    def refuses(self, session: Session) -> Steps:
        """True when the loaded ``session`` was revoked (one read, or none when cached)."""
        revocation = session._revocation
        if revocation is None:
            return False
        rid, born, okey = revocation
        key = rid_key(rid) if rid else None
        now_us = _micros(self.clock())
        if okey is not None:
            state: _OwnerState = yield from self._owner_state(okey)
            return state.refuses(key, born, now_us)
        if key is None:
            return False  # an anonymous cookie from before revocations: nothing to check
        hit, ended = self._cached(_rid_record(key))
        if not hit:
            record = yield ("get", (_rid_record(key),), _NO)
            ended = record is not None
            self._remember(_rid_record(key), ended)
        return bool(ended)

    # -- saving ------------------------------------------------------------------------------
    def _end_one(self, revocation: tuple[str, int, str | None], ttl: int) -> Steps:
        """Revoke one cookie session (invalidate, regenerate_id) until its cookie expires."""
        rid, born, okey = revocation
        if not rid:
            return  # from before revocations: no id to revoke (the owner's epoch still works)
        key = rid_key(rid)
        now_us = _micros(self.clock())
        if okey is not None:

            def end(state: _OwnerState) -> None:
                state.revoked[key] = [born, now_us + ttl * 1_000_000]

            yield from self._update_owner(okey, end)
            yield ("unindex", (okey, key), _NO)
        else:
            yield ("set", (_rid_record(key), b"1", ttl), _NO)
            self._remember(_rid_record(key), True)

    def _update_owner(self, okey: str, change: Callable[[_OwnerState], None]) -> Steps:
        """Read-modify-write the owner's record, retried when another writer got there first."""
        name = _owner_record(okey)
        for _attempt in range(_ATTEMPTS):
            record: Record | None = yield ("get", (name,), _NO)
            state = _OwnerState.parse(record)
            state.prune(_micros(self.clock()))
            change(state)
            data = state.pack()
            if record is None:
                # nothing to compare a version with: write, then read back to see that no
                # concurrent first write replaced ours
                yield ("set", (name, data, self.record_ttl), _NO)
                check: Record | None = yield ("get", (name,), _NO)
                if check is None or check.data != data:
                    continue
            else:
                version = yield (
                    "set",
                    (name, data, self.record_ttl),
                    {"if_version": record.version},
                )
                if version is None:
                    continue
            self._remember(name, state)
            return state
        raise ConflictError("the revocation record kept changing under concurrent writers")

    def assign(self, session: Session, ttl: int) -> Steps:
        """Before a save: end what must end, give the session its revocation id; return it."""
        revocation = session._revocation
        now_us = _micros(self.clock())
        if session.state is SessionState.INVALIDATED:
            if revocation is not None:
                yield from self._end_one(revocation, ttl)
            session.id = None
            session._backend_key = None
            session._revocation = None
            return None
        rid = session.id
        owner = session.owner
        okey = owner_key(owner) if owner is not None else None
        # the owner changed (log in, log out, another user) since the cookie was made: a new
        # lineage, so another owner's epoch never reaches back to this session's past
        moved = revocation is not None and revocation[2] != okey
        if rid is None or revocation is None or rid != revocation[0] or moved:
            born = now_us
            if revocation is not None and revocation[0] and (rid is None or moved):
                # regenerate_id() or a new owner: the old cookie ends
                old_rid, old_born, old_okey = revocation
                yield from self._end_one(revocation, ttl)
                if rid is None and not moved:
                    # same owner: the lineage keeps its birth, so a revoke() that raced this
                    # request still ends it; unless it is the one revoke(keep=) spared
                    born = old_born
                    if old_okey is not None:
                        state: _OwnerState = yield from self._owner_state(old_okey)
                        if state.keep == rid_key(old_rid):
                            born = max(now_us, state.epoch + 1)
            rid = make_rid(born)
            session.id = rid
        session._backend_key = rid_key(rid)
        return rid

    def index(self, session: Session, ttl: int) -> Steps:
        """After a save: the owner index entry; remember what the cookie now carries."""
        rid = session.id
        if rid is None:
            return
        key = rid_key(rid)
        born = born_of(rid) or _micros(self.clock())
        owner = session.owner
        okey = owner_key(owner) if owner is not None else None
        previous = session._revocation
        if previous is not None and previous[2] is not None and previous[2] != okey:
            yield ("unindex", (previous[2], rid_key(previous[0]) if previous[0] else key), _NO)
        if okey is not None:
            now = self.clock()
            entry = pack_entry(session.created_at, now, now + ttl, session.device)
            yield ("index", (okey, key, entry, ttl), _NO)
        session._revocation = (rid, born, okey)

    # -- the owner API -----------------------------------------------------------------------
    def revoke(self, owner: str, keep: Session | None) -> Steps:
        """End every cookie session of ``owner`` but ``keep``; return how many were listed."""
        okey = owner_key(check_owner(owner))
        now_us = _micros(self.clock())
        keep_key: str | None = None
        if keep is not None and keep.owner == owner:
            if keep.id is None or keep._revocation is None or keep.id != keep._revocation[0]:
                # new, or regenerate_id() pending: its cookie-to-be is the one to keep (the old
                # one, if any, is older than the epoch and ends with the others)
                keep.id = make_rid(now_us)
                old_okey = keep._revocation[2] if keep._revocation is not None else None
                keep._revocation = (keep.id, now_us, old_okey)
                keep.mark_modified()
            keep_key = rid_key(keep.id)

        def cut(state: _OwnerState) -> None:
            state.epoch = now_us
            state.keep = keep_key
            state.prune(now_us)

        yield from self._update_owner(okey, cut)
        entries: list[tuple[str, bytes]] = yield ("owned", (okey,), _NO)
        ended = 0
        for key, _entry in entries:
            if key != keep_key:
                yield ("unindex", (okey, key), _NO)
                ended += 1
        return ended

    def sessions_for(self, owner: str) -> Steps:
        okey = owner_key(check_owner(owner))
        entries: list[tuple[str, bytes]] = yield ("owned", (okey,), _NO)
        state: _OwnerState = yield from self._owner_state(okey)
        now_us = _micros(self.clock())
        found = [
            unpack_entry(key, entry)
            for key, entry in entries
            if key not in state.revoked or state.revoked[key][1] <= now_us
        ]
        listed: list[SessionInfo] = sorted(found, key=lambda i: i.saved_at, reverse=True)
        return listed
