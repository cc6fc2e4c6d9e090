"""FilesystemStore and FilesystemBackend: layout, file safety, gorilla interop, many processes.

The behaviours every backend shares are in ``tests/stores/test_contract.py``; this file checks
what is particular to files.
"""

from __future__ import annotations

import ast
import base64
import multiprocessing
import os
import stat
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from tests.support import interop
from tests.support.contract import FakeClock
from tests.support.interop import go_vectors
from websession import (
    ConflictError,
    EncodeError,
    FilesystemStore,
    GobSerializer,
    StoreUnavailable,
    codecs_from_pairs,
    decode_multi,
    encode_multi,
)
from websession.backends.filesystem import FilesystemBackend
from websession.stores.owners import owner_key

SECRET = "filesystem-tests-secret-0123456789abcd"
HASH_KEY = bytes.fromhex("93e1b7c5a2f04d6e8b1c3a5f7d9e0b2c4a6e8f1d3b5c7a9e2f4d6b8c0a1e3f5d")
BLOCK_KEY = bytes.fromhex("2b7e151628aed2a6abf7158809cf4f3c762e7160f38b4da56a784d9045190cfe")
BAD_KEYS = [
    "../../etc/passwd",
    "..",
    ".",
    "",
    "a/b",
    "/abs",
    "a\\b",
    "a\x00b",
    "x" * 129,
    "sp ace",
    "ünï",
    ".lock",
    ".tmp-x",
]


def value_of(header: str) -> str:
    return header.split(";", 1)[0].split("=", 1)[1]


def files_under(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file())


def gorilla_codecs(**kwargs: Any) -> list[Any]:
    return codecs_from_pairs(HASH_KEY, BLOCK_KEY, **kwargs)


# -- layout ----------------------------------------------------------------------------------
def test_sharded_layout(tmp_path: Path) -> None:
    store = FilesystemStore(tmp_path, SECRET)
    sessions = []
    for i in range(30):
        s = store.new("s", None)
        s["i"] = i
        store.save(s)
        sessions.append(s)
    records = [p for p in files_under(tmp_path) if not p.name.startswith(".")]
    assert len(records) == 30
    for s in sessions:
        assert s._backend_key is not None
        path = tmp_path / s._backend_key[:2] / s._backend_key
        assert path in records
        assert s.id is not None
        assert s.id not in path.name  # the file is named by the id's keyed hash
    for p in records:
        assert p.parent.parent == tmp_path
        assert len(p.parent.name) == 2
        assert p.name.startswith(p.parent.name)
        assert b'"i"' not in p.read_bytes()
    assert store.backend.count() == 30  # type: ignore[attr-defined]


def test_files_are_private_and_replaced_atomically(tmp_path: Path) -> None:
    store = FilesystemStore(tmp_path / "sessions", SECRET)
    s = store.new("s", None)
    s["v"] = 1
    store.save(s)
    assert s._backend_key is not None
    path = tmp_path / "sessions" / s._backend_key[:2] / s._backend_key
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE((tmp_path / "sessions").stat().st_mode) & 0o077 == 0
    assert stat.S_IMODE(path.parent.stat().st_mode) & 0o077 == 0
    inode = path.stat().st_ino
    s["v"] = 2
    store.save(s)
    # a new file was renamed over the old one: a reader holding the old one sees it whole
    assert path.stat().st_ino != inode
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    leftovers = [p for p in files_under(tmp_path) if p.name.startswith(".tmp-")]
    assert leftovers == []


def test_gorilla_layout_files(tmp_path: Path) -> None:
    codecs = gorilla_codecs()
    store = FilesystemStore(tmp_path, codecs=codecs)
    s = store.new("gs", None)
    s["user"] = "alice"
    header = store.save(s)
    assert s.id is not None
    assert len(s.id) == 52
    path = tmp_path / f"session_{s.id}"
    assert path.is_file()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    # exactly what gorilla's FilesystemStore reads: the id in the cookie, a securecookie file
    assert decode_multi("gs", value_of(header), codecs) == s.id
    assert decode_multi("gs", path.read_text(), codecs) == {"user": "alice"}


