"""ServerStore: the cookie holds a sealed session id; the data lives in a Backend.

How a session is kept, with ``secret_keys`` (the default, "sealed" mode):

- the id is 256 random bits (52 base32 characters), sealed into the cookie by the codec;
- the backend key is a keyed hash of the id (HMAC-SHA256 under a key derived from the secret
  that sealed the cookie), so a database dump yields no usable cookie;
- the data is sealed with the same secrets, the id bound in as associated data, so a dump yields
  no readable data and records cannot be swapped between ids.

With ``codecs`` (gorilla-compatible mode) the id is the backend key and the data is encoded by
the codecs under the session name, exactly as gorilla/sessions' FilesystemStore does.

The store's logic is written once, as generators that yield backend operations (sans-IO);
:func:`_run` and :func:`_arun` carry those operations out synchronously or asynchronously.
"""

from __future__ import annotations

import base64
import copy
import dataclasses
import inspect
import logging
import os
import re
import time
from collections.abc import Callable, Generator, Sequence
from typing import Any, NamedTuple

from .._defaults import BROWSER_SESSION_TTL
from ..backends.base import Backend, OwnerIndex, PurgeProgress, Record, owner_index_of
from ..codecs.base import Codec, decode_details_multi, encode_multi
from ..codecs.keys import KeyedHash, SecretKeys, derive_key, normalize_secrets
from ..codecs.sealed import SealedCookie
from ..cookies import CookieOptions
from ..errors import (
    ConflictError,
    DecodeError,
    EncodeError,
    Malformed,
    SessionNotFound,
    StoreUnavailable,
)
from ..events import EventHook
from ..legacy._base import LegacyReader
from ..serializers.base import Serializer
from ..session import Session, SessionState
from .base import BaseStore, apply_meta, pack_values, unpack_values
from .cookie import build_codecs, with_limits
from .owners import SessionInfo, check_owner, owner_key, pack_entry, unpack_entry

__all__ = ["ServerStore", "new_session_id"]

log = logging.getLogger("websession")

_ID = re.compile(r"[A-Za-z0-9_-]{16,128}")
_DATA_PREFIX = "data:"  # ':' is not a cookie-name character: data AAD never equals a cookie's


def _takes_progress(method: Callable[..., Any]) -> bool:
    """Whether a backend's purge takes a progress callback (third-party ones may not)."""
    try:
        return len(inspect.signature(method).parameters) >= 1
    except (TypeError, ValueError):  # a builtin without a signature
        return False


def new_session_id() -> str:
    """256 random bits as 52 base32 characters, the format gorilla/sessions uses."""
    return base64.b32encode(os.urandom(32)).decode("ascii").rstrip("=")


#: one backend call, as the steps yield it: (method name, positional arguments, keyword
#: arguments). A plain tuple written out where it is yielded: a NamedTuple or a helper call
#: costs a Python-level call per operation, on every load and save.
_Op = tuple[str, tuple[Any, ...], dict[str, Any]]
_NO_KWARGS: dict[str, Any] = {}


Steps = Generator[_Op, Any, Any]


def _run(steps: Steps, backend: Backend) -> Any:
    try:
        method, args, kwargs = next(steps)
        while True:
            method, args, kwargs = steps.send(getattr(backend, method)(*args, **kwargs))
    except StopIteration as stop:
        return stop.value


async def _arun(steps: Steps, backend: Backend) -> Any:
    try:
        method, args, kwargs = next(steps)
        while True:
            result = await getattr(backend, "a" + method)(*args, **kwargs)
            method, args, kwargs = steps.send(result)
    except StopIteration as stop:
        return stop.value


class _Opened(NamedTuple):
    """What a verified id cookie holds, and where its record lives."""

    session_id: str
    key_index: int
    issued_at: int
    key: str


#: how long a record is kept past its session's idle or absolute timeout (see ServerStore._ttl)
_TIMED_OUT_KEPT = 3600

#: how many verified id cookies a store remembers (see ServerStore._remember)
_OPENED_CACHE = 4096


