"""Google Cloud Datastore and Firestore, against Google's own emulators (tools/testenv.py).

The clients find the emulators through ``DATASTORE_EMULATOR_HOST`` and
``FIRESTORE_EMULATOR_HOST`` and then need no credentials. Every backend gets a namespace (or
collection) of its own: the emulators are shared by every test of the run.

native_ttl=False: the emulators do not apply TTL policies, so purge() must remove expired
records, and the contract checks that it does.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable

from tests.support.contract import BackendCase
from tests.support.servers import server_url
from websession.backends.base import Backend

PROJECT = "websession-test"
#: the emulators are JVMs on a busy test machine: more than the 2 s default deadline, which
#: tests/faults/test_timeouts.py checks; these tests are about behaviour
TIMEOUT = 10.0


def _datastore(clock: Callable[[], float] | None = None) -> Backend:
    from websession.backends.datastore import DatastoreBackend

    server_url("datastore")  # skip (locally) or fail (CI) without the emulator
    return DatastoreBackend(
        PROJECT, namespace=f"t{uuid.uuid4().hex[:12]}", timeout=TIMEOUT, clock=clock
    )


def _datastore_cleanup(backend: Backend) -> None:
    from google.cloud import datastore

    from websession.backends.datastore import DatastoreBackend

    assert isinstance(backend, DatastoreBackend)
    client = datastore.Client(project=PROJECT, namespace=backend.client.namespace)
    query = client.query(kind=backend.kind)
    query.keys_only()
    keys = [entity.key for entity in query.fetch()]
    for start in range(0, len(keys), 500):
        client.delete_multi(keys[start : start + 500])
    client.close()


def _firestore(clock: Callable[[], float] | None = None) -> Backend:
    from websession.backends.firestore import FirestoreBackend

    server_url("firestore")  # skip (locally) or fail (CI) without the emulator
    return FirestoreBackend(
        PROJECT, collection=f"t{uuid.uuid4().hex[:12]}", timeout=TIMEOUT, clock=clock
    )


def _firestore_cleanup(backend: Backend) -> None:
    from google.cloud import firestore

    from websession.backends.firestore import FirestoreBackend

    assert isinstance(backend, FirestoreBackend)
    client = firestore.Client(project=PROJECT)
    for snapshot in client.collection(backend.collection_name).select([]).stream():
        snapshot.reference.delete()


CASES = [
    BackendCase(
        id="datastore",
        make=_datastore,
        cleanup=_datastore_cleanup,
        follows_clock=True,
        make_with_clock=_datastore,
    ),
    BackendCase(
        id="firestore",
        make=_firestore,
        cleanup=_firestore_cleanup,
        follows_clock=True,
        make_with_clock=_firestore,
    ),
]
