"""DatastoreBackend beyond the shared contract (tests/support/cases/google.py), against
Google's Datastore emulator."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import pytest

from tests.support.servers import server_url

pytest.importorskip("google.cloud.datastore")
from websession.backends.datastore import DatastoreBackend

PROJECT = "websession-test"


class Clock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


class SavedAnewDuringPurge(DatastoreBackend):
    """Saves ``dead0`` again after the purge's query found it, before the transaction that
    deletes it reads it again (a hook around the backend; the emulator is real)."""

    done = False

    def _transact(self, body: Callable[[Any], Any]) -> Any:
        if not self.done:
            self.done = True
            self.set("dead0", b"saved anew", 6000)
        return super()._transact(body)


def test_purge_keeps_an_entity_saved_anew_after_the_query_found_it() -> None:
    server_url("datastore")  # skip (locally) or fail (CI) without the emulator
    clock = Clock()
    backend = SavedAnewDuringPurge(
        PROJECT, namespace=f"t{uuid.uuid4().hex[:12]}", timeout=10.0, clock=clock
    )
    try:
        for i in range(5):
            backend.set(f"dead{i}", b"d", 60)
        backend.index("alice", "dead1", b"entry", 60)  # an expired owner entry goes too
        clock.now += 61
        assert backend.purge() == 5  # four records and the owner entry; dead0 is kept
        record = backend.get("dead0")
        assert record is not None
        assert record.data == b"saved anew"
        assert all(backend.get(f"dead{i}") is None for i in range(1, 5))
        assert backend.purge() == 0
    finally:
        query = backend.client.query(kind=backend.kind)
        query.keys_only()
        backend.client.delete_multi([entity.key for entity in query.fetch()])
        backend.close()