# -- ids never escape the directory ------------------------------------------------------------
@pytest.mark.parametrize("layout", ["sharded", "gorilla"])
@pytest.mark.parametrize("key", BAD_KEYS)
def test_backend_refuses_keys_that_could_escape(tmp_path: Path, layout: str, key: str) -> None:
    backend = FilesystemBackend(tmp_path / "store", layout=layout)  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        backend.get(key)
    with pytest.raises(ValueError):
        backend.set(key, b"x", 60)
    with pytest.raises(ValueError):
        backend.delete(key)
    assert [p for p in files_under(tmp_path) if not p.name.startswith(".")] == []


@pytest.mark.parametrize("gorilla", [False, True])
def test_cookie_with_a_path_for_an_id_gives_a_new_session(tmp_path: Path, gorilla: bool) -> None:
    target = tmp_path / "secret.txt"
    target.write_text("do not read")
    store = (
        FilesystemStore(tmp_path / "store", codecs=gorilla_codecs())
        if gorilla
        else FilesystemStore(tmp_path / "store", SECRET)
    )
    for evil in ("../secret.txt", "../../etc/passwd", "/etc/passwd", "session_../x", "..", ""):
        s = store.new("s", encode_multi("s", evil, store.codecs))
        assert s.is_new, evil
        assert s.reason == "malformed", evil
        s["x"] = 1
        store.save(s)
        assert s.id is not None
        assert s.id != evil
    assert target.read_text() == "do not read"
    assert {p.parent for p in files_under(tmp_path / "store")} <= {
        p for p in (tmp_path / "store").rglob("*") if p.is_dir()
    } | {tmp_path / "store"}


def test_stray_files_are_not_sessions(tmp_path: Path) -> None:
    store = FilesystemStore(tmp_path, SECRET)
    s = store.new("s", None)
    s["v"] = 1
    cookie = value_of(store.save(s))
    assert s._backend_key is not None
    path = tmp_path / s._backend_key[:2] / s._backend_key
    path.write_bytes(b"short")  # truncated by something else: treated as absent
    got = store.new("s", cookie)
    assert got.is_new
    assert got.reason == "not_found"


# -- expiry ----------------------------------------------------------------------------------
@pytest.mark.parametrize("gorilla", [False, True])
def test_purge_removes_expired_files(tmp_path: Path, gorilla: bool) -> None:
    clock = FakeClock()
    kwargs: dict[str, Any] = {"ttl": 60, "clock": clock}
    if gorilla:
        store = FilesystemStore(tmp_path, codecs=gorilla_codecs(clock=clock), **kwargs)
        long_store = FilesystemStore(tmp_path, codecs=gorilla_codecs(clock=clock), **kwargs)
    else:
        store = FilesystemStore(tmp_path, SECRET, **kwargs)
        long_store = FilesystemStore(tmp_path, SECRET, **kwargs)
    dead = []
    for _ in range(5):
        s = store.new("s", None)
        s["v"] = 1
        s.options.max_age = 0  # lives for the store's ttl: 60 s
        store.save(s)
        dead.append(s)
    clock.now += 30
    alive = long_store.new("s", None)
    alive["v"] = 2
    alive.options.max_age = 0
    cookie = value_of(long_store.save(alive))
    stale_tmp = (tmp_path if gorilla else tmp_path / alive._backend_key[:2]) / ".tmp-crashed"  # type: ignore[index]
    stale_tmp.write_bytes(b"half a file")
    os.utime(stale_tmp, (clock.now - 7200, clock.now - 7200))
    clock.now += 31  # the first five are 61 s old, the last 31 s
    assert store.purge() == 5
    assert store.purge() == 0
    remaining = [p for p in files_under(tmp_path) if not p.name.startswith(".")]
    assert len(remaining) == 1
    assert not stale_tmp.exists()
    assert long_store.new("s", cookie) == {"v": 2}
    clock.now += 60
    assert store.purge() == 1


