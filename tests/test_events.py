"""Visibility (issue 9): the websession logger and the on_event hook (Prometheus: test_metrics.py).

A botched key rotation used to log everyone out without a trace; outages and Secure cookies
sent over plain HTTP were silent too.
"""

from __future__ import annotations

import io
import logging
import sys
from collections.abc import Iterator
from typing import Any

import pytest

import websession
from tests.support.live import free_port
from websession import (
    ConflictError,
    CookieOptions,
    CookieStore,
    InsecureSecret,
    MemoryStore,
    StoreUnavailable,
    open_store,
)
from websession.events import Conflict, Loaded, Rejected, Saved, StoreEvent, Unavailable
from websession.wsgi import SessionMiddleware

NEW = "gNZYYnlSykuiUlofXS4fm2UcrM3mvrI4Lfqg6Y86TpI"
OLD = "Z6cVZF0PSzSE_MQ8HJyk2KLE4UFAkvHVAfTosa9SR7w"
OTHER = "uSPlfF3kBNLtiiZcD_Lduq545IzSAmx9ZLDvnzvhR5Y"


def _value(header: str) -> str:
    return header.split(";", 1)[0].split("=", 1)[1]


def _cookie(store: Any, **values: Any) -> str:
    session = store.new("session", None)
    session.update(values)
    return _value(store.save(session))


class Events(list[StoreEvent]):
    def __call__(self, event: StoreEvent) -> None:
        self.append(event)


@pytest.fixture
def caplog_ws(caplog: pytest.LogCaptureFixture) -> Iterator[pytest.LogCaptureFixture]:
    with caplog.at_level(logging.DEBUG, logger="websession"):
        yield caplog


@pytest.mark.parametrize("make", [CookieStore, MemoryStore], ids=["cookie", "memory"])
def test_a_rejected_cookie_is_logged_at_debug_with_its_reason_and_no_value(
    make: Any, caplog_ws: pytest.LogCaptureFixture
) -> None:
    """The botched rotation: cookies sealed with a key the store no longer holds."""
    cookie = _cookie(make(OTHER), user="alice")
    events = Events()
    store = make(NEW, on_event=events)
    assert store.new("session", cookie).is_new
    [record] = [r for r in caplog_ws.records if "rejected" in r.getMessage()]
    assert record.levelno == logging.DEBUG
    assert "invalid_signature" in record.getMessage()
    assert cookie not in record.getMessage()
    assert NEW not in record.getMessage()
    assert [type(e) for e in events] == [Rejected]
    assert events[0].reason == "invalid_signature"
    assert events[0].name == "session"


def test_a_stale_key_reseal_is_logged_at_info_once_a_minute(
    caplog_ws: pytest.LogCaptureFixture,
) -> None:
    old_cookies = [_cookie(CookieStore(OLD), n=i) for i in range(5)]
    events = Events()
    store = CookieStore([NEW, OLD], on_event=events)
    for cookie in old_cookies:
        assert not store.new("session", cookie).is_new
    infos = [r for r in caplog_ws.records if r.levelno == logging.INFO]
    assert len(infos) == 1
    assert "older key" in infos[0].getMessage()
    assert [e.stale for e in events if isinstance(e, Loaded)] == [True] * 5


def test_loads_and_saves_are_events_with_latency() -> None:
    events = Events()
    store = open_store("memory://", NEW, on_event=events)
    cookie = _cookie(store, user="alice")
    session = store.new("session", cookie)
    session.invalidate()
    store.save(session)
    assert [type(e) for e in events] == [Saved, Loaded, Saved]
    assert [getattr(e, "deleted", None) for e in events] == [False, None, True]
    assert all(e.latency >= 0 for e in events)  # type: ignore[attr-defined]
    assert events[0].store == "MemoryStore"
    assert store.new("session", None).is_new
    assert len(events) == 3  # a request without a cookie is not an event


def test_an_optimistic_conflict_is_an_event() -> None:
    events = Events()
    store = MemoryStore(NEW, optimistic=True, on_event=events)
    cookie = _cookie(store, n=0)
    first, second = store.new("session", cookie), store.new("session", cookie)
    first["n"], second["n"] = 1, 2
    store.save(first)
    with pytest.raises(ConflictError):
        store.save(second)
    assert isinstance(events[-1], Conflict)


