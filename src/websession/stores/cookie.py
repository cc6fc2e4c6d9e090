"""CookieStore: the whole session, sealed, in the cookie."""

from __future__ import annotations

import copy
import time
from collections.abc import Callable, Sequence

from .._defaults import BROWSER_SESSION_TTL
from ..codecs.base import Codec, decode_details_multi, encode_multi
from ..codecs.keys import SecretKeys
from ..codecs.sealed import SealedCookie
from ..cookies import CookieOptions
from ..errors import DecodeError, Expired, Malformed
from ..events import EventHook
from ..legacy._base import LegacyReader
from ..serializers.base import Serializer
from ..session import Session, SessionState
from .base import BaseStore, _seconds, apply_meta, pack_values, unpack_values

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

    def new(self, name: str, cookie_value: str | None) -> Session:
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
        return session

    def save(self, session: Session) -> str:
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

    async def anew(self, name: str, cookie_value: str | None) -> Session:
        return self.new(name, cookie_value)

    async def asave(self, session: Session) -> str:
        return self.save(session)

    def __repr__(self) -> str:
        return f"<CookieStore codecs={self.codecs!r}>"