def test_expired_file_is_not_loaded_before_purge(tmp_path: Path) -> None:
    clock = FakeClock()
    store = FilesystemStore(tmp_path, SECRET, ttl=60, clock=clock)
    s = store.new("s", None)
    s["v"] = 1
    s.options.max_age = 0
    cookie = value_of(store.save(s))
    clock.now += 61
    got = store.new("s", cookie)
    assert got.is_new
    assert got.reason == "not_found"


# -- gorilla interop -----------------------------------------------------------------------------
def test_reads_the_directory_of_gorilla_filesystemstore(tmp_path: Path) -> None:
    """Files and a cookie written by Go's gorilla/sessions FilesystemStore (gob values)."""
    v = interop.vector("store-filesystem-readme")
    for name, content in v["files"].items():
        (tmp_path / name).write_text(content)
    at = float(v["timestamp"])
    keys = [bytes.fromhex(k) if k else None for k in v["key_pairs"]]
    codecs = codecs_from_pairs(*keys, serializer=GobSerializer(), clock=lambda: at)
    store = FilesystemStore(tmp_path, codecs=codecs, clock=lambda: at)
    cookie = value_of(v["set_cookie"][0])
    s = store.new(v["name"], cookie)
    assert not s.is_new, s.reason
    assert s.id == v["session_id"]
    assert s.copy() == ast.literal_eval(v["value_python"])
    # and we write it back in gorilla's format, under the same id, readable by the same codecs
    s["visits"] = 1
    header = store.save(s)
    assert s.id == v["session_id"]
    content = (tmp_path / f"session_{v['session_id']}").read_text()
    assert decode_multi(v["name"], content, codecs) == {
        **ast.literal_eval(v["value_python"]),
        "visits": 1,
    }
    assert store.new(v["name"], value_of(header))["visits"] == 1


def test_gorilla_files_longer_than_gos_max_length_are_refused_at_save(tmp_path: Path) -> None:
    """Go's FilesystemStore refuses a file over its MaxLength (4096 by default): so do we."""
    store = FilesystemStore(tmp_path, codecs=gorilla_codecs())
    s = store.new("s", None)
    s["big"] = os.urandom(1500).hex()  # 3000 characters: the file would be over 4096
    with pytest.raises(EncodeError, match=r"too long.*max_length=4096.*MaxLength"):
        store.save(s)
    assert list(tmp_path.glob("session_*")) == []  # nothing written
    # a file that fits is written, and read back
    s["big"] = "x" * 2000
    header = store.save(s)
    content = (tmp_path / f"session_{s.id}").read_text()
    assert 3000 < len(content) <= 4096
    assert store.new("s", value_of(header))["big"] == "x" * 2000


def test_gorilla_max_length_follows_the_codecs(tmp_path: Path) -> None:
    """Configured as the Go side is (``store.MaxLength(8192)``), longer files are written."""
    store = FilesystemStore(tmp_path, codecs=gorilla_codecs(max_length=8192))
    s = store.new("s", None)
    s["big"] = "y" * 3000
    header = store.save(s)
    assert 4096 < len((tmp_path / f"session_{s.id}").read_text()) <= 8192
    assert store.new("s", value_of(header))["big"] == "y" * 3000
    # and a store left at gorilla's default refuses to read it, as Go's would
    short = FilesystemStore(tmp_path, codecs=gorilla_codecs())
    assert short.new("s", value_of(header)).is_new


