"""Fault injection for network backends: a TCP proxy that can freeze.

:class:`FreezableProxy` listens on a free loopback port and forwards every connection to a real
server. ``freeze()`` stops forwarding in both directions: the client's connections stay open
and new ones are still accepted (as a SIGSTOPped server's kernel accepts them), but no byte
reaches either side, which is exactly what a frozen server looks like from the client.
``thaw()`` resumes; bytes held meanwhile are delivered. It freezes one client's path to a
shared test server without disturbing any other test.

Tests that kill a server start servers of their own with ``tools/testenv.py``'s code
(:func:`load_testenv`), wait for the store to follow a failover with :func:`until_ok` and for
a signal to take effect with :func:`process_state`.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType
from typing import Any, TypeVar

from tests.support.servers import launcher
from websession import StoreUnavailable

HOST = "127.0.0.1"
ROOT = Path(__file__).resolve().parents[2]
T = TypeVar("T")


def load_testenv() -> ModuleType:
    """``tools/testenv.py`` as a module (one instance per process): its ``Services`` start
    servers exactly as ``make test`` does, for a test that must not disturb the shared ones."""
    return launcher()


def kill_spawned(services: Any, name: str) -> None:
    """kill -9 the server ``services`` spawned as ``name`` (no shutdown, no goodbye to the
    other nodes) and reap it."""
    proc = services.procs[name]
    proc.kill()
    proc.wait(timeout=30)


def process_state(pid: int) -> str | None:
    """A process's state letter from /proc (``T``: stopped, ``Z``: a zombie), None once gone."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(") ", 1)[1][0]
    except (FileNotFoundError, IndexError):
        return None


def until_ok(what: Callable[[], T], limit: float) -> tuple[T, float, list[str]]:
    """Call ``what`` until it stops raising StoreUnavailable: (its result, seconds taken, the
    errors seen meanwhile). Raises the last error after ``limit`` seconds."""
    t0 = time.monotonic()
    errors: list[str] = []
    while True:
        try:
            return what(), time.monotonic() - t0, errors
        except StoreUnavailable as exc:
            errors.append(str(exc))
            if time.monotonic() - t0 > limit:
                raise
            time.sleep(0.1)


class FreezableProxy:
    def __init__(self, target_port: int, target_host: str = HOST) -> None:
        self.target = (target_host, target_port)
        self._listener = socket.create_server((HOST, 0))
        self.port: int = self._listener.getsockname()[1]
        self._thawed = threading.Event()
        self._thawed.set()
        self._closed = False
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True, name="proxy-accept").start()

    @property
    def address(self) -> str:
        return f"{HOST}:{self.port}"

    def freeze(self) -> None:
        self._thawed.clear()

    def thaw(self) -> None:
        self._thawed.set()

    @contextlib.contextmanager
    def frozen(self) -> Iterator[None]:
        self.freeze()
        try:
            yield
        finally:
            self.thaw()

    def close(self) -> None:
        self._closed = True
        self._thawed.set()
        with contextlib.suppress(OSError):
            self._listener.close()
        with self._lock:
            sockets, self._sockets = self._sockets, []
        for sock in sockets:
            with contextlib.suppress(OSError):
                sock.close()

    def _accept(self) -> None:
        while not self._closed:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            try:
                upstream = socket.create_connection(self.target, timeout=5)
                upstream.settimeout(None)
            except OSError:
                client.close()
                continue
            for sock in (client, upstream):
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            with self._lock:
                self._sockets += [client, upstream]
            for src, dst in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(src, dst), daemon=True).start()

    def _pump(self, src: socket.socket, dst: socket.socket) -> None:
        try:
            while True:
                data = src.recv(65536)
                if not data:
                    break
                self._thawed.wait()  # frozen: hold the bytes
                if self._closed:
                    break
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for sock in (src, dst):
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
