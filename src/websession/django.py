"""Django integration: ``SESSION_ENGINE = "websession.django"``.

``request.session``, ``login()``'s ``cycle_key()``, ``logout()``'s ``flush()``, ``set_expiry()``,
``clear_expired()`` (so ``manage.py clearsessions``) and ``django.contrib.messages``' session
storage all work on any websession store, with Django's async session methods served by the
store's native async twins.

Configure the store in settings (all keys optional)::

    WEBSESSION = {
        "STORE": "redis://127.0.0.1:6379/0",  # a URL for open_store, a Store, or a dotted path
                                              # to a callable returning one; default: a
                                              # CookieStore (the whole session, sealed, in the
                                              # cookie)
        "SECRET_KEYS": [...],                 # default: SECRET_KEY, then SECRET_KEY_FALLBACKS
        "OPTIONS": {"optimistic": True},      # extra open_store options
        "LEGACY": [DjangoSessions()],         # readers of the engine being replaced
        "SERIALIZER": "json",                 # "json" (Django's SESSION_SERIALIZER default:
                                              # JSON's types, tuples come back as lists),
                                              # "msgpack" (the default: keeps tuples, bytes,
                                              # datetimes, int keys), a Serializer or a dotted
                                              # path to one
    }

Switching from one of Django's own engines logs no one out: keep ``SESSION_COOKIE_NAME``, and
list a reader of the old engine in ``"LEGACY"`` (``websession.legacy.DjangoSessions(engine)``
for db, cache, cached_db and file; ``DjangoSignedCookie(SECRET_KEY)`` for signed_cookies).
A session the old engine made is loaded once, marked modified, and saved by websession.

The value of Django's session cookie is the store's sealed cookie value (for server-side stores,
the sealed session id), so nothing readable or forgeable ever reaches the browser. Django's own
``SessionMiddleware`` still sets the cookie with Django's ``SESSION_COOKIE_*`` settings.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, cast

from django.conf import settings
from django.contrib.sessions.backends.base import SessionBase, UpdateError
from django.utils.module_loading import import_string

from .codecs.keys import framework_secret
from .cookies import CookieOptions
from .legacy import aadopt, adopt
from .serializers.base import Serializer
from .serializers.json import JSONSerializer
from .serializers.msgpack import MsgpackSerializer
from .session import Session, values_of
from .stores.base import Store
from .stores.cookie import CookieStore

__all__ = ["SessionStore", "get_store", "reset_store"]

_lock = threading.Lock()
_store: Store | None = None


def _options() -> CookieOptions:
    same_site = settings.SESSION_COOKIE_SAMESITE
    return CookieOptions(
        path=settings.SESSION_COOKIE_PATH,
        domain=settings.SESSION_COOKIE_DOMAIN,
        max_age=int(settings.SESSION_COOKIE_AGE),
        secure=bool(settings.SESSION_COOKIE_SECURE) or same_site == "None",
        http_only=bool(settings.SESSION_COOKIE_HTTPONLY),
        same_site=same_site if same_site in ("Lax", "Strict", "None") else None,
    )


def _serializer(spec: object) -> Serializer | None:
    """``WEBSESSION["SERIALIZER"]``: a name, a dotted path, or a Serializer (None: default)."""
    if spec is None:
        return None
    if spec == "json":
        return JSONSerializer(go_compatible=False)
    if spec == "msgpack":
        return MsgpackSerializer()
    if isinstance(spec, str):
        try:
            spec = import_string(spec)
        except ImportError as exc:
            raise ValueError(f"WEBSESSION['SERIALIZER']: cannot import {spec!r}: {exc}") from exc
        if isinstance(spec, type):
            spec = spec()
    if not isinstance(spec, Serializer):
        raise ValueError(
            "WEBSESSION['SERIALIZER'] must be 'json', 'msgpack', a Serializer or a dotted "
            f"path to one, not {spec!r}"
        )
    return spec


def _build() -> Store:
    config: dict[str, Any] = dict(getattr(settings, "WEBSESSION", {}) or {})
    # Django's own SECRET_KEY was accepted by the engine this one replaces: weak ones are
    # logged and wrapped (framework_secret), not refused. WEBSESSION["SECRET_KEYS"] is ours.
    secrets = config.get("SECRET_KEYS") or [
        framework_secret(key, "Django's SECRET_KEY" + ("_FALLBACKS" if i else ""))
        for i, key in enumerate(
            [settings.SECRET_KEY, *getattr(settings, "SECRET_KEY_FALLBACKS", [])]
        )
    ]
    spec = config.get("STORE")
    legacy = config.get("LEGACY", ())
    serializer = _serializer(config.get("SERIALIZER"))
    if spec is None or spec == "cookie":
        # SESSION_EXPIRE_AT_BROWSER_CLOSE sessions stay valid SESSION_COOKIE_AGE, as in Django
        ttl = int(settings.SESSION_COOKIE_AGE)
        return CookieStore(
            secrets, options=_options(), ttl=ttl, legacy=legacy, serializer=serializer
        )
    if isinstance(spec, str) and "://" in spec:
        from .urls import open_store

        extra = {"ttl": int(settings.SESSION_COOKIE_AGE), **config.get("OPTIONS", {})}
        if serializer is not None:
            extra["serializer"] = serializer
        return open_store(spec, secrets, options=_options(), legacy=legacy, **extra)
    if serializer is not None:
        raise ValueError(
            "WEBSESSION['SERIALIZER'] applies to the stores websession builds (a URL or "
            "'cookie'); give a Store its serializer yourself"
        )
    if isinstance(spec, str):
        spec = import_string(spec)
    if callable(spec) and not isinstance(spec, Store):
        spec = spec()
    return cast(Store, spec)


def get_store() -> Store:
    """The store the session engine uses (built once from settings)."""
    global _store
    if _store is None:
        with _lock:
            if _store is None:
                _store = _build()
    return _store


def reset_store() -> None:
    """Forget the store (after changing settings, e.g. in tests)."""
    global _store
    with _lock:
        _store = None


def _cookie_value(header: str) -> str:
    return header.split(";", 1)[0].split("=", 1)[1]


class SessionStore(SessionBase):
    """Django's SessionBase over a websession store (see the module docs)."""

    _session_key: str | None

    def __init__(self, session_key: str | None = None) -> None:
        super().__init__(session_key)
        self._ws: Session | None = None

    @property
    def store(self) -> Store:
        """The websession store ``settings.WEBSESSION`` configures (made once per process)."""
        return get_store()

    @property
    def cookie_name(self) -> str:
        """``SESSION_COOKIE_NAME``: the name the session's cookie is sealed for."""
        return str(settings.SESSION_COOKIE_NAME)

    # -- loading -----------------------------------------------------------------------------
    def _adopt(self, session: Session) -> dict[Any, Any]:
        self._ws = session
        if session.is_new:
            self._session_key = None
            return {}
        return values_of(session)

    def load(self) -> dict[Any, Any]:
        """The session's values from the store (Django calls this on first access); an unknown or
        expired key gives an empty session, or one a legacy reader adopted.
        """
        session = self.store.new(self.cookie_name, self.session_key)
        readers = getattr(self.store, "legacy", ())
        if readers and session.is_new and self.session_key:
            # the key Django found under SESSION_COOKIE_NAME may be the replaced engine's
            adopt(session, readers, {self.cookie_name: [self.session_key]})
            self.modified = not session.is_new  # Django saves it: re-sealed by websession
        return self._adopt(session)

    async def aload(self) -> dict[Any, Any]:
        """Async twin of :meth:`load`."""
        session = await self.store.anew(self.cookie_name, self.session_key)
        readers = getattr(self.store, "legacy", ())
        if readers and session.is_new and self.session_key:
            await aadopt(session, readers, {self.cookie_name: [self.session_key]})
            self.modified = not session.is_new
        return self._adopt(session)

    def exists(self, session_key: str | None) -> bool:
        """Whether the store holds a live session for ``session_key``."""
        return bool(session_key) and not self.store.new(self.cookie_name, session_key).is_new

    async def aexists(self, session_key: str | None) -> bool:
        """Async twin of :meth:`exists`."""
        if not session_key:
            return False
        return not (await self.store.anew(self.cookie_name, session_key)).is_new

    # -- saving ------------------------------------------------------------------------------
    def _prepare(self, fresh: Session | None, must_create: bool) -> Session:
        session = fresh if fresh is not None else self._ws
        if session is None:
            raise RuntimeError("no websession session to save")
        data = self._get_session(no_load=must_create)
        session.clear()
        session.update(data)
        session.mark_modified()
        if self.get_expire_at_browser_close():
            session.options.max_age = 0
        else:
            # An expiry already past (set_expiry(-10), a datetime gone by) deletes the record:
            # the session is over. max_age 0 would mean "a browser-session cookie" instead.
            session.options.max_age = max(int(self.get_expiry_age()), 0) or -1
        return session

    def _finish(self, session: Session, header: str, expired: bool) -> None:
        if session.options.max_age < 0 and not expired:
            # the store found the session deleted by a concurrent request: Django's contract
            raise UpdateError
        self._ws = session
        self._session_key = None if expired else _cookie_value(header)

    def save(self, must_create: bool = False) -> None:
        """Save the values to the store; ``must_create`` starts a new session (a new key)."""
        fresh = None
        if must_create or self._ws is None:
            fresh = self.store.new(self.cookie_name, None if must_create else self.session_key)
        session = self._prepare(fresh, must_create)
        expired = session.options.max_age < 0
        self._finish(session, self.store.save(session), expired)

    async def asave(self, must_create: bool = False) -> None:
        """Async twin of :meth:`save`."""
        fresh = None
        if must_create or self._ws is None:
            key: str | None = None if must_create else self.session_key
            fresh = await self.store.anew(self.cookie_name, key)
        session = self._prepare(fresh, must_create)
        expired = session.options.max_age < 0
        self._finish(session, await self.store.asave(session), expired)

    def create(self) -> None:
        """Start a new, empty session under a new key (``cycle_key`` and ``flush`` use it)."""
        self._session_cache: dict[Any, Any] = {}
        self.save(must_create=True)
        self.modified = True

    async def acreate(self) -> None:
        """Async twin of :meth:`create`."""
        self._session_cache = {}
        await self.asave(must_create=True)
        self.modified = True

    # -- deleting ----------------------------------------------------------------------------
    def delete(self, session_key: str | None = None) -> None:
        """Delete the session ``session_key`` names (default: this one) from the store."""
        key = session_key if session_key is not None else self.session_key
        if key:
            session = self.store.new(self.cookie_name, key)
            if not session.is_new:
                session.invalidate()
                self.store.save(session)
        if session_key is None:
            self._ws = None

    async def adelete(self, session_key: str | None = None) -> None:
        """Async twin of :meth:`delete`."""
        key = session_key if session_key is not None else self.session_key
        if key:
            session = await self.store.anew(self.cookie_name, key)
            if not session.is_new:
                session.invalidate()
                await self.store.asave(session)
        if session_key is None:
            self._ws = None

    @classmethod
    def clear_expired(cls) -> None:
        """Purge expired sessions from the store (``manage.py clearsessions``); stores whose
        database expires records itself have nothing to do.
        """
        purge: Callable[[], int] | None = getattr(get_store(), "purge", None)
        if purge is not None:
            purge()

    @classmethod
    async def aclear_expired(cls) -> None:
        """Async twin of :meth:`clear_expired`."""
        apurge = getattr(get_store(), "apurge", None)
        if apurge is not None:
            await apurge()
