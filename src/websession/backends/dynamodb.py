"""DynamoDBBackend: sessions in a DynamoDB table (boto3).

The table has the hash key ``k`` (a string); each item is ``{k, d: data (binary), e: expiry
(a number, seconds since the epoch), v: version (a number)}``. ``e`` is the table's TTL
attribute: DynamoDB deletes expired items by itself, within a few days of expiry, so every read
also checks ``e > now`` and never returns an expired session. :meth:`DynamoDBBackend.purge`
scans the table in bounded pages and deletes the expired items each page finds (what that
costs: see the method).

Every operation is one request:

- a load is a strongly consistent ``GetItem`` (``UpdateItem`` with sliding expiry);
- a save is one ``UpdateItem`` (``SET d = :d, e = :e ADD v :one``, returning the new version),
  conditional on ``attribute_exists(k) AND e > :now`` (``must_exist``) or ``v = :v AND e >
  :now`` (``if_version``); a failed condition means the save did not happen (None).

The table is created on first use (on-demand capacity, TTL enabled on ``e``) unless
``create_table=False``. Network failures and timeouts raise
:class:`~websession.StoreUnavailable`. By default a call may take 2 s to connect and 1 s to
read, twice (the second attempt heals a pooled connection the server closed), so a frozen
DynamoDB is answered within about 2 s.

boto3 is synchronous: the async methods run the sync ones in a worker thread (boto3 clients are
thread-safe).
"""

from __future__ import annotations

import contextlib
import functools
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

import boto3
import botocore.exceptions
import botocore.loaders
import botocore.session
from botocore.config import Config

from ..errors import StoreUnavailable
from ._errors import translate, unavailable
from .base import PURGE_BATCH, PURGE_PAUSE, AsyncFromSync, PurgeProgress, Record, purge_in_batches

__all__ = ["DynamoDBBackend"]

#: error codes that mean "the service cannot serve us now", not "the request is wrong"
_UNAVAILABLE_CODES = frozenset(
    {
        "InternalServerError",
        "InternalFailure",
        "ServiceUnavailable",
        "ServiceUnavailableException",
        "ProvisionedThroughputExceededException",
        "RequestLimitExceeded",
        "ThrottlingException",
        "Throttling",
    }
)
_LIVE = "attribute_exists(k) AND e > :now"
_OWNER_GSI = "websession-owner"


@functools.cache
def _loader() -> botocore.loaders.Loader:
    """This process's loader of botocore's data files (two threads racing may each make one:
    harmless, one is kept)."""
    return botocore.loaders.create_loader()


def _session(profile: str | None, region: str | None) -> boto3.session.Session:
    """A boto3 session sharing this process's loader of botocore's data files: a session of its
    own parses DynamoDB's service model again (50-150 ms of CPU per backend; 10 ms shared)."""
    core = botocore.session.Session()
    core.register_component("data_loader", _loader())
    return boto3.session.Session(botocore_session=core, profile_name=profile, region_name=region)


def _owner_item_key(owner: str, key: str) -> str:
    # "o:" cannot begin a record key (store keys are [A-Za-z0-9_-]): no clash with records
    return f"o:{owner}:{key}"


