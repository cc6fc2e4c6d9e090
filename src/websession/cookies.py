"""Cookie options, name rules, and the Set-Cookie / Cookie header formats.

Why not :mod:`http.cookies`: ``SimpleCookie`` stops parsing at the first cookie it dislikes
(one bad cookie from another app on the domain hides every session cookie after it), quotes
values we do not want quoted, and has no Partitioned attribute before Python 3.14. The header
grammar we need is small, so it is written out here against RFC 6265 and Go's ``net/http``
(which gorilla uses, and whose attribute order we keep).
"""

from __future__ import annotations

import logging
import math
import re
import time
from collections.abc import Iterable
from dataclasses import dataclass, replace
from email.utils import formatdate
from typing import Literal

from ._defaults import BROWSER_COOKIE_LIMIT, MAX_AGE

__all__ = [
    "BROWSER_COOKIE_LIMIT",
    "MAX_VALUES_PER_NAME",
    "CookieOptions",
    "SameSite",
    "cookie_candidates",
    "format_set_cookie",
    "parse_cookie_header",
    "validate_cookie_name",
]

SameSite = Literal["Lax", "Strict", "None"]

log = logging.getLogger("websession")

# RFC 7230 token characters: what a cookie name may contain (gorilla's lex.go, Go's net/http).
_TOKEN = re.compile(r"[!#$%&'*+\-.0-9A-Z^_`a-z|~]+")
# RFC 6265 cookie-octet: what a cookie value may contain unquoted.
_COOKIE_VALUE = re.compile(r"[\x21\x23-\x2b\x2d-\x3a\x3c-\x5b\x5d-\x7e]*")
_PATH = re.compile(r"[\x20-\x3a\x3c-\x7e]*")
_DOMAIN = re.compile(
    r"\.?[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*"
)
_SAME_SITE = ("Lax", "Strict", "None")
_EXPIRED = "Thu, 01 Jan 1970 00:00:01 GMT"


def validate_cookie_name(name: str) -> str:
    """Return ``name`` if it is a valid cookie name (an RFC 7230 token), else raise ValueError."""
    if type(name) is str and name in _VALID_NAMES:  # checked several times per request
        return name
    if not isinstance(name, str) or not _TOKEN.fullmatch(name):
        raise ValueError(f"invalid character in cookie name: {name!r}")
    if type(name) is str and len(_VALID_NAMES) < 1024:
        _VALID_NAMES.add(name)
    return name


_VALID_NAMES: set[str] = set()


