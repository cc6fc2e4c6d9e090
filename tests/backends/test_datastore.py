"""DatastoreBackend beyond the shared contract (tests/support/cases/google.py), against
Google's Datastore emulator."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from typing import Any

import pytest

from tests.support.contract import FakeClock
from tests.support.faults import FreezableProxy
from tests.support.servers import server_url
from websession import StoreUnavailable

pytest.importorskip("google.cloud.datastore")
from websession.backends.datastore import DatastoreBackend

PROJECT = "websession-test"


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
    clock = FakeClock()
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


class FrozenInTransaction(DatastoreBackend):
    """The server falls silent once a transaction has begun (a hook around the backend, the
    emulator reached through a proxy that stops forwarding)."""

    proxy: FreezableProxy

    def _transact(self, body: Callable[[Any], Any]) -> Any:
        def frozen_then(transaction: Any) -> Any:
            self.proxy.freeze()
            return body(transaction)

        return super()._transact(frozen_then)


def test_a_server_silent_mid_transaction_costs_one_deadline(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A checked save's read times out (2 s): the rollback after it gets a short try, not a
    second deadline (it made the fault matrix's frozen Datastore requests take 4 s)."""
    address = server_url("datastore")
    proxy = FreezableProxy(int(address.rsplit(":", 1)[1]))
    monkeypatch.setenv("DATASTORE_EMULATOR_HOST", proxy.address)
    backend = FrozenInTransaction(PROJECT, namespace=f"t{uuid.uuid4().hex[:12]}")
    backend.proxy = proxy
    try:
        assert isinstance(backend.set("k", b"v", 60), int)
        t0 = time.monotonic()
        with pytest.raises(StoreUnavailable):
            backend.set("k", b"w", 60, must_exist=True)
        took = time.monotonic() - t0
        assert took < 3.0, f"{took:.2f} s: more than one deadline of 2 s"
    finally:
        proxy.thaw()
        backend.delete("k")
        backend.close()
        proxy.close()
