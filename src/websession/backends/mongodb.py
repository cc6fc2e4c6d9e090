"""MongoBackend: sessions in a MongoDB collection (pymongo, sync and native async).

Each record is one document ``{_id: key, d: Binary(data), e: expires_at (a date), v: version}``.
A TTL index on ``e`` (``expireAfterSeconds=0``, created on first use) lets MongoDB delete expired
documents by itself; as its TTL monitor runs only every 60 seconds, reads also filter
``e > now``, so an expired session is never returned. ``now`` is the backend's ``clock`` (the
store's, through :func:`websession.open_store`), which decides every expiry and writes every
``e``; the TTL index follows the server's clock and stays the safety net for what nobody
purges. :meth:`MongoBackend.purge` deletes expired documents in short batches, with a pause
between two: a batch is one ``bulk_write`` of ``limit`` ``DeleteOne({e: {$lte: now}})``, each
finding its document through the index on ``e`` (one round trip, and no window between
finding a document and deleting it in which it could be saved anew).

Every operation is one round trip: a load is one ``find_one`` (``find_one_and_update`` with
sliding expiry), a save one ``find_one_and_update`` whose filter carries the condition
(``e > now`` for ``must_exist``, ``v == if_version`` for optimistic saves) and whose update
bumps the version with ``$inc``.

The sync methods use :class:`pymongo.MongoClient`; the async ones use pymongo's native
:class:`pymongo.AsyncMongoClient` (pymongo >= 4.9), not a thread pool, made lazily for the
running event loop. Unreachable or frozen servers raise :class:`~websession.StoreUnavailable`
within 2 seconds by default: every operation runs under pymongo's client-side operation timeout
(``timeoutMS``), which bounds server selection, waiting for a pooled connection, opening one
and the round trip together. ``socketTimeoutMS`` alone bounds each socket read, not the
operation: a pool of connections to a SIGSTOPped server made concurrent requests wait 4-5 s
(one handshake timing out after another), and a page doing a load and a save more than that.

The MongoDB store is tested against a wire-compatible server (nx-27017, a MongoDB wire-protocol
server backed by SQLite), not MongoDB itself: no ``mongod`` could be installed where the test
suite runs. It uses only plain operations (``find_one``, ``find_one_and_update`` with ``$set``,
``$inc`` and upsert, ``delete_one``, a ``bulk_write`` of ``DeleteOne``, ``count_documents``, a
TTL index) so that it runs unchanged on
MongoDB, and it reads expiry dates back whether the server returns them as dates or (as
nx-27017 does after a ``$set``) as ISO strings.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from bson.binary import Binary
from pymongo import AsyncMongoClient, DeleteOne, MongoClient, ReturnDocument
from pymongo.errors import ConnectionFailure, DuplicateKeyError, OperationFailure, PyMongoError

from ._errors import translate
from .base import (
    PURGE_BATCH,
    PURGE_PAUSE,
    PurgeProgress,
    Record,
    apurge_in_batches,
    purge_in_batches,
)

__all__ = ["MongoBackend"]

_UTC = dt.timezone.utc
#: options websession gives a client it makes itself (the caller's options win)
_CLIENT_DEFAULTS: dict[str, Any] = {
    "timeoutMS": 2000,  # the whole operation (see the module's docstring)
    "serverSelectionTimeoutMS": 2000,
    "connectTimeoutMS": 2000,
    "socketTimeoutMS": 2000,
    "tz_aware": True,
}
_PROJECTION = {"d": 1, "e": 1, "v": 1}
_TOUCH_OPTIONS: dict[str, Any] = {
    "projection": _PROJECTION,
    "return_document": ReturnDocument.AFTER,
}
_CONDITIONAL_WRITE: dict[str, Any] = {
    "projection": {"v": 1},
    "upsert": False,
    "return_document": ReturnDocument.AFTER,
}
_UPSERT = {**_CONDITIONAL_WRITE, "upsert": True}
_TTL_INDEX = "websession_expiry"
_OWNER_INDEX = "websession_owner"


def _owner_id(owner: str, key: str) -> str:
    # "o:" cannot begin a record key (store keys are [A-Za-z0-9_-]): no clash with records
    return f"o:{owner}:{key}"


def _entries(docs: list[Mapping[str, Any]]) -> list[tuple[str, bytes]]:
    return [(str(doc["k"]), bytes(doc["x"])) for doc in docs]


def _expiry(ttl: float, now: dt.datetime) -> dt.datetime:
    return now + dt.timedelta(seconds=ttl)


def _timestamp(value: Any) -> float:
    """A document's ``e`` as seconds since the epoch (dates, ISO strings, numbers)."""
    if isinstance(value, dt.datetime):
        return (value if value.tzinfo else value.replace(tzinfo=_UTC)).timestamp()
    if isinstance(value, str):  # nx-27017 returns a $set date as "YYYY-MM-DD HH:MM:SS.ffffff"
        parsed = dt.datetime.fromisoformat(value)
        return (parsed if parsed.tzinfo else parsed.replace(tzinfo=_UTC)).timestamp()
    if isinstance(value, int | float):
        return float(value)
    raise TypeError(f"unexpected expiry value {value!r}")


