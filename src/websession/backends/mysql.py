"""MySQLBackend: records in a MySQL or MariaDB table, with PyMySQL (sync) and aiomysql (async).

The operations are written once (``_async/mysql.py``; the sync twin is generated from it).

One round trip per operation except a sliding-expiry load (``SELECT`` then ``UPDATE``):
``INSERT ... ON DUPLICATE KEY UPDATE`` for a plain write, a conditional ``UPDATE`` for
``must_exist``/``if_version``. MySQL has no ``RETURNING``: the new version comes back through
``LAST_INSERT_ID(version + 1)``, which the server reports with the statement's result.

Keys are ``VARCHAR(128) CHARACTER SET ascii COLLATE ascii_bin``: a case-insensitive collation
would make two different ids one row. Data is ``LONGBLOB``.

aiomysql needs ``PyMySQL<1.2.1`` (aio-libs/aiomysql#1080); the ``websession[mysql]`` extra pins
it. asyncmy is used for the async path instead when ``async_driver="asyncmy"``.
"""

# The SQL is built once from a table name checked by validate_table (identifiers only).
# ruff: noqa: S608
from __future__ import annotations

import asyncio
import contextlib
import importlib
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from ._async.mysql import AsyncMySQLOps
from ._sync.mysql import MySQLOps
from .sqlbase import (
    DEFAULT_TABLE,
    AsyncPool,
    PooledSQL,
    SyncPool,
    coerce,
    missing_client,
    owner_table,
    validate_table,
)

try:
    import pymysql
    import pymysql.err
except ImportError as _exc:  # pragma: no cover - depends on the environment
    raise missing_client("mysql", _exc) from _exc

__all__ = ["MySQLBackend"]

_OPTIONS = ("table", "create_schema", "pool_size", "async_driver", "connect_timeout", "timeout")


class _StatementTimeout(Exception):
    """A statement that did not answer within the backend's timeout."""


