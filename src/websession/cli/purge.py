"""``websession purge``: delete expired sessions from a server-side store."""

from __future__ import annotations

import argparse
import base64
import itertools
import os
import sys
import threading
import time
from typing import Any, TextIO

from ..codecs.keys import generate_random_key
from ..errors import WebsessionError
from ._common import UsageError, _redact, _secrets


def _open_store(url: str, secrets: list[str | bytes]) -> Any:
    from ..urls import open_store

    return open_store(url, secrets)


class _Progress:
    """What a running purge shows: a bar (or a spinner, where the store cannot tell how far
    it is) redrawn ten times a second on a terminal; a plain line every few seconds otherwise,
    so a log shows a long purge is alive."""

    #: seconds between two plain lines when the output is not a terminal
    LINE_EVERY = 5.0

    def __init__(self, label: str, stream: TextIO) -> None:
        self.label = label
        self.stream = stream
        self.tty = stream.isatty()
        self.removed = 0
        self.fraction: float | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.started = time.monotonic()
        self._last_line = self.started

    def __enter__(self) -> _Progress:
        self.started = self._last_line = time.monotonic()
        if self.tty:
            self._thread = threading.Thread(target=self._draw, daemon=True)
            self._thread.start()
        else:
            print(f"{self.label} ...", file=self.stream, flush=True)
        return self

    def update(self, removed: int, fraction: float | None) -> None:
        """The store's progress callback (called after each batch)."""
        self.removed, self.fraction = removed, fraction
        now = time.monotonic()
        if not self.tty and now - self._last_line >= self.LINE_EVERY:
            self._last_line = now
            print(f"{self._status()} {now - self.started:.1f} s", file=self.stream, flush=True)

    def _status(self) -> str:
        done = "" if self.fraction is None else f"{self.fraction:4.0%} "
        return f"{done}{self.removed:,} removed"

    def _draw(self) -> None:
        frames = itertools.cycle("|/-\\")
        width = 20
        for tick in itertools.count():
            if self._stop.wait(0.1):
                break
            fraction = self.fraction
            if fraction is None:  # how far is unknown: a marker bouncing to show it is alive
                pos = tick % (2 * width - 2)
                pos = pos if pos < width else 2 * width - 2 - pos
                bar = "".join("#" if i == pos else "." for i in range(width))
            else:
                filled = int(fraction * width)
                bar = "#" * filled + "." * (width - filled)
            elapsed = time.monotonic() - self.started
            self.stream.write(
                f"\r{next(frames)} {self.label} [{bar}] {self._status()} {elapsed:5.1f} s\x1b[K"
            )
            self.stream.flush()

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
            self.stream.write("\r\x1b[K")
            self.stream.flush()

    @property
    def elapsed(self) -> float:
        return time.monotonic() - self.started


def _purge_once(store: Any, url: str) -> int:
    label = f"purging expired sessions from {_redact(url)}"
    with _Progress(label, sys.stderr) as shown:
        removed: int = store.purge(progress=shown.update)
    noun = "session" if removed == 1 else "sessions"
    print(f"removed {removed} expired {noun} in {shown.elapsed:.2f} s", file=sys.stderr)
    return removed


def _local_store_path(url: str) -> str | None:
    """The file or directory a local store URL names (None for other stores).

    Opening a local store creates it, so ``purge`` checks it exists first: a typo in the
    path would otherwise make an empty store, purge nothing and report success.
    """
    scheme = url.partition("://")[0].lower()
    if scheme in ("file", "lmdb"):
        from ..stores import default_directory
        from ..urls import _local_path

        path = _local_path(url)[0]
        return path if path is not None else (default_directory() if scheme == "file" else None)
    if scheme == "sqlite":
        from ..backends.sqlite import SQLiteBackend

        try:
            return SQLiteBackend.url_path(url)
        except ValueError as exc:
            raise UsageError(str(exc)) from None
    return None


def cmd_purge(args: argparse.Namespace) -> int:
    path = _local_store_path(args.store_url)
    if path == ":memory:":
        raise UsageError(f"{args.store_url}: an in-memory database holds nothing to purge")
    if path is not None and not os.path.exists(path):
        raise UsageError(
            f"{_redact(args.store_url)}: {path} does not exist (a typo?); purge creates nothing"
        )
    secrets = _secrets(args, required=False)
    if not secrets:
        # Purging reads expiry times only; no cookie is sealed or opened, so any key will do.
        secrets = [base64.urlsafe_b64encode(generate_random_key(32)).decode("ascii")]
    try:
        store = _open_store(args.store_url, secrets)
    except (ValueError, ImportError, WebsessionError) as exc:
        raise UsageError(f"cannot open {_redact(args.store_url)}: {exc}") from None
    if not callable(getattr(store, "purge", None)):
        print(
            f"nothing to purge: {type(store).__name__} keeps sessions in the browser's cookies",
            file=sys.stderr,
        )
        return 0
    try:
        while True:
            removed = _purge_once(store, args.store_url)
            print(removed)
            sys.stdout.flush()
            if not args.every:
                return 0
            time.sleep(args.every)
    except KeyboardInterrupt:
        return 130
    finally:
        close = getattr(store, "close", None)
        if callable(close):
            close()


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the command to the ``websession`` parser's subcommands."""
    purge = sub.add_parser(
        "purge",
        help="delete expired sessions from a server-side store",
        description="Delete expired sessions from the store at STORE_URL (file:///path, "
        "sqlite:///path, postgresql://..., ...) and print how many. Stores whose database "
        "expires records itself (Redis, Memcached, MongoDB, DynamoDB) report 0.",
    )
    purge.add_argument(
        "store_url", metavar="STORE_URL", help="the store, as for websession.open_store"
    )
    purge.add_argument(
        "--secret",
        action="append",
        metavar="S",
        help="the store's secret (not needed to purge: expiry times are not sealed)",
    )
    purge.add_argument(
        "--every", type=float, metavar="SECONDS", help="keep purging every SECONDS until Ctrl-C"
    )
    purge.set_defaults(func=cmd_purge)
