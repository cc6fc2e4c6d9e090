"""Readers for sessions kept whole in a cookie: Flask, Starlette, Django, aiohttp-session.

Each verifies with the old library's own code (itsdangerous, ``django.core.signing``,
``cryptography.fernet``), imported when the reader is made: a missing library is a clear
ImportError at start-up, not a surprise on the first request.
"""

from __future__ import annotations

import base64
import binascii
import datetime as _dt
import json
import logging
import time
from collections.abc import Hashable, Sequence
from http.cookies import CookieError, SimpleCookie
from typing import Any

from ..errors import Expired, InvalidSignature, Malformed
from ._base import LegacyReader

__all__ = ["AiohttpCookie", "DjangoSignedCookie", "FlaskCookie", "StarletteCookie"]

log = logging.getLogger("websession")

Secret = str | bytes
DAY = 86400


def _require(module: str, package: str, reader: str) -> Any:
    try:
        return __import__(module, fromlist=["_"])
    except ImportError as exc:
        raise ImportError(
            f"{reader} verifies with {package}'s own code: pip install {package}"
        ) from exc


def _seconds(max_age: int | float | _dt.timedelta | None) -> int | None:
    if isinstance(max_age, _dt.timedelta):
        return int(max_age.total_seconds())
    return None if max_age is None else int(max_age)


def _mapping(value: Any, reader: str) -> dict[Hashable, Any]:
    if not isinstance(value, dict):
        raise Malformed(f"{reader}: the cookie does not hold a mapping")
    return value


class FlaskCookie(LegacyReader):
    """Flask's default sessions (``SecureCookieSessionInterface``): a signed cookie.

    Verified and decoded by itsdangerous and Flask's own tagged JSON serializer, with the salt,
    digest and key derivation of Flask's session interface, so tuples, bytes, datetimes and
    the other tagged types come back as Flask stored them.

    Args:
        secret_key: the Flask app's ``SECRET_KEY``.
        fallbacks: its ``SECRET_KEY_FALLBACKS`` (older keys that still verify).
        cookie_name: Flask's ``SESSION_COOKIE_NAME``.
        max_age: Flask's ``PERMANENT_SESSION_LIFETIME`` (31 days by default): older cookies
            are expired, as Flask judges them.
        until: the date after which the reader accepts nothing.
    """

    def __init__(
        self,
        secret_key: Secret,
        *,
        fallbacks: Sequence[Secret] = (),
        cookie_name: str = "session",
        max_age: int | _dt.timedelta = _dt.timedelta(days=31),
        until: _dt.date | None = None,
    ) -> None:
        super().__init__(cookie_name=cookie_name, until=until)
        if not secret_key:
            raise ValueError("FlaskCookie needs the Flask app's SECRET_KEY")
        sessions = _require("flask.sessions", "flask", "FlaskCookie")
        self._itsdangerous = _require("itsdangerous", "itsdangerous", "FlaskCookie")
        interface = sessions.SecureCookieSessionInterface
        # itsdangerous signs with the last key and verifies with all: the current one last,
        # exactly as Flask lists them.
        self._serializer = self._itsdangerous.URLSafeTimedSerializer(
            [*fallbacks, secret_key],
            salt=interface.salt,
            serializer=interface.serializer,
            signer_kwargs={
                "key_derivation": interface.key_derivation,
                "digest_method": interface.digest_method,
            },
        )
        self.max_age = _seconds(max_age)

    def read(self, value: str) -> dict[Hashable, Any]:
        """The values of Flask's signed cookie (itsdangerous, with the app's secret keys and salt).

        Raises:
            DecodeError: forged, expired, foreign or not a session (never unpickled).
        """
        errors = self._itsdangerous
        try:
            data = self._serializer.loads(value, max_age=self.max_age)
        except errors.SignatureExpired as exc:
            raise Expired(f"FlaskCookie: {exc}") from None
        except errors.BadSignature as exc:
            # BadPayload (a subclass) when the signature held but the payload did not decode
            raise (Malformed if isinstance(exc, errors.BadPayload) else InvalidSignature)(
                f"FlaskCookie: {exc}"
            ) from None
        return _mapping(data, "FlaskCookie")