class MySQLBackend(PooledSQL, MySQLOps, AsyncMySQLOps):
    """Session records in a MySQL/MariaDB table.

    Args:
        host: the server's host name or address.
        port: its port.
        user: the user to connect as.
        password: that user's password.
        database: the database holding the table.
        table: the table (``name`` or ``database.name``), ``websession_sessions`` by default.
        create_schema: create the table on first use.
        pool_size: idle connections to keep per pool (threads; the event loop).
        connect_timeout: seconds to wait for a connection.
        timeout: seconds a statement may wait for the server's answer before the call raises
            StoreUnavailable (PyMySQL's read and write timeouts; a deadline on the async
            drivers, which have none).
        async_driver: ``"aiomysql"`` (default) or ``"asyncmy"``.
        clock: the time source that decides expiry.
        connect_kwargs: more keyword arguments for the drivers' ``connect`` (``unix_socket``,
            ``ssl``, ...).
        hosts: instead of ``host`` and ``port``, several ``(host, port)`` of one cluster in
            which every node takes writes (MariaDB Galera). The backend uses one node at a
            time; when a connection to it fails, it connects to the next node that answers
            (its pooled connections are dropped with the failed one), so losing the node in
            use costs the requests that were on it, not the service.
    """

    _name = "MySQL"
    _connection_errors = (
        pymysql.err.OperationalError,
        pymysql.err.InterfaceError,
        OSError,
        asyncio.TimeoutError,
        _StatementTimeout,
    )

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 3306,
        user: str | None = None,
        password: str | None = None,
        database: str | None = None,
        *,
        table: str = DEFAULT_TABLE,
        create_schema: bool = True,
        pool_size: int = 10,
        connect_timeout: float = 2,
        timeout: float = 2.0,
        async_driver: str = "aiomysql",
        clock: Callable[[], float] | None = None,
        connect_kwargs: dict[str, Any] | None = None,
        hosts: Sequence[tuple[str, int]] | None = None,
    ) -> None:
        parts = validate_table(table)
        self.hosts = [(str(h), int(p)) for h, p in hosts] if hosts else [(host, int(port))]
        #: the index in ``hosts`` of the node connected to last
        self._current = 0
        if async_driver not in ("aiomysql", "asyncmy"):
            raise ValueError(f"async_driver must be 'aiomysql' or 'asyncmy', not {async_driver!r}")
        if timeout <= 0 or connect_timeout <= 0:
            raise ValueError("timeout and connect_timeout must be positive")
        self.table = table
        self.async_driver = async_driver
        self._timeout = float(timeout)
        self._clock = clock if clock is not None else time.time
        self._ready = not create_schema
        self._params: dict[str, Any] = {
            "host": host,
            "port": int(port),
            "user": user,
            "password": password or "",
            "connect_timeout": connect_timeout,
            "autocommit": True,
            "charset": "utf8mb4",
            **(connect_kwargs or {}),
        }
        self._database = database
        # Our small pools (sqlbase's), not the drivers': PyMySQL has none, and aiomysql's and
        # asyncmy's connect to the one host they are given, while a Galera URL lists several
        # and a new connection must go to the next node that answers (_connect/_aconnect:
        # what tests/faults' Galera row and test_mysql_galera.py check). A matter of
        # behaviour, not speed: the SQLAlchemy backend on the same drivers uses its pool.
        self._pool: SyncPool[Any] = SyncPool(self._connect, _close, max_idle=pool_size)
        self._apool: AsyncPool[Any] = AsyncPool(
            self._aconnect, _aclose, _abandon, max_idle=pool_size
        )

        t = ".".join(f"`{p}`" for p in parts)
        index = f"`{parts[-1]}_expires_at_idx`"
        owners = validate_table(owner_table(table))
        o = ".".join(f"`{p}`" for p in owners)
        self._ddl = (
            f"CREATE TABLE IF NOT EXISTS {t} ("
            "`key` VARCHAR(128) CHARACTER SET ascii COLLATE ascii_bin NOT NULL PRIMARY KEY, "
            "`data` LONGBLOB NOT NULL, `expires_at` DOUBLE NOT NULL, "
            f"`version` BIGINT NOT NULL DEFAULT 1, INDEX {index} (`expires_at`)"
            ") ENGINE=InnoDB",
            f"CREATE TABLE IF NOT EXISTS {o} ("
            "`owner` VARCHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL, "
            "`key` VARCHAR(128) CHARACTER SET ascii COLLATE ascii_bin NOT NULL, "
            "`entry` BLOB NOT NULL, `expires_at` DOUBLE NOT NULL, "
            f"PRIMARY KEY (`owner`, `key`), INDEX `{owners[-1]}_expires_at_idx` (`expires_at`)"
            ") ENGINE=InnoDB",
        )
        # Asked before the DDL: CREATE TABLE IF NOT EXISTS on a table that exists leaves a note,
        # which aiomysql and asyncmy turn into a Python warning in the application's log on
        # every start (and on each connection that raced to create it).
        self._q_tables = (
            "SELECT COUNT(*) FROM information_schema.tables "
            "WHERE table_schema = COALESCE(%s, DATABASE()) AND table_name IN (%s, %s)"
        )
        self._tables = (parts[0] if len(parts) > 1 else None, parts[-1], owners[-1])
        head = self._build_owner_statements(o, "%s", "`key`")
        self._q_purge_owners = (
            f"DELETE FROM {o} WHERE `expires_at` <= %s ORDER BY `expires_at` LIMIT %s"
        )
        self._q_index = (
            head + "ON DUPLICATE KEY UPDATE `entry` = VALUES(`entry`), "
            "`expires_at` = VALUES(`expires_at`)"
        )
        self._drop = f"DROP TABLE IF EXISTS {t}"
        self._q_get = (
            f"SELECT `data`, `expires_at`, `version` FROM {t} "
            "WHERE `key` = %s AND `expires_at` > %s"
        )
        self._q_touch = f"UPDATE {t} SET `expires_at` = %s WHERE `key` = %s AND `expires_at` > %s"
        self._q_upsert = (
            f"INSERT INTO {t} (`key`, `data`, `expires_at`, `version`) VALUES (%s, %s, %s, 1) "
            "ON DUPLICATE KEY UPDATE `data` = VALUES(`data`), "
            "`expires_at` = VALUES(`expires_at`), `version` = LAST_INSERT_ID(`version` + 1)"
        )
        self._q_update = (
            f"UPDATE {t} SET `data` = %s, `expires_at` = %s, "
            "`version` = LAST_INSERT_ID(`version` + 1) WHERE `key` = %s AND `expires_at` > %s"
        )
        self._q_update_version = self._q_update + " AND `version` = %s"
        self._q_delete = f"DELETE FROM {t} WHERE `key` = %s"
        # a bounded batch along the expires_at index (it locks only the rows it deletes)
        self._q_purge = f"DELETE FROM {t} WHERE `expires_at` <= %s ORDER BY `expires_at` LIMIT %s"
        self._q_count_expired = f"SELECT COUNT(*) FROM {t} WHERE `expires_at` <= %s"

    @classmethod
    def from_url(cls, url: str, **options: Any) -> MySQLBackend:
        """A backend for ``mysql://user:password@host:3306/database?table=...``.

        ``table``, ``create_schema``, ``pool_size``, ``connect_timeout``, ``timeout`` and
        ``async_driver`` are websession's; other query parameters go to the drivers'
        ``connect``. Several hosts (``mysql://user@h1:3306,h2:3306,h3:3306/db``, a Galera
        cluster) are tried in turn: see ``hosts``.
        """
        parts = urlsplit(url)
        if parts.scheme.lower() not in ("mysql", "mariadb"):
            raise ValueError(f"not a mysql:// or mariadb:// URL: {url!r}")
        mine: dict[str, Any] = {}
        extra: dict[str, Any] = {}
        for key, value in parse_qsl(parts.query, keep_blank_values=True):
            (mine if key in _OPTIONS else extra)[key] = coerce(value)
        if extra:
            options.setdefault("connect_kwargs", extra)
        hosts = _hosts(parts.netloc.rpartition("@")[2])
        if len(hosts) > 1:
            options.setdefault("hosts", hosts)
        return cls(
            hosts[0][0],
            hosts[0][1],
            unquote(parts.username) if parts.username else None,
            unquote(parts.password) if parts.password else None,
            unquote(parts.path.lstrip("/")) or None,
            **{**mine, **options},
        )

    def __repr__(self) -> str:
        hosts = "" if len(self.hosts) == 1 else f", hosts={len(self.hosts)}"
        return f"MySQLBackend(table={self.table!r}{hosts})"

    def schema_sql(self) -> list[str]:
        """The statement that creates the table and its index."""
        return list(self._ddl)

    # -- connections -------------------------------------------------------------------------
    def _order(self) -> list[int]:
        """Host indexes to try: the node in use first, then the others in the listed order."""
        n = len(self.hosts)
        return [(self._current + i) % n for i in range(n)]

    def _connect(self) -> Any:
        timeouts = {"read_timeout": self._timeout, "write_timeout": self._timeout}
        error: BaseException | None = None
        for index in self._order():
            host, port = self.hosts[index]
            try:
                conn = pymysql.connect(
                    database=self._database,
                    **{**timeouts, **self._params, "host": host, "port": port},
                )
            except (pymysql.err.OperationalError, OSError) as exc:
                error = exc  # this node does not answer: the next one
                continue
            self._current = index
            return conn
        assert error is not None
        raise error

    async def _aconnect(self) -> Any:
        if self.async_driver == "asyncmy":
            try:
                driver = importlib.import_module("asyncmy")
            except ImportError as exc:
                raise missing_client("mysql", exc) from exc
            database = {"database": self._database}
        else:
            try:
                driver = importlib.import_module("aiomysql")
            except ImportError as exc:
                raise missing_client("mysql", exc) from exc
            database = {"db": self._database}
        error: BaseException | None = None
        for index in self._order():
            host, port = self.hosts[index]
            try:
                # The drivers' connect_timeout bounds the TCP connect only: a frozen server
                # accepts it (the kernel does) and the handshake then waited without end. The
                # deadline covers the whole connection (PyMySQL's read_timeout bounds its own);
                # a connection cancelled here is closed when collected.
                conn = await asyncio.wait_for(
                    driver.connect(**database, **{**self._params, "host": host, "port": port}),
                    self._params["connect_timeout"],
                )
            except Exception as exc:  # each driver has its own OperationalError
                error = exc
                continue
            self._current = index
            return conn
        assert error is not None
        if isinstance(error, self._connection_errors):
            raise error
        raise pymysql.err.OperationalError(2003, f"no MySQL host answered: {error}") from error

    # -- timeouts: PyMySQL has read and write timeouts, the async drivers none -----------------
    def _bounded(self, conn: Any, result: Any) -> Any:
        """The sync twin of :meth:`_abounded`: PyMySQL's own timeouts bounded the statement."""
        return result

    async def _abounded(self, conn: Any, statement: Awaitable[Any]) -> Any:
        """Await ``statement`` for at most ``timeout`` seconds.

        Not ``asyncio.wait_for``: cancelling a driver mid-statement may make it talk to the
        frozen server. Here the connection is first abandoned (its socket closed, no I/O), so
        the cancelled statement ends at once, and the caller gets StoreUnavailable on time.
        """
        task = asyncio.ensure_future(statement)
        try:
            done, _ = await asyncio.wait((task,), timeout=self._timeout)
        except BaseException:  # our caller was cancelled: so is the statement
            task.cancel()
            raise
        if done:
            return task.result()
        with contextlib.suppress(Exception):  # best effort: it is unusable anyway
            _abandon(conn)
        task.cancel()
        with contextlib.suppress(BaseException):
            await task
        raise _StatementTimeout(f"no answer within {self._timeout:g} s")

    def close(self) -> None:
        self._pool.close()
        self._apool.close()

    async def aclose(self) -> None:
        self._pool.close()
        await self._apool.aclose()


def _hosts(netloc: str) -> list[tuple[str, int]]:
    """``h1:p1,h2:p2`` (the part of a URL's netloc after any user) as (host, port) pairs."""
    if not netloc.strip():
        return [("127.0.0.1", 3306)]
    hosts = []
    for item in netloc.split(","):
        host, sep, port = item.strip().rpartition(":")
        if not sep or not port.isdigit():
            host, port = item.strip(), "3306"
        if not host.strip("[]"):
            raise ValueError(
                f"a mysql:// URL lists hosts as host[:port][,host[:port]...]: {netloc!r}"
            )
        hosts.append((unquote(host.strip("[]")), int(port)))
    return hosts or [("127.0.0.1", 3306)]


def _close(conn: Any) -> None:
    conn.close()


async def _aclose(conn: Any) -> None:
    closer = getattr(conn, "ensure_closed", None)
    if closer is not None:  # aiomysql: send COM_QUIT, then close
        await closer()
    else:  # asyncmy
        conn.close()


def _abandon(conn: Any) -> None:
    conn.close()
