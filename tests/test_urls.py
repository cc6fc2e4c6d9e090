"""open_store: one URL -> a ServerStore over the right backend."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

import websession
from websession import CookieOptions, FilesystemStore, MemoryStore, ServerStore, open_store
from websession.backends.filesystem import FilesystemBackend
from websession.backends.memory import MemoryBackend
from websession.urls import SCHEMES

SECRET = "a test secret that is long enough"


def roundtrip(store: ServerStore) -> None:
    session = store.new("s", None)
    session["n"] = 42
    header = store.save(session)
    cookie = header.split(";", 1)[0].split("=", 1)[1]
    again = store.new("s", cookie)
    assert not again.is_new
    assert again["n"] == 42


def test_reexported() -> None:
    assert websession.open_store is open_store


def test_memory() -> None:
    store = open_store("memory://", SECRET)
    assert isinstance(store, MemoryStore)
    assert isinstance(store.backend, MemoryBackend)
    roundtrip(store)


def test_memory_backend_options_from_query_and_kwargs() -> None:
    store = open_store("memory://?max_entries=10", SECRET)
    assert isinstance(store.backend, MemoryBackend)
    assert store.backend._max_entries == 10
    store = open_store("memory://", SECRET, max_entries=5)
    assert store.backend._max_entries == 5  # type: ignore[attr-defined]
    roundtrip(store)


def test_memory_rejects_host_or_path() -> None:
    with pytest.raises(ValueError, match="memory"):
        open_store("memory://somewhere", SECRET)


def test_store_options_from_query() -> None:
    store = open_store("memory://?ttl=60&rolling=true&optimistic=1", SECRET)
    assert store.ttl == 60
    assert store.rolling is True
    assert store.optimistic is True


def test_timeouts_from_query_and_kwargs(tmp_path: Path) -> None:
    store = open_store("memory://?idle_timeout=900&absolute_timeout=28800", SECRET)
    assert (store.idle_timeout, store.absolute_timeout) == (900, 28800)
    files = open_store(f"file://{tmp_path}?idle_timeout=60", SECRET, absolute_timeout=3600)
    assert (files.idle_timeout, files.absolute_timeout) == (60, 3600)
    assert open_store("sqlite://:memory:?idle_timeout=5", SECRET).idle_timeout == 5
    assert open_store("memory://", SECRET).idle_timeout is None
    with pytest.raises(ValueError, match=r"idle_timeout.*whole number"):
        open_store("memory://?idle_timeout=abc", SECRET)
    with pytest.raises(ValueError, match="absolute_timeout must be a positive"):
        open_store("memory://?absolute_timeout=0", SECRET)


def test_store_options_from_kwargs_and_cookie_options() -> None:
    options = CookieOptions(max_age=0, secure=False)
    store = open_store("memory://", SECRET, options=options, ttl=120, rolling=True)
    assert store.ttl == 120
    assert store.rolling is True
    assert store.optimistic is False
    assert store.options.max_age == 0
    assert store.options.secure is False


def test_bad_flag() -> None:
    with pytest.raises(ValueError, match="rolling"):
        open_store("memory://?rolling=maybe", SECRET)


def test_file_absolute(tmp_path: Path) -> None:
    store = open_store(f"file://{tmp_path}/sessions", SECRET)
    assert isinstance(store, FilesystemStore)
    assert isinstance(store.backend, FilesystemBackend)
    assert store.backend.path == str(tmp_path / "sessions")
    roundtrip(store)
    assert any((tmp_path / "sessions").rglob("*"))


def test_file_relative(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    store = open_store("file://rel/dir?fsync=true", SECRET)
    assert isinstance(store.backend, FilesystemBackend)
    assert store.backend.path == str(tmp_path / "rel" / "dir")
    assert store.backend.fsync is True
    roundtrip(store)


def test_unknown_scheme_lists_supported() -> None:
    with pytest.raises(ValueError, match="unsupported") as info:
        open_store("gopher://x", SECRET)
    for scheme in ("memory://", "redis://", "postgresql://", "sqlalchemy+...://"):
        assert scheme in str(info.value)


def test_not_a_url() -> None:
    with pytest.raises(ValueError, match="not a store URL"):
        open_store("localhost:6379", SECRET)


@pytest.mark.parametrize(
    ("url", "module", "extra"),
    [
        ("redis://127.0.0.1:1/0", "redis", "redis"),
        ("memcached://127.0.0.1:1", "memcached", "memcached"),
        ("lmdb:///tmp/nowhere", "lmdb", "lmdb"),
        ("mongodb://127.0.0.1:1", "mongodb", "mongodb"),
        ("dynamodb://table?region=us-east-1", "dynamodb", "dynamodb"),
        ("datastore://project", "datastore", "datastore"),
        ("firestore://project", "firestore", "firestore"),
        ("postgresql://127.0.0.1:1/x", "postgresql", "postgresql"),
        ("mysql://127.0.0.1:1/x", "mysql", "mysql"),
        ("sqlite:///x.db", "sqlite", "sqlite"),
        ("sqlalchemy+sqlite:///x.db", "sqlalchemy", "sqlalchemy"),
    ],
)
def test_missing_backend_names_the_extra(
    url: str, module: str, extra: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A module set to None in sys.modules fails to import, as a missing client would.
    monkeypatch.setitem(sys.modules, f"websession.backends.{module}", None)
    with pytest.raises(ImportError, match=rf"pip install 'websession\[{extra}\]'"):
        open_store(url, SECRET)


def test_schemes_documented() -> None:
    assert "memory" in SCHEMES
    assert "sqlalchemy+..." in SCHEMES


def test_google_urls_configure_their_backends(monkeypatch: pytest.MonkeyPatch) -> None:
    """datastore:// and firestore:// take the project, namespace/collection and deadline.

    Made against an emulator address (nothing listens there: making a client does no I/O).
    """
    from websession.backends.datastore import DatastoreBackend
    from websession.backends.firestore import FirestoreBackend

    monkeypatch.setenv("DATASTORE_EMULATOR_HOST", "127.0.0.1:9")
    monkeypatch.setenv("FIRESTORE_EMULATOR_HOST", "127.0.0.1:9")
    store = open_store("datastore://proj-a?namespace=web&kind=Sess&timeout=1.5&ttl=60", SECRET)
    backend = store.backend
    assert isinstance(backend, DatastoreBackend)
    assert (backend.client.project, backend.client.namespace) == ("proj-a", "web")
    assert (backend.kind, backend.timeout, store.ttl) == ("Sess", 1.5, 60)
    store = open_store("firestore://proj-b?collection=sess&timeout=0.5", SECRET)
    fs = store.backend
    assert isinstance(fs, FirestoreBackend)
    assert (fs.project, fs.collection_name, fs.timeout) == ("proj-b", "sess", 0.5)
    assert fs.client.project == "proj-b"
    for url in ("datastore://p?connect_timeout=1", "firestore://p?connect_timeout=1"):
        with pytest.raises(ValueError, match=r"call.s deadline\) bounds connecting"):
            open_store(url, SECRET)
    for url in ("datastore://p?colection=x", "firestore://p?namespace=x"):
        with pytest.raises(ValueError, match="unknown"):
            open_store(url, SECRET)


# -- unknown options and bad values are refused, naming the option (issue 9) ------------------


@pytest.mark.parametrize(
    "url",
    [
        "memory://?tll=5",
        "file://{tmp}/s?tll=5",
        "sqlite:///{tmp}/s.db?tll=5",
        "lmdb://{tmp}/l?tll=5",
        "redis://127.0.0.1:1/0?tll=5",
        "postgresql://u@127.0.0.1:1/db?tll=5",
        "mysql://u@127.0.0.1:1/db?tll=5",
    ],
)
def test_an_unknown_url_option_is_refused_with_the_known_ones(url: str, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="option 'tll' \\(did you mean 'ttl'\\?\\)") as info:
        open_store(url.format(tmp=tmp_path), SECRET)
    assert "known options:" in str(info.value)
    assert "rolling" in str(info.value)  # the store's options are listed too
    assert not (tmp_path / "s").exists()
    assert not (tmp_path / "s.db").exists()


def test_an_unknown_mongodb_option_is_named() -> None:
    with pytest.raises(ValueError, match="mongodb:// option 'tll'"):
        open_store("mongodb://127.0.0.1:1/db?tll=5", SECRET)


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("redis://127.0.0.1:1/0?ttl=abc", "option 'ttl' takes a whole number, not 'abc'"),
        ("memory://?ttl=1.5x", "option 'ttl' takes a whole number"),
        ("memory://?max_entries=abc", "option 'max_entries' takes a whole number, not 'abc'"),
        ("file://{tmp}/s?fsync=maybe", "option 'fsync' takes true or false, not 'maybe'"),
        ("sqlite:///{tmp}/s.db?busy_timeout=abc", "option 'busy_timeout' takes a number"),
        ("memory://?rolling=maybe", "rolling must be true or false"),
    ],
)
def test_a_bad_option_value_names_the_option(url: str, message: str, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=message.replace("(", "\\(")):
        open_store(url.format(tmp=tmp_path), SECRET)


@pytest.mark.parametrize(
    "url",
    [
        "redis://127.0.0.1:1/0?socket_timeout=3&key_prefix=a:&ttl=60",
        "postgresql://u@127.0.0.1:1/db?sslmode=disable&table=t&connect_timeout=2",
        "mongodb://127.0.0.1:1/db?connectTimeoutMS=100&collection=s",
        "mysql://u@127.0.0.1:1/db?charset=utf8mb4&table=t",
        "memory://?max_entries=5&ttl=60",
    ],
)
def test_the_drivers_own_options_still_pass(url: str) -> None:
    open_store(url, SECRET)  # none of these connects yet


# -- LMDB, flags, open_backend -------------------------------------------------------------------
def test_an_lmdb_url_opens_a_store_that_keeps_sessions(tmp_path: Path) -> None:
    store = open_store(f"lmdb://{tmp_path}/sessions?ttl=60", SECRET)
    try:
        roundtrip(store)
        assert store.ttl == 60
    finally:
        store.close()
    assert (tmp_path / "sessions").is_dir()


def test_an_lmdb_url_without_a_path_is_refused() -> None:
    with pytest.raises(ValueError, match="an lmdb:// URL needs a path"):
        open_store("lmdb://", SECRET)


def test_a_flag_that_is_not_true_or_false_is_refused() -> None:
    with pytest.raises(ValueError, match="rolling must be true or false, not 'maybe'"):
        open_store("memory://?rolling=maybe", SECRET)


def test_open_backend_gives_the_backend_alone(tmp_path: Path) -> None:
    from websession.urls import open_backend

    memory = open_backend("memory://")
    assert isinstance(memory, MemoryBackend)
    memory.set("k", b"v", 60)
    record = memory.get("k")
    assert record is not None
    assert record.data == b"v"
    files = open_backend(f"file://{tmp_path}/b")
    assert isinstance(files, FilesystemBackend)
    with pytest.raises(ValueError, match="a file:// URL needs a path"):
        open_backend("file://")
    with pytest.raises(ValueError, match="not a backend URL"):
        open_backend("redis")
