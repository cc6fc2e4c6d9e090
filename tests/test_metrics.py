"""websession.metrics.prometheus(): store events counted into a real Prometheus registry."""

from __future__ import annotations

from typing import Any

import websession
from websession import CookieStore, MemoryStore

NEW = "gNZYYnlSykuiUlofXS4fm2UcrM3mvrI4Lfqg6Y86TpI"
OTHER = "uSPlfF3kBNLtiiZcD_Lduq545IzSAmx9ZLDvnzvhR5Y"


def _cookie(store: Any, **values: Any) -> str:
    session = store.new("session", None)
    session.update(values)
    return store.save(session).split(";", 1)[0].split("=", 1)[1]


def test_prometheus_counts_events_into_a_real_registry() -> None:
    from prometheus_client import CollectorRegistry, generate_latest

    registry = CollectorRegistry()
    hook = websession.metrics.prometheus(registry)
    assert websession.metrics.prometheus(registry) is hook  # one set of series per registry
    store = MemoryStore(NEW, on_event=hook)
    cookie_store = CookieStore(NEW, on_event=hook)
    cookie = _cookie(store, user="alice")
    for _ in range(3):
        store.new("session", cookie)
    store.new("session", _cookie(MemoryStore(OTHER)))  # foreign: rejected
    cookie_store.new("session", "garbage")

    def sample(metric: str, **labels: str) -> float | None:
        return registry.get_sample_value(metric, labels)

    assert sample("websession_sessions_loaded_total", store="MemoryStore", name="session") == 3
    assert (
        sample(
            "websession_sessions_saved_total", store="MemoryStore", name="session", deleted="false"
        )
        == 1
    )
    assert (
        sample(
            "websession_cookies_rejected_total",
            store="MemoryStore",
            name="session",
            reason="invalid_signature",
        )
        == 1
    )
    assert (
        sample(
            "websession_cookies_rejected_total",
            store="CookieStore",
            name="session",
            reason="malformed",
        )
        == 1
    )
    count = sample("websession_operation_seconds_count", store="MemoryStore", operation="load")
    assert count == 3
    assert b"websession_operation_seconds_bucket" in generate_latest(registry)
