"""open_store: a server-side store from one URL.

======================================================  ==========================================
URL                                                     backend
======================================================  ==========================================
``memory://``                                           :class:`~websession.MemoryStore`
``file:///abs/dir``, ``file://relative/dir``            :class:`~websession.FilesystemStore`
``sqlite:///relative.db``, ``sqlite:////abs.db``,       SQLite (stdlib ``sqlite3``); the path
``sqlite://:memory:``                                   rules are SQLAlchemy's
``lmdb:///abs/dir``, ``lmdb://relative/dir``            LMDB
``redis://``, ``rediss://``, ``unix://`` (``?cluster=true`` for Redis Cluster)  Redis
``redis+sentinel://h:p[,h:p...]/service[/db]``          Redis behind Sentinel (``?min_replicas=``)
``memcached://host:port[,host:port...]``                Memcached
``postgresql://``, ``postgres://``                      PostgreSQL (psycopg 3)
``mysql://``, ``mariadb://``                            MySQL/MariaDB (PyMySQL, aiomysql)
``sqlalchemy+<SQLAlchemy URL>``                         SQLAlchemy, e.g.
                                                        ``sqlalchemy+postgresql+psycopg://...``
``mongodb://``, ``mongodb+srv://``                      MongoDB (pymongo)
``dynamodb://table?endpoint_url=...&region=...``        DynamoDB (boto3)
``datastore://project?namespace=...&kind=...``          Google Cloud Datastore
``firestore://project?collection=...``                  Google Cloud Firestore
======================================================  ==========================================

Query parameters ``ttl``, ``idle_timeout``, ``absolute_timeout`` (seconds), ``rolling`` and
``optimistic`` configure the :class:`~websession.ServerStore`; every other parameter belongs to
the backend (for network databases the URL is handed to the backend's own ``from_url`` with the
store's parameters removed, so driver parameters such as ``connect_timeout`` or ``sslmode`` pass
through). Keyword arguments to :func:`open_store` with those names, or ``codecs``,
``serializer``, ``legacy``, ``clock`` or ``on_event``, also configure the store; the rest go to
the backend.
"""

from __future__ import annotations

import difflib
import importlib
import inspect
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, unquote, urlencode, urlsplit

from .backends.base import Backend
from .codecs.keys import SecretKeys
from .cookies import CookieOptions
from .stores import FilesystemStore, MemoryStore, ServerStore

__all__ = ["SCHEMES", "open_store"]


@dataclass(frozen=True)
class _Scheme:
    """What a URL scheme opens: a label for errors and docs, and the backend class behind it."""

    label: str
    module: str = ""  # websession.backends.<module>; "" for the stores open_store builds itself
    cls: str = ""
    extra: str = ""  # the pip extra that installs the client


def _redis(label: str) -> _Scheme:
    return _Scheme(label, "redis", "RedisBackend", "redis")


#: The one table of schemes: ``sqlalchemy+...`` stands for every ``sqlalchemy+<dialect>``.
_SCHEMES: dict[str, _Scheme] = {
    "memory": _Scheme("MemoryStore"),
    "file": _Scheme("FilesystemStore"),
    "sqlite": _Scheme("SQLite", "sqlite", "SQLiteBackend", "sqlite"),
    "lmdb": _Scheme("LMDB", "lmdb", "LMDBBackend", "lmdb"),
    "redis": _redis("Redis"),
    "rediss": _redis("Redis (TLS)"),
    "unix": _redis("Redis (unix socket)"),
    "redis+sentinel": _redis("Redis Sentinel"),
    "memcached": _Scheme("Memcached", "memcached", "MemcachedBackend", "memcached"),
    "postgresql": _Scheme("PostgreSQL", "postgresql", "PostgreSQLBackend", "postgresql"),
    "postgres": _Scheme("PostgreSQL", "postgresql", "PostgreSQLBackend", "postgresql"),
    "mysql": _Scheme("MySQL/MariaDB", "mysql", "MySQLBackend", "mysql"),
    "mariadb": _Scheme("MySQL/MariaDB", "mysql", "MySQLBackend", "mysql"),
    "sqlalchemy+...": _Scheme(
        "SQLAlchemy (any database it supports)", "sqlalchemy", "SQLAlchemyBackend", "sqlalchemy"
    ),
    "mongodb": _Scheme("MongoDB", "mongodb", "MongoBackend", "mongodb"),
    "mongodb+srv": _Scheme("MongoDB", "mongodb", "MongoBackend", "mongodb"),
    "dynamodb": _Scheme("DynamoDB", "dynamodb", "DynamoDBBackend", "dynamodb"),
    "datastore": _Scheme("Google Cloud Datastore", "datastore", "DatastoreBackend", "datastore"),
    "firestore": _Scheme("Google Cloud Firestore", "firestore", "FirestoreBackend", "firestore"),
}