def test_gorilla_file_age_is_its_timestamp_not_its_mtime(tmp_path: Path) -> None:
    """Go judges a file's age by the timestamp inside it; so do load and purge here."""
    clock = FakeClock()
    codecs = gorilla_codecs(clock=clock)
    store = FilesystemStore(tmp_path, codecs=codecs, ttl=3600, clock=clock)
    old, fresh = store.new("s", None), store.new("s", None)
    old["n"], fresh["n"] = 1, 2
    old_cookie = value_of(store.save(old))
    clock.now += 3000
    fresh_cookie = value_of(store.save(fresh))
    old_file, fresh_file = tmp_path / f"session_{old.id}", tmp_path / f"session_{fresh.id}"
    # mtimes that say the opposite of the timestamps: the old file touched just now (a
    # restore, a copy, a rolling touch), the fresh one dated years back
    os.utime(old_file, (clock.now + 10, clock.now + 10))
    os.utime(fresh_file, (clock.now - 10**8, clock.now - 10**8))
    clock.now += 601  # the old file's timestamp is now 3601 s old, the fresh one's 601 s
    backend = store.backend
    assert backend.get(old.id) is None  # type: ignore[arg-type]
    assert backend.get(fresh.id) is not None  # type: ignore[arg-type]
    assert store.new("s", fresh_cookie)["n"] == 2
    gone = store.new("s", old_cookie)
    assert gone.is_new
    assert store.purge() == 1
    assert not old_file.exists()
    assert fresh_file.exists()


def test_gorilla_file_age_is_not_extended_by_loads(tmp_path: Path) -> None:
    """A rolling touch rewrote the file with a new mtime but the same timestamp: Go would
    still see it expire, so the store does not pretend otherwise."""
    clock = FakeClock()
    store = FilesystemStore(
        tmp_path, codecs=gorilla_codecs(clock=clock), ttl=3600, rolling=True, clock=clock
    )
    s = store.new("s", None)
    s["n"] = 1
    cookie = value_of(store.save(s))
    clock.now += 3000
    assert store.new("s", cookie)["n"] == 1
    clock.now += 601
    assert store.new("s", cookie).is_new


GO_FS = go_vectors()["filesystem"]  # what gorilla's own FilesystemStore did (tools/govectors)


def _go_codecs(clock: Any, **kwargs: Any) -> list[Any]:
    return codecs_from_pairs(
        bytes.fromhex(GO_FS["hash_key"]),
        bytes.fromhex(GO_FS["block_key"]),
        serializer=GobSerializer(),
        clock=clock,
        **kwargs,
    )


def _issued_at(securecookie_value: str) -> int:
    return int(base64.urlsafe_b64decode(securecookie_value).split(b"|", 1)[0])


def test_too_long_for_go_is_too_long_here_with_gos_own_message(tmp_path: Path) -> None:
    """Go's Save failed with "securecookie: the value is too long: N" for this session; ours
    fails at the same length, with the same words."""
    store = FilesystemStore(tmp_path, codecs=_go_codecs(time.time))
    session = store.new(GO_FS["name"], None)
    session["big"] = "x" * 3000
    with pytest.raises(EncodeError) as caught:
        store.save(session)
    assert GO_FS["too_long_error"] in str(caught.value)
    assert list(tmp_path.glob("session_*")) == []


def test_a_file_go_saved_under_a_larger_max_length(tmp_path: Path) -> None:
    """Go saved it with MaxLength(8192) and refused to read it back at 4096: so do we."""
    (tmp_path / f"session_{GO_FS['long_id']}").write_text(GO_FS["long_file"])
    at = float(_issued_at(GO_FS["long_file"]) + 60)
    assert GO_FS["default_refuses_long"].startswith("securecookie: the value is too long")
    refused = FilesystemStore(tmp_path, codecs=_go_codecs(lambda: at), clock=lambda: at)
    session = refused.new(GO_FS["name"], GO_FS["long_cookie"])
    assert session.is_new
    assert session.reason == "too_long"
    same = FilesystemStore(
        tmp_path, codecs=_go_codecs(lambda: at, max_length=8192), clock=lambda: at
    )
    session = same.new(GO_FS["name"], GO_FS["long_cookie"])
    assert not session.is_new, session.reason
    assert session["big"] == "y" * 3000


