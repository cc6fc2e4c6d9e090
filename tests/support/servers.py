"""Where the test servers are: started on first use, once per test session (or pytest-xdist worker).

A test that needs a server calls :func:`server_url`. The first call starts the server on a free
port of 127.0.0.1 with ``tools/testenv.py`` (the one process launcher) and exports its variable
(so processes the test starts, apps under gunicorn or uvicorn, find it too); later calls return
the same URL. The session fixture in ``tests/conftest.py`` stops what was started at the end.
``pytest tests/backends/test_redis.py`` therefore starts Redis and nothing else.

Under pytest-xdist, ``make test`` (``WEBSESSION_TEST_PRESTART=1``) starts the servers once, in
the controller, for every worker (:func:`share`): the workers wait for each to be published in
the directory ``$WEBSESSION_TEST_SHARED_SERVERS`` names. Tests isolate themselves on a shared
server (a key prefix, table, collection or namespace of their own); tests that freeze, kill or
fail over a server start one of their own.

A variable already set is used as it is (``tools/testenv.py run`` or ``services`` started the
servers). A server that cannot start skips its tests locally and FAILS them under ``CI=true``:
CI must never pass by skipping. ``WEBSESSION_TEST_SERVERLESS=1`` (``tools/pythons.py``) starts
nothing: those runs take only what needs no server.
"""

from __future__ import annotations

import atexit
import contextlib
import functools
import importlib.util
import json
import os
import shutil
import sys
import tempfile
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]

#: the directory where the pytest-xdist controller publishes the servers it started (:func:`share`)
SHARED_VAR = "WEBSESSION_TEST_SHARED_SERVERS"
#: how long a worker waits for a shared server (the launcher's own start timeouts come first)
SHARED_WAIT = 600.0

#: name -> environment variable that ``tools/testenv.py`` exports
SERVERS = {
    "redis": "WEBSESSION_TEST_REDIS_URL",  # redis://127.0.0.1:PORT/0
    "redis-cluster": "WEBSESSION_TEST_REDIS_CLUSTER_URL",  # redis://127.0.0.1:PORT (any node)
    # redis+sentinel://127.0.0.1:S1,127.0.0.1:S2,127.0.0.1:S3/mymaster/0 (primary + 1 replica)
    "redis-sentinel": "WEBSESSION_TEST_REDIS_SENTINEL_URL",
    "memcached": "WEBSESSION_TEST_MEMCACHED",  # 127.0.0.1:PORT
    "postgresql": "WEBSESSION_TEST_POSTGRES_URL",  # postgresql://postgres@127.0.0.1:PORT/sessions
    "mysql": "WEBSESSION_TEST_MYSQL_URL",  # mysql://sess:sess@127.0.0.1:PORT/sessions
    # mysql://sess:sess@127.0.0.1:P1,127.0.0.1:P2,127.0.0.1:P3/sessions (MariaDB Galera, 3 nodes)
    "galera": "WEBSESSION_TEST_GALERA_URL",
    "mongodb": "WEBSESSION_TEST_MONGODB_URL",  # mongodb://127.0.0.1:PORT/?directConnection=true
    "dynamodb": "WEBSESSION_TEST_DYNAMODB_URL",  # http://127.0.0.1:PORT (DynamoDB Local)
    # the Google clients read these themselves (host:port of the emulators)
    "datastore": "DATASTORE_EMULATOR_HOST",  # 127.0.0.1:PORT (Cloud Datastore emulator)
    "firestore": "FIRESTORE_EMULATOR_HOST",  # 127.0.0.1:PORT (Cloud Firestore emulator)
    "chromium": "WEBSESSION_TEST_CHROMIUM",  # /usr/bin/chromium
}


def in_ci() -> bool:
    """Under CI a missing server fails the test, except in a server-less run (see below)."""
    if serverless():
        # tools/pythons.py: the other Python versions run only what needs no server, while
        # the same `make test` runs every test with its servers on the main version
        return False
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


def serverless() -> bool:
    return os.environ.get("WEBSESSION_TEST_SERVERLESS") == "1"


def in_netns() -> bool:
    """True inside ``tools/testenv.py``'s loopback-only network namespace (DynamoDB Local may
    run: it binds every interface, and there is only loopback)."""
    return os.environ.get("WEBSESSION_TESTENV_NETNS") == "1"


def launcher() -> ModuleType:
    """``tools/testenv.py``, the launcher (loaded once, as module ``testenv``)."""
    module = sys.modules.get("testenv")
    if module is None:
        spec = importlib.util.spec_from_file_location("testenv", ROOT / "tools" / "testenv.py")
        assert spec is not None
        assert spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules["testenv"] = module
        spec.loader.exec_module(module)
    return module