def _record(doc: Mapping[str, Any] | None, now: dt.datetime) -> Record | None:
    """The record a loaded document holds, None when there is none or it has expired."""
    if doc is None or "d" not in doc:
        return None
    record = Record(bytes(doc["d"]), _timestamp(doc["e"]), int(doc.get("v", 1)))
    return None if record.expires_at <= now.timestamp() else record


def _write(
    key: str, data: bytes, ttl: int, must_exist: bool, if_version: int | None, now: dt.datetime
) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    """The filter, update and options of one save's ``find_one_and_update`` at ``now``."""
    update = {"$set": {"d": Binary(bytes(data)), "e": _expiry(ttl, now)}, "$inc": {"v": 1}}
    if if_version is not None:
        return {"_id": key, "v": if_version, "e": {"$gt": now}}, update, _CONDITIONAL_WRITE
    if must_exist:
        return {"_id": key, "e": {"$gt": now}}, update, _CONDITIONAL_WRITE
    return {"_id": key}, update, _UPSERT


def _unreachable(exc: BaseException) -> bool:
    # ConnectionFailure: AutoReconnect, NetworkTimeout, ServerSelectionTimeout...; and the
    # operation timeout's other errors (ExecutionTimeout once the server enforced timeoutMS)
    return isinstance(exc, ConnectionFailure) or bool(getattr(exc, "timeout", False))


def _errors() -> contextlib.AbstractContextManager[None]:
    return translate("MongoDB", (PyMongoError,), when=_unreachable)