class ServerStore(BaseStore):
    """A session id in the cookie; the session's data in a :class:`~websession.Backend`.

    Args:
        backend: where records live (memory, files, Redis, SQL, ...).
        secret_keys: a secret or a list of them, newest first: seal the cookie, the data, and
            key the id hash. Records sealed with an older secret are re-sealed (and re-keyed) on
            their next save.
        codecs: instead of ``secret_keys``, gorilla-compatible codecs (see module docs).
        options: the cookie options every session starts with (a copy each).
        ttl: how long a record lives after its last save when its cookie is a browser-session
            cookie (``max_age == 0``; 1 day by default); otherwise a record lives ``max_age``
            seconds.
        idle_timeout: reject a session last saved more than this many seconds ago (reason
            ``"idle_timeout"``) and delete its record; None (the default) for no limit. A
            request that only reads a session does not save it: with a middleware's
            ``refresh_each_request`` every request counts.
        absolute_timeout: reject a session created more than this many seconds ago, however
            often it was saved since (reason ``"absolute_timeout"``), and delete its record;
            None for no limit. Needs the sealed format (not gorilla codecs).
        rolling: extend a record's life on every load, not only on save (Redis ``GETEX``).
        optimistic: check a record's version on save: a session changed by another request since
            it was loaded raises :class:`~websession.ConflictError` instead of losing the other
            request's update.
        clock: time source for cookie expiry.
        legacy: readers of the sessions of the library being replaced
            (:mod:`websession.legacy`): adopted once, then saved under a new id.
        serializer: how a record's values become bytes before sealing (msgpack by default;
            e.g. ``JSONSerializer(go_compatible=False)`` for JSON's value types, as Django's).
        on_event: a callable that receives each load, save, outage and conflict as an event
            (:mod:`websession.events`; :func:`websession.metrics.prometheus` makes one).
    """

    def __init__(
        self,
        backend: Backend,
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
        on_event: EventHook | None = None,
    ) -> None:
        self.gorilla = codecs is not None
        super().__init__(
            options=options,
            clock=clock,
            legacy=legacy,
            ttl=ttl,
            idle_timeout=idle_timeout,
            absolute_timeout=absolute_timeout,
            keeps_metadata=not self.gorilla,
            on_event=on_event,
        )
        if type(self) is ServerStore:  # events say which backend: "ServerStore/RedisBackend"
            self._observer.label = f"ServerStore/{type(backend).__name__}"
        self.backend = backend
        self.rolling = rolling
        self.optimistic = optimistic
        lifetime = max(self.options.max_age, ttl)
        #: a backend in this process's memory loads without I/O
        self.needs_io: bool = getattr(backend, "needs_io", True)
        #: the backend keeps an owner index: saves of sessions with an owner maintain it
        self._indexes = isinstance(backend, OwnerIndex) and getattr(backend, "owner_index", True)
        self._opened: dict[tuple[str, str], _Opened] = {}
        # Sealed mode: the record's expiry is the session's lifetime, so the sealed id in the
        # cookie has no age limit of its own. One would cut short what the record allows: a
        # rolling session kept alive by loads (the cookie is only re-issued on save), and a
        # "remember me" session whose max_age is longer than the store's (gorilla's pitfall).
        self.codecs = build_codecs(
            secret_keys, codecs, max_age=0 if codecs is None else lifetime, clock=clock
        )
        # Sealed data is not a cookie: no browser length limit; records expire by their TTL.
        # gorilla-compatible data keeps the codecs' limits, as Go checks them: its own
        # timestamp's age and the codecs' max_length (gorilla's FilesystemStore refuses a file
        # longer than its MaxLength, 4096 by default, so a longer one is an EncodeError here
        # unless the codecs are given the Go side's max_length).
        if self.gorilla:
            self.data_codecs = [with_limits(c, max_age=lifetime) for c in self.codecs]
        else:
            self.data_codecs = [with_limits(c, max_age=0, max_length=0) for c in self.codecs]
        # Sealed mode keeps raw envelopes (every backend stores bytes): no base64 either way.
        self._sealer: SealedCookie | None = (
            self.data_codecs[0]
            if not self.gorilla and isinstance(self.data_codecs[0], SealedCookie)
            else None
        )
        if serializer is not None:
            if self._sealer is None:
                raise ValueError("give serializer or codecs, not both (codecs carry their own)")
            # the records' values only: the sealed id in the cookie keeps its own encoding
            self._sealer = copy.copy(self._sealer)
            self._sealer.serializer = serializer
        self._id_hashes: list[KeyedHash] = (
            []
            if self.gorilla
            else [
                KeyedHash(derive_key(s, "session-id-hash v1"))
                for s in normalize_secrets(secret_keys)
            ]
        )

    # -- keys and ids ------------------------------------------------------------------------
    def _remember(self, name: str, cookie_value: str, opened: _Opened) -> None:
        """Remember a verified id cookie, so the same browser's next request skips opening it.

        Saves send the same id cookie back (see ``Session._id_cookie``), so a browser presents
        one string until its id changes. In sealed mode opening it is a pure function of the
        string (the seal has no age limit; the record decides the lifetime), so the result can
        be reused; gorilla-mode cookies carry a timestamp that ages, so they are not remembered.
        Only cookies that verified are kept, at most ``_OPENED_CACHE`` of them.
        """
        if self.gorilla:
            return
        if len(self._opened) >= _OPENED_CACHE:
            self._opened.clear()  # cheap and bounded; the next requests refill it
        self._opened[(name, cookie_value)] = opened

    def backend_key(self, session_id: str, key_index: int = 0) -> str:
        """Where the backend keeps the record of ``session_id`` (sealed by key ``key_index``)."""
        if self.gorilla:
            return session_id
        keyed_hash = self._id_hashes[min(key_index, len(self._id_hashes) - 1)]
        mac = keyed_hash(session_id.encode("ascii"))
        return base64.urlsafe_b64encode(mac).decode("ascii").rstrip("=")

    def _seal_data(self, name: str, value: Any) -> bytes:
        """The record's bytes: a raw sealed envelope, or gorilla's securecookie text."""
        if self._sealer is not None:
            return self._sealer.seal_envelope(name, self._sealer.serializer.serialize(value))
        try:
            return encode_multi(name, value, self.data_codecs).encode("ascii")
        except EncodeError as exc:
            if "too long" not in str(exc):
                raise
            limit = getattr(self.data_codecs[0], "max_length", None)
            raise EncodeError(
                f"session {name!r} not saved: {exc} (over max_length={limit}); Go's "
                "gorilla/sessions would refuse to read it (its MaxLength is 4096 by default). "
                "Store less, or give the codecs the same max_length as the Go side's MaxLength"
            ) from exc

    def _open_data(self, name: str, data: bytes) -> tuple[Any, bool, int]:
        """(the value a record holds, whether an older key sealed it, when it was sealed)."""
        if self._sealer is not None:
            raw, issued_at, index = self._sealer.open_envelope(name, data)
            return self._sealer.serializer.deserialize(raw), index > 0, issued_at
        found = decode_details_multi(name, data.decode("ascii"), self.data_codecs)
        return found.value, found.stale, found.issued_at

    def _data_name(self, session: Session, session_id: str) -> str:
        return session.name if self.gorilla else _DATA_PREFIX + session_id

    def _ttl(self, session: Session) -> int:
        ttl = session.options.max_age if session.options.max_age > 0 else self.ttl
        if self._timeouts:
            # No record outlives its timeouts by more than _TIMED_OUT_KEPT: the database drops
            # abandoned sessions itself, and one that comes back soon after its timeout is
            # still told why (reason "idle_timeout", not "not_found").
            if self.idle_timeout is not None:
                ttl = min(ttl, self.idle_timeout + _TIMED_OUT_KEPT)
            if self.absolute_timeout is not None and session.created_at is not None:
                left = session.created_at + self.absolute_timeout - int(self.clock())
                ttl = min(ttl, max(left + _TIMED_OUT_KEPT, 1))
        return ttl

    # -- the logic, once (sans-IO) ------------------------------------------------------------
    def _load(self, name: str, cookie_value: str | None) -> Steps:
        session = self._blank(name)
        if not cookie_value:
            return session
        opened = self._opened.get((name, cookie_value))
        if opened is None:
            try:
                found = decode_details_multi(name, cookie_value, self.codecs)
                if not isinstance(found.value, str) or not _ID.fullmatch(found.value):
                    raise Malformed("the cookie does not hold a valid session id")
            except DecodeError as exc:
                session.reject(exc)
                return session
            opened = _Opened(
                found.value,
                found.key_index,
                found.issued_at,
                self.backend_key(found.value, found.key_index),
            )
            self._remember(name, cookie_value, opened)
        session_id, key = opened.session_id, opened.key
        if self.rolling:
            record: Record | None = yield ("get", (key,), {"touch": self._ttl(session)})
        else:
            record = yield ("get", (key,), _NO_KWARGS)
        if record is None:
            # Never adopt an id the store does not know (session fixation): a new one is made
            # on save.
            session.reject(SessionNotFound("the session has expired or was deleted"))
            return session
        try:
            payload, data_stale, saved_at = self._open_data(
                self._data_name(session, session_id), record.data
            )
            values, meta = unpack_values(payload)
            if meta and self.gorilla:
                raise Malformed("the stored record does not hold a mapping of session values")
        except (DecodeError, UnicodeDecodeError) as exc:
            error = exc if isinstance(exc, DecodeError) else Malformed(str(exc))
            log.warning("websession: unreadable record for session %r: %s", name, error)
            session.reject(error)
            return session
        if self._timeouts:
            over = self._timed_out(saved_at, meta, self.clock())
            if over is not None:
                yield ("delete", (key,), _NO_KWARGS)  # over for good: no cookie opens it again
                session.reject(over)
                return session
        session.load(values, issued_at=saved_at, stale=opened.key_index > 0 or data_stale)
        apply_meta(session, meta, not self.gorilla)
        session.id = session_id
        session._backend_key = key
        session._version = record.version
        if not self.gorilla and opened.key_index == 0:
            # Sealed ids carry no age limit: the same cookie can be sent again on save.
            session._id_cookie = cookie_value
        if self.rolling and session.owner is not None:
            # loads alone keep a rolling session alive: keep its index entry alive with it
            ttl = self._ttl(session)
            if opened.issued_at < self.clock() - ttl / 2:
                yield from self._index(session, key, ttl)
        return session

    def _save(self, session: Session) -> Steps:
        state = session.state
        old_key = session._backend_key
        if state is SessionState.INVALIDATED:
            if old_key is not None:
                yield ("delete", (old_key,), _NO_KWARGS)
                yield from self._unindex(session, old_key)
            session.id = None
            session._backend_key = None
            session._id_cookie = None
            header = self._deletion_cookie(session)
            session.mark_saved()
            return header
        if session.id is None:  # new, or regenerate_id() was called
            if old_key is not None:
                yield ("delete", (old_key,), _NO_KWARGS)
                yield from self._unindex(session, old_key)
            session.id = new_session_id()
            session._id_cookie = None
            old_key = None
        session_id = session.id
        reuse = old_key is not None and session._id_cookie is not None
        key = old_key if reuse and old_key is not None else self.backend_key(session_id)
        ttl = self._ttl(session)
        payload = self._seal_data(
            self._data_name(session, session_id),
            pack_values(session, self.options, not self.gorilla),
        )
        if old_key is None:
            version = yield ("set", (key, payload, ttl), _NO_KWARGS)
        elif old_key != key:  # loaded under an older secret: re-key under the newest
            version = yield ("set", (key, payload, ttl), _NO_KWARGS)
            yield ("delete", (old_key,), _NO_KWARGS)
            yield from self._unindex(session, old_key)
        else:
            check = session._version if self.optimistic else None
            version = yield ("set", (key, payload, ttl), {"must_exist": True, "if_version": check})
            if version is None:
                if self.optimistic:
                    raise ConflictError(
                        f"session {session.name!r} was changed or deleted by another request "
                        "since it was loaded; load it again and retry"
                    )
                # Deleted meanwhile (log out in another tab): do not bring it back.
                log.info("websession: session %r was deleted concurrently; not saved", session.name)
                session.invalidate()
                session.id = None
                session._backend_key = None
                header = self._deletion_cookie(session)
                session.mark_saved()
                return header
        cookie = session._id_cookie if reuse and session._id_cookie else None
        if cookie is None:
            cookie = encode_multi(session.name, session_id, self.codecs)
        # sealed mode: the cookie is SealedCookie's base64url (made here, or sent by the browser
        # and opened above, which decodes base64url strictly)
        header = self._set_cookie(session, cookie, safe=self._sealer is not None)
        session._id_cookie = None if self.gorilla else cookie
        session._backend_key = key
        session._version = version
        yield from self._index(session, key, ttl)
        session.mark_saved()
        return header

    # -- "log out everywhere": the owner index (sans-IO, like load and save) --------------------
    # Every save of a session with an owner (re)writes its index entry; deleting or moving a
    # record removes it. The index is a list of record keys to look at, not the truth: listing
    # reads each record (a gone one's entry is dropped), and revoking deletes each one. An entry
    # left under an old owner (the app changed session.owner without regenerate_id()) can make
    # revoke() end that session too: the safe way to be wrong, never a session left alive.
    def _index(self, session: Session, key: str, ttl: int) -> Steps:
        owner = session.owner
        if owner is None or not self._indexes:
            return
        now = self.clock()
        created = getattr(session, "created_at", None)
        device = getattr(session, "device", None)
        entry = pack_entry(created, now, now + ttl, device)
        yield ("index", (owner_key(owner), key, entry, ttl), _NO_KWARGS)

    def _unindex(self, session: Session, key: str) -> Steps:
        owner = session.owner
        if owner is not None and self._indexes:
            yield ("unindex", (owner_key(owner), key), _NO_KWARGS)

    def _require_index(self) -> None:
        owner_index_of(self.backend)  # NotImplementedError naming the backend, if it has none

    def _sessions_for(self, owner: str) -> Steps:
        okey = owner_key(check_owner(owner))
        entries: list[tuple[str, bytes]] = yield ("owned", (okey,), _NO_KWARGS)
        found: list[SessionInfo] = []
        for key, entry in entries:
            record: Record | None = yield ("get", (key,), _NO_KWARGS)
            if record is None:  # deleted or expired: drop its entry
                yield ("unindex", (okey, key), _NO_KWARGS)
                continue
            info = unpack_entry(key, entry)
            found.append(dataclasses.replace(info, expires_at=record.expires_at))
        found.sort(key=lambda i: i.saved_at, reverse=True)
        return found

    def _revoke(self, owner: str, keep: Session | None) -> Steps:
        okey = owner_key(check_owner(owner))
        keep_key = keep._backend_key if keep is not None else None
        entries: list[tuple[str, bytes]] = yield ("owned", (okey,), _NO_KWARGS)
        ended = 0
        for key, _entry in entries:
            if key == keep_key:
                continue
            record: Record | None = yield ("get", (key,), _NO_KWARGS)
            if record is not None:
                yield ("delete", (key,), _NO_KWARGS)
                ended += 1
            yield ("unindex", (okey, key), _NO_KWARGS)
        return ended

    def sessions_for(self, owner: str) -> list[SessionInfo]:
        """The live sessions of ``owner`` (``session.owner``), the most recently saved first.

        Raises:
            NotImplementedError: the backend keeps no owner index (memcached).
        """
        self._require_index()
        result: list[SessionInfo] = _run(self._sessions_for(owner), self.backend)
        return result

    def revoke(self, owner: str, keep: Session | None = None) -> int:
        """End every session of ``owner`` but ``keep`` (this request's, to stay logged in);
        return how many were ended. Their next request gets a new, empty session.

        Raises:
            NotImplementedError: the backend keeps no owner index (memcached).
        """
        self._require_index()
        result: int = _run(self._revoke(owner, keep), self.backend)
        return result

    async def asessions_for(self, owner: str) -> list[SessionInfo]:
        """Async twin of :meth:`sessions_for`."""
        self._require_index()
        result: list[SessionInfo] = await _arun(self._sessions_for(owner), self.backend)
        return result

    async def arevoke(self, owner: str, keep: Session | None = None) -> int:
        """Async twin of :meth:`revoke`."""
        self._require_index()
        result: int = await _arun(self._revoke(owner, keep), self.backend)
        return result

    # -- the Store API -----------------------------------------------------------------------
    # Each reports to the store's observer (websession.events): a load of a cookie, a save, an
    # outage, a conflict. Written out in each twin: a context manager would cost the hot path.
    def new(self, name: str, cookie_value: str | None) -> Session:
        """The session whose sealed id ``cookie_value`` carries, from the backend, or a new one.

        A bad, expired or unknown id gives a new empty session (never the id the browser sent: no
        fixation) whose ``reason`` says why; a legacy reader may adopt the old library's session.

        Raises:
            StoreUnavailable: the backend cannot be reached (the adapters answer 503).
        """
        started = time.perf_counter()
        try:
            result: Session = _run(self._load(name, cookie_value), self.backend)
        except StoreUnavailable as exc:
            self._observer.unavailable(name, "load", started, exc)
            raise
        return self._observe_load(result, started) if cookie_value else result

    def save(self, session: Session) -> str:
        """Write ``session`` to the backend; return the ``Set-Cookie`` header with its sealed id.

        A new session gets a fresh random id; an invalidated one has its record deleted and its
        cookie removed; a session deleted meanwhile by another request is not brought back.

        Raises:
            StoreUnavailable: the backend cannot be reached.
            ConflictError: with ``optimistic=True``, another request changed the record since this
                one loaded it.
        """
        started = time.perf_counter()
        deleted = session.state is SessionState.INVALIDATED
        try:
            result: str = _run(self._save(session), self.backend)
        except (StoreUnavailable, ConflictError) as exc:
            self._observer.failed(session.name, "save", started, exc)
            raise
        self._observer.saved(session.name, started, deleted)
        return result

    async def anew(self, name: str, cookie_value: str | None) -> Session:
        """Async twin of :meth:`new`, through the backend's async methods."""
        started = time.perf_counter()
        try:
            result: Session = await _arun(self._load(name, cookie_value), self.backend)
        except StoreUnavailable as exc:
            self._observer.unavailable(name, "load", started, exc)
            raise
        return self._observe_load(result, started) if cookie_value else result

    async def asave(self, session: Session) -> str:
        """Async twin of :meth:`save`, through the backend's async methods."""
        started = time.perf_counter()
        deleted = session.state is SessionState.INVALIDATED
        try:
            result: str = await _arun(self._save(session), self.backend)
        except (StoreUnavailable, ConflictError) as exc:
            self._observer.failed(session.name, "save", started, exc)
            raise
        self._observer.saved(session.name, started, deleted)
        return result

    def purge(self, progress: PurgeProgress | None = None) -> int:
        """Remove expired records from the backend; return how many.

        The backends purge in short batches, so loads and saves running meanwhile wait
        milliseconds; ``progress(removed, fraction)`` is called after each batch (``fraction``
        of the work done, None where the backend cannot tell).
        """
        if progress is None or not _takes_progress(self.backend.purge):
            return self.backend.purge()
        return self.backend.purge(progress)

    async def apurge(self, progress: PurgeProgress | None = None) -> int:
        """Async twin of :meth:`purge`."""
        if progress is None or not _takes_progress(self.backend.apurge):
            return await self.backend.apurge()
        return await self.backend.apurge(progress)

    def close(self) -> None:
        """Release the backend's connections."""
        self.backend.close()

    async def aclose(self) -> None:
        """Async twin of :meth:`close`."""
        await self.backend.aclose()

    def __repr__(self) -> str:
        mode = "gorilla" if self.gorilla else "sealed"
        return f"<{type(self).__name__} {mode} backend={self.backend!r}>"
