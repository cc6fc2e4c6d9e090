"""MySQLBackend beyond the shared contract: the SQL cases and mysql:// / mariadb:// URLs.
Against the test run's MariaDB (tools/testenv.py); Galera: test_mysql_galera.py.
"""

from __future__ import annotations

from typing import Any

from tests.support.backends import assert_store_round_trip
from tests.support.servers import server_url
from tests.support.sql import SECRET, NetworkSqlCases, unique_table
from websession import open_store
from websession.backends.mysql import MySQLBackend


class TestMySQL(NetworkSqlCases):
    KIND = "mysql"


def test_open_store_mysql_urls() -> None:
    table = unique_table()
    url = server_url("mysql")
    sep = "&" if "?" in url else "?"
    store = open_store(f"{url}{sep}table={table}&optimistic=true", SECRET, pool_size=3)
    assert store.optimistic is True
    backend: Any = store.backend
    assert backend.table == table
    try:
        assert_store_round_trip(store, "sid", 1, "one")
        assert isinstance(backend, MySQLBackend)
        alias = open_store("mariadb://" + url.split("://", 1)[1], SECRET, table=table)
        assert isinstance(alias.backend, MySQLBackend)
        alias.close()
    finally:
        backend.drop_schema()
        store.close()