class MongoBackend:
    """Session records in a MongoDB collection.

    Args:
        client: a :class:`pymongo.MongoClient` (the backend does not close a client it was
            given).
        database: the database name.
        collection: the collection name.
        async_client: a :class:`pymongo.AsyncMongoClient` for the async methods (the backend
            does not close it). Without one, a backend made by :meth:`from_url` makes its own
            for the running event loop; a backend given only a sync client runs the sync
            methods in a worker thread.
        create_index: create the TTL index on first use.
        clock: the time source (seconds since the epoch) for every expiry the backend decides
            or writes; MongoDB's TTL monitor deletes by the server's clock.

    Use :meth:`from_url` to let the backend make (and close) its clients.
    """

    def __init__(
        self,
        client: MongoClient[Any],
        *,
        database: str = "websession",
        collection: str = "sessions",
        async_client: AsyncMongoClient[Any] | None = None,
        create_index: bool = True,
        clock: Callable[[], float] | None = None,
    ) -> None:
        self.client = client
        self._clock = clock if clock is not None else time.time
        self.database = database
        self.collection_name = collection
        self.collection = client[database][collection]
        self.create_index = create_index
        self._url: str | None = None
        self._client_options: dict[str, Any] = {}
        self._owns_client = False
        self._async_client = async_client
        self._owns_async_client = False
        self._async_loop: asyncio.AbstractEventLoop | None = None
        self._indexed = not create_index
        self._lock = threading.Lock()

    @classmethod
    def from_url(
        cls,
        url: str,
        *,
        database: str | None = None,
        collection: str = "sessions",
        create_index: bool = True,
        clock: Callable[[], float] | None = None,
        **client_options: Any,
    ) -> MongoBackend:
        """A backend with its own clients for ``url`` (``mongodb://`` or ``mongodb+srv://``).

        The database is ``database``, else the one the URL names (``mongodb://host/mydb``),
        else ``"websession"``. ``database`` and ``collection`` may also be URL query
        parameters, and so may ``connect_timeout`` and ``timeout`` in seconds (pymongo's
        ``connectTimeoutMS``; ``timeout`` is the whole operation's ``timeoutMS``, and also
        ``socketTimeoutMS`` and server selection's); every other parameter and keyword
        argument goes to the client, over websession's defaults (2 s for each of them).
        """
        parts = urlsplit(url)
        query = []
        for name, value in parse_qsl(parts.query, keep_blank_values=True):
            if name == "database":
                database = database or value
            elif name == "collection":
                collection = value
            elif name == "create_index":
                create_index = value.lower() in ("1", "true", "yes", "on")
            elif name == "connect_timeout":
                client_options.setdefault("connectTimeoutMS", int(float(value) * 1000))
            elif name == "timeout":
                for option in ("timeoutMS", "socketTimeoutMS", "serverSelectionTimeoutMS"):
                    client_options.setdefault(option, int(float(value) * 1000))
            else:
                query.append((name, value))
        url = urlunsplit(parts._replace(query=urlencode(query)))
        if database is None:
            database = parts.path.lstrip("/") or "websession"
        options = {**_CLIENT_DEFAULTS, **client_options}
        backend = cls(
            MongoClient(url, **options),
            database=database,
            collection=collection,
            create_index=create_index,
            clock=clock,
        )
        backend._url = url
        backend._client_options = options
        backend._owns_client = True
        return backend

    def __repr__(self) -> str:
        return f"MongoBackend({self.database}.{self.collection_name})"

    #: expired documents the first purge batch deletes (later ones are sized by time)
    purge_batch: int = PURGE_BATCH
    #: seconds between two purge batches
    purge_pause: float = PURGE_PAUSE

    def _now(self) -> dt.datetime:
        return dt.datetime.fromtimestamp(self._clock(), _UTC)

    # -- setup -------------------------------------------------------------------------------
    def _ensure_index(self) -> None:
        if not self._indexed:
            with self._lock, _errors():
                self._create_index()

    def _create_index(self) -> None:
        # OperationFailure: an index on "e" exists under another name or with other options;
        # reads filter on expiry anyway, so sessions stay correct.
        with contextlib.suppress(OperationFailure):
            self.collection.create_index("e", name=_TTL_INDEX, expireAfterSeconds=0)
        with contextlib.suppress(OperationFailure):
            self.collection.create_index("o", name=_OWNER_INDEX, sparse=True)
        self._indexed = True

    async def _aensure_index(self, collection: Any) -> None:
        if not self._indexed:
            with contextlib.suppress(OperationFailure):
                await collection.create_index("e", name=_TTL_INDEX, expireAfterSeconds=0)
            with contextlib.suppress(OperationFailure):
                await collection.create_index("o", name=_OWNER_INDEX, sparse=True)
            self._indexed = True

    def _acollection(self) -> Any:
        """The collection through the async client (made for the running loop), or None."""
        if self._async_client is not None and not self._owns_async_client:
            return self._async_client[self.database][self.collection_name]
        if self._url is None:
            return None  # a sync client was given without an async one: use threads
        loop = asyncio.get_running_loop()
        if self._async_client is None or self._async_loop is not loop:
            self._async_client = AsyncMongoClient(self._url, **self._client_options)
            self._owns_async_client = True
            self._async_loop = loop
        return self._async_client[self.database][self.collection_name]

    # -- the Backend protocol ----------------------------------------------------------------
    def get(self, key: str, *, touch: int | None = None) -> Record | None:
        self._ensure_index()
        now = self._now()
        live = {"_id": key, "e": {"$gt": now}}
        with _errors():
            if touch is None:
                doc = self.collection.find_one(live, _PROJECTION)
            else:
                update = {"$set": {"e": _expiry(touch, now)}}
                doc = self.collection.find_one_and_update(live, update, **_TOUCH_OPTIONS)
        return _record(doc, now)

    def set(
        self,
        key: str,
        data: bytes,
        ttl: int,
        *,
        must_exist: bool = False,
        if_version: int | None = None,
    ) -> int | None:
        self._ensure_index()
        filter_, update, options = _write(key, data, ttl, must_exist, if_version, self._now())
        with _errors():
            for attempt in range(2):
                try:
                    doc = self.collection.find_one_and_update(filter_, update, **options)
                    break
                except DuplicateKeyError:
                    # Two upserts of a new key raced; the other inserted it: update it now.
                    if attempt:
                        raise
        return None if doc is None else int(doc["v"])

    def delete(self, key: str) -> None:
        with _errors():
            self.collection.delete_one({"_id": key})

    def purge(self, progress: PurgeProgress | None = None) -> int:
        """Delete expired documents in short batches; return how many (the TTL monitor may
        beat it to some). ``progress(removed, fraction)`` is called after each batch."""
        self._ensure_index()
        expired = {"e": {"$lte": self._now()}}

        def step(limit: int) -> int:
            result = self.collection.bulk_write([DeleteOne(expired)] * limit)
            return int(result.deleted_count)

        with _errors():
            # an index range count: cheap next to the deletes
            total = self.collection.count_documents(expired) if progress is not None else None
            return purge_in_batches(
                step,
                batch=self.purge_batch,
                pause=self.purge_pause,
                progress=progress,
                total=total,
            )

    # -- the owner index ---------------------------------------------------------------------
    # One small document per (owner, session) in the same collection: ``{_id: "o:<owner>:
    # <key>", o: owner, k: key, x: entry, e: expiry}``, found through a sparse index on ``o``
    # and expired by the same TTL index (and read filter) as the records.
    def _index_update(
        self, owner: str, key: str, entry: bytes, ttl: float
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        expiry = _expiry(ttl, self._now())
        doc = {"o": owner, "k": key, "x": Binary(bytes(entry)), "e": expiry}
        return {"_id": _owner_id(owner, key)}, {"$set": doc}

    def index(self, owner: str, key: str, entry: bytes, ttl: float) -> None:
        self._ensure_index()
        filter_, update = self._index_update(owner, key, entry, ttl)
        with _errors():
            self.collection.update_one(filter_, update, upsert=True)

    def owned(self, owner: str) -> list[tuple[str, bytes]]:
        self._ensure_index()
        with _errors():
            docs = list(self.collection.find({"o": owner, "e": {"$gt": self._now()}}))
        return _entries(docs)

    def unindex(self, owner: str, key: str) -> None:
        with _errors():
            self.collection.delete_one({"_id": _owner_id(owner, key)})

    async def aindex(self, owner: str, key: str, entry: bytes, ttl: float) -> None:
        with _errors():
            collection = self._acollection()
            if collection is None:
                return await asyncio.to_thread(self.index, owner, key, entry, ttl)
            await self._aensure_index(collection)
            filter_, update = self._index_update(owner, key, entry, ttl)
            await collection.update_one(filter_, update, upsert=True)

    async def aowned(self, owner: str) -> list[tuple[str, bytes]]:
        with _errors():
            collection = self._acollection()
            if collection is None:
                return await asyncio.to_thread(self.owned, owner)
            await self._aensure_index(collection)
            cursor = collection.find({"o": owner, "e": {"$gt": self._now()}})
            docs = [doc async for doc in cursor]
        return _entries(docs)

    async def aunindex(self, owner: str, key: str) -> None:
        with _errors():
            collection = self._acollection()
            if collection is None:
                return await asyncio.to_thread(self.unindex, owner, key)
            await collection.delete_one({"_id": _owner_id(owner, key)})

    def close(self) -> None:
        """Close the sync client the backend made (a client passed in is left open).

        An async client the backend made is closed by :meth:`aclose` (it must be closed on its
        own event loop).
        """
        if self._owns_client:
            self.client.close()

    # -- async twins (AsyncMongoClient) -----------------------------------------------------
    async def aget(self, key: str, *, touch: int | None = None) -> Record | None:
        with _errors():
            collection = self._acollection()
            if collection is None:
                return await asyncio.to_thread(self.get, key, touch=touch)
            await self._aensure_index(collection)
            now = self._now()
            live = {"_id": key, "e": {"$gt": now}}
            if touch is None:
                doc = await collection.find_one(live, _PROJECTION)
            else:
                update = {"$set": {"e": _expiry(touch, now)}}
                doc = await collection.find_one_and_update(live, update, **_TOUCH_OPTIONS)
        return _record(doc, now)

    async def aset(
        self,
        key: str,
        data: bytes,
        ttl: int,
        *,
        must_exist: bool = False,
        if_version: int | None = None,
    ) -> int | None:
        with _errors():
            collection = self._acollection()
            if collection is None:
                return await asyncio.to_thread(
                    self.set, key, data, ttl, must_exist=must_exist, if_version=if_version
                )
            filter_, update, options = _write(key, data, ttl, must_exist, if_version, self._now())
            await self._aensure_index(collection)
            for attempt in range(2):  # the DuplicateKeyError retry of set(), awaited
                try:
                    doc = await collection.find_one_and_update(filter_, update, **options)
                    break
                except DuplicateKeyError:
                    if attempt:
                        raise
        return None if doc is None else int(doc["v"])

    async def adelete(self, key: str) -> None:
        with _errors():
            collection = self._acollection()
            if collection is None:
                return await asyncio.to_thread(self.delete, key)
            await collection.delete_one({"_id": key})

    async def apurge(self, progress: PurgeProgress | None = None) -> int:
        """Async twin of :meth:`purge`."""
        with _errors():
            collection = self._acollection()
            if collection is None:
                return await asyncio.to_thread(self.purge, progress)
            await self._aensure_index(collection)
            expired = {"e": {"$lte": self._now()}}

            async def step(limit: int) -> int:
                result = await collection.bulk_write([DeleteOne(expired)] * limit)
                return int(result.deleted_count)

            total = await collection.count_documents(expired) if progress is not None else None
            return await apurge_in_batches(
                step,
                batch=self.purge_batch,
                pause=self.purge_pause,
                progress=progress,
                total=total,
            )

    async def aclose(self) -> None:
        """Close the clients the backend made."""
        if self._owns_async_client and self._async_client is not None:
            client, self._async_client = self._async_client, None
            self._owns_async_client = False
            with contextlib.suppress(PyMongoError, RuntimeError):
                await client.close()
        await asyncio.to_thread(self.close)