class StarletteCookie(LegacyReader):
    """Starlette's ``SessionMiddleware``: base64 JSON signed by itsdangerous' TimestampSigner.

    Args:
        secret_key: the middleware's ``secret_key``.
        cookie_name: its ``session_cookie``.
        max_age: its ``max_age`` (14 days by default), or None for no limit.
        until: the date after which the reader accepts nothing.
    """

    def __init__(
        self,
        secret_key: Secret,
        *,
        cookie_name: str = "session",
        max_age: int | _dt.timedelta | None = 14 * DAY,
        until: _dt.date | None = None,
    ) -> None:
        super().__init__(cookie_name=cookie_name, until=until)
        if not secret_key:
            raise ValueError("StarletteCookie needs the middleware's secret_key")
        self._itsdangerous = _require("itsdangerous", "itsdangerous", "StarletteCookie")
        key = secret_key if isinstance(secret_key, str) else secret_key.decode()
        # Starlette makes its signer as TimestampSigner(str(secret_key)): the same here.
        self._signer = self._itsdangerous.TimestampSigner(key)
        self.max_age = _seconds(max_age)

    def read(self, value: str) -> dict[Hashable, Any]:
        """The values of Starlette's signed cookie (itsdangerous ``TimestampSigner``).

        Raises:
            DecodeError: forged, expired, foreign or not a session (never unpickled).
        """
        errors = self._itsdangerous
        try:
            data = self._signer.unsign(value.encode("utf-8"), max_age=self.max_age)
        except errors.SignatureExpired as exc:
            raise Expired(f"StarletteCookie: {exc}") from None
        except errors.BadSignature as exc:
            raise InvalidSignature(f"StarletteCookie: {exc}") from None
        try:
            decoded = json.loads(base64.b64decode(data))
        except (binascii.Error, ValueError) as exc:
            raise Malformed(f"StarletteCookie: {exc}") from None
        return _mapping(decoded, "StarletteCookie")


#: django.contrib.sessions.backends.signed_cookies signs with this salt (its module path)
_DJANGO_SALT = "django.contrib.sessions.backends.signed_cookies"


class DjangoSignedCookie(LegacyReader):
    """Django's ``signed_cookies`` session engine, verified by ``django.core.signing``.

    Works without configured Django settings (keys and age are given here). The payload is
    read with Django's ``JSONSerializer`` only: a cookie made with a pickle serializer does not
    decode and is refused.

    Args:
        secret_key: the project's ``SECRET_KEY``.
        fallbacks: its ``SECRET_KEY_FALLBACKS``.
        cookie_name: ``SESSION_COOKIE_NAME``.
        max_age: ``SESSION_COOKIE_AGE`` (two weeks by default).
        until: the date after which the reader accepts nothing.
    """

    def __init__(
        self,
        secret_key: Secret,
        *,
        fallbacks: Sequence[Secret] = (),
        cookie_name: str = "sessionid",
        max_age: int | _dt.timedelta = 14 * DAY,
        until: _dt.date | None = None,
    ) -> None:
        super().__init__(cookie_name=cookie_name, until=until)
        if not secret_key:
            raise ValueError("DjangoSignedCookie needs the project's SECRET_KEY")
        self._signing = _require("django.core.signing", "django", "DjangoSignedCookie")
        self._key = secret_key
        self._fallbacks = list(fallbacks)
        self.max_age = _seconds(max_age)

    def read(self, value: str) -> dict[Hashable, Any]:
        """The values of Django's ``signed_cookies`` session cookie (``django.core.signing``).

        Raises:
            DecodeError: forged, expired, foreign or not a session (never unpickled).
        """
        signing = self._signing
        try:
            data = signing.loads(
                value,
                key=self._key,
                fallback_keys=self._fallbacks,
                salt=_DJANGO_SALT,
                serializer=signing.JSONSerializer,
                max_age=self.max_age,
            )
        except signing.SignatureExpired as exc:
            raise Expired(f"DjangoSignedCookie: {exc}") from None
        except signing.BadSignature as exc:
            raise InvalidSignature(f"DjangoSignedCookie: {exc}") from None
        except (ValueError, UnicodeDecodeError) as exc:  # zlib, JSON: signed but not readable
            raise Malformed(f"DjangoSignedCookie: {exc}") from None
        return _mapping(data, "DjangoSignedCookie")


