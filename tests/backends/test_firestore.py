"""FirestoreBackend beyond the shared contract (tests/support/cases/google.py), against
Google's Firestore emulator."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import pytest

from tests.support.contract import FakeClock
from tests.support.servers import server_url

pytest.importorskip("google.cloud.firestore")
from websession.backends.firestore import FirestoreBackend

PROJECT = "websession-test"


class SavedAnewDuringPurge(FirestoreBackend):
    """Saves ``dead0`` again just before the purge's first commit: the commit's precondition
    on that document then fails (a hook around the backend; the emulator is real)."""

    done = False

    def _purge_batch(self, client: Any, snapshots: list[Any]) -> Any:  # type: ignore[override]
        if not self.done:
            self.done = True
            self.set("dead0", b"saved anew", 6000)
        return FirestoreBackend._purge_batch(client, snapshots)


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_purge_keeps_a_document_saved_anew_before_the_commit(mode: str) -> None:
    server_url("firestore")  # skip (locally) or fail (CI) without the emulator
    clock = FakeClock()
    backend = SavedAnewDuringPurge(
        PROJECT, collection=f"t{uuid.uuid4().hex[:12]}", timeout=10.0, clock=clock
    )
    try:
        for i in range(5):
            backend.set(f"dead{i}", b"d", 60)
        clock.now += 61
        if mode == "sync":
            removed = backend.purge()
        else:

            async def purge() -> int:
                try:
                    return await backend.apurge()
                finally:
                    await backend.aclose()

            removed = asyncio.run(purge())
        assert removed == 4  # the refused commit was done again one document at a time
        record = backend.get("dead0")
        assert record is not None
        assert record.data == b"saved anew"
        assert all(backend.get(f"dead{i}") is None for i in range(1, 5))
        assert backend.purge() == 0
    finally:
        for snapshot in backend.client.collection(backend.collection_name).select([]).stream():
            snapshot.reference.delete()
        backend.close()
