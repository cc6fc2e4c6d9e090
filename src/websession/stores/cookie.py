"""CookieStore: the whole session, sealed, in the cookie."""

from __future__ import annotations

import copy
import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from .._defaults import BROWSER_SESSION_TTL
from ..codecs.base import Codec, decode_details_multi, encode_multi
from ..codecs.keys import SecretKeys
from ..codecs.sealed import SealedCookie
from ..cookies import CookieOptions
from ..errors import DecodeError, Expired, Malformed, Revoked
from ..events import EventHook
from ..legacy._base import LegacyReader
from ..serializers.base import Serializer
from ..session import Session, SessionState
from .base import BaseStore, _seconds, apply_meta, pack_values, unpack_values
from .owners import SessionInfo, owner_key

if TYPE_CHECKING:
    from ..backends.base import Backend
    from .revocation import Revocations

__all__ = ["CookieStore", "build_codecs"]


def build_codecs(
    secret_keys: SecretKeys | None,
    codecs: Sequence[Codec] | None,
    *,
    max_age: int,
    clock: Callable[[], float] | None,
    serializer: Serializer | None = None,
) -> list[Codec]:
    """The codecs a store uses: the given ones, or one SealedCookie over ``secret_keys``."""
    if codecs is not None:
        if secret_keys is not None:
            raise ValueError("give secret_keys or codecs, not both")
        if serializer is not None:
            raise ValueError("give serializer or codecs, not both (codecs carry their own)")
        if not codecs:
            raise ValueError("codecs is empty")
        return list(codecs)
    if secret_keys is None:
        raise ValueError(
            "a store needs secret_keys (a secret, or a list of them, newest first) or codecs; "
            "`websession keygen` prints a new secret"
        )
    return [SealedCookie(secret_keys, max_age=max_age, clock=clock, serializer=serializer)]


def with_limits(
    codec: Codec, *, max_age: int | None = None, max_length: int | None = None
) -> Codec:
    """A copy of ``codec`` (sharing its keys) with other limits, or ``codec`` if it has none."""
    clone = copy.copy(codec)
    if max_age is not None and hasattr(clone, "max_age"):
        clone.max_age = max_age
    if max_length is not None and hasattr(clone, "max_length"):
        clone.max_length = max_length
    return clone