#: scheme -> what it opens (for error messages and docs)
SCHEMES: dict[str, str] = {scheme: entry.label for scheme, entry in _SCHEMES.items()}

#: query parameters and keyword arguments that configure the ServerStore, not the backend
STORE_OPTIONS = ("ttl", "idle_timeout", "absolute_timeout", "rolling", "optimistic")
_STORE_KWARGS = (*STORE_OPTIONS, "codecs", "clock", "legacy", "serializer", "on_event")
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


def _coerce(value: str) -> Any:
    """A query-string value as a bool, int or float where it looks like one."""
    low = value.lower()
    if low in _TRUE:
        return True
    if low in _FALSE:
        return False
    try:
        return int(value)
    except ValueError:
        pass
    try:
        return float(value)
    except ValueError:
        return value


def _flag(name: str, value: Any) -> bool:
    if isinstance(value, bool):
        return value
    low = str(value).lower()
    if low in _TRUE:
        return True
    if low in _FALSE:
        return False
    raise ValueError(f"{name} must be true or false, not {value!r}")


def _split_query(url: str, names: tuple[str, ...]) -> tuple[str, dict[str, str]]:
    """Remove the parameters ``names`` from ``url``'s query; return the URL and them.

    Plain string surgery: ``urlunsplit`` would turn ``sqlite:////abs.db`` into ``sqlite://abs.db``.
    """
    base, sep, query = url.partition("?")
    if not sep:
        return url, {}
    kept: list[tuple[str, str]] = []
    taken: dict[str, str] = {}
    for key, value in parse_qsl(query, keep_blank_values=True):
        if key in names:
            taken[key] = value
        else:
            kept.append((key, value))
    if not taken:
        return url, {}
    return (base + "?" + urlencode(kept) if kept else base), taken


def _local_path(url: str) -> tuple[str | None, dict[str, Any]]:
    """The path and coerced query of ``file://``/``lmdb://`` URLs (netloc = relative path)."""
    parts = urlsplit(url)
    netloc, path = parts.netloc, unquote(parts.path)
    full = (path or None) if netloc in ("", "localhost") else unquote(netloc) + path
    query = {k: _coerce(v) for k, v in parse_qsl(parts.query, keep_blank_values=True)}
    return full, query


def _unknown_option(scheme: str, name: str, known: Iterable[str], more: str = "") -> ValueError:
    """The error for a query parameter nothing takes: a typo is the usual cause (``?tll=5``)."""
    names = sorted(set(known))
    near = difflib.get_close_matches(name, names, n=1)
    hint = f" (did you mean {near[0]!r}?)" if near else ""
    return ValueError(
        f"unknown {scheme}:// option {name!r}{hint}; known options: {', '.join(names)}{more}"
    )


def _typed(scheme: str, name: str, value: Any, default: Any) -> Any:
    """``value`` as the type of the option's default, or an error naming the option."""
    if isinstance(default, bool):
        try:
            return _flag(name, value)
        except ValueError:
            raise ValueError(
                f"{scheme}:// option {name!r} takes true or false, not {value!r}"
            ) from None
    if isinstance(default, (int, float)) and not isinstance(value, (int, float)):
        kind, cast = ("a whole number", int) if isinstance(default, int) else ("a number", float)
        try:
            return cast(value)
        except (TypeError, ValueError):
            raise ValueError(f"{scheme}:// option {name!r} takes {kind}, not {value!r}") from None
    return value


def _checked_kwargs(
    scheme: str, target: Callable[..., Any], given: dict[str, Any], skip: tuple[str, ...] = ()
) -> dict[str, Any]:
    """``given`` checked against the keyword parameters of ``target`` (a local backend).

    Unknown names are refused (listing the known ones, the store's too); values are converted
    to the type of the parameter's default, or refused naming the option.
    """
    params = {
        n: p
        for n, p in inspect.signature(target).parameters.items()
        if n not in skip and n != "self" and p.kind in (p.KEYWORD_ONLY, p.POSITIONAL_OR_KEYWORD)
    }
    out = {}
    for name, value in given.items():
        param = params.get(name)
        if param is None:
            raise _unknown_option(scheme, name, [*params, *STORE_OPTIONS])
        out[name] = _typed(scheme, name, value, param.default)
    return out


