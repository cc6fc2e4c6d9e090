"""Metrics from store events: ``websession.metrics.prometheus()`` (the ``[prometheus]`` extra).

::

    store = websession.open_store("redis://...", secrets, on_event=websession.metrics.prometheus())

Series (``store`` is the store's label, e.g. ``ServerStore/RedisBackend``; ``name`` the
session's cookie name):

- ``websession_sessions_loaded_total{store,name}``, ``websession_sessions_saved_total``
  ``{store,name,deleted}``
- ``websession_cookies_rejected_total{store,name,reason}``: ``expired``,
  ``invalid_signature`` (a botched key rotation shows here), ``not_found``, ...
- ``websession_store_unavailable_total{store,operation}``,
  ``websession_save_conflicts_total{store}``
- ``websession_operation_seconds{store,operation}``: a histogram of load and save latency.
"""

from __future__ import annotations

import threading
import weakref
from typing import Any

from .events import Conflict, EventHook, Loaded, Rejected, Saved, StoreEvent, Unavailable

__all__ = ["prometheus"]

# Latency buckets from 50 µs (a cookie store) to 2.5 s (a database timing out).
_BUCKETS = (
    0.00005,
    0.0001,
    0.00025,
    0.0005,
    0.001,
    0.0025,
    0.005,
    0.01,
    0.025,
    0.05,
    0.1,
    0.25,
    0.5,
    1.0,
    2.5,
)

# One set of metrics per registry: prometheus_client refuses to register a name twice, and two
# stores of one application should count into the same series.
_made: weakref.WeakKeyDictionary[Any, EventHook] = weakref.WeakKeyDictionary()
_lock = threading.Lock()


def prometheus(registry: Any = None) -> EventHook:
    """An ``on_event`` callable that counts store events into ``prometheus_client`` metrics.

    Args:
        registry: a ``prometheus_client.CollectorRegistry``; the default registry if None.
            Calling this again with the same registry returns the same callable.

    Raises:
        ImportError: prometheus_client is not installed (``pip install 'websession[prometheus]'``).
    """
    try:
        import prometheus_client as pc
    except ImportError as exc:
        raise ImportError(
            f"websession.metrics.prometheus needs prometheus_client ({exc}): "
            "pip install 'websession[prometheus]'"
        ) from exc
    target = pc.REGISTRY if registry is None else registry
    with _lock:
        made = _made.get(target)
        if made is None:
            made = _make(pc, target)
            _made[target] = made
    return made


def _make(pc: Any, registry: Any) -> EventHook:
    def counter(name: str, doc: str, labels: str) -> Any:
        return pc.Counter(name, doc, labels.split(), registry=registry)

    loaded = counter("websession_sessions_loaded", "Sessions opened from a cookie", "store name")
    saved = counter(
        "websession_sessions_saved", "Sessions saved (deleted: logged out)", "store name deleted"
    )
    rejected = counter(
        "websession_cookies_rejected", "Cookies not trusted, by reason", "store name reason"
    )
    unavailable = counter(
        "websession_store_unavailable", "Loads and saves during outages", "store operation"
    )
    conflicts = counter("websession_save_conflicts", "Optimistic saves that lost", "store")
    seconds = pc.Histogram(
        "websession_operation_seconds",
        "Time to load or save a session",
        ["store", "operation"],
        buckets=_BUCKETS,
        registry=registry,
    )

    def on_event(event: StoreEvent) -> None:
        if isinstance(event, Loaded):
            loaded.labels(event.store, event.name).inc()
            seconds.labels(event.store, "load").observe(event.latency)
        elif isinstance(event, Saved):
            saved.labels(event.store, event.name, "true" if event.deleted else "false").inc()
            seconds.labels(event.store, "save").observe(event.latency)
        elif isinstance(event, Rejected):
            rejected.labels(event.store, event.name, event.reason).inc()
        elif isinstance(event, Unavailable):
            unavailable.labels(event.store, event.operation).inc()
            seconds.labels(event.store, event.operation).observe(event.latency)
        elif isinstance(event, Conflict):
            conflicts.labels(event.store).inc()

    return on_event
