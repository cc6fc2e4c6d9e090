"""MySQLBackend beyond the shared contract: the SQL cases and mysql:// / mariadb:// URLs.
Against the test run's MariaDB (tools/testenv.py); Galera: test_mysql_galera.py.
"""

from __future__ import annotations

from tests.support.sql import NetworkSqlCases, check_open_store_urls
from websession.backends.mysql import MySQLBackend


class TestMySQL(NetworkSqlCases):
    KIND = "mysql"


def test_open_store_mysql_urls() -> None:
    check_open_store_urls("mysql", "mariadb", MySQLBackend)
