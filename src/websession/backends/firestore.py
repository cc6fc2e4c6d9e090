"""FirestoreBackend: sessions in Google Cloud Firestore (native mode), sync and asyncio.

Each record is one document of the collection ``collection`` (``websession``), whose id is the
record key, with three fields:

- ``d``: the sealed data (bytes);
- ``e``: when it expires, a UTC timestamp: the field a Firestore **TTL policy** needs
  (``gcloud firestore fields ttls update e --collection-group=websession``), so Google deletes
  expired documents by itself in production, within a day or so of expiry. Every read also
  checks ``e`` and never returns an expired session, and :meth:`FirestoreBackend.purge` deletes
  expired documents in short batches (a query on ``e``, which Firestore indexes by default);
- ``v``: the record version (an integer).

A load is one document read. A plain save is one blind ``set`` with a fresh random version
(:func:`~websession.backends.base.new_version`), so ordinary saves never wait for each other.
Saves that must check something first (``must_exist``: no resurrection of a deleted session;
``if_version``: optimistic mode) and sliding expiry read the document, decide, and write with a
``last_update_time`` precondition: Firestore refuses the write if anything changed the document
after the read, and the operation is then tried again on the new state (a few times), so the
check and the write are atomic without a transaction.

Every call has a deadline (``timeout``, 2 s by default); gRPC connects within a call, so the
deadline bounds connecting too. A call is not retried (a retry would get a deadline of its
own). Failures to reach Firestore raise
:class:`~websession.StoreUnavailable`.

The async methods use google-cloud-firestore's own ``AsyncClient`` (made per event loop: its
gRPC channel belongs to the loop that made it). Against the Firestore emulator, set
``FIRESTORE_EMULATOR_HOST=host:port``; the clients then need no credentials.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from typing import Any, TypeVar

from . import _google
from ._google import stamp
from .base import (
    PURGE_BATCH,
    PURGE_PAUSE,
    PurgeProgress,
    Record,
    apurge_in_batches,
    new_version,
    next_version,
    purge_in_batches,
)

try:
    from google.cloud import firestore as _firestore

    _IMPORT_ERROR: ImportError | None = None
except ImportError as exc:  # pragma: no cover - exercised only without the client installed
    _IMPORT_ERROR = exc

__all__ = ["FirestoreBackend"]

_SERVICE = "Firestore"
#: documents per purge batch at most: one commit carries up to 500 writes
_PURGE_MAX = 500
T = TypeVar("T")


#: a conditional write refused because the document changed since it was read
def _changed() -> tuple[type[BaseException], ...]:
    return (_google.gexc.FailedPrecondition, _google.gexc.NotFound)


def _record(snapshot: Any) -> Record | None:
    """A record from a document snapshot, or None when it is absent or not one of ours."""
    if snapshot is None or not snapshot.exists:
        return None
    fields = snapshot.to_dict() or {}
    try:
        return Record(bytes(fields["d"]), fields["e"].timestamp(), int(fields["v"]))
    except (KeyError, TypeError, AttributeError, ValueError):
        return None


def _live(record: Record | None, now: float) -> Record | None:
    return record if record is not None and record.expires_at > now else None


def _fields(data: bytes, expires_at: float, version: int) -> dict[str, Any]:
    return {"d": bytes(data), "e": stamp(expires_at), "v": version}


# What a read-decide-write does with the document it read (sync and async alike): from the
# snapshot and the time, the result to return and the fields to write (None: write nothing).
_Decide = Callable[[Any, float], tuple[T, "dict[str, Any] | None"]]


def _touched(touch: int | None) -> _Decide[Record | None]:
    """A load; with ``touch``, the live record's expiry moved to ``touch`` seconds from now."""

    def decide(snapshot: Any, now: float) -> tuple[Record | None, dict[str, Any] | None]:
        record = _live(_record(snapshot), now)
        if record is None or touch is None:
            return record, None
        return Record(record.data, now + touch, record.version), {"e": stamp(now + touch)}

    return decide


def _saved(data: bytes, ttl: int, must_exist: bool, if_version: int | None) -> _Decide[int | None]:
    """A checked save: the next version (None: refused) and the fields that write it."""

    def decide(snapshot: Any, now: float) -> tuple[int | None, dict[str, Any] | None]:
        version = next_version(_record(snapshot), now, must_exist=must_exist, if_version=if_version)
        return version, None if version is None else _fields(data, now + ttl, version)

    return decide