def test_a_go_file_with_an_ancient_mtime_is_alive_as_go_found_it(tmp_path: Path) -> None:
    """Go loaded this file after its mtime was set to 2001: its timestamp says it is new."""
    path = tmp_path / f"session_{GO_FS['old_mtime_id']}"
    path.write_text(GO_FS["old_mtime_file"])
    os.utime(path, (GO_FS["old_mtime"], GO_FS["old_mtime"]))
    assert GO_FS["old_mtime_go_loaded"] is True
    issued = _issued_at(GO_FS["old_mtime_file"])
    clock = FakeClock(issued + 60.0)
    store = FilesystemStore(tmp_path, codecs=_go_codecs(clock), clock=clock)
    session = store.new(GO_FS["name"], GO_FS["old_mtime_cookie"])
    assert not session.is_new, session.reason
    assert session["user"] == "ann"
    assert store.purge() == 0
    # and it expires when its timestamp says so, as in Go (MaxAge 30 days)
    clock.now = issued + GO_FS["old_mtime_go_max_age"] + 1.0
    assert store.new(GO_FS["name"], GO_FS["old_mtime_cookie"]).is_new
    assert store.purge() == 1
    assert not path.exists()


# -- many processes ------------------------------------------------------------------------------
WORKERS = 8
ROUNDS = 25


def _make_store(path: str, gorilla: bool, optimistic: bool) -> FilesystemStore:
    if gorilla:
        return FilesystemStore(path, codecs=gorilla_codecs(), optimistic=optimistic)
    return FilesystemStore(path, SECRET, optimistic=optimistic)


def _worker(path: str, cookie: str, gorilla: bool, optimistic: bool, worker: int) -> dict[str, Any]:
    """One process: load, increment, append, save, ROUNDS times (retrying conflicts)."""
    store = _make_store(path, gorilla, optimistic)
    failures: list[str] = []
    conflicts = 0
    applied = 0
    for _ in range(ROUNDS):
        while True:
            s = store.new("s", cookie)
            if s.is_new:
                failures.append(f"load failed: {s.reason}: {s.rejected}")
                break
            s["counter"] = s["counter"] + 1
            s["log"] = [*s["log"], worker]
            try:
                store.save(s)
            except ConflictError:
                conflicts += 1
                continue
            applied += 1
            break
    return {"failures": failures, "conflicts": conflicts, "applied": applied}


def _run_workers(
    tmp_path: Path, gorilla: bool, optimistic: bool
) -> tuple[dict[Any, Any], list[dict[str, Any]], list[str]]:
    path = str(tmp_path / "sessions")
    store = _make_store(path, gorilla, optimistic)
    s = store.new("s", None)
    s["counter"] = 0
    s["log"] = []
    cookie = value_of(store.save(s))

    # meanwhile this process keeps reading: every load must succeed and every file parse
    reader_errors: list[str] = []
    stop = threading.Event()

    def read() -> None:
        reader = _make_store(path, gorilla, optimistic)
        while not stop.is_set():
            got = reader.new("s", cookie)
            if got.is_new:
                reader_errors.append(f"{got.reason}: {got.rejected}")
            time.sleep(0.001)

    thread = threading.Thread(target=read)
    thread.start()
    try:
        # forkserver: safe with this process's threads, and the module is imported once
        ctx = multiprocessing.get_context("forkserver")
        ctx.set_forkserver_preload([__name__])
        with ProcessPoolExecutor(WORKERS, mp_context=ctx) as pool:
            futures = [
                pool.submit(_worker, path, cookie, gorilla, optimistic, w) for w in range(WORKERS)
            ]
            results = [f.result(timeout=120) for f in futures]
    finally:
        stop.set()
        thread.join()
    final = store.new("s", cookie)
    assert not final.is_new, final.reason
    return final.copy(), results, reader_errors


