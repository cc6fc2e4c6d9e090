"""MongoBackend beyond the shared contract, against a real wire-protocol server.

The test server is nx-27017 (MongoDB's wire protocol over SQLite), not MongoDB itself: no mongod
can be installed where these tests run. What it does about TTL indexes is tested and written
down here (see test_native_ttl).
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Iterator

import pytest

from tests.support.backends import (
    assert_expired_record_is_filtered,
    assert_store_round_trip,
    exercise_async_twins,
    race,
)
from tests.support.servers import server_url
from websession.errors import StoreUnavailable

pytest.importorskip("pymongo")
from pymongo import MongoClient

from websession.backends.mongodb import MongoBackend

DB = "websession_test"


@pytest.fixture
def url() -> str:
    return server_url("mongodb")


@pytest.fixture
def backend(url: str) -> Iterator[MongoBackend]:
    made = MongoBackend.from_url(url, database=DB, collection=f"t_{uuid.uuid4().hex[:12]}")
    try:
        yield made
    finally:
        with MongoClient(url, serverSelectionTimeoutMS=2000) as client:
            client[DB].drop_collection(made.collection_name)
        made.close()


def raw_ids(url: str, backend: MongoBackend) -> set[str]:
    """The documents in the collection, read with a client of our own and no expiry filter."""
    with MongoClient(url, serverSelectionTimeoutMS=2000) as client:
        return {doc["_id"] for doc in client[DB][backend.collection_name].find({}, {"_id": 1})}


def test_document_layout_and_ttl_index(url: str, backend: MongoBackend) -> None:
    assert backend.set("k", b"\x00data\xff", 60) == 1
    with MongoClient(url, serverSelectionTimeoutMS=2000) as client:
        collection = client[DB][backend.collection_name]
        doc = collection.find_one({"_id": "k"})
        indexes = collection.index_information()
    assert doc is not None
    assert bytes(doc["d"]) == b"\x00data\xff"
    assert doc["v"] == 1
    assert "e" in doc
    ttl = [i for i in indexes.values() if i["key"] == [("e", 1)]]
    assert ttl
    assert ttl[0]["expireAfterSeconds"] == 0


def test_expired_record_is_filtered_on_load(backend: MongoBackend) -> None:
    assert_expired_record_is_filtered(backend, 2.2)


def test_purge_removes_expired_documents(url: str, backend: MongoBackend) -> None:
    for i in range(5):
        backend.set(f"dead{i}", b"d", 1)
    backend.set("alive", b"a", 600)
    time.sleep(2.2)
    # purge first: reading the collection would let nx-27017 delete them itself (see below)
    assert backend.purge() == 5
    assert raw_ids(url, backend) == {"alive"}
    assert backend.purge() == 0


def test_native_ttl(url: str, backend: MongoBackend) -> None:
    """The server deletes expired documents itself, without purge().

    MongoDB's TTL monitor does so within about 60 seconds. nx-27017 has no background monitor:
    it deletes a collection's expired documents (by the TTL index) whenever the collection is
    read, so the raw read below already finds them gone.
    """
    backend.set("dead", b"d", 1)
    backend.set("alive", b"a", 600)
    time.sleep(2.2)
    deadline = time.monotonic() + 90
    while "dead" in raw_ids(url, backend):
        assert time.monotonic() < deadline, "the server did not expire the document"
        time.sleep(5)
    assert raw_ids(url, backend) == {"alive"}
    with MongoClient(url, serverSelectionTimeoutMS=2000) as client:
        assert client[DB][backend.collection_name].count_documents({}) == 1


def test_touch_extends_life(backend: MongoBackend) -> None:
    backend.set("k", b"v", 2)
    record = backend.get("k", touch=600)
    assert record is not None
    assert record.data == b"v"
    assert record.expires_at > time.time() + 500
    assert record.version == 1  # a touch is not a new version
    time.sleep(2.5)
    assert backend.get("k") is not None


def test_versions_and_optimistic_conflict(backend: MongoBackend) -> None:
    v1 = backend.set("k", b"one", 60)
    assert v1 == 1
    assert backend.set("k", b"two", 60, if_version=v1) == 2
    assert backend.set("k", b"stale", 60, if_version=v1) is None
    assert backend.get("k").data == b"two"  # type: ignore[union-attr]


def test_racing_optimistic_writers_one_wins(backend: MongoBackend) -> None:
    backend.set("k", b"start", 60)
    results = race(8, lambda n: backend.set("k", f"w{n}".encode(), 60, if_version=1))
    assert sorted(results, key=lambda r: r or 0) == [None] * 7 + [2]


def test_racing_upserts_of_a_new_key(backend: MongoBackend) -> None:
    results = race(6, lambda n: backend.set("new", f"w{n}".encode(), 60))
    assert sorted(results) == [1, 2, 3, 4, 5, 6]  # type: ignore[type-var]


def test_async_uses_the_native_async_client(backend: MongoBackend) -> None:
    def uses_async_client() -> None:
        assert backend._async_client is not None  # AsyncMongoClient, not a thread

    async def go() -> None:
        await exercise_async_twins(backend, after_first_write=uses_async_client)
        await backend.aclose()

    asyncio.run(go())


def test_backend_from_a_client(url: str) -> None:
    client: MongoClient[dict[str, object]] = MongoClient(url, serverSelectionTimeoutMS=2000)
    name = f"c_{uuid.uuid4().hex[:12]}"
    backend = MongoBackend(client, database=DB, collection=name)
    try:
        assert backend.set("k", b"v", 60) == 1
        assert asyncio.run(backend.aget("k")).data == b"v"  # type: ignore[union-attr]
        backend.close()
        assert client[DB][name].count_documents({}) == 1  # the caller's client stays open
    finally:
        client[DB].drop_collection(name)
        client.close()


def test_from_url_database_and_collection(url: str) -> None:
    base = url.split("?", 1)[0].rstrip("/")
    query = url.split("?", 1)[1] if "?" in url else ""
    backend = MongoBackend.from_url(f"{base}/mydb?{query}&collection=mine")
    assert backend.database == "mydb"
    assert backend.collection_name == "mine"
    backend.close()
    backend = MongoBackend.from_url(url)
    assert (backend.database, backend.collection_name) == ("websession", "sessions")
    backend.close()


def test_unreachable_server_raises_store_unavailable_quickly() -> None:
    # timeout= is the whole operation's bound (timeoutMS), over serverSelectionTimeoutMS
    backend = MongoBackend.from_url("mongodb://127.0.0.1:9/?directConnection=true&timeout=0.5")
    started = time.monotonic()
    with pytest.raises(StoreUnavailable):
        backend.get("k")
    with pytest.raises(StoreUnavailable):
        backend.set("k", b"v", 60)

    async def aget() -> None:
        try:
            await backend.aget("k")
        finally:
            await backend.aclose()

    with pytest.raises(StoreUnavailable):
        asyncio.run(aget())
    assert time.monotonic() - started < 3 * 0.5 * 2  # each at most twice its bound


def test_default_timeout_is_short() -> None:
    backend = MongoBackend.from_url("mongodb://127.0.0.1:9/?directConnection=true")
    started = time.monotonic()
    with pytest.raises(StoreUnavailable):
        backend.delete("k")
    assert time.monotonic() - started < 5
    backend.close()


def test_open_store_url(url: str) -> None:
    from websession import open_store

    name = f"u_{uuid.uuid4().hex[:12]}"
    sep = "&" if "?" in url else "?"
    store = open_store(
        f"{url}{sep}collection={name}", "gNZYYnlSykuiUlofXS4fm2UcrM3mvrI4Lfqg6Y86TpI"
    )
    try:
        assert_store_round_trip(store)
    finally:
        with MongoClient(url, serverSelectionTimeoutMS=2000) as client:
            client["websession"].drop_collection(name)
        store.backend.close()
