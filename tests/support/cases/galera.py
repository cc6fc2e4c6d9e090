"""MariaDB Galera Cluster: the MySQL backend on three nodes (tools/testenv.py starts them).

The URL lists all three nodes; the backend writes to one at a time and fails over to the
next. The contract runs on the cluster as a user's application would see it.
"""

from __future__ import annotations

import uuid

from tests.support.contract import BackendCase
from tests.support.servers import server_url
from websession.backends.base import Backend


def _make() -> Backend:
    from websession.backends.mysql import MySQLBackend

    return MySQLBackend.from_url(server_url("galera"), table=f"g_{uuid.uuid4().hex[:12]}")


def _cleanup(backend: Backend) -> None:
    from websession.backends.mysql import MySQLBackend

    assert isinstance(backend, MySQLBackend)
    backend.drop_schema()


CASES = [BackendCase(id="galera", make=_make, cleanup=_cleanup)]