def _unquote(value: str) -> str:
    """A cookie value as aiohttp (through http.cookies) quoted it, unquoted the same way."""
    if "\\" in value:  # escapes inside quotes (the registry removed the outer quotes)
        cookie: SimpleCookie = SimpleCookie()
        try:
            cookie.load(f'v="{value}"')
        except CookieError:
            return value
        if "v" in cookie:
            return cookie["v"].value
    return value


class AiohttpCookie(LegacyReader):
    """aiohttp-session's cookie storages: ``EncryptedCookieStorage`` or ``SimpleCookieStorage``.

    With ``fernet_key`` the cookie is a Fernet token, opened by ``cryptography.fernet`` as
    aiohttp-session does (a ``bytes`` key is the raw 32 bytes, a ``str`` the base64 form).
    Without it the cookie is SimpleCookieStorage's plain JSON: **anyone can forge it** (that
    storage is for development); adopt it only to move such an app off it, with a near
    ``until``.

    Args:
        fernet_key: EncryptedCookieStorage's ``secret_key``, or None for SimpleCookieStorage.
        cookie_name: the storage's ``cookie_name``.
        max_age: the storage's ``max_age`` (None: no limit, aiohttp-session's default).
        until: the date after which the reader accepts nothing.
    """

    def __init__(
        self,
        fernet_key: Secret | None = None,
        *,
        cookie_name: str = "AIOHTTP_SESSION",
        max_age: int | _dt.timedelta | None = None,
        until: _dt.date | None = None,
    ) -> None:
        super().__init__(cookie_name=cookie_name, until=until)
        self.max_age = _seconds(max_age)
        self._fernet: Any = None
        if fernet_key is not None:
            fernet = _require("cryptography.fernet", "cryptography", "AiohttpCookie")
            key = (
                base64.urlsafe_b64encode(fernet_key)
                if isinstance(fernet_key, bytes)
                else fernet_key
            )
            self._fernet = fernet.Fernet(key)
            self._invalid_token = fernet.InvalidToken
        else:
            log.warning(
                "websession: AiohttpCookie without a fernet_key adopts unsigned "
                "SimpleCookieStorage cookies, which anyone can forge: use it only to move a "
                "development app off that storage"
            )

    def read(self, value: str) -> dict[Hashable, Any]:
        """The values of aiohttp-session's cookie (Fernet-encrypted, or plain for ``None``).

        Raises:
            DecodeError: forged, expired, foreign or not a session (never unpickled).
        """
        if self._fernet is not None:
            try:
                text = self._fernet.decrypt(value.encode("utf-8"), ttl=self.max_age)
            except self._invalid_token:
                # Fernet says the same for a forged token and one older than its ttl
                raise InvalidSignature("AiohttpCookie: invalid or expired Fernet token") from None
        else:
            text = _unquote(value).encode("utf-8")
        try:
            data = json.loads(text)
        except ValueError as exc:
            raise Malformed(f"AiohttpCookie: {exc}") from None
        return aiohttp_values(data, self.max_age, "AiohttpCookie")


def aiohttp_values(data: Any, max_age: int | None, reader: str) -> dict[Hashable, Any]:
    """The values of aiohttp-session's ``{"created": ..., "session": {...}}``, age checked."""
    if not isinstance(data, dict) or not isinstance(data.get("session"), dict):
        raise Malformed(f"{reader}: not an aiohttp-session record")
    created = data.get("created")
    if (
        max_age is not None
        and isinstance(created, (int, float))
        and created + max_age < time.time()
    ):
        raise Expired(f"{reader}: created {created}, max_age {max_age} s")
    values: dict[Hashable, Any] = data["session"]
    return values