def _assert_files_whole(tmp_path: Path, gorilla: bool) -> None:
    backend = FilesystemBackend(tmp_path / "sessions", layout="gorilla" if gorilla else "sharded")
    records = [p for p in files_under(tmp_path / "sessions") if not p.name.startswith(".")]
    assert len(records) == 1
    assert [p for p in files_under(tmp_path) if p.name.startswith(".tmp-")] == []
    key = records[0].name.removeprefix("session_")
    assert backend.get(key) is not None


@pytest.mark.slow
@pytest.mark.parametrize("gorilla", [False, True], ids=["sealed", "gorilla"])
def test_concurrent_processes_optimistic_lose_nothing(tmp_path: Path, gorilla: bool) -> None:
    values, results, reader_errors = _run_workers(tmp_path, gorilla, optimistic=True)
    assert [f for r in results for f in r["failures"]] == []
    assert reader_errors == []
    total = WORKERS * ROUNDS
    assert sum(r["applied"] for r in results) == total
    assert values["counter"] == total, f"lost {total - values['counter']} updates"
    assert sorted(values["log"]) == sorted(w for w in range(WORKERS) for _ in range(ROUNDS))
    _assert_files_whole(tmp_path, gorilla)


@pytest.mark.slow
def test_concurrent_processes_never_corrupt(tmp_path: Path) -> None:
    """Without optimistic checks updates may be lost (last write wins), but nothing breaks."""
    values, results, reader_errors = _run_workers(tmp_path, gorilla=False, optimistic=False)
    assert [f for r in results for f in r["failures"]] == []
    assert reader_errors == []
    assert sum(r["applied"] for r in results) == WORKERS * ROUNDS
    assert 0 < values["counter"] <= WORKERS * ROUNDS
    assert len(values["log"]) == values["counter"]
    _assert_files_whole(tmp_path, gorilla=False)


def test_backend_versions_follow_content_in_gorilla_layout(tmp_path: Path) -> None:
    """Two writes within one clock tick must still get different versions."""
    backend = FilesystemBackend(tmp_path, layout="gorilla")
    key = "A" * 52
    v1 = backend.set(key, b"one", 60)
    v2 = backend.set(key, b"two", 60, if_version=v1)
    assert v2 is not None
    assert v2 != v1
    assert backend.set(key, b"three", 60, if_version=v1) is None
    assert backend.get(key).data == b"two"  # type: ignore[union-attr]
    time.sleep(0)  # (no sleep needed: versions do not depend on timestamps)


# -- the store's directory is private, and nothing in it is followed out (issue 9) ----------


