"""Readers for sessions kept on a server: Django's engines, and Redis records of aiohttp-session,
Flask-Session and starsessions.

The cookie holds an id; the record is read with the old library's own engine (Django) or with
redis-py, sync or async. Records are decoded as JSON or msgpack only: one in pickle format is
refused and logged, never unpickled. A server that cannot be reached raises
:class:`~websession.StoreUnavailable` (the middlewares answer 503), as websession's own stores
do: the user's session is not thrown away because the old store hiccuped.
"""

from __future__ import annotations

import datetime as _dt
import json
import logging
import re
import time
from collections.abc import Hashable
from typing import Any

from ..errors import Expired, InvalidSignature, Malformed, SessionNotFound, StoreUnavailable
from ._base import LegacyReader, refuse_pickle
from ._cookies import Secret, _require, _seconds, aiohttp_values

__all__ = ["AiohttpRedis", "DjangoSessions", "FlaskSessionRedis", "StarsessionsRedis"]

log = logging.getLogger("websession")

# Session ids of the libraries read here: Django's 32 [a-z0-9], uuid4 hex (aiohttp-session),
# token_urlsafe (Flask-Session, optionally ".signature"), token_hex (starsessions). Anything
# else is not looked up at all.
_SID = re.compile(r"[A-Za-z0-9_.\-]{8,256}")


def _sid(value: str, reader: str) -> str:
    if not _SID.fullmatch(value):
        raise Malformed(f"{reader}: the cookie does not hold a session id")
    return value


class DjangoSessions(LegacyReader):
    """Django's server-side session engines, read through the engine itself.

    ``engine`` is the module path Django's ``SESSION_ENGINE`` named before the switch (``db``,
    ``cache``, ``cached_db``, ``file``): its ``SessionStore`` loads the record with the project's
    settings (database, ``SESSION_CACHE_ALIAS``, ``SESSION_FILE_PATH``, ``SECRET_KEY``), so
    websession reads exactly what Django would. Only ``SESSION_SERIALIZER`` = Django's
    ``JSONSerializer`` (the default) is accepted: any other may unpickle, and is refused.

    Args:
        engine: the old ``SESSION_ENGINE``.
        cookie_name: ``SESSION_COOKIE_NAME``.
        until: the date after which the reader accepts nothing.
    """

    needs_io = True

    def __init__(
        self,
        engine: str = "django.contrib.sessions.backends.db",
        *,
        cookie_name: str = "sessionid",
        until: _dt.date | None = None,
    ) -> None:
        super().__init__(cookie_name=cookie_name, until=until)
        if engine == "django.contrib.sessions.backends.signed_cookies":
            raise ValueError("for the signed_cookies engine use DjangoSignedCookie")
        self.engine = engine
        self._module: Any = None

    def _store(self, value: str) -> Any:
        if self._module is None:
            from importlib import import_module

            from django.conf import settings
            from django.core import signing
            from django.utils.module_loading import import_string

            serializer = import_string(settings.SESSION_SERIALIZER)
            if not (
                isinstance(serializer, type) and issubclass(serializer, signing.JSONSerializer)
            ):
                log.error(
                    "websession: DjangoSessions refuses SESSION_SERIALIZER=%r: only Django's "
                    "JSONSerializer is read (others may unpickle); no Django session is adopted",
                    settings.SESSION_SERIALIZER,
                )
                raise Malformed("DjangoSessions: the records' serializer is not JSON (pickle?)")
            self._module = import_module(self.engine)
        return self._module.SessionStore(session_key=_sid(value, "DjangoSessions"))

    def _values(self, store: Any, data: dict[Hashable, Any]) -> dict[Hashable, Any]:
        # Django's load() gives {} and drops the key for a missing, expired or corrupted record
        # (it logs the corruption itself).
        if store.session_key is None or not data:
            raise SessionNotFound("DjangoSessions: no live session for this key")
        return data

    def read(self, value: str) -> dict[Hashable, Any]:
        """The values Django's session engine holds for the session key ``value``, loaded by Django
        itself.

        Raises:
            DecodeError: no such session, or one that only pickle could read.
        """
        store = self._store(value)
        try:
            data = store.load()
        except Exception as exc:
            raise StoreUnavailable(f"DjangoSessions: {self.engine} failed: {exc}") from exc
        return self._values(store, data)

    async def aread(self, value: str) -> dict[Hashable, Any]:
        """Async twin of :meth:`read` (Django's engine runs in a worker thread)."""
        from asgiref.sync import sync_to_async

        store = self._store(value)
        try:
            # Django 5.1+ engines have aload(); before that, the sync load off the event loop.
            aload = getattr(store, "aload", None)
            data = await aload() if aload is not None else await sync_to_async(store.load)()
        except Exception as exc:
            raise StoreUnavailable(f"DjangoSessions: {self.engine} failed: {exc}") from exc
        return self._values(store, data)


