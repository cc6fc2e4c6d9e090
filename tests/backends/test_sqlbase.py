"""What the SQL backends share (websession.backends.sqlbase): table names are checked."""

from __future__ import annotations

import pytest

from websession.backends.mysql import MySQLBackend
from websession.backends.postgresql import PostgreSQLBackend
from websession.backends.sqlite import SQLiteBackend


def test_bad_table_names_are_refused() -> None:
    for bad in ("x; DROP TABLE y", "a b", '"quoted"', "1abc", "a.b.c", ""):
        with pytest.raises(ValueError, match="table"):
            SQLiteBackend(":memory:", table=bad)
        with pytest.raises(ValueError, match="table"):
            PostgreSQLBackend("", table=bad)
        with pytest.raises(ValueError, match="table"):
            MySQLBackend(table=bad)
