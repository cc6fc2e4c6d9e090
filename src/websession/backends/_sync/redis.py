# GENERATED from _async/redis.py by tools/unasync.py (make generate): do not edit.
"""RedisBackend's operations, written once: ``make generate`` makes _sync/ from _async/redis.py.

Commands run on redis-py's connections (see ``_command``); where those come from and go back
to is ``RedisCore._checkout``/``_checkin``.
"""

from __future__ import annotations

import time
from typing import Any

from .._rediscore import (
    UNAVAILABLE,
    NoScriptError,
    RedisConnectionError,
    RedisCore,
    RedisResponseError,
    live_entries,
    parse_record,
)
from ..base import PurgeProgress, Record

__all__ = ["RedisOps"]


class RedisOps(RedisCore):
    """The store's backend protocol on Redis: sync methods (``get``, ``set``, ...)."""

    def _command(self, *args: Any, wait: bool = False) -> Any:
        """Run one command; with ``wait`` and ``min_replicas``, a ``WAIT`` right behind it.

        On a single node (or a Sentinel's primary) the command goes straight onto a connection
        (from ``_checkout``): the client's generic command path (retry wrapper, metrics,
        response callbacks) costs more than the round trip itself on a fast local Redis, and
        for the few commands used here the raw reply is the answer. The ``WAIT`` shares the
        command's round trip, and the result is returned only if enough replicas acknowledged
        it. A connection that broke (Redis restarted, or failed over) is tried once more,
        reconnected; redis-py disconnects one whose reply was cut short (a timeout, a
        cancellation), so no connection is ever reused half-read.
        """
        client = self._client()
        then = self._wait_args(wait)
        if self.cluster:  # the cluster client routes each command to its slot's node
            return client.execute_command(*args)
        for attempt in (0, 1):
            conn = self._checkout(client)
            try:
                if self.sentinels:
                    # A Sentinel-managed connection finds the primary in connect() (a no-op when
                    # connected); sending on a closed one would go to its default address.
                    # Not called otherwise: it runs redis-py's retry wrapper every time.
                    conn.connect()
                conn.send_command(*args)
                if then is None:
                    return conn.read_response()
                conn.send_command(*then)
                try:
                    result = conn.read_response()
                except RedisResponseError:
                    conn.read_response()  # WAIT's reply: the connection stays clean
                    raise
                return self._acked(result, conn.read_response())
            except RedisConnectionError:
                if attempt:
                    raise
            finally:
                self._checkin(client, conn)
        raise AssertionError("unreachable")  # pragma: no cover

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
