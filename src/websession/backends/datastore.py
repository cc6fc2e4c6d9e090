"""DatastoreBackend: sessions in Google Cloud Datastore (Firestore in Datastore mode).

Each record is one entity of kind ``kind`` (``WebSession``) in the client's namespace, named by
the record key, with three properties:

- ``d``: the sealed data (a blob, not indexed);
- ``e``: when it expires, a UTC timestamp, **indexed**: ``purge()`` queries ``e <= now``, and a
  timestamp is what a Datastore TTL policy needs, so production can let Google delete expired
  entities too (``gcloud firestore fields ttls update e --collection-group=WebSession``);
- ``v``: the record version (an integer, not indexed).

A load is one lookup (lookups by key are strongly consistent). A plain save is one blind ``put``
with a fresh random version (:func:`~websession.backends.base.new_version`), so ordinary saves
never wait for each other. Saves that must check something first (``must_exist``: no
resurrection of a deleted session; ``if_version``: optimistic mode) and sliding expiry read and
write in one transaction: Datastore aborts a transaction whose entity another write changed
after it was read, and the operation is then tried again on the new state (a few times), so the
check and the write are atomic.

Every call has a deadline (``timeout``, 2 s by default); gRPC connects within a call, so the
deadline bounds connecting too. A call is not retried (a retry would get a deadline of its
own). Failures to reach Datastore raise
:class:`~websession.StoreUnavailable`.

google-cloud-datastore has no asyncio client: the async methods run the sync ones in a worker
thread (the client is thread-safe).

Against the Cloud Datastore emulator, set ``DATASTORE_EMULATOR_HOST=host:port``; the client
then needs no credentials.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import time
from collections.abc import Callable
from typing import Any

from . import _google
from ._google import stamp
from .base import (
    PURGE_BATCH,
    PURGE_PAUSE,
    AsyncFromSync,
    PurgeProgress,
    Record,
    new_version,
    next_version,
    purge_in_batches,
)

try:
    from google.cloud import datastore as _datastore

    _IMPORT_ERROR: ImportError | None = None
except ImportError as exc:  # pragma: no cover - exercised only without the client installed
    _IMPORT_ERROR = exc

__all__ = ["DatastoreBackend"]

#: keys one purge batch queries at most
_PURGE_MAX = 500
#: seconds a rollback gets after such an error
_ROLLBACK_AFTER_SILENCE = 0.2
#: entities per purge transaction: the Datastore emulator (like Datastore's legacy limit)
#: refuses more than 25 entity groups in one transaction
_TRANSACTION_MAX = 25
_SERVICE = "Datastore"


def _expired(entity: Any, now: float) -> bool:
    """Whether an entity (a record or an owner-index entry) has an ``e`` that has passed."""
    expires = None if entity is None else entity.get("e")
    return isinstance(expires, dt.datetime) and expires.timestamp() <= now


def _record(entity: Any) -> Record | None:
    """A record from an entity, or None when the entity is not one of ours."""
    if entity is None:
        return None
    try:
        return Record(bytes(entity["d"]), entity["e"].timestamp(), int(entity["v"]))
    except (KeyError, TypeError, AttributeError, ValueError):
        return None


class DatastoreBackend(AsyncFromSync):
    """Session records as entities of ``kind`` in Google Cloud Datastore.

    Args:
        project: the Google Cloud project (None: the client's default).
        namespace: the Datastore namespace (None: the default namespace).
        kind: the entity kind.
        client: a ``google.cloud.datastore.Client`` to use instead of making one (its project
            and namespace win over the arguments above; the backend does not close it).
        database: a named database (None: the default one).
        timeout: each call's deadline in seconds, connecting included.
        clock: the time source (seconds since the epoch) for expiry.
    """

    def __init__(
        self,
        project: str | None = None,
        *,
        namespace: str | None = None,
        kind: str = "WebSession",
        client: Any = None,
        database: str | None = None,
        timeout: float = 2.0,
        clock: Callable[[], float] | None = None,
    ) -> None:
        _google.require(_IMPORT_ERROR, "DatastoreBackend", "datastore", "google-cloud-datastore")
        if not kind:
            raise ValueError("a Datastore kind name is required")
        if timeout <= 0:
            raise ValueError("timeout must be positive")
        self._owns_client = client is None
        if client is None:
            options: dict[str, Any] = {"project": project, "namespace": namespace or None}
            if database:
                options["database"] = database
            client = _datastore.Client(**options)
        self.client = client
        self.kind = kind
        self.timeout = float(timeout)
        self._clock = clock if clock is not None else time.time
        self._retry = _google.retries(self.timeout)[0]

    @classmethod
    def from_url(cls, url: str, **options: Any) -> DatastoreBackend:
        """A backend for ``datastore://PROJECT?namespace=...&kind=...&timeout=...``.

        Query parameters: ``namespace``, ``kind``, ``database``, ``timeout``; keyword arguments
        override them. gRPC has no connect step apart from a call, so ``connect_timeout`` is
        refused with an explanation rather than ignored.
        """
        project, query = _google.url_options(url, "datastore", ("namespace", "kind", "database"))
        return cls(project, **{**query, **options})

    def __repr__(self) -> str:
        namespace = self.client.namespace
        return f"DatastoreBackend(project={self.client.project!r}, namespace={namespace!r})"

    # -- helpers -----------------------------------------------------------------------------
    def _key(self, key: str) -> Any:
        return self.client.key(self.kind, key)

    def _call(self) -> dict[str, Any]:
        return {"retry": self._retry, "timeout": self.timeout}

    def _entity(self, key: str, data: bytes, expires_at: float, version: int) -> Any:
        entity = _datastore.Entity(self._key(key), exclude_from_indexes=("d", "v"))
        entity.update(d=bytes(data), e=stamp(expires_at), v=version)
        return entity

    def _transact(self, body: Callable[[Any], Any]) -> Any:
        """Run ``body(transaction)`` in a transaction, again when a concurrent write aborts it.

        ``body`` reads through the transaction and puts or deletes in it; its result is returned
        once the commit succeeds. Datastore reports a concurrent change at commit time
        (``Aborted``/``Conflict``): the body then runs again, on the new state.
        """

        def attempt() -> Any:
            transaction = self.client.transaction()
            transaction.begin(**self._call())
            try:
                result = body(transaction)
                transaction.commit(**self._call())
            except BaseException as exc:
                # A server that let a call's deadline pass will hardly answer the rollback:
                # a short try only, not a second deadline on the caller's time (an unfinished
                # transaction also ends by itself on the server).
                call = self._call()
                if isinstance(exc, _google.UNANSWERED):
                    call["timeout"] = min(call["timeout"], _ROLLBACK_AFTER_SILENCE)
                with contextlib.suppress(Exception):
                    transaction.rollback(**call)
                raise
            return result

        return _google.until_written(
            _SERVICE, (_google.gexc.Aborted, _google.gexc.Conflict), attempt
        )

    # -- the Backend protocol ----------------------------------------------------------------
    def get(self, key: str, *, touch: int | None = None) -> Record | None:
        if touch is None:
            with _google.unavailable(_SERVICE):
                record = _record(self.client.get(self._key(key), **self._call()))
            if record is None or record.expires_at <= self._clock():
                return None
            return record

        def extend(transaction: Any) -> Record | None:
            now = self._clock()
            entity = self.client.get(self._key(key), transaction=transaction, **self._call())
            record = _record(entity)
            if record is None or record.expires_at <= now:
                return None
            entity["e"] = stamp(now + touch)
            transaction.put(entity)
            return Record(record.data, now + touch, record.version)

        with _google.unavailable(_SERVICE):
            result: Record | None = self._transact(extend)
        return result

    def set(
        self,
        key: str,
        data: bytes,
        ttl: int,
        *,
        must_exist: bool = False,
        if_version: int | None = None,
    ) -> int | None:
        if _google.blind_save(ttl, must_exist, if_version):
            version = new_version()
            entity = self._entity(key, data, self._clock() + ttl, version)
            with _google.unavailable(_SERVICE):
                self.client.put(entity, **self._call())
            return version

        def write(transaction: Any) -> int | None:
            now = self._clock()
            current = _record(
                self.client.get(self._key(key), transaction=transaction, **self._call())
            )
            version = next_version(current, now, must_exist=must_exist, if_version=if_version)
            if version is not None:
                transaction.put(self._entity(key, data, now + ttl, version))
            return version

        with _google.unavailable(_SERVICE):
            result: int | None = self._transact(write)
        return result

    def delete(self, key: str) -> None:
        with _google.unavailable(_SERVICE):
            self.client.delete(self._key(key), **self._call())

    #: entities the first purge batch deletes (later ones are sized by time, up to 500)
    purge_batch: int = PURGE_BATCH
    #: seconds between two purge batches
    purge_pause: float = PURGE_PAUSE

    def _expired_query(self, now: float) -> Any:
        query = self.client.query(kind=self.kind)
        query.add_filter(filter=_datastore.query.PropertyFilter("e", "<=", stamp(now)))
        query.keys_only()
        return query

    def _count(self, query: Any) -> int | None:
        """How many entities ``query`` finds (a count aggregation: an index scan), or None
        where the server has no aggregation queries (the Datastore emulator)."""
        try:
            pages = self.client.aggregation_query(query).count().fetch(**self._call())
            return sum(int(result.value) for page in pages for result in page)
        except _google.gexc.MethodNotImplemented:
            return None

    def purge(self, progress: PurgeProgress | None = None) -> int:
        """Delete the entities whose ``e`` has passed (records and owner-index entries) in
        short batches; return how many.

        Each batch is a keys-only query on the indexed ``e`` for at most a batch of them, then
        transactions (25 entities each) that read those entities again and delete the ones
        still expired (one saved anew in the meantime is kept), with a pause before the next
        batch.
        ``progress`` gets a fraction from a count query made first, where the server can
        count (the Datastore emulator cannot: the fraction is then None).
        """
        now = self._clock()

        def sweep(keys: list[Any], transaction: Any) -> int:
            entities = self.client.get_multi(keys, transaction=transaction, **self._call())
            expired = [entity.key for entity in entities if _expired(entity, now)]
            for key in expired:
                transaction.delete(key)
            return len(expired)

        def step(limit: int) -> tuple[int, bool]:
            limit = min(limit, _PURGE_MAX)
            found = self._expired_query(now).fetch(limit=limit, **self._call())
            keys = [entity.key for entity in found]
            if not keys:
                return 0, False
            removed = 0
            for start in range(0, len(keys), _TRANSACTION_MAX):
                chunk = keys[start : start + _TRANSACTION_MAX]
                removed += int(self._transact(functools.partial(sweep, chunk)))
            return removed, len(keys) == limit

        with _google.unavailable(_SERVICE):
            total = self._count(self._expired_query(now)) if progress is not None else None
            return purge_in_batches(
                step, batch=self.purge_batch, pause=self.purge_pause, progress=progress, total=total
            )

    # -- the owner index ---------------------------------------------------------------------
    # One small entity per (owner, session) of the same kind, named ``o:<owner>:<key>``, with
    # ``o`` (owner, indexed: the built-in single-property index answers ``o ==``), ``k``, ``x``
    # (the entry) and ``e`` (expiry: the same TTL policy removes it). Expired ones are dropped
    # when listed. The async twins run these in a worker thread (AsyncFromSync).
    def index(self, owner: str, key: str, entry: bytes, ttl: float) -> None:
        entity = _datastore.Entity(self._key(f"o:{owner}:{key}"), exclude_from_indexes=("k", "x"))
        entity.update(o=owner, k=key, x=bytes(entry), e=stamp(self._clock() + ttl))
        with _google.unavailable(_SERVICE):
            self.client.put(entity, **self._call())

    def owned(self, owner: str) -> list[tuple[str, bytes]]:
        now = self._clock()
        live: list[tuple[str, bytes]] = []
        dead: list[Any] = []
        with _google.unavailable(_SERVICE):
            query = self.client.query(kind=self.kind)
            query.add_filter(filter=_datastore.query.PropertyFilter("o", "=", owner))
            for entity in query.fetch(**self._call()):
                expires = entity.get("e")
                if expires is None or expires.timestamp() <= now:
                    dead.append(entity.key)
                else:
                    live.append((str(entity["k"]), bytes(entity["x"])))
            if dead:  # prune lazily
                self.client.delete_multi(dead, **self._call())
        return live

    def unindex(self, owner: str, key: str) -> None:
        with _google.unavailable(_SERVICE):
            self.client.delete(self._key(f"o:{owner}:{key}"), **self._call())

    def close(self) -> None:
        """Close the client the backend made (a client passed in is left open)."""
        if self._owns_client:
            with contextlib.suppress(Exception):
                self.client.close()