class FirestoreBackend:
    """Session records as documents of ``collection`` in Google Cloud Firestore.

    Args:
        project: the Google Cloud project (None: the client's default).
        collection: the collection that holds the session documents.
        database: a named database (None: ``(default)``).
        client: a ``google.cloud.firestore.Client`` for the sync methods, instead of making one
            (the backend does not close it).
        async_client: a ``google.cloud.firestore.AsyncClient`` for the async methods.
        timeout: each call's deadline in seconds, connecting included.
        clock: the time source (seconds since the epoch) for expiry.
    """

    def __init__(
        self,
        project: str | None = None,
        *,
        collection: str = "websession",
        database: str | None = None,
        client: Any = None,
        async_client: Any = None,
        timeout: float = 2.0,
        clock: Callable[[], float] | None = None,
    ) -> None:
        _google.require(_IMPORT_ERROR, "FirestoreBackend", "firestore", "google-cloud-firestore")
        if not collection or "/" in collection:
            raise ValueError(f"a Firestore collection id is required, not {collection!r}")
        if timeout <= 0:
            raise ValueError("timeout must be positive")
        self.project = project
        self.database = database
        self.collection_name = collection
        self.timeout = float(timeout)
        self._clock = clock if clock is not None else time.time
        self._client = client
        self._own_client = client is None
        self._async_client = async_client
        self._own_async_client = async_client is None
        self._async_loop: asyncio.AbstractEventLoop | None = None
        # Retry a call the server could not take (not reachable, restarting) within its
        # deadline only: google-api-core's default would keep trying for a minute.
        self._retry, self._aretry = _google.retries(self.timeout)

    @classmethod
    def from_url(cls, url: str, **options: Any) -> FirestoreBackend:
        """A backend for ``firestore://PROJECT?collection=...&database=...&timeout=...``.

        Keyword arguments override the query. gRPC has no connect step apart from a call, so
        ``connect_timeout`` is refused with an explanation rather than ignored.
        """
        project, query = _google.url_options(url, "firestore", ("collection", "database"))
        return cls(project, **{**query, **options})

    def __repr__(self) -> str:
        return f"FirestoreBackend(project={self.project!r}, collection={self.collection_name!r})"

    # -- clients -----------------------------------------------------------------------------
    def _client_options(self) -> dict[str, Any]:
        options: dict[str, Any] = {"project": self.project}
        if self.database:
            options["database"] = self.database
        return options

    @property
    def client(self) -> Any:
        """The sync client (made on first use)."""
        if self._client is None:
            self._client = _firestore.Client(**self._client_options())
        return self._client

    def _aclient(self) -> Any:
        client = self._async_client
        if self._own_async_client:
            loop = asyncio.get_running_loop()
            if client is not None and self._async_loop is not loop:
                client = None  # its gRPC channel belongs to another (finished) loop
            if client is None:
                client = _firestore.AsyncClient(**self._client_options())
                self._async_client = client
                self._async_loop = loop
        return client

    def _call(self) -> dict[str, Any]:
        return {"retry": self._retry, "timeout": self.timeout}

    def _acall(self) -> dict[str, Any]:
        return {"retry": self._aretry, "timeout": self.timeout}

    # -- sync --------------------------------------------------------------------------------
    def _doc(self, key: str) -> Any:
        return self.client.collection(self.collection_name).document(key)

    def get(self, key: str, *, touch: int | None = None) -> Record | None:
        return self._checked_write(self._doc(key), _touched(touch))

    def set(
        self,
        key: str,
        data: bytes,
        ttl: int,
        *,
        must_exist: bool = False,
        if_version: int | None = None,
    ) -> int | None:
        if not _google.blind_save(ttl, must_exist, if_version):
            return self._checked_write(self._doc(key), _saved(data, ttl, must_exist, if_version))
        version = new_version()
        with _google.unavailable(_SERVICE):
            self._doc(key).set(_fields(data, self._clock() + ttl, version), **self._call())
        return version

    def _checked_write(self, ref: Any, decide: _Decide[T]) -> T:
        """Read ``ref``, ``decide``, and write what it asks with a ``last_update_time``
        precondition, again on the new state while the document changes in between."""

        def attempt() -> T:
            now = self._clock()
            snapshot = ref.get(**self._call())
            result, fields = decide(snapshot, now)
            if fields is not None:
                option = self.client.write_option(last_update_time=snapshot.update_time)
                ref.update(fields, option=option, **self._call())
            return result

        with _google.unavailable(_SERVICE):
            return _google.until_written(_SERVICE, _changed(), attempt)

    def delete(self, key: str) -> None:
        with _google.unavailable(_SERVICE):
            self._doc(key).delete(**self._call())

    #: documents the first purge batch deletes (later ones are sized by time, up to 500)
    purge_batch: int = PURGE_BATCH
    #: seconds between two purge batches
    purge_pause: float = PURGE_PAUSE

    def _expired_query(self, client: Any, now: float) -> Any:
        collection = client.collection(self.collection_name)
        return collection.where(filter=_firestore.FieldFilter("e", "<=", stamp(now)))

    @staticmethod
    def _purge_batch(client: Any, snapshots: list[Any]) -> Any:
        batch = client.batch()
        for snapshot in snapshots:
            option = client.write_option(last_update_time=snapshot.update_time)
            batch.delete(snapshot.reference, option=option)
        return batch

    def purge(self, progress: PurgeProgress | None = None) -> int:
        """Delete the documents whose ``e`` has passed (records and owner-index entries) in
        short batches; return how many.

        Each batch queries the indexed ``e`` for at most a batch of them and deletes them in
        one commit, each delete carrying the document's ``last_update_time`` as a
        precondition, so a session saved anew while the purge runs is kept: a commit refused
        for one such document is done again one document at a time. A pause follows each
        batch. ``progress`` gets a fraction from a count query made first.
        """
        client, now = self.client, self._clock()

        def step(limit: int) -> tuple[int, bool]:
            limit = min(limit, _PURGE_MAX)
            query = self._expired_query(client, now).select([]).limit(limit)
            snapshots = list(query.stream(**self._call()))
            if not snapshots:
                return 0, False
            try:
                self._purge_batch(client, snapshots).commit(**self._call())
                removed = len(snapshots)
            except _changed():
                removed = 0
                for snapshot in snapshots:
                    with contextlib.suppress(*_changed()):
                        self._purge_batch(client, [snapshot]).commit(**self._call())
                        removed += 1
            return removed, len(snapshots) == limit

        with _google.unavailable(_SERVICE):
            total = None
            if progress is not None:
                counted = self._expired_query(client, now).count().get(**self._call())
                total = sum(int(result.value) for results in counted for result in results)
            return purge_in_batches(
                step, batch=self.purge_batch, pause=self.purge_pause, progress=progress, total=total
            )

    # -- the owner index ---------------------------------------------------------------------
    # One small document per (owner, session) in the same collection, id ``o:<owner>:<key>``,
    # fields ``o`` (owner), ``k`` (key), ``x`` (entry) and ``e`` (expiry: the same TTL policy
    # and purge() query remove it). Listing queries ``o ==`` (single-field indexes are
    # automatic) and checks ``e`` here: an ``o ==`` plus ``e >`` query would need a composite
    # index to be created by hand.
    def _index_query(self, client: Any, owner: str) -> Any:
        condition = _firestore.FieldFilter("o", "==", owner)
        return client.collection(self.collection_name).where(filter=condition)

    def _index_fields(self, owner: str, key: str, entry: bytes, ttl: float) -> dict[str, Any]:
        return {"o": owner, "k": key, "x": bytes(entry), "e": stamp(self._clock() + ttl)}

    def _index_entries(self, snapshots: list[Any]) -> tuple[list[tuple[str, bytes]], list[Any]]:
        now = self._clock()
        live: list[tuple[str, bytes]] = []
        dead: list[Any] = []
        for snapshot in snapshots:
            fields = snapshot.to_dict() or {}
            expires = fields.get("e")
            if expires is None or expires.timestamp() <= now:
                dead.append(snapshot.reference)
            else:
                live.append((str(fields["k"]), bytes(fields["x"])))
        return live, dead

    def index(self, owner: str, key: str, entry: bytes, ttl: float) -> None:
        with _google.unavailable(_SERVICE):
            self._doc(f"o:{owner}:{key}").set(
                self._index_fields(owner, key, entry, ttl), **self._call()
            )

    def owned(self, owner: str) -> list[tuple[str, bytes]]:
        with _google.unavailable(_SERVICE):
            snapshots = list(self._index_query(self.client, owner).stream(**self._call()))
            live, dead = self._index_entries(snapshots)
            for reference in dead:  # prune lazily
                reference.delete(**self._call())
        return live

    def unindex(self, owner: str, key: str) -> None:
        with _google.unavailable(_SERVICE):
            self._doc(f"o:{owner}:{key}").delete(**self._call())

    async def aindex(self, owner: str, key: str, entry: bytes, ttl: float) -> None:
        with _google.unavailable(_SERVICE):
            await self._adoc(f"o:{owner}:{key}").set(
                self._index_fields(owner, key, entry, ttl), **self._acall()
            )

    async def aowned(self, owner: str) -> list[tuple[str, bytes]]:
        with _google.unavailable(_SERVICE):
            query = self._index_query(self._aclient(), owner)
            snapshots = [s async for s in query.stream(**self._acall())]
            live, dead = self._index_entries(snapshots)
            for reference in dead:
                await reference.delete(**self._acall())
        return live

    async def aunindex(self, owner: str, key: str) -> None:
        with _google.unavailable(_SERVICE):
            await self._adoc(f"o:{owner}:{key}").delete(**self._acall())

    def close(self) -> None:
        """Close the sync client the backend made; forget the async one (see :meth:`aclose`)."""
        client, self._client = self._client, None
        if client is not None and self._own_client:
            _close_transport(client)
        if self._own_async_client:
            self._async_client = None
            self._async_loop = None

    # -- async -------------------------------------------------------------------------------
    def _adoc(self, key: str) -> Any:
        return self._aclient().collection(self.collection_name).document(key)

    async def aget(self, key: str, *, touch: int | None = None) -> Record | None:
        return await self._achecked_write(self._adoc(key), _touched(touch))

    async def aset(
        self,
        key: str,
        data: bytes,
        ttl: int,
        *,
        must_exist: bool = False,
        if_version: int | None = None,
    ) -> int | None:
        if not _google.blind_save(ttl, must_exist, if_version):
            decide = _saved(data, ttl, must_exist, if_version)
            return await self._achecked_write(self._adoc(key), decide)
        version = new_version()
        with _google.unavailable(_SERVICE):
            await self._adoc(key).set(_fields(data, self._clock() + ttl, version), **self._acall())
        return version

    async def _achecked_write(self, ref: Any, decide: _Decide[T]) -> T:
        """Async twin of :meth:`_checked_write`."""

        async def attempt() -> T:
            now = self._clock()
            snapshot = await ref.get(**self._acall())
            result, fields = decide(snapshot, now)
            if fields is not None:
                option = self._aclient().write_option(last_update_time=snapshot.update_time)
                await ref.update(fields, option=option, **self._acall())
            return result

        with _google.unavailable(_SERVICE):
            return await _google.auntil_written(_SERVICE, _changed(), attempt)

    async def adelete(self, key: str) -> None:
        with _google.unavailable(_SERVICE):
            await self._adoc(key).delete(**self._acall())

    async def apurge(self, progress: PurgeProgress | None = None) -> int:
        """Async twin of :meth:`purge`."""
        client, now = self._aclient(), self._clock()

        async def step(limit: int) -> tuple[int, bool]:
            limit = min(limit, _PURGE_MAX)
            query = self._expired_query(client, now).select([]).limit(limit)
            snapshots = [snapshot async for snapshot in query.stream(**self._acall())]
            if not snapshots:
                return 0, False
            try:
                await self._purge_batch(client, snapshots).commit(**self._acall())
                removed = len(snapshots)
            except _changed():
                removed = 0
                for snapshot in snapshots:
                    with contextlib.suppress(*_changed()):
                        await self._purge_batch(client, [snapshot]).commit(**self._acall())
                        removed += 1
            return removed, len(snapshots) == limit

        with _google.unavailable(_SERVICE):
            total = None
            if progress is not None:
                counted = await self._expired_query(client, now).count().get(**self._acall())
                total = sum(int(result.value) for results in counted for result in results)
            return await apurge_in_batches(
                step, batch=self.purge_batch, pause=self.purge_pause, progress=progress, total=total
            )

    async def aclose(self) -> None:
        client, self._async_client = self._async_client, None
        loop, self._async_loop = self._async_loop, None
        running = asyncio.get_running_loop()
        if client is not None and self._own_async_client and loop in (None, running):
            await _aclose_transport(client)
        self.close()


# google-cloud-firestore's clients have no close(): their gRPC transport does. Reached through
# the generated API object the client made (none if it never made a call); if a release moves
# it, closing is skipped and the channel is released when the client is garbage collected.
def _transport(client: Any) -> Any:
    return getattr(getattr(client, "_firestore_api_internal", None), "transport", None)


def _close_transport(client: Any) -> None:
    transport = _transport(client)
    if transport is not None:
        with contextlib.suppress(Exception):
            transport.close()


async def _aclose_transport(client: Any) -> None:
    transport = _transport(client)
    if transport is not None:
        with contextlib.suppress(Exception):
            await transport.close()