def test_the_default_directory_is_private_to_the_user(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No shared /tmp/websession: the user's state directory, mode 0700."""
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    store = FilesystemStore(secret_keys=SECRET)
    directory = tmp_path / "state" / "websession" / "sessions"
    assert store.backend.path == str(directory)  # type: ignore[attr-defined]
    assert stat.S_IMODE(directory.stat().st_mode) == 0o700
    monkeypatch.setenv("XDG_STATE_HOME", "relative/state")  # ignored, as the XDG spec says
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    store = FilesystemStore(secret_keys=SECRET)
    assert store.backend.path == str(  # type: ignore[attr-defined]
        tmp_path / "home" / ".local" / "state" / "websession" / "sessions"
    )


@pytest.mark.parametrize("mode", [0o777, 0o770, 0o722, 0o1777])
def test_a_directory_writable_by_others_is_refused(tmp_path: Path, mode: int) -> None:
    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(mode)
    with pytest.raises(PermissionError, match="writable by group or others"):
        FilesystemStore(shared, SECRET)
    assert list(shared.iterdir()) == []  # nothing written there


def test_a_directory_owned_by_another_user_is_refused(tmp_path: Path) -> None:
    if os.geteuid() == 0:
        theirs = tmp_path / "theirs"
        theirs.mkdir(mode=0o700)
        os.chown(theirs, 65534, 65534)  # nobody's, as another account's /tmp/websession
    else:
        theirs = Path("/")  # root's
    with pytest.raises(PermissionError, match="owned by uid"):
        FilesystemStore(theirs, SECRET)


def _saved(store: FilesystemStore) -> tuple[str, Path]:
    """A saved session's cookie value and its record file."""
    session = store.new("s", None)
    session["user"] = "alice"
    value = value_of(store.save(session))
    root = Path(store.backend.path)  # type: ignore[attr-defined]
    [record] = [p for p in files_under(root) if not p.name.startswith(".")]  # not .lock
    return value, record


def test_a_symlinked_shard_directory_is_never_followed(tmp_path: Path) -> None:
    store = FilesystemStore(tmp_path / "store", SECRET)
    value, record = _saved(store)
    outside = tmp_path / "outside"
    record.parent.rename(outside)  # the real shard, with the record, now outside the store
    record.parent.symlink_to(outside, target_is_directory=True)
    before = sorted(p.name for p in outside.iterdir())

    with pytest.raises(StoreUnavailable, match="symbolic link"):
        store.new("s", value)  # the record outside is not read
    backend = store.backend
    with pytest.raises(StoreUnavailable, match="symbolic link"):
        backend.set(record.name, b"planted", 60)  # type: ignore[attr-defined]
    with pytest.raises(StoreUnavailable, match="symbolic link"):
        backend.delete(record.name)  # type: ignore[attr-defined]
    assert store.backend.purge() == 0  # type: ignore[attr-defined]
    assert sorted(p.name for p in outside.iterdir()) == before  # nothing written or removed


def test_a_symlinked_record_or_lock_file_is_never_followed(tmp_path: Path) -> None:
    store = FilesystemStore(tmp_path / "store", SECRET)
    value, record = _saved(store)
    outside = tmp_path / "outside"
    outside.mkdir()
    record.rename(outside / "record")
    record.symlink_to(outside / "record")
    with pytest.raises(StoreUnavailable, match="symbolic link"):
        store.new("s", value)

    record.unlink()
    (outside / "record").rename(record)
    lock = record.parent / ".lock"
    lock.unlink()
    lock.symlink_to(outside / "lock-target")
    session = store.new("s", value)
    assert session["user"] == "alice"  # reading needs no lock
    session["n"] = 2
    with pytest.raises(StoreUnavailable, match="symbolic link"):
        store.save(session)
    assert not (outside / "lock-target").exists()  # never created through the link
    assert sorted(p.name for p in outside.iterdir()) == []


def test_a_gorilla_directory_follows_no_symlinked_file(tmp_path: Path) -> None:
    store = FilesystemStore(tmp_path / "store", codecs=gorilla_codecs())
    value, record = _saved(store)
    outside = tmp_path / "elsewhere"
    record.rename(outside)
    record.symlink_to(outside)
    with pytest.raises(StoreUnavailable, match="symbolic link"):
        store.new("s", value)


# -- the owner index (log out everywhere): what the contract cannot see ----------
def test_filesystem_index_refuses_a_planted_symlink(tmp_path: Path) -> None:
    backend = FilesystemBackend(tmp_path / "store")
    outside = tmp_path / "outside"
    outside.mkdir()
    os.symlink(outside, tmp_path / "store" / ".owners")
    with pytest.raises(StoreUnavailable, match="symbolic link"):
        backend.index(owner_key("u"), "k" * 43, b"entry", 60)
    assert list(outside.iterdir()) == []


def test_filesystem_purge_removes_expired_entries_and_empty_owner_dirs(tmp_path: Path) -> None:
    now = [1_800_000_000.0]
    backend = FilesystemBackend(tmp_path / "store", clock=lambda: now[0])
    for i in range(5):
        backend.index(owner_key(f"u{i}"), f"key{i:040d}", b"e", 60)
    now[0] += 61
    backend.purge()
    assert list((tmp_path / "store" / ".owners").iterdir()) == []