class _RedisReader(LegacyReader):
    """One record per session under ``prefix + id``, read with redis-py (sync and asyncio)."""

    needs_io = True

    def __init__(self, url: str, *, cookie_name: str, until: _dt.date | None) -> None:
        super().__init__(cookie_name=cookie_name, until=until)
        self._redis = _require("redis", "redis", type(self).__name__)
        self.url = url
        self._client: Any = None

    def _key(self, value: str) -> str:
        raise NotImplementedError

    def _decode(self, data: bytes) -> dict[Hashable, Any]:
        raise NotImplementedError

    def read(self, value: str) -> dict[Hashable, Any]:
        key = self._key(value)
        if self._client is None:
            self._client = self._redis.Redis.from_url(self.url)
        try:
            data = self._client.get(key)
        except self._redis.RedisError as exc:
            raise StoreUnavailable(f"{type(self).__name__}: {exc}") from exc
        return self._found(data)

    async def aread(self, value: str) -> dict[Hashable, Any]:
        key = self._key(value)
        # A client per read: an asyncio client belongs to one event loop, and a legacy session
        # is read once per browser, so there is nothing worth pooling.
        client = self._redis.asyncio.Redis.from_url(self.url)
        try:
            data = await client.get(key)
        except self._redis.RedisError as exc:
            raise StoreUnavailable(f"{type(self).__name__}: {exc}") from exc
        finally:
            await client.aclose()
        return self._found(data)

    def _found(self, data: bytes | None) -> dict[Hashable, Any]:
        if data is None:
            raise SessionNotFound(f"{type(self).__name__}: no such session (expired or deleted)")
        refuse_pickle(data, f"{type(self).__name__} record")
        return self._decode(data)

    def close(self) -> None:
        """Release the sync client's connections."""
        if self._client is not None:
            self._client.close()
            self._client = None

    def __repr__(self) -> str:
        return f"{super().__repr__()[:-1]} url={self.url!r}>"


def _json(data: bytes, reader: str) -> Any:
    try:
        return json.loads(data)
    except ValueError as exc:
        raise Malformed(f"{reader}: the record is not JSON: {exc}") from None


class AiohttpRedis(_RedisReader):
    """aiohttp-session's ``RedisStorage``: JSON ``{"created", "session"}`` under prefix + id.

    Args:
        url: the Redis URL (``redis://host:port/db``).
        cookie_name: the storage's ``cookie_name``.
        key_prefix: the storage's ``key_prefix`` (aiohttp-session: the cookie name and ``_``).
        max_age: the storage's ``max_age`` (None: Redis' own TTL is the only limit).
        until: the date after which the reader accepts nothing.
    """

    def __init__(
        self,
        url: str,
        *,
        cookie_name: str = "AIOHTTP_SESSION",
        key_prefix: str | None = None,
        max_age: int | _dt.timedelta | None = None,
        until: _dt.date | None = None,
    ) -> None:
        super().__init__(url, cookie_name=cookie_name, until=until)
        self.key_prefix = key_prefix if key_prefix is not None else cookie_name + "_"
        self.max_age = _seconds(max_age)

    def _key(self, value: str) -> str:
        return self.key_prefix + _sid(value, "AiohttpRedis")

    def _decode(self, data: bytes) -> dict[Hashable, Any]:
        return aiohttp_values(_json(data, "AiohttpRedis"), self.max_age, "AiohttpRedis")