def _check_driver_query(scheme: str, url: str) -> None:
    """Refuse URL query parameters that neither websession nor the driver takes.

    Network drivers accept many parameters of their own, so each driver's own list (or its
    own parser) decides; a typo would otherwise pass silently until the first connection, or
    for ever. SQLAlchemy URLs are left to the dialect.
    """
    query = [k for k, _ in parse_qsl(url.partition("?")[2], keep_blank_values=True)]
    if not query:
        return
    if scheme in ("sqlite", "lmdb"):
        name = "SQLiteBackend" if scheme == "sqlite" else "LMDBBackend"
        given = {k: _coerce(v) for k, v in parse_qsl(url.partition("?")[2])}
        _checked_kwargs(scheme, _backend_class(scheme, name, scheme), given, ("path", "clock"))
    elif scheme in ("redis", "rediss", "unix"):
        from redis import connection as rc

        from .backends._rediscore import _OWN_URL_OPTIONS, _TIMEOUT_ALIASES

        known = {"cluster", *_OWN_URL_OPTIONS, *_TIMEOUT_ALIASES, *rc.URL_QUERY_ARGUMENT_PARSERS}
        for cls in (rc.AbstractConnection, rc.Connection, rc.SSLConnection):
            known.update(inspect.signature(cls.__init__).parameters)
        known -= {"self", "args", "kwargs", "host", "port", "password", "username"}
        for name in query:
            if name not in known:
                raise _unknown_option(scheme, name, [*known, *STORE_OPTIONS])
    elif scheme in ("postgresql", "postgres"):
        from psycopg import pq

        from .backends.postgresql import _OPTIONS as mine
        from .backends.sqlbase import split_options

        conninfo, _ = split_options(url, mine)
        try:
            pq.Conninfo.parse(conninfo.encode())
        except Exception as exc:  # psycopg.OperationalError: libpq's own message
            bad = str(exc).rpartition(":")[2].strip().strip('"')
            raise _unknown_option(
                scheme,
                bad,
                [n for n in (*mine, *STORE_OPTIONS) if n != "clock"],
                more=", and libpq's connection parameters",
            ) from None
    elif scheme in ("mysql", "mariadb"):
        import pymysql

        from .backends.mysql import _OPTIONS as mine

        known = set(inspect.signature(pymysql.connections.Connection.__init__).parameters)
        known |= set(mine)
        known -= {"self", "host", "port", "user", "password", "database", "db", "passwd"}
        for name in query:
            if name not in known:
                raise _unknown_option(scheme, name, [*known, *STORE_OPTIONS])
    elif scheme in ("mongodb", "mongodb+srv"):
        from pymongo import uri_parser

        own = ("database", "collection", "create_index", "connect_timeout", "timeout")
        for name, value in parse_qsl(url.partition("?")[2]):
            if name in own:
                continue
            try:
                uri_parser.split_options(urlencode([(name, value)]), validate=True, warn=False)
            except Exception as exc:  # pymongo's ConfigurationError, with its own hint
                raise ValueError(f"{scheme}:// option {name!r}: {exc}") from None


def _backend_class(module: str, name: str, extra: str) -> Any:
    hint = f"pip install 'websession[{extra}]'"
    try:
        mod = importlib.import_module(f"websession.backends.{module}")
    except ImportError as exc:
        raise ImportError(f"the {extra} backend is not available ({exc}): {hint}") from exc
    try:
        return getattr(mod, name)
    except AttributeError as exc:  # pragma: no cover - a broken install
        raise ImportError(f"websession.backends.{module} has no {name}: {hint}") from exc


def _make_backend(
    url: str, scheme: str, clock: Callable[[], float] | None, opts: dict[str, Any]
) -> Backend:
    entry = _SCHEMES.get("sqlalchemy+..." if scheme.startswith("sqlalchemy+") else scheme)
    if entry is None or not entry.module:
        supported = ", ".join(f"{s}://" for s in SCHEMES)
        raise ValueError(f"unsupported store URL scheme {scheme!r}: use one of {supported}")
    cls = _backend_class(entry.module, entry.cls, entry.extra)
    # every backend whose expiry follows a clock of its own takes the store's, so that store
    # and backend agree on what has expired (Redis and Memcached expire records by the
    # server's clock; no client clock can move it)
    if clock is not None and "clock" in inspect.signature(cls).parameters:
        opts.setdefault("clock", clock)
    # What a few schemes need beyond ``cls.from_url(url, **opts)``:
    if entry.module == "sqlalchemy":
        url = url[len("sqlalchemy+") :]
    elif scheme in ("redis", "rediss", "unix"):
        url, taken = _split_query(url, ("cluster",))
        opts["cluster"] = _flag("cluster", taken.get("cluster", opts.pop("cluster", False)))
    elif scheme == "lmdb":
        path, query = _local_path(url)
        if path is None:
            raise ValueError("an lmdb:// URL needs a path: lmdb:///abs/dir or lmdb://relative/dir")
        lmdb_backend: Backend = cls(path, **{**query, **opts})
        return lmdb_backend
    backend: Backend = cls.from_url(url, **opts)
    return backend


