"""Memcached (server started by tools/testenv.py)."""

from __future__ import annotations

import uuid

from tests.support.contract import BackendCase
from tests.support.servers import server_url
from websession.backends.memcached import MemcachedBackend

CASES = [
    BackendCase(
        id="memcached",
        # A prefix of its own per backend: the server is shared by every test of the run; the
        # records it leaves expire by themselves (TTLs of seconds to minutes).
        make=lambda: MemcachedBackend(
            server_url("memcached"), key_prefix=f"ws-test:{uuid.uuid4().hex[:12]}:"
        ),
        native_ttl=True,
        owners=False,  # memcached cannot enumerate or keep an index: NotImplementedError
    ),
]