class FlaskSessionRedis(_RedisReader):
    """Flask-Session's Redis records (``SESSION_TYPE="redis"``): msgpack or JSON by msgspec.

    Records of Flask-Session before 0.7 are pickles: refused and logged, never unpickled (those
    users start anew).

    Args:
        url: the Redis URL.
        key_prefix: ``SESSION_KEY_PREFIX``.
        cookie_name: ``SESSION_COOKIE_NAME``.
        secret_key: the app's ``SECRET_KEY`` when ``SESSION_USE_SIGNER`` was on: the id in the
            cookie is then checked with Flask-Session's itsdangerous signer.
        until: the date after which the reader accepts nothing.
    """

    def __init__(
        self,
        url: str,
        *,
        key_prefix: str = "session:",
        cookie_name: str = "session",
        secret_key: Secret | None = None,
        until: _dt.date | None = None,
    ) -> None:
        super().__init__(url, cookie_name=cookie_name, until=until)
        self.key_prefix = key_prefix
        self._msgspec = _require("msgspec", "msgspec", "FlaskSessionRedis")
        self._signer: Any = None
        if secret_key:
            itsdangerous = _require("itsdangerous", "itsdangerous", "FlaskSessionRedis")
            self._bad_signature = itsdangerous.BadSignature
            # Flask-Session's own signer settings (flask_session.base._get_signer)
            self._signer = itsdangerous.Signer(
                secret_key, salt="flask-session", key_derivation="hmac"
            )

    def _key(self, value: str) -> str:
        sid = _sid(value, "FlaskSessionRedis")
        if self._signer is not None:
            try:
                sid = self._signer.unsign(sid).decode("utf-8")
            except self._bad_signature as exc:
                raise InvalidSignature(f"FlaskSessionRedis: {exc}") from None
        return self.key_prefix + sid

    def _decode(self, data: bytes) -> dict[Hashable, Any]:
        msgspec = self._msgspec
        for decode in (msgspec.msgpack.decode, msgspec.json.decode):
            try:
                value = decode(data)
            except msgspec.DecodeError:
                continue
            if isinstance(value, dict):
                return value
        raise Malformed("FlaskSessionRedis: the record is neither msgpack nor JSON")


class StarsessionsRedis(_RedisReader):
    """starsessions' ``RedisStore`` with its default ``JsonSerializer``.

    The record's ``__metadata__`` (created, lifetime) is checked as starsessions checks it and
    then dropped from the values.

    Args:
        url: the Redis URL.
        prefix: the store's ``prefix`` (``"starsessions."`` by default).
        cookie_name: the middleware's ``cookie_name``.
        until: the date after which the reader accepts nothing.
    """

    def __init__(
        self,
        url: str,
        *,
        prefix: str = "starsessions.",
        cookie_name: str = "session",
        until: _dt.date | None = None,
    ) -> None:
        super().__init__(url, cookie_name=cookie_name, until=until)
        self.prefix = prefix

    def _key(self, value: str) -> str:
        return self.prefix + _sid(value, "StarsessionsRedis")

    def _decode(self, data: bytes) -> dict[Hashable, Any]:
        value = _json(data, "StarsessionsRedis")
        if not isinstance(value, dict):
            raise Malformed("StarsessionsRedis: the record is not a mapping")
        metadata = value.pop("__metadata__", None)
        if isinstance(metadata, dict):
            created, lifetime = metadata.get("created"), metadata.get("lifetime")
            if (
                isinstance(created, (int, float))
                and isinstance(lifetime, (int, float))
                and lifetime > 0
                and created + lifetime < time.time()
            ):
                raise Expired(f"StarsessionsRedis: created {created}, lifetime {lifetime} s")
        return value