def open_store(
    url: str,
    secret_keys: SecretKeys | None = None,
    *,
    options: CookieOptions | None = None,
    **backend_options: Any,
) -> ServerStore:
    """A :class:`~websession.ServerStore` over the backend ``url`` names (see the module docs).

    Args:
        url: e.g. ``"memory://"``, ``"redis://localhost:6379/0?ttl=3600"``,
            ``"postgresql://user@host/db?table=sessions"``.
        secret_keys: a secret or a list of them, newest first.
        options: the cookie options every session starts with.
        **backend_options: options for the backend (``table=``, ``pool_size=``, ...); ``ttl``,
            ``rolling``, ``optimistic``, ``codecs`` and ``clock`` configure the store instead.

    Raises:
        ValueError: unknown scheme or bad option value.
        ImportError: the backend's client library is missing (the message names the extra).
    """
    if not isinstance(url, str) or "://" not in url:
        raise ValueError(f"not a store URL: {url!r} (e.g. 'memory://', 'redis://localhost')")
    scheme = url.split("://", 1)[0].lower()
    url, query = _split_query(url, STORE_OPTIONS)
    store_kw: dict[str, Any] = {
        k: backend_options.pop(k) for k in _STORE_KWARGS if k in backend_options
    }
    for name in ("ttl", "idle_timeout", "absolute_timeout"):
        if name in query:
            store_kw.setdefault(name, _typed(scheme, name, query[name], 0))
    for name in ("rolling", "optimistic"):
        if name in query:
            store_kw.setdefault(name, _flag(name, query[name]))
    clock: Callable[[], float] | None = store_kw.get("clock")

    if scheme == "memory":
        parts = urlsplit(url)
        if parts.netloc or parts.path not in ("", "/"):
            raise ValueError(f"a memory:// URL takes no host or path: {url!r}")
        from .backends.memory import MemoryBackend

        mem_opts = {k: _coerce(v) for k, v in parse_qsl(parts.query)}
        mem_opts = _checked_kwargs(scheme, MemoryBackend, mem_opts, ("clock",))
        mem_opts.update(backend_options)
        store: ServerStore = MemoryStore(secret_keys, options=options, **store_kw)
        if mem_opts:
            store.backend = MemoryBackend(clock=clock, **mem_opts)
        return store
    if scheme == "file":
        path, query_opts = _local_path(url)
        skip = (
            "path",
            "secret_keys",
            "codecs",
            "options",
            "clock",
            "legacy",
            "serializer",
            "on_event",
        )
        query_opts = _checked_kwargs(scheme, FilesystemStore, query_opts, skip)
        query_opts.update(backend_options)
        return FilesystemStore(path, secret_keys, options=options, **query_opts, **store_kw)
    _check_driver_query(scheme, url)

    backend = _make_backend(url, scheme, clock, backend_options)
    return ServerStore(backend, secret_keys, options=options, **store_kw)


def open_backend(url: str, *, clock: Callable[[], float] | None = None, **options: Any) -> Backend:
    """The :class:`~websession.Backend` ``url`` names, without a store around it.

    For what a store keeps beside its sessions, e.g. ``CookieStore(...,
    revocations="redis://...")``. Same URLs as :func:`open_store` (``memory://``,
    ``file:///path``, ``redis://``, ``postgresql://``, ...); the store's own parameters
    (``ttl``, ``rolling``...) do not apply here.
    """
    if not isinstance(url, str) or "://" not in url:
        raise ValueError(f"not a backend URL: {url!r} (e.g. 'memory://', 'redis://localhost')")
    scheme = url.split("://", 1)[0].lower()
    if scheme == "memory":
        from .backends.memory import MemoryBackend

        return MemoryBackend(clock=clock, **options)
    if scheme == "file":
        from .backends.filesystem import FilesystemBackend

        path, query_opts = _local_path(url)
        if path is None:
            raise ValueError(f"a file:// URL needs a path: {url!r}")
        return FilesystemBackend(path, clock=clock, **{**query_opts, **options})
    return _make_backend(url, scheme, clock, dict(options))