class Pool:
    """The servers this process started: each at most once, started in a worker thread so that
    several can come up at once (:meth:`prestart`); :meth:`stop` stops them all."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._services: Any = None
        self._futures: dict[str, Future[dict[str, str]]] = {}
        self._threads = ThreadPoolExecutor(max_workers=len(SERVERS), thread_name_prefix="server")
        #: name -> seconds it took to start (the terminal summary prints them)
        self.timings: dict[str, float] = {}

    def _start(self, name: str) -> dict[str, str]:
        t0 = time.monotonic()
        try:
            return dict(self._services.start(name))
        finally:
            self.timings[name] = time.monotonic() - t0

    def future(self, name: str) -> Future[dict[str, str]]:
        with self._lock:
            if name not in self._futures:
                shared = _shared_dir()
                if shared is not None and name in _shared_names(shared):
                    self._futures[name] = self._threads.submit(_wait_shared, shared, name)
                else:
                    if self._services is None:
                        self._services = launcher().Services(netns=in_netns())
                    self._futures[name] = self._threads.submit(self._start, name)
            return self._futures[name]

    def prestart(self, names: set[str]) -> None:
        """Start ``names`` in the background now (each is still waited for on first use)."""
        for name in sorted(_to_start(names)):
            self.future(name)

    def get(self, name: str) -> str:
        """Start ``name`` (or wait for its start); its URL. Skips or fails when it cannot."""
        try:
            env = self.future(name).result()
        except launcher().StartError as exc:
            message = f"{name} did not start: {exc}"
            if in_ci():
                pytest.fail(message)
            pytest.skip(message)
        if "AWS_ACCESS_KEY_ID" in env:  # DynamoDB Local: the fake credentials, alone
            for var in ("AWS_SESSION_TOKEN", "AWS_PROFILE"):
                os.environ.pop(var, None)
        os.environ.update(env)
        return env[SERVERS[name]]

    def stop(self) -> None:
        with self._lock:
            services, self._services = self._services, None
            futures, self._futures = list(self._futures.values()), {}
        for future in futures:  # a start still under way is waited for, then stopped
            future.exception()
        if services is not None:
            services.stop_all()


_pool: Pool | None = None
_pool_lock = threading.Lock()


def pool() -> Pool:
    """This process's servers (one pool per pytest session, or per xdist worker)."""
    global _pool
    with _pool_lock:
        if _pool is None:
            _pool = Pool()
            atexit.register(_pool.stop)  # the session fixture stops it first; this is a net
        return _pool


def _to_start(names: set[str]) -> set[str]:
    """Those of ``names`` the launcher starts (``WEBSESSION_TESTENV_ONLY`` narrows them) and
    no variable names already."""
    startable = set(launcher().selected())
    return {n for n in names if n in startable and not os.environ.get(SERVERS[n])}


def share(names: set[str]) -> None:
    """(The pytest-xdist controller, before its workers start) start ``names`` in the background
    for every worker, and publish each in a directory of its own: ``NAME.json`` (its variables)
    once it is up, ``NAME.error`` (why) if it did not come up. The workers inherit
    ``$WEBSESSION_TEST_SHARED_SERVERS`` and wait there (:func:`_wait_shared`)."""
    directory = Path(tempfile.mkdtemp(prefix="ws-servers-"))
    names = _to_start(names)
    _write(directory / "names", "\n".join(sorted(names)))
    started = pool()
    for name in sorted(names):
        started.future(name).add_done_callback(functools.partial(_publish, directory, name))
    os.environ[SHARED_VAR] = str(directory)  # after: this process starts them, not waits


def unshare() -> None:
    """(The controller, after its workers stopped) stop the shared servers."""
    directory = os.environ.pop(SHARED_VAR, None)
    if _pool is not None:
        _pool.stop()
    if directory:
        shutil.rmtree(directory, ignore_errors=True)


def _publish(directory: Path, name: str, future: Future[dict[str, str]]) -> None:
    error = future.exception()
    if error is None:
        _write(directory / f"{name}.json", json.dumps(future.result()))
    else:
        _write(directory / f"{name}.error", str(error))


def _write(path: Path, text: str) -> None:
    """Write whole or not at all: a worker never reads half a file."""
    partial = path.with_name(path.name + ".partial")
    partial.write_text(text)
    partial.replace(path)


def _shared_dir() -> Path | None:
    value = os.environ.get(SHARED_VAR)
    return Path(value) if value else None


@functools.cache
def _shared_names(directory: Path) -> frozenset[str]:
    return frozenset((directory / "names").read_text().split())


def _wait_shared(directory: Path, name: str) -> dict[str, str]:
    """(A worker) the variables of shared server ``name``, once the controller published it."""
    deadline = time.monotonic() + SHARED_WAIT
    while time.monotonic() < deadline:
        with contextlib.suppress(FileNotFoundError):
            return dict(json.loads((directory / f"{name}.json").read_text()))
        with contextlib.suppress(FileNotFoundError):
            raise launcher().StartError((directory / f"{name}.error").read_text())
        time.sleep(0.1)
    raise launcher().StartError(f"not published by the controller within {SHARED_WAIT:.0f} s")


def server_url(name: str) -> str:
    """The URL of test server ``name``, started on first use; skip (locally) or fail (CI)."""
    var = SERVERS[name]
    value = os.environ.get(var)
    if value:
        return value
    if name == "chromium":
        path = "/usr/bin/chromium"
        require(os.path.exists(path), f"Chromium is not installed at {path}")
        return path
    if serverless():
        pytest.skip(f"{name}: not started in a server-less run (WEBSESSION_TEST_SERVERLESS)")
    return pool().get(name)


def require(available: bool, message: str) -> None:
    """Skip (locally) or fail (under CI) when something a test needs is missing."""
    if available:
        return
    if in_ci():
        pytest.fail(message)
    pytest.skip(message)