def _code(exc: botocore.exceptions.ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


def _errors() -> contextlib.AbstractContextManager[None]:
    return translate(
        "DynamoDB",
        (
            botocore.exceptions.ConnectionError,  # EndpointConnectionError, ConnectTimeoutError...
            botocore.exceptions.HTTPClientError,  # ReadTimeoutError, ConnectionClosedError...
            botocore.exceptions.ClientError,  # only those with an "unavailable" code
        ),
        lambda exc: (
            not isinstance(exc, botocore.exceptions.ClientError) or _code(exc) in _UNAVAILABLE_CODES
        ),
    )


def _number(value: float) -> str:
    return repr(float(value))


class DynamoDBBackend(AsyncFromSync):
    """Session records in the DynamoDB table ``table``.

    Args:
        table: the table name.
        client: a boto3 DynamoDB client (the backend does not close it); without one the
            backend makes one from the options below (credentials come from the usual places:
            environment, profile, role).
        endpoint_url: e.g. ``http://127.0.0.1:8000`` for DynamoDB Local.
        region: the AWS region.
        profile: a named profile from the AWS configuration files.
        create_table: create the table (and enable TTL on ``e``) if it does not exist.
        connect_timeout: seconds to wait for a connection.
        read_timeout: seconds to wait for an answer.
        max_attempts: tries per request (the first one included).
        clock: the time source (seconds since the epoch) for expiry checks; DynamoDB's own TTL
            deletion follows real time.
    """

    def __init__(
        self,
        table: str,
        *,
        client: Any = None,
        endpoint_url: str | None = None,
        region: str | None = None,
        profile: str | None = None,
        create_table: bool = True,
        connect_timeout: float = 2.0,
        read_timeout: float = 1.0,
        max_attempts: int = 2,
        clock: Callable[[], float] | None = None,
    ) -> None:
        if not table:
            raise ValueError("a DynamoDB table name is required")
        self.table = table
        self._owns_client = client is None
        if client is None:
            client = _session(profile, region).client(
                "dynamodb",
                endpoint_url=endpoint_url,
                config=Config(
                    connect_timeout=connect_timeout,
                    read_timeout=read_timeout,
                    retries={"total_max_attempts": max_attempts, "mode": "standard"},
                ),
            )
        self.client = client
        self._clock = clock if clock is not None else time.time
        self._creates = create_table
        self._ready = not create_table
        self._owner_ready = False
        self._lock = threading.Lock()

    @classmethod
    def from_url(cls, url: str, **options: Any) -> DynamoDBBackend:
        """A backend for ``dynamodb://TABLE?endpoint_url=...&region=...``.

        Query parameters: ``endpoint_url``, ``region`` (or ``region_name``), ``profile``,
        ``create_table``, ``connect_timeout``, ``read_timeout`` (or ``timeout``),
        ``max_attempts``; keyword arguments override them.
        """
        parts = urlsplit(url)
        if parts.scheme != "dynamodb":
            raise ValueError(f"not a dynamodb:// URL: {url!r}")
        table = unquote(parts.netloc + parts.path).strip("/")
        query: dict[str, Any] = {}
        for name, value in parse_qsl(parts.query, keep_blank_values=True):
            if name == "region_name":
                name = "region"
            if name in ("endpoint_url", "region", "profile"):
                query[name] = value
            elif name == "create_table":
                query[name] = value.lower() in ("1", "true", "yes", "on")
            elif name in ("connect_timeout", "read_timeout"):
                query[name] = float(value)
            elif name == "timeout":  # the name every networked backend takes
                query["read_timeout"] = float(value)
            elif name == "max_attempts":
                query[name] = int(value)
            else:
                raise ValueError(f"unknown dynamodb:// URL parameter {name!r}")
        return cls(table, **{**query, **options})

    def __repr__(self) -> str:
        return f"DynamoDBBackend({self.table!r})"

    # -- setup -------------------------------------------------------------------------------
    def _ensure_table(self) -> None:
        if self._ready:
            return
        with self._lock, _errors():
            self._create_table()

    def _create_table(self) -> None:
        if self._ready:  # another thread made it while we waited
            return
        try:
            self.client.describe_table(TableName=self.table)
        except botocore.exceptions.ClientError as exc:
            if _code(exc) != "ResourceNotFoundException":
                raise
            try:
                self.client.create_table(
                    TableName=self.table,
                    KeySchema=[{"AttributeName": "k", "KeyType": "HASH"}],
                    AttributeDefinitions=[{"AttributeName": "k", "AttributeType": "S"}],
                    BillingMode="PAY_PER_REQUEST",
                )
            except botocore.exceptions.ClientError as exc2:
                if _code(exc2) != "ResourceInUseException":  # another process made it
                    raise
            self.client.get_waiter("table_exists").wait(
                TableName=self.table, WaiterConfig={"Delay": 1, "MaxAttempts": 60}
            )
            try:
                self.client.update_time_to_live(
                    TableName=self.table,
                    TimeToLiveSpecification={"Enabled": True, "AttributeName": "e"},
                )
            except botocore.exceptions.ClientError as exc3:
                if _code(exc3) != "ValidationException":  # TTL already enabled
                    raise
        self._ready = True

    @contextlib.contextmanager
    def _calls(self) -> Iterator[None]:
        """:func:`_errors`, and a table that vanished is made again by the next call.

        A table the backend creates can disappear under it: DynamoDB Local run ``-inMemory``
        restarts empty, or someone deletes the table. The call that finds it gone raises
        StoreUnavailable (a 503, like any outage) and the next one creates the table again,
        instead of every later call failing with ``ResourceNotFoundException`` (a 500) until
        the application restarts. Without ``create_table`` a missing table is a configuration
        error and is raised as it is.
        """
        try:
            with _errors():
                yield
        except botocore.exceptions.ClientError as exc:
            if not self._creates or _code(exc) != "ResourceNotFoundException":
                raise
            self._ready = self._owner_ready = False
            raise unavailable("DynamoDB", exc) from exc

    # -- the Backend protocol ----------------------------------------------------------------
    @staticmethod
    def _record(item: Mapping[str, Any] | None) -> Record | None:
        if not item or "d" not in item:
            return None
        return Record(bytes(item["d"]["B"]), float(item["e"]["N"]), int(Decimal(item["v"]["N"])))

    def get(self, key: str, *, touch: int | None = None) -> Record | None:
        self._ensure_table()
        now = self._clock()
        with self._calls():
            if touch is None:
                item = self.client.get_item(
                    TableName=self.table, Key={"k": {"S": key}}, ConsistentRead=True
                ).get("Item")
            else:
                try:
                    item = self.client.update_item(
                        TableName=self.table,
                        Key={"k": {"S": key}},
                        UpdateExpression="SET e = :e",
                        ConditionExpression=_LIVE,
                        ExpressionAttributeValues={
                            ":e": {"N": _number(now + touch)},
                            ":now": {"N": _number(now)},
                        },
                        ReturnValues="ALL_NEW",
                    ).get("Attributes")
                except self.client.exceptions.ConditionalCheckFailedException:
                    return None
        record = self._record(item)
        if record is None or record.expires_at <= now:
            return None
        return record

    def set(
        self,
        key: str,
        data: bytes,
        ttl: int,
        *,
        must_exist: bool = False,
        if_version: int | None = None,
    ) -> int | None:
        self._ensure_table()
        now = self._clock()
        values: dict[str, Any] = {
            ":d": {"B": bytes(data)},
            ":e": {"N": _number(now + ttl)},
            ":one": {"N": "1"},
        }
        condition: dict[str, Any] = {}
        if if_version is not None:
            condition["ConditionExpression"] = "v = :v AND e > :now"
            values[":v"] = {"N": str(int(if_version))}
            values[":now"] = {"N": _number(now)}
        elif must_exist:
            condition["ConditionExpression"] = _LIVE
            values[":now"] = {"N": _number(now)}
        with self._calls():
            try:
                attributes = self.client.update_item(
                    TableName=self.table,
                    Key={"k": {"S": key}},
                    UpdateExpression="SET d = :d, e = :e ADD v :one",
                    ExpressionAttributeValues=values,
                    ReturnValues="UPDATED_NEW",
                    **condition,
                )["Attributes"]
            except self.client.exceptions.ConditionalCheckFailedException:
                return None
        return int(Decimal(attributes["v"]["N"]))

    def delete(self, key: str) -> None:
        self._ensure_table()
        with self._calls():
            self.client.delete_item(TableName=self.table, Key={"k": {"S": key}})

    #: items the first purge page reads (later pages are sized to take about 40 ms)
    purge_batch: int = PURGE_BATCH
    #: seconds between two purge pages
    purge_pause: float = PURGE_PAUSE

    def purge(self, progress: PurgeProgress | None = None) -> int:
        """Delete expired items, one bounded Scan page at a time; return how many.

        DynamoDB finds items by ``e`` only through an index, and a global secondary index on
        expiry would cost every save a second write (and, with one partition key for all, be
        one hot partition): so the purge Scans. ``Limit`` bounds the items each page *reads*
        (the ``e <= now`` filter is applied after reading), and every item read is charged:
        a purge reads the whole table once, about one read unit per 4 KB read (strongly
        consistent), some 100,000 units for a million 400-byte sessions, however few have
        expired. Each expired item found is deleted with a condition that it is still expired
        (one write unit each; BatchWriteItem cannot carry a condition), so a session saved
        anew during the scan is kept. Pages are sized by the time they take (about 40 ms) with
        a pause between two, so a purge never takes the table's capacity in one burst.
        ``progress`` gets the items read over the table's ``ItemCount`` (which DynamoDB
        refreshes about every six hours) as its fraction.
        """
        self._ensure_table()
        now = {":now": {"N": _number(self._clock())}}
        scan: dict[str, Any] = {
            "TableName": self.table,
            "FilterExpression": "e <= :now",
            "ProjectionExpression": "k",
            "ExpressionAttributeValues": now,
            "ConsistentRead": True,
        }
        done = {"read": 0, "removed": 0}
        items = 0

        def step(limit: int) -> tuple[int, bool]:
            page = self.client.scan(Limit=limit, **scan)
            removed = 0
            for item in page.get("Items", []):
                try:
                    self.client.delete_item(
                        TableName=self.table,
                        Key={"k": item["k"]},
                        ConditionExpression="e <= :now",
                        ExpressionAttributeValues=now,
                    )
                    removed += 1
                except self.client.exceptions.ConditionalCheckFailedException:
                    pass  # saved anew since the page was read
            more = "LastEvaluatedKey" in page
            if more:
                scan["ExclusiveStartKey"] = page["LastEvaluatedKey"]
            done["read"] += int(page.get("ScannedCount", 0))
            done["removed"] += removed
            if progress is not None:
                fraction = min(1.0, done["read"] / items) if items else None
                progress(done["removed"], 1.0 if not more else fraction)
            return removed, more

        with self._calls():
            if progress is not None:
                table = self.client.describe_table(TableName=self.table)["Table"]
                items = int(table.get("ItemCount", 0))
            return purge_in_batches(step, batch=self.purge_batch, pause=self.purge_pause)

    # -- the owner index ---------------------------------------------------------------------
    # One small item per (owner, session) in the same table, ``{k: "o:<owner>:<key>", o: owner,
    # x: entry, e: expiry}``, found through the global secondary index ``websession-owner`` (hash
    # key ``o``) and expired by the table's TTL on ``e`` like the records (reads filter ``e >
    # now`` too). The index is added to the table the first time an owner method runs (an
    # existing table is updated in place: DynamoDB builds it in the background while the table
    # keeps serving). Not at creation: DynamoDB Local stops expiring items by TTL in a table
    # with a global secondary index, so a table that never uses owners keeps none. A GSI is
    # eventually consistent: a session indexed or removed a moment ago may be missing from, or
    # still in, a listing for a short while (typically under a second).
    def _ensure_owner_index(self) -> None:
        self._ensure_table()
        if self._owner_ready:
            return
        with self._lock, _errors():
            table = self.client.describe_table(TableName=self.table)["Table"]
            names = {i["IndexName"] for i in table.get("GlobalSecondaryIndexes", [])}
            if _OWNER_GSI not in names:
                update: dict[str, Any] = {
                    "TableName": self.table,
                    "AttributeDefinitions": [{"AttributeName": "o", "AttributeType": "S"}],
                    "GlobalSecondaryIndexUpdates": [
                        {
                            "Create": {
                                "IndexName": _OWNER_GSI,
                                "KeySchema": [{"AttributeName": "o", "KeyType": "HASH"}],
                                "Projection": {"ProjectionType": "ALL"},
                            }
                        }
                    ],
                }
                if table.get("BillingModeSummary", {}).get("BillingMode") != "PAY_PER_REQUEST":
                    throughput = {"ReadCapacityUnits": 5, "WriteCapacityUnits": 5}
                    update["GlobalSecondaryIndexUpdates"][0]["Create"]["ProvisionedThroughput"] = (
                        throughput
                    )
                try:
                    self.client.update_table(**update)
                except botocore.exceptions.ClientError as exc:
                    if _code(exc) not in ("ResourceInUseException", "ValidationException"):
                        raise  # (another process is adding it right now)
            # until the index is ACTIVE: at once on DynamoDB Local, seconds to minutes on
            # DynamoDB (polled at 50 ms, doubling up to 1 s, for at most 5 minutes)
            deadline, pause = time.monotonic() + 300, 0.05
            while True:
                table = self.client.describe_table(TableName=self.table)["Table"]
                status = {
                    i["IndexName"]: i.get("IndexStatus")
                    for i in table.get("GlobalSecondaryIndexes", [])
                }
                if status.get(_OWNER_GSI) == "ACTIVE":
                    break
                if time.monotonic() > deadline:
                    raise StoreUnavailable(
                        f"the owner index of {self.table!r} is still being built"
                    )
                time.sleep(pause)
                pause = min(1.0, pause * 2)
            self._owner_ready = True

    def index(self, owner: str, key: str, entry: bytes, ttl: float) -> None:
        self._ensure_owner_index()
        with self._calls():
            self.client.put_item(
                TableName=self.table,
                Item={
                    "k": {"S": _owner_item_key(owner, key)},
                    "o": {"S": owner},
                    "x": {"B": bytes(entry)},
                    "e": {"N": _number(self._clock() + ttl)},
                },
            )

    def owned(self, owner: str) -> list[tuple[str, bytes]]:
        self._ensure_owner_index()
        prefix = _owner_item_key(owner, "")
        found: list[tuple[str, bytes]] = []
        with self._calls():
            pages = self.client.get_paginator("query").paginate(
                TableName=self.table,
                IndexName=_OWNER_GSI,
                KeyConditionExpression="o = :o",
                FilterExpression="e > :now",
                ExpressionAttributeValues={
                    ":o": {"S": owner},
                    ":now": {"N": _number(self._clock())},
                },
            )
            for page in pages:
                for item in page.get("Items", []):
                    k = item["k"]["S"]
                    if k.startswith(prefix):
                        found.append((k[len(prefix) :], bytes(item["x"]["B"])))
        return found

    def unindex(self, owner: str, key: str) -> None:
        self._ensure_table()
        with self._calls():
            self.client.delete_item(
                TableName=self.table, Key={"k": {"S": _owner_item_key(owner, key)}}
            )

    def drop_table(self) -> None:
        """Delete the whole table (tests, teardown)."""
        with _errors(), contextlib.suppress(self.client.exceptions.ResourceNotFoundException):
            self.client.delete_table(TableName=self.table)
        self._ready = False
        self._owner_ready = False

    def close(self) -> None:
        """Close the client the backend made (a client passed in is left open)."""
        if self._owns_client:
            with contextlib.suppress(Exception):
                self.client.close()
