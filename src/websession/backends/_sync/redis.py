# GENERATED from _async/redis.py by tools/unasync.py (make generate): do not edit.
"""RedisBackend's operations, written once: ``make generate`` makes _sync/ from _async/redis.py.

Every command goes through the redis-py client: its connection pool (fork-safe, bounded by
``max_connections``), its one retry of a broken connection (set up in ``_rediscore``), and its
disconnect of a connection that timed out or was interrupted mid-reply, so none is ever reused
half-read.
"""

from __future__ import annotations

import time
from typing import Any

from .._rediscore import UNAVAILABLE, NoScriptError, RedisCore, live_entries, parse_record
from ..base import PurgeProgress, Record

__all__ = ["RedisOps"]


class RedisOps(RedisCore):
    """The store's backend protocol on Redis: sync methods (``get``, ``set``, ...)."""

    def _command(self, *args: Any, wait: bool = False) -> Any:
        """Run one command; with ``wait`` and ``min_replicas``, a ``WAIT`` right behind it.

        The ``WAIT`` shares the command's round trip (a pipeline), and the command's result is
        returned only if enough replicas acknowledged it (else StoreUnavailable).
        """
        client = self._client()
        then = self._wait_args(wait)
        if then is None:
            return client.execute_command(*args)
        with client.pipeline(transaction=False) as pipe:
            pipe.execute_command(*args)
            pipe.execute_command(*then)
            result, acked = pipe.execute()
        return self._acked(result, acked)

    def get(self, key: str, *, touch: int | None = None) -> Record | None:
        try:
            if touch:
                value = self._command("GETEX", self._key(key), "PX", touch * 1000)
            else:
                value = self._command("GET", self._key(key))
        except UNAVAILABLE as exc:
            raise self._unavailable(exc) from exc
        return None if value is None else parse_record(value, touch)

    def set(
        self,
        key: str,
        data: bytes,
        ttl: int,
        *,
        must_exist: bool = False,
        if_version: int | None = None,
    ) -> int | None:
        version, command, fallback = self._write(key, data, ttl, must_exist, if_version)
        try:
            try:
                result = self._command(*command, wait=True)
            except NoScriptError:
                assert fallback is not None
                result = self._command(*fallback, wait=True)  # EVAL caches the script
        except UNAVAILABLE as exc:
            raise self._unavailable(exc) from exc
        return None if result is None else version

    def delete(self, key: str) -> None:
        try:
            self._command("DEL", self._key(key), wait=True)
        except UNAVAILABLE as exc:
            raise self._unavailable(exc) from exc

    def purge(self, progress: PurgeProgress | None = None) -> int:
        return 0  # Redis expires keys itself

    # -- the owner index (see _INDEX in _rediscore) ---------------------------------------------
    def index(self, owner: str, key: str, entry: bytes, ttl: float) -> None:
        command, fallback = self._index_commands(owner, key, entry, ttl)
        try:
            try:
                self._command(*command)
            except NoScriptError:
                self._command(*fallback)
        except UNAVAILABLE as exc:
            raise self._unavailable(exc) from exc

    def owned(self, owner: str) -> list[tuple[str, bytes]]:
        k = self._owner_key(owner)
        try:
            reply = self._command("HGETALL", k)
            live, dead = live_entries(reply, int(time.time() * 1000))
            if dead:
                self._command("HDEL", k, *dead)
        except UNAVAILABLE as exc:
            raise self._unavailable(exc) from exc
        return live

    def unindex(self, owner: str, key: str) -> None:
        try:
            self._command("HDEL", self._owner_key(owner), key)
        except UNAVAILABLE as exc:
            raise self._unavailable(exc) from exc