@dataclass(slots=True)
class CookieOptions:
    """How a session's cookie is sent. Each session gets its own copy of its store's options.

    Args:
        path: the cookie's Path.
        domain: the cookie's Domain, or None for a host-only cookie (a leading dot is dropped
            on output, as browsers ignore it).
        max_age: seconds the browser keeps the cookie: ``> 0`` persistent (Max-Age and
            Expires); ``0`` a browser-session cookie (neither attribute; a server-side record
            still lives for its store's default lifetime); ``< 0`` delete it now.
        secure: send only over HTTPS. On by default; turn it off for plain-HTTP development.
        http_only: hide the cookie from JavaScript.
        same_site: ``"Lax"``, ``"Strict"``, ``"None"`` (needs ``secure``), or None to omit.
        partitioned: CHIPS partitioned cookie (needs ``secure``).

    Raises:
        ValueError: a combination browsers reject (SameSite=None or Partitioned without Secure),
            an unknown SameSite, or a Path or Domain with characters a cookie cannot carry.
    """

    path: str = "/"
    domain: str | None = None
    max_age: int = MAX_AGE
    secure: bool = True
    http_only: bool = True
    same_site: SameSite | None = "Lax"
    partitioned: bool = False

    def __post_init__(self) -> None:
        if self.domain == "":  # Go's zero value: a host-only cookie
            self.domain = None
        self.validate()

    def validate(self, name: str | None = None) -> None:
        """Raise ValueError if these options (for the cookie ``name``, when given) are unusable."""
        if name is None:
            self._attributes()
        else:
            self._checked(name)

    def _checked(self, name: str) -> tuple[str, str]:
        """Check these options for the cookie ``name``; return :meth:`_attributes`."""
        attributes = self._attributes()
        validate_cookie_name(name)
        if name.startswith("__"):
            # Browsers match the prefixes case-insensitively (RFC 6265bis), so "__host-" binds
            # the cookie as "__Host-" does: the same rules apply whatever the letter case.
            prefix = name[:9].lower()
            if prefix.startswith("__host-") and (
                not self.secure or self.path != "/" or self.domain
            ):
                raise ValueError(
                    f"cookie {name!r}: the __Host- prefix needs secure=True, path='/' and no domain"
                )
            if prefix == "__secure-" and not self.secure:
                raise ValueError(f"cookie {name!r}: the __Secure- prefix needs secure=True")
        return attributes

    def _attributes(self) -> tuple[str, str]:
        """Check the options; return the Set-Cookie text before and after Expires/Max-Age.

        Checked once per distinct set of options: the result is cached by the options' values
        (``max_age`` by its type only: its value is written per cookie).
        """
        key = (
            self.path,
            self.domain,
            type(self.max_age),
            self.secure,
            self.http_only,
            self.same_site,
            self.partitioned,
        )
        try:
            cached = _ATTRIBUTES.get(key)
        except TypeError:  # an unhashable value: not valid either; let the checks say why
            cached = None
        if cached is not None:
            return cached
        self._check()
        head = f"Path={self.path}"
        if self.domain:
            head += f"; Domain={self.domain.lstrip('.')}"
        tail = ""
        if self.http_only:
            tail += "; HttpOnly"
        if self.secure:
            tail += "; Secure"
        if self.same_site is not None:
            tail += f"; SameSite={self.same_site}"
        if self.partitioned:
            tail += "; Partitioned"
        if len(_ATTRIBUTES) >= _ATTRIBUTES_MAX:
            _ATTRIBUTES.clear()
        _ATTRIBUTES[key] = (head, tail)
        return head, tail

    def _check(self) -> None:
        if self.same_site is not None and self.same_site not in _SAME_SITE:
            raise ValueError(
                f"same_site must be 'Lax', 'Strict', 'None' or None, not {self.same_site!r}"
            )
        if self.same_site == "None" and not self.secure:
            raise ValueError("same_site='None' requires secure=True (browsers reject it otherwise)")
        if self.partitioned and not self.secure:
            raise ValueError("partitioned=True requires secure=True")
        if not isinstance(self.max_age, int) or isinstance(self.max_age, bool):
            raise ValueError(f"max_age must be an int, not {self.max_age!r}")
        if (
            not isinstance(self.path, str)
            or not self.path.startswith("/")
            or not _PATH.fullmatch(self.path)
        ):
            raise ValueError(
                f"invalid cookie path {self.path!r}: it must start with / "
                "and contain no ; or control characters"
            )
        if self.domain is not None and (
            not isinstance(self.domain, str) or not _DOMAIN.fullmatch(self.domain)
        ):
            raise ValueError(f"invalid cookie domain {self.domain!r}")

    def copy(self, **changes: object) -> CookieOptions:
        """Return a copy with ``changes`` applied (and validated)."""
        if changes:
            return replace(self, **changes)  # type: ignore[arg-type]
        clone = self._clone()
        clone.validate()
        return clone

    def _clone(self) -> CookieOptions:
        """An unchecked copy, for the hot path (a copy per session) of options just checked.

        Not :func:`dataclasses.replace`, which costs more than the rest of a session's load.
        """
        clone = object.__new__(CookieOptions)
        clone.path = self.path
        clone.domain = None if self.domain == "" else self.domain  # as __post_init__ does
        clone.max_age = self.max_age
        clone.secure = self.secure
        clone.http_only = self.http_only
        clone.same_site = self.same_site
        clone.partitioned = self.partitioned
        return clone