def test_an_outage_is_a_warning_and_an_event(caplog_ws: pytest.LogCaptureFixture) -> None:
    events = Events()
    port = free_port()  # nothing listens there: a real refused connection
    store = open_store(f"redis://127.0.0.1:{port}/0?socket_timeout=1", NEW, on_event=events)
    cookie = _cookie(MemoryStore(NEW))
    for _ in range(3):
        with pytest.raises(StoreUnavailable):
            store.new("session", cookie)
    session = store.new("session", None)
    session["x"] = 1
    with pytest.raises(StoreUnavailable):
        store.save(session)
    warnings = [r for r in caplog_ws.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1  # rate-limited: one per outage burst, not one per request
    assert "ServerStore/RedisBackend unavailable" in warnings[0].getMessage()
    assert [(type(e), e.operation) for e in events] == [  # type: ignore[attr-defined]
        (Unavailable, "load"),
        (Unavailable, "load"),
        (Unavailable, "load"),
        (Unavailable, "save"),
    ]


def test_a_failing_hook_never_breaks_a_request(caplog_ws: pytest.LogCaptureFixture) -> None:
    def broken(event: StoreEvent) -> None:
        raise RuntimeError("metrics backend down")

    store = CookieStore(NEW, on_event=broken)
    assert store.new("session", _cookie(store, n=1))["n"] == 1
    assert any("on_event hook failed" in r.getMessage() for r in caplog_ws.records)
    with pytest.raises(TypeError, match="on_event"):
        CookieStore(NEW, on_event="not callable")  # type: ignore[arg-type]


# -- a Secure cookie on a plain-HTTP request --------------------------------------------------


def _wsgi_request(app: Any, host: str, scheme: str = "http", **extra: str) -> None:
    environ = {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": "/",
        "SERVER_NAME": "x",
        "SERVER_PORT": "80",
        "HTTP_HOST": host,
        "wsgi.url_scheme": scheme,
        "wsgi.input": io.BytesIO(),
        "wsgi.errors": sys.stderr,
        **extra,
    }
    list(app(environ, lambda status, headers, exc_info=None: None))


@pytest.fixture
def secure_app(monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setattr(websession.registry, "_warned_secure_over_http", False)

    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        websession.get_session(environ)["n"] = 1
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"ok"]

    return SessionMiddleware(app, CookieStore(NEW, options=CookieOptions(secure=True)))


def _warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if "plain-HTTP" in r.getMessage()]


def test_a_secure_cookie_over_plain_http_warns_once_per_process(
    secure_app: Any, caplog_ws: pytest.LogCaptureFixture
) -> None:
    for _ in range(3):
        _wsgi_request(secure_app, "shop.example:8080")
    [message] = _warnings(caplog_ws)
    assert "shop.example:8080" in message
    assert "'session'" in message


@pytest.mark.parametrize(
    ("host", "scheme", "extra"),
    [
        ("localhost:8000", "http", {}),
        ("127.0.0.1:8000", "http", {}),
        ("[::1]:8000", "http", {}),
        ("app.localhost", "http", {}),
        ("shop.example", "https", {}),
        ("shop.example", "http", {"HTTP_X_FORWARDED_PROTO": "https"}),
    ],
)
def test_no_warning_for_localhost_or_https(
    secure_app: Any, caplog_ws: pytest.LogCaptureFixture, host: str, scheme: str, extra: Any
) -> None:
    _wsgi_request(secure_app, host, scheme, **extra)
    assert _warnings(caplog_ws) == []


def test_insecure_secret_stores_report_too() -> None:
    events = Events()
    store = CookieStore(InsecureSecret("test"), on_event=events)
    store.new("session", "x")
    assert isinstance(events[0], Rejected)


async def test_aiohttp_warns_of_a_secure_cookie_over_plain_http_too(
    monkeypatch: pytest.MonkeyPatch, caplog_ws: pytest.LogCaptureFixture
) -> None:
    from aiohttp import web
    from aiohttp.test_utils import TestClient, TestServer

    import websession.aiohttp as ws_aiohttp

    monkeypatch.setattr(websession.registry, "_warned_secure_over_http", False)

    async def handler(request: web.Request) -> web.Response:
        session = await ws_aiohttp.get_session(request)
        session["n"] = 1
        return web.Response(text="ok")

    app = web.Application()
    ws_aiohttp.setup(app, CookieStore(NEW, options=CookieOptions(secure=True)))
    app.router.add_get("/", handler)
    async with TestClient(TestServer(app)) as client:
        response = await client.get("/", headers={"Host": "shop.example"})
        assert response.status == 200
        response = await client.get("/", headers={"Host": "localhost"})
    [message] = _warnings(caplog_ws)
    assert "shop.example" in message


@pytest.mark.parametrize("url", ["file://{tmp}/files", "sqlite:///{tmp}/s.db", "lmdb://{tmp}/l"])
def test_every_local_store_reports_through_open_store(url: str, tmp_path: Any) -> None:
    events = Events()
    store = open_store(url.format(tmp=tmp_path), NEW, on_event=events)
    try:
        cookie = _cookie(store, n=1)
        assert store.new("session", cookie)["n"] == 1
        store.new("session", _cookie(MemoryStore(NEW)))  # sealed right, unknown here
    finally:
        store.close()
    assert [type(e) for e in events] == [Saved, Loaded, Rejected]
    assert events[2].reason == "not_found"  # type: ignore[attr-defined]


def test_a_filesystem_store_takes_on_event_too(tmp_path: Any) -> None:
    events = Events()
    store = websession.FilesystemStore(tmp_path / "s", NEW, on_event=events)
    store.new("session", _cookie(store, n=1))
    assert [type(e) for e in events] == [Saved, Loaded]
    assert events[0].store == "FilesystemStore"
    store.on_event = None  # the hook can be changed (or removed) later
    store.new("session", _cookie(store, n=2))
    assert len(events) == 2
