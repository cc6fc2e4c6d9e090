"""LMDB (embedded), MongoDB and DynamoDB.

MongoDB runs against nx-27017 (a MongoDB wire-protocol server backed by SQLite: no real mongod
can be installed here) and DynamoDB against DynamoDB Local, both started by tools/testenv.py.

native_ttl: DynamoDB Local really deletes expired items by itself (its TTL sweep removed them
within about 15 seconds here), so purge() may find nothing left: True. nx-27017 has no
background TTL monitor; it deletes expired documents only when the collection is next read, so
the contract can (and does) check that purge() removes them: False. Reads of either never
return an expired record.

Both follow an injected clock (the contract's fake one, in 2027: ahead of real time, so neither
server's own TTL deletes what the fake clock still calls live).
"""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Callable

from tests.support.contract import BackendCase
from tests.support.scratch import scratch_dir
from tests.support.servers import server_url
from websession.backends.base import Backend


def _lmdb(clock: Callable[[], float] | None = None) -> Backend:
    from websession.backends.lmdb import LMDBBackend

    return LMDBBackend(scratch_dir("ws-lmdb-"), map_size=1 << 20, clock=clock)


def _lmdb_cleanup(backend: Backend) -> None:
    from websession.backends.lmdb import LMDBBackend

    assert isinstance(backend, LMDBBackend)
    backend.close()
    shutil.rmtree(backend.path, ignore_errors=True)


def _mongo(clock: Callable[[], float] | None = None) -> Backend:
    from websession.backends.mongodb import MongoBackend

    # A collection of its own per backend: the server is shared by every test of the run.
    return MongoBackend.from_url(
        server_url("mongodb"),
        database="websession_test",
        collection=f"s_{uuid.uuid4().hex[:12]}",
        clock=clock,
    )


def _mongo_cleanup(backend: Backend) -> None:
    from pymongo import MongoClient

    from websession.backends.mongodb import MongoBackend

    assert isinstance(backend, MongoBackend)
    # A client of our own: the backend's may be closed already (aclose closes both).
    with MongoClient(server_url("mongodb"), serverSelectionTimeoutMS=2000) as client:
        client[backend.database].drop_collection(backend.collection_name)


def _dynamo(clock: Callable[[], float] | None = None) -> Backend:
    from websession.backends.dynamodb import DynamoDBBackend

    return DynamoDBBackend(
        f"ws-test-{uuid.uuid4().hex[:12]}",
        endpoint_url=server_url("dynamodb"),
        region="us-east-1",
        read_timeout=10.0,  # a JVM on a busy test machine; tests/faults/test_timeouts.py checks 1 s
        clock=clock,
    )


def _dynamo_cleanup(backend: Backend) -> None:
    from websession.backends.dynamodb import DynamoDBBackend

    assert isinstance(backend, DynamoDBBackend)
    fresh = DynamoDBBackend(backend.table, endpoint_url=server_url("dynamodb"), region="us-east-1")
    fresh.drop_table()
    fresh.close()


CASES = [
    BackendCase(
        id="lmdb",
        make=_lmdb,
        cleanup=_lmdb_cleanup,
        follows_clock=True,
        make_with_clock=_lmdb,
    ),
    BackendCase(
        id="mongodb",
        make=_mongo,
        cleanup=_mongo_cleanup,
        native_ttl=False,
        follows_clock=True,
        make_with_clock=_mongo,
    ),
    BackendCase(
        id="dynamodb",
        make=_dynamo,
        cleanup=_dynamo_cleanup,
        native_ttl=True,
        follows_clock=True,
        make_with_clock=_dynamo,
    ),
]
