"""DynamoDBBackend beyond the shared contract, against DynamoDB Local (the real Java server)."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from tests.support.backends import (
    assert_expired_record_is_filtered,
    assert_store_round_trip,
    exercise_async_twins,
    race,
)
from tests.support.servers import server_url
from websession.errors import StoreUnavailable

pytest.importorskip("boto3")
from websession.backends.dynamodb import DynamoDBBackend


@pytest.fixture
def url() -> str:
    return server_url("dynamodb")


def _make(url: str, **kwargs: Any) -> DynamoDBBackend:
    # DynamoDB Local (a JVM) on a busy test machine can take longer than the 1 s default read
    # timeout; these tests are about behaviour (tests/faults/test_timeouts.py checks the defaults)
    kwargs.setdefault("read_timeout", 10.0)
    return DynamoDBBackend(
        f"ws-test-{uuid.uuid4().hex[:12]}", endpoint_url=url, region="us-east-1", **kwargs
    )


@pytest.fixture
def backend(url: str) -> Iterator[DynamoDBBackend]:
    made = _make(url)
    try:
        yield made
    finally:
        made.drop_table()
        made.close()


def raw_keys(backend: DynamoDBBackend) -> set[str]:
    """Every item in the table, expired or not (a plain consistent scan)."""
    items = backend.client.scan(TableName=backend.table, ConsistentRead=True)["Items"]
    return {item["k"]["S"] for item in items}


def owner_index_status(backend: DynamoDBBackend) -> str | None:
    table = backend.client.describe_table(TableName=backend.table)["Table"]
    status = {i["IndexName"]: i["IndexStatus"] for i in table.get("GlobalSecondaryIndexes", [])}
    return status.get("websession-owner")


def test_the_owner_index_is_added_at_the_first_owner_call(backend: DynamoDBBackend) -> None:
    backend.set("k", b"v", 60)
    assert owner_index_status(backend) is None  # a table that never uses owners keeps none
    backend.index("alice", "k", b"entry", 60)
    assert owner_index_status(backend) == "ACTIVE"
    assert backend.owned("alice") == [("k", b"entry")]
    assert backend.get("k").data == b"v"  # type: ignore[union-attr]


def test_table_is_created_with_ttl(backend: DynamoDBBackend) -> None:
    assert backend.set("k", b"\x00v\xff", 60) == 1
    ttl = backend.client.describe_time_to_live(TableName=backend.table)
    assert ttl["TimeToLiveDescription"]["AttributeName"] == "e"
    assert ttl["TimeToLiveDescription"]["TimeToLiveStatus"] in ("ENABLED", "ENABLING")
    item = backend.client.get_item(TableName=backend.table, Key={"k": {"S": "k"}})["Item"]
    assert item["d"]["B"] == b"\x00v\xff"
    assert item["v"]["N"] == "1"
    assert abs(float(item["e"]["N"]) - (time.time() + 60)) < 10


def test_a_table_that_vanished_is_made_again(backend: DynamoDBBackend) -> None:
    """DynamoDB Local -inMemory restarted (or the table deleted): the call that finds the
    table gone is a 503, the next one makes it again, the backend never has to be rebuilt."""
    assert backend.set("k", b"v", 60) == 1
    backend.client.delete_table(TableName=backend.table)
    with pytest.raises(StoreUnavailable, match="ResourceNotFoundException"):
        backend.get("k")
    assert backend.get("k") is None  # a new, empty table
    assert backend.set("k", b"again", 60) == 1
    record = backend.get("k")
    assert record is not None
    assert record.data == b"again"
    fixed = _make(backend.client.meta.endpoint_url, create_table=False)
    try:  # a table the backend does not manage: a missing one is a configuration error
        with pytest.raises(fixed.client.exceptions.ResourceNotFoundException):
            fixed.get("k")
    finally:
        fixed.close()


def test_expired_item_is_filtered_on_load(backend: DynamoDBBackend) -> None:
    assert_expired_record_is_filtered(backend, 1.5)
    assert backend.get("short", touch=60) is None


def test_purge_removes_expired_items(backend: DynamoDBBackend) -> None:
    for i in range(5):
        backend.set(f"dead{i}", b"d", 1)
    backend.set("alive", b"a", 600)
    time.sleep(1.5)
    removed = backend.purge()
    # DynamoDB Local's own TTL sweep may have taken some first (see test_native_ttl)
    assert 0 <= removed <= 5
    assert raw_keys(backend) == {"alive"}
    assert backend.purge() == 0


def test_purge_follows_an_injected_clock(url: str) -> None:
    now = [time.time()]
    backend = _make(url, clock=lambda: now[0])
    try:
        for i in range(3):
            backend.set(f"dead{i}", b"d", 60)
        backend.set("alive", b"a", 6000)
        now[0] += 61
        assert backend.get("dead0") is None
        assert backend.purge() == 3
        assert raw_keys(backend) == {"alive"}
    finally:
        backend.drop_table()
        backend.close()


def test_purge_keeps_an_item_saved_anew_after_its_page_was_read(url: str) -> None:
    """Each delete is conditional on the item still being expired: one saved again between the
    Scan page that found it and its delete is kept; the purge goes on page after page."""
    now = [time.time()]
    backend = _make(url, clock=lambda: now[0])
    backend.purge_batch = 3  # pages of 3, then sized by time (at least 10)
    scan = backend.client.scan
    pages: list[int] = []

    def scan_then_save_the_first_found(**kwargs: Any) -> Any:
        page = scan(**kwargs)
        if not pages and page["Items"]:
            backend.set(page["Items"][0]["k"]["S"], b"saved anew", 6000)
        pages.append(len(page["Items"]))
        return page

    try:
        for i in range(20):
            backend.set(f"dead{i:02}", b"d", 60)
        now[0] += 61
        backend.client.scan = scan_then_save_the_first_found  # a hook; the server is real
        assert backend.purge() == 19
        assert len(pages) >= 2, pages
        assert len(raw_keys(backend)) == 1
        (kept,) = raw_keys(backend)
        record = backend.get(kept)
        assert record is not None
        assert record.data == b"saved anew"
    finally:
        backend.drop_table()
        backend.close()


@pytest.mark.slow
def test_native_ttl(backend: DynamoDBBackend) -> None:
    """DynamoDB Local deletes expired items by itself (its sweep took about 10-15 s here).

    DynamoDB proper does so within a few days of expiry; either way reads filter them out.
    """
    backend.set("dead", b"d", 1)
    backend.set("alive", b"a", 600)
    deadline = time.monotonic() + 90
    while "dead" in raw_keys(backend):
        assert time.monotonic() < deadline, "DynamoDB Local did not expire the item"
        time.sleep(2)
    assert raw_keys(backend) == {"alive"}


def test_touch_extends_life(backend: DynamoDBBackend) -> None:
    backend.set("k", b"v", 60)  # long enough for a loaded machine: no race with the clock
    record = backend.get("k", touch=600)
    assert record is not None
    assert record.data == b"v"
    assert record.expires_at > time.time() + 500  # 60 s became 600 s
    assert record.version == 1
    assert backend.get("k") is not None


def test_optimistic_conflict(backend: DynamoDBBackend) -> None:
    assert backend.set("k", b"one", 60) == 1
    assert backend.set("k", b"two", 60, if_version=1) == 2
    assert backend.set("k", b"stale", 60, if_version=1) is None
    assert backend.get("k").data == b"two"  # type: ignore[union-attr]
    results = race(6, lambda n: backend.set("k", f"w{n}".encode(), 60, if_version=2))
    assert sorted(results, key=lambda r: r or 0) == [None] * 5 + [3]


def test_unconditional_saves_bump_the_version_atomically(backend: DynamoDBBackend) -> None:
    backend.set("k", b"0", 60)
    race(4, lambda n: [backend.set("k", b"x", 60) for _ in range(5)], timeout=60)
    assert backend.get("k").version == 21  # type: ignore[union-attr]


def test_async_twins(backend: DynamoDBBackend) -> None:
    asyncio.run(exercise_async_twins(backend))


def test_from_url(url: str) -> None:
    table = f"ws-test-{uuid.uuid4().hex[:12]}"
    backend = DynamoDBBackend.from_url(
        f"dynamodb://{table}?endpoint_url={url}&region=us-east-1&read_timeout=3"
    )
    try:
        assert backend.table == table
        assert backend.set("k", b"v", 60) == 1
        assert backend.get("k").data == b"v"  # type: ignore[union-attr]
    finally:
        backend.drop_table()
        backend.close()
    with pytest.raises(ValueError, match="unknown"):
        DynamoDBBackend.from_url("dynamodb://t?bogus=1")


def test_open_store_url(url: str) -> None:
    from websession import open_store

    table = f"ws-test-{uuid.uuid4().hex[:12]}"
    store = open_store(
        f"dynamodb://{table}?endpoint_url={url}&region=us-east-1",
        "gNZYYnlSykuiUlofXS4fm2UcrM3mvrI4Lfqg6Y86TpI",
    )
    backend = store.backend
    assert isinstance(backend, DynamoDBBackend)
    try:
        assert_store_round_trip(store)
    finally:
        backend.drop_table()
        backend.close()


def test_unreachable_endpoint_raises_store_unavailable_quickly(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # No server here, so the test brings its own (unused) credentials: boto3 refuses to sign a
    # request without some, before it even tries the network.
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    backend = DynamoDBBackend(
        "ws-nowhere", endpoint_url="http://127.0.0.1:9", region="us-east-1", create_table=False
    )
    started = time.monotonic()
    with pytest.raises(StoreUnavailable):
        backend.get("k")
    with pytest.raises(StoreUnavailable):
        backend.set("k", b"v", 60)
    with pytest.raises(StoreUnavailable):
        asyncio.run(backend.aget("k"))
    assert time.monotonic() - started < 10
    backend.close()
    # table creation on first use fails the same way
    creating = DynamoDBBackend("ws-nowhere", endpoint_url="http://127.0.0.1:9", region="us-east-1")
    with pytest.raises(StoreUnavailable):
        creating.delete("k")