class CookieStore(BaseStore):
    """Keeps the whole session in its cookie, sealed (encrypted and authenticated).

    Args:
        secret_keys: a secret or a list of secrets, newest first, for the default
            :class:`~websession.SealedCookie` codec. A cookie sealed with an older secret still
            opens, and is re-sealed with the newest on the next save.
        codecs: instead of ``secret_keys``: codecs to use, the first encodes, all decode. Use
            :func:`~websession.codecs_from_pairs` with the gob or JSON serializer to share
            cookies with Go services that use gorilla/sessions.
        options: the cookie options every session starts with (a copy each).
        ttl: seconds a browser-session cookie (``max_age == 0``) is honoured after its
            session's last save (1 day by default).
        idle_timeout: reject a session last saved more than this many seconds ago (reason
            ``"idle_timeout"``); None (the default) for no limit.
        absolute_timeout: reject a session created more than this many seconds ago, however
            often it was saved since (reason ``"absolute_timeout"``); None for no limit. Needs
            the sealed format (not gorilla codecs).
        clock: the time source for cookie expiry (seconds since the epoch).
        legacy: readers of the sessions of the library being replaced
            (:mod:`websession.legacy`): adopted once, then re-sealed.
        serializer: how the values become bytes before sealing (msgpack by default; e.g.
            ``JSONSerializer(go_compatible=False)`` for JSON's value types, as Django's).
        on_event: a callable that receives each load and save as an event
            (:mod:`websession.events`; :func:`websession.metrics.prometheus` makes one).
        revocations: a backend (or a store URL such as ``"redis://..."``) where the store
            keeps what makes cookie sessions revocable: then ``invalidate()``,
            ``regenerate_id()`` and ``revoke(owner)`` really end a cookie session, and
            ``sessions_for(owner)`` lists them (see :mod:`websession.stores.revocation`).
            Each load reads one small record (cached ``revocation_cache`` seconds).
        revocation_cache: how long a process trusts what it read about revocations (5 s:
            the most a revoked cookie keeps working in *other* processes).

    **What cannot be revoked without** ``revocations``: a cookie session is the cookie. After
    ``invalidate()`` the browser drops it, but a copy (another tab's old response, a stolen
    cookie) still opens until the session's lifetime runs out; ``regenerate_id()`` changes
    nothing a copy can be told apart by; there is no list of an owner's sessions, so
    ``sessions_for``/``revoke`` raise NotImplementedError. Rotating the secret ends every
    session at once: that is the only kill switch.

    A cookie is valid on the server for its session's ``max_age`` seconds after it was issued
    (the store's ``options.max_age``, 30 days by default, unless the session set its own, which
    the sealed cookie remembers), a browser-session cookie for ``ttl`` seconds, whatever the
    browser does. With ``codecs`` the codecs' own ``max_age`` applies, as in gorilla.
    """

    #: loading is pure computation: no I/O
    needs_io = False
    #: the values are in the cookie itself
    values_in_cookie = True

    def __init__(
        self,
        secret_keys: SecretKeys | None = None,
        *,
        codecs: Sequence[Codec] | None = None,
        options: CookieOptions | None = None,
        ttl: int = BROWSER_SESSION_TTL,
        idle_timeout: int | None = None,
        absolute_timeout: int | None = None,
        clock: Callable[[], float] | None = None,
        legacy: Sequence[LegacyReader] = (),
        serializer: Serializer | None = None,
        on_event: EventHook | None = None,
        revocations: Backend | str | None = None,
        revocation_cache: float = 5.0,
    ) -> None:
        #: sealed mode: the store seals per-session options and checks each session's lifetime
        self.sealed = codecs is None
        super().__init__(
            options=options,
            clock=clock,
            legacy=legacy,
            ttl=ttl,
            idle_timeout=idle_timeout,
            absolute_timeout=absolute_timeout,
            keeps_metadata=self.sealed,
            on_event=on_event,
        )
        #: how long the store's default options keep a cookie valid on the server
        self.lifetime = self.options.max_age if self.options.max_age > 0 else self.ttl
        self.codecs = build_codecs(
            secret_keys,
            codecs,
            max_age=0 if self.sealed else self.lifetime,
            clock=clock,
            serializer=serializer,
        )
        self.revocations: Revocations | None = None
        if revocations is not None:
            self._use_revocations(revocations, revocation_cache, clock)

    def _use_revocations(
        self,
        revocations: Backend | str,
        cache_seconds: float,
        clock: Callable[[], float] | None,
    ) -> None:
        from ..backends.base import owner_index_of
        from .revocation import Revocations

        if not self.sealed:
            raise ValueError(
                "revocations need the sealed format (secret_keys): gorilla-compatible codecs "
                "seal the bare values and cannot carry a revocation id"
            )
        if isinstance(revocations, str):
            from ..urls import open_backend  # the URL layer sits above stores: imported late

            backend = open_backend(revocations, clock=clock)
        else:
            backend = revocations
        owner_index_of(backend)  # refuse a backend that could not list an owner's sessions
        if getattr(backend, "owner_index", True) is False:
            raise ValueError(
                f"{type(backend).__name__} cannot hold revocations: it may evict them or "
                "cannot list an owner's sessions; use Redis, SQL, MongoDB, DynamoDB, LMDB, "
                "files or memory (one process)"
            )
        self.revocations = Revocations(
            backend, cache_seconds=cache_seconds, clock=clock, lifetime=self.lifetime
        )
        self.needs_io = True

    def _open(self, name: str, cookie_value: str | None) -> tuple[Session, dict[str, Any]]:
        """The session the cookie holds (no I/O), and the meta it was sealed with."""
        meta: dict[str, Any] = {}
        session = self._blank(name)
        if cookie_value:
            started = time.perf_counter()
            try:
                found = decode_details_multi(name, cookie_value, self.codecs)
                values, meta = unpack_values(found.value)
                if meta and not self.sealed:
                    raise Malformed("the cookie does not hold a mapping of session values")
                now = self.clock()
                if self.sealed:  # (gorilla codecs check their own max_age)
                    own = _seconds(meta.get("max_age")) if meta else None
                    max_age = own if own is not None else self.options.max_age
                    lifetime = max_age if max_age > 0 else self.ttl
                    if found.issued_at < now - lifetime:
                        raise Expired(
                            f"expired: issued at {found.issued_at}, lifetime {lifetime} s"
                        )
                if self._timeouts:
                    over = self._timed_out(found.issued_at, meta, now)
                    if over is not None:
                        raise over
            except DecodeError as exc:
                session.reject(exc)
            else:
                session.load(values, issued_at=found.issued_at, stale=found.stale)
                apply_meta(session, meta, self.sealed)
            self._observe_load(session, started)
        return session, meta

    def new(self, name: str, cookie_value: str | None) -> Session:
        """The session sealed in ``cookie_value``, or a new empty one.

        Never raises for a bad cookie: a tampered, expired or foreign one gives a new session
        whose ``rejected`` and ``reason`` say why (a legacy reader may adopt an old library's
        cookie).
        """
        session, meta = self._open(name, cookie_value)
        if self.revocations is None or session.is_new:
            return session
        from .server import _run

        self._adopt_revocation(session, meta)
        if _run(self.revocations.refuses(session), self.revocations.backend):
            return self._revoked(name)
        return session

    async def anew(self, name: str, cookie_value: str | None) -> Session:
        """Async twin of :meth:`new` (no I/O to wait for: the same work, for async callers)."""
        session, meta = self._open(name, cookie_value)
        if self.revocations is None or session.is_new:
            return session
        from .server import _arun

        self._adopt_revocation(session, meta)
        if await _arun(self.revocations.refuses(session), self.revocations.backend):
            return self._revoked(name)
        return session

    def _adopt_revocation(self, session: Session, meta: dict[str, Any]) -> None:
        """Note the loaded cookie's revocation id (or, from before revocations, its age)."""
        from .revocation import born_of, rid_key

        owner = session.owner
        okey = owner_key(owner) if owner is not None else None
        rid = meta.get("rid")
        born = born_of(rid) if isinstance(rid, str) else None
        if isinstance(rid, str) and born is not None:
            session.id = rid
            session._backend_key = rid_key(rid)
            session._revocation = (rid, born, okey)
        elif okey is not None:  # sealed before revocations: its owner's epoch still applies
            since = session.created_at or session.issued_at or 0
            session._revocation = ("", int(since) * 1_000_000, okey)

    def _revoked(self, name: str) -> Session:
        blank = self._blank(name)
        blank.reject(Revoked("the session was revoked (log out, or log out everywhere)"))
        return blank

    def save(self, session: Session) -> str:
        """Seal ``session`` into its cookie and return the ``Set-Cookie`` header value.

        An invalidated session gets a deleting header. Always seals: callers decide whether to save
        (the middlewares only save modified sessions).

        Raises:
            EncodeError: the cookie would be longer than the browser keeps (4096 bytes), or the
                values cannot be serialized.
        """
        if self.revocations is not None:
            from .server import _run

            header: str = _run(self._save_revocable(session), self.revocations.backend)
            return header
        started = time.perf_counter()
        deleted = session.state is SessionState.INVALIDATED
        if deleted:
            header = self._deletion_cookie(session)
        else:
            payload = pack_values(session, self.options, self.sealed)
            value = encode_multi(session.name, payload, self.codecs)
            header = self._set_cookie(session, value)
        session.mark_saved()
        self._observer.saved(session.name, started, deleted)
        return header

    async def asave(self, session: Session) -> str:
        """Async twin of :meth:`save`."""
        if self.revocations is not None:
            from .server import _arun

            header: str = await _arun(self._save_revocable(session), self.revocations.backend)
            return header
        return self.save(session)

    def _ttl(self, session: Session) -> int:
        return session.options.max_age if session.options.max_age > 0 else self.lifetime

    def _save_revocable(self, session: Session) -> Any:
        """save() with revocations (sans-IO steps, run sync or async like ServerStore's)."""
        assert self.revocations is not None
        started = time.perf_counter()
        ttl = self._ttl(session)
        rid = yield from self.revocations.assign(session, ttl)
        if rid is None:  # invalidated
            header = self._deletion_cookie(session)
        else:
            payload = pack_values(session, self.options, True)
            payload[1]["rid"] = rid
            header = self._set_cookie(session, encode_multi(session.name, payload, self.codecs))
            yield from self.revocations.index(session, ttl)
        session.mark_saved()
        self._observer.saved(session.name, started, rid is None)
        return header

    # -- "log out everywhere" ------------------------------------------------------------------
    def _revocations(self) -> Revocations:
        if self.revocations is None:
            raise NotImplementedError(
                "a CookieStore without revocations= keeps no record of its sessions: they "
                "cannot be listed or revoked (a copy of a cookie opens until it expires). "
                "Pass revocations=<backend or URL> to make cookie sessions revocable"
            )
        return self.revocations

    def sessions_for(self, owner: str) -> list[SessionInfo]:
        """The live cookie sessions of ``owner``, the most recently saved first."""
        from .server import _run

        revocations = self._revocations()
        result: list[SessionInfo] = _run(revocations.sessions_for(owner), revocations.backend)
        return result

    def revoke(self, owner: str, keep: Session | None = None) -> int:
        """End every cookie session of ``owner`` but ``keep``; return how many were listed.

        Every cookie of ``owner`` made before now is refused from now on (in this process at
        once, in others within ``revocation_cache`` seconds), listed or not; ``keep`` (this
        request's session) stays valid.
        """
        from .server import _run

        revocations = self._revocations()
        result: int = _run(revocations.revoke(owner, keep), revocations.backend)
        return result

    async def asessions_for(self, owner: str) -> list[SessionInfo]:
        """Async twin of :meth:`sessions_for`."""
        from .server import _arun

        revocations = self._revocations()
        result: list[SessionInfo] = await _arun(
            revocations.sessions_for(owner), revocations.backend
        )
        return result

    async def arevoke(self, owner: str, keep: Session | None = None) -> int:
        """Async twin of :meth:`revoke`."""
        from .server import _arun

        revocations = self._revocations()
        result: int = await _arun(revocations.revoke(owner, keep), revocations.backend)
        return result

    def __repr__(self) -> str:
        return f"<CookieStore codecs={self.codecs!r}>"
