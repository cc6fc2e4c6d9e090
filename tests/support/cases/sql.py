"""The SQL backends: SQLite, PostgreSQL, MySQL/MariaDB, and SQLAlchemy over all three.

Every SQL backend compares ``expires_at`` with its own clock (passed as a parameter), so all of
them follow the contract's fake clock. Each test gets its own table, dropped afterwards.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable
from typing import Any

from tests.support.contract import BackendCase
from tests.support.scratch import scratch_dir
from tests.support.servers import server_url
from websession.backends.base import Backend

Clock = Callable[[], float]


def unique_table() -> str:
    return "ws_" + uuid.uuid4().hex[:16]


def drop(backend: Backend) -> None:
    backend.drop_schema()  # type: ignore[attr-defined]


def sqlite(clock: Clock | None = None) -> Backend:
    from websession.backends.sqlite import SQLiteBackend

    path = os.path.join(scratch_dir("ws-sqlite-"), "sessions.db")
    return SQLiteBackend(path, table=unique_table(), clock=clock)


def postgresql(clock: Clock | None = None) -> Backend:
    from websession.backends.postgresql import PostgreSQLBackend

    return PostgreSQLBackend(server_url("postgresql"), table=unique_table(), clock=clock)


def mysql(clock: Clock | None = None) -> Backend:
    from websession.backends.mysql import MySQLBackend

    return MySQLBackend.from_url(server_url("mysql"), table=unique_table(), clock=clock)


def sqlalchemy_url(name: str) -> str:
    if name == "sqlite":
        path = os.path.join(scratch_dir("ws-sqla-"), "sessions.db")
        return f"sqlite:///{path}"
    url = server_url(name)
    rest = url.split("://", 1)[1]
    driver = {"postgresql": "postgresql+psycopg", "mysql": "mysql+pymysql"}[name]
    return f"{driver}://{rest}"


def sqlalchemy(name: str) -> Callable[..., Backend]:
    def make(clock: Clock | None = None) -> Backend:
        from websession.backends.sqlalchemy import SQLAlchemyBackend

        options: dict[str, Any] = {"table": unique_table(), "clock": clock}
        return SQLAlchemyBackend(sqlalchemy_url(name), **options)

    return make


def case(id: str, make: Callable[..., Backend]) -> BackendCase:
    return BackendCase(
        id=id,
        make=make,
        cleanup=drop,
        follows_clock=True,
        make_with_clock=lambda clock: make(clock),
    )


CASES = [
    case("sqlite", sqlite),
    case("postgresql", postgresql),
    case("mysql", mysql),
    case("sqlalchemy-sqlite", sqlalchemy("sqlite")),
    case("sqlalchemy-postgresql", sqlalchemy("postgresql")),
    case("sqlalchemy-mysql", sqlalchemy("mysql")),
]