# Valid options seen so far -> the Set-Cookie attributes around Expires/Max-Age.
_ATTRIBUTES: dict[tuple[object, ...], tuple[str, str]] = {}
_ATTRIBUTES_MAX = 256
# The last Expires value formatted: (whole seconds, HTTP date).
_last_date: tuple[int, str] = (0, formatdate(0, usegmt=True))


def _http_date(timestamp: float) -> str:
    """``formatdate(timestamp, usegmt=True)``, formatted once per second."""
    global _last_date
    seconds = math.floor(timestamp)
    last = _last_date
    if last[0] == seconds:
        return last[1]
    text = formatdate(seconds, usegmt=True)
    _last_date = (seconds, text)
    return text


def format_set_cookie(
    name: str, value: str, options: CookieOptions, *, now: float | None = None
) -> str:
    """Return the Set-Cookie header value, with attributes in Go's ``net/http`` order.

    ``options.max_age < 0`` (or an empty ``value`` with it) makes a deletion cookie:
    ``Expires=Thu, 01 Jan 1970 00:00:01 GMT; Max-Age=0``.

    Raises:
        ValueError: an invalid name, a value with characters a cookie cannot carry, or options
            that break the name's ``__Host-``/``__Secure-`` prefix rules.
    """
    return _format_set_cookie(name, value, options, now, check_value=True)


def _format_set_cookie(
    name: str, value: str, options: CookieOptions, now: float | None, *, check_value: bool
) -> str:
    """:func:`format_set_cookie`; ``check_value=False`` for values known to be cookie-safe (a
    sealed codec's base64url), which spares a regex pass over them on every save."""
    head, tail = options._checked(name)
    if check_value and not _COOKIE_VALUE.fullmatch(value):
        raise ValueError(f"cookie {name!r}: the value contains characters a cookie cannot carry")
    max_age = options.max_age
    if max_age > 0:
        expires = _http_date((time.time() if now is None else now) + max_age)
        return f"{name}={value}; {head}; Expires={expires}; Max-Age={max_age}{tail}"
    if max_age < 0:
        return f"{name}={value}; {head}; Expires={_EXPIRED}; Max-Age=0{tail}"
    return f"{name}={value}; {head}{tail}"


#: At most this many distinct values of one cookie name are tried. A browser sends a name more
#: than once only for cookies set on several paths or domains (a few); a request with more is
#: crafted, and each value may cost a backend read (``Cookie: session=X; session=X; ...``).
MAX_VALUES_PER_NAME = 3


def cookie_candidates(name: str, values: Iterable[str]) -> list[str]:
    """The values of cookie ``name`` worth trying: each distinct non-empty one once, at most
    :data:`MAX_VALUES_PER_NAME`, in the order sent."""
    distinct = list(dict.fromkeys(v for v in values if v))
    if len(distinct) > MAX_VALUES_PER_NAME:
        log.debug(
            "cookie %r sent with %d distinct values: only the first %d are tried",
            name,
            len(distinct),
            MAX_VALUES_PER_NAME,
        )
        del distinct[MAX_VALUES_PER_NAME:]
    return distinct


def parse_cookie_header(header: str | bytes | None) -> dict[str, list[str]]:
    """Parse a ``Cookie`` request header into ``{name: [value, ...]}``, in header order.

    Several values for one name (the same cookie set for two paths or domains) are all kept, so a
    store can try each until one verifies. Pairs with invalid names are skipped without losing
    the rest; one pair of surrounding double quotes is removed, as Go does.
    """
    if not header:
        return {}
    if isinstance(header, bytes):
        header = header.decode("latin-1")
    out: dict[str, list[str]] = {}
    for chunk in header.split(";"):
        name, sep, value = chunk.strip().partition("=")
        if not sep:
            continue
        name = name.strip()
        if not _TOKEN.fullmatch(name):
            continue
        value = value.strip()
        if len(value) > 1 and value[0] == value[-1] == '"':
            value = value[1:-1]
        out.setdefault(name, []).append(value)
    return out
