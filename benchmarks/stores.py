"""Server-side store benchmark: one load + save through websession vs the raw client.

Run with ``make bench-stores`` (the servers come from ``tools/testenv.py run``) or by hand with
the ``WEBSESSION_TEST_*`` variables set (see ``tests/support/servers.py``). For each backend
whose server is there, the same request is timed two ways, in the same run, against the same server:

- **websession**: ``ServerStore.new(name, cookie)`` (open the cookie, hash the id, fetch the
  record, open the sealed data) then change one value and ``ServerStore.save(session)`` (seal
  the data, conditional write with a version bump, seal the cookie);
- **backend**: the backend alone, ``get`` + ``set(must_exist=True)`` of the stored record (what
  the store asks of the database, without the store's own work: cookies, sealing, hashing);
- **raw**: the database client alone doing the same fetch and write of a blob of the same size
  (Redis ``GET`` + ``SET PX``; SQL ``SELECT`` + upsert; memcached ``get`` + ``set``; a file read
  and an atomic replace; a dict).

The three take turns within each repeat so that a noisy machine slows them alike, and the best
repeat counts. The table shows µs per load+save and three ratios: store/raw (the target: Redis
and PostgreSQL must be <= 1.3, marked PASS/FAIL, exit 1 on FAIL unless ``--no-fail``),
backend/raw (how the backend drives its client: below 1 where it skips the client's generic
layers, as the Redis and PostgreSQL backends do) and store/backend (the store's own work:
cookies, sealing, hashing, on top of the same database calls).
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from websession import ServerStore
from websession.backends.base import Backend

SECRET = "benchmark-secret-0123456789-abcdefghijkl"
NAME = "session"
TTL = 3600
TARGET = 1.3
TARGETS = {"redis", "postgresql"}

#: a typical session: user id, name, roles, CSRF token, a few strings, an int key, a flash
TYPICAL: dict[Any, Any] = {
    "user_id": 1234567,
    "name": "Ann Example",
    "roles": ["admin", "editor"],
    "csrf": "Zq3n8bU4o0pW1yX2c3V4b5N6m7L8k9J0",
    "theme": "dark",
    "locale": "en-GB",
    42: "int key",
    "_flash": ["Welcome back!"],
}


@dataclass
class Target:
    name: str
    make_backend: Callable[[], Backend]
    #: (get(key) -> bytes | None, set(key, blob) -> None, cleanup)
    make_raw: Callable[
        [], tuple[Callable[[str], Any], Callable[[str, bytes], Any], Callable[[], None]]
    ]


def env(var: str) -> str | None:
    return os.environ.get(var) or None


# -- raw clients -----------------------------------------------------------------------------


def raw_redis(url: str) -> Any:
    def make() -> Any:
        import redis

        client = redis.Redis.from_url(url)
        ms = TTL * 1000
        return (
            lambda k: client.get("raw:" + k),
            lambda k, v: client.set("raw:" + k, v, px=ms),
            client.close,
        )

    return make


def raw_memcached(server: str) -> Any:
    def make() -> Any:
        from pymemcache.client.base import PooledClient

        host, _, port = server.rpartition(":")
        client = PooledClient((host, int(port)), default_noreply=False, no_delay=True)
        return (
            lambda k: client.get("raw:" + k),
            lambda k, v: client.set("raw:" + k, v, TTL, noreply=False),
            client.close,
        )

    return make


def raw_postgresql(url: str) -> Any:
    def make() -> Any:
        import psycopg

        conn = psycopg.connect(url, autocommit=True, prepare_threshold=0)
        conn.execute(
            "CREATE TABLE IF NOT EXISTS bench_raw (key VARCHAR(128) PRIMARY KEY, data BYTEA, "
            "expires_at DOUBLE PRECISION, version BIGINT)"
        )

        def get(k: str) -> Any:
            row = conn.execute(
                "SELECT data, expires_at, version FROM bench_raw "
                "WHERE key = %s AND expires_at > %s",
                (k, time.time()),
            ).fetchone()
            return row

        def put(k: str, v: bytes) -> None:
            conn.execute(
                "INSERT INTO bench_raw AS s (key, data, expires_at, version) VALUES (%s, %s, %s, 1)"
                " ON CONFLICT (key) DO UPDATE SET data = EXCLUDED.data, expires_at = "
                "EXCLUDED.expires_at, version = s.version + 1",
                (k, v, time.time() + TTL),
            )

        def cleanup() -> None:
            conn.execute("DROP TABLE IF EXISTS bench_raw")
            conn.close()

        return get, put, cleanup

    return make


def raw_mysql(url: str) -> Any:
    def make() -> Any:
        from urllib.parse import unquote, urlsplit

        import pymysql

        u = urlsplit(url)
        conn = pymysql.connect(
            host=u.hostname,
            port=u.port or 3306,
            user=unquote(u.username or ""),
            password=unquote(u.password or ""),
            database=u.path.lstrip("/"),
            autocommit=True,
        )
        cur = conn.cursor()
        cur.execute(
            "CREATE TABLE IF NOT EXISTS bench_raw (`key` VARCHAR(128) PRIMARY KEY, `data` BLOB, "
            "`expires_at` DOUBLE, `version` BIGINT)"
        )

        def get(k: str) -> Any:
            cur.execute(
                "SELECT `data`, `expires_at`, `version` FROM bench_raw WHERE `key` = %s "
                "AND `expires_at` > %s",
                (k, time.time()),
            )
            return cur.fetchone()

        def put(k: str, v: bytes) -> None:
            cur.execute(
                "INSERT INTO bench_raw (`key`, `data`, `expires_at`, `version`) VALUES "
                "(%s, %s, %s, 1) ON DUPLICATE KEY UPDATE `data` = VALUES(`data`), "
                "`expires_at` = VALUES(`expires_at`), `version` = `version` + 1",
                (k, v, time.time() + TTL),
            )

        def cleanup() -> None:
            cur.execute("DROP TABLE IF EXISTS bench_raw")
            conn.close()

        return get, put, cleanup

    return make


def raw_sqlite(path: str) -> Any:
    def make() -> Any:
        conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute(
            "CREATE TABLE IF NOT EXISTS bench_raw (key TEXT PRIMARY KEY, data BLOB, "
            "expires_at REAL, version INTEGER)"
        )

        def get(k: str) -> Any:
            return conn.execute(
                "SELECT data, expires_at, version FROM bench_raw WHERE key = ? AND expires_at > ?",
                (k, time.time()),
            ).fetchone()

        def put(k: str, v: bytes) -> None:
            conn.execute(
                "INSERT INTO bench_raw (key, data, expires_at, version) VALUES (?, ?, ?, 1) "
                "ON CONFLICT (key) DO UPDATE SET data = excluded.data, "
                "expires_at = excluded.expires_at, version = version + 1",
                (k, v, time.time() + TTL),
            )

        return get, put, conn.close

    return make


def raw_files(directory: str) -> Any:
    def make() -> Any:
        base = Path(directory)
        base.mkdir(parents=True, exist_ok=True)

        def get(k: str) -> Any:
            try:
                return (base / k).read_bytes()
            except FileNotFoundError:
                return None

        def put(k: str, v: bytes) -> None:
            tmp = base / f".{k}.tmp"
            tmp.write_bytes(v)
            os.replace(tmp, base / k)

        return get, put, lambda: None

    return make


def raw_memory() -> Any:
    data: dict[str, bytes] = {}
    return data.get, data.__setitem__, data.clear


# -- targets ---------------------------------------------------------------------------------


def targets(workdir: str) -> list[Target]:
    found: list[Target] = []
    redis_url = env("WEBSESSION_TEST_REDIS_URL")
    if redis_url:
        from websession.backends.redis import RedisBackend

        found.append(
            Target("redis", lambda: RedisBackend.from_url(redis_url), raw_redis(redis_url))
        )
    pg_url = env("WEBSESSION_TEST_POSTGRES_URL")
    if pg_url:
        try:
            from websession.backends.postgresql import PostgreSQLBackend
        except ImportError as exc:
            print(f"(postgresql skipped: {exc})")
        else:
            found.append(
                Target(
                    "postgresql",
                    lambda: PostgreSQLBackend.from_url(pg_url, table="bench_ws"),
                    raw_postgresql(pg_url),
                )
            )
    mc = env("WEBSESSION_TEST_MEMCACHED")
    if mc:
        from websession.backends.memcached import MemcachedBackend

        found.append(Target("memcached", lambda: MemcachedBackend(mc), raw_memcached(mc)))
    my_url = env("WEBSESSION_TEST_MYSQL_URL")
    if my_url:
        try:
            from websession.backends.mysql import MySQLBackend
        except ImportError as exc:
            print(f"(mysql skipped: {exc})")
        else:
            found.append(
                Target(
                    "mysql",
                    lambda: MySQLBackend.from_url(my_url, table="bench_ws"),
                    raw_mysql(my_url),
                )
            )
    try:
        from websession.backends.sqlite import SQLiteBackend  # type: ignore[import-not-found]
    except ImportError:
        pass
    else:
        db = os.path.join(workdir, "bench.sqlite3")
        found.append(Target("sqlite", lambda: SQLiteBackend(db), raw_sqlite(db)))
    from websession.backends.filesystem import FilesystemBackend
    from websession.backends.memory import MemoryBackend

    found.append(
        Target(
            "filesystem",
            lambda: FilesystemBackend(os.path.join(workdir, "ws-files")),
            raw_files(os.path.join(workdir, "raw-files")),
        )
    )
    found.append(Target("memory", MemoryBackend, raw_memory))
    return found


# -- measuring -------------------------------------------------------------------------------


@dataclass
class Result:
    name: str
    store_us: float
    backend_us: float
    raw_us: float
    size: int

    @property
    def ratio(self) -> float:
        return self.store_us / self.raw_us

    @property
    def backend_ratio(self) -> float:
        return self.backend_us / self.raw_us

    @property
    def own_ratio(self) -> float:
        return self.store_us / self.backend_us


def measure(target: Target, sessions: int, rounds: int, repeats: int) -> Result:
    backend = target.make_backend()
    store = ServerStore(backend, SECRET, ttl=TTL)
    cookies: list[str] = []
    for i in range(sessions):
        session = store.new(NAME, None)
        session.update(TYPICAL)
        session["n"] = i
        cookies.append(store.save(session).split(";", 1)[0].split("=", 1)[1])
    first = store.new(NAME, cookies[0])
    assert first._backend_key is not None
    record = backend.get(first._backend_key)
    assert record is not None
    blob = record.data
    raw_get, raw_set, raw_cleanup = target.make_raw()
    keys = [f"k{i:04d}-" + "x" * 36 for i in range(sessions)]
    for key in keys:
        raw_set(key, blob)

    def run_store() -> float:
        t0 = time.perf_counter()
        for r in range(rounds):
            cookie = cookies[r % sessions]
            session = store.new(NAME, cookie)
            if session.is_new:
                raise RuntimeError(f"session not loaded: {session.reason}")
            session["n"] = r
            store.save(session)
        return time.perf_counter() - t0

    def run_raw() -> float:
        t0 = time.perf_counter()
        for r in range(rounds):
            key = keys[r % sessions]
            value = raw_get(key)
            if value is None:
                raise RuntimeError("raw record missing")
            raw_set(key, blob)
        return time.perf_counter() - t0

    backend_keys = []
    for cookie in cookies:
        loaded = store.new(NAME, cookie)
        assert loaded._backend_key is not None
        backend_keys.append(loaded._backend_key)

    def run_backend() -> float:
        t0 = time.perf_counter()
        for r in range(rounds):
            key = backend_keys[r % sessions]
            record = backend.get(key)
            if record is None:
                raise RuntimeError("record missing")
            backend.set(key, record.data, TTL, must_exist=True)  # its own record: still valid
        return time.perf_counter() - t0

    run_store()  # warm up (connections, prepared statements, script cache)
    run_backend()
    run_raw()
    runs = [run_store, run_backend, run_raw]
    best = dict.fromkeys(runs, float("inf"))
    for repeat in range(repeats):
        k = repeat % len(runs)  # rotate the order: none always runs first after the others
        for run in runs[k:] + runs[:k]:
            best[run] = min(best[run], run())
    best_store, best_backend, best_raw = best[run_store], best[run_backend], best[run_raw]
    raw_cleanup()
    for cookie in cookies:
        s = store.new(NAME, cookie)
        if s._backend_key:
            backend.delete(s._backend_key)
    backend.close()
    per = 1e6 / rounds
    return Result(target.name, best_store * per, best_backend * per, best_raw * per, len(blob))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=200, help="load+save per repeat")
    parser.add_argument("--repeats", type=int, default=40)
    parser.add_argument("--sessions", type=int, default=100)
    parser.add_argument("--only", help="comma-separated backend names")
    parser.add_argument("--no-fail", action="store_true", help="exit 0 even if a target fails")
    args = parser.parse_args(argv)
    failed = False
    with tempfile.TemporaryDirectory(prefix="ws-bench-") as workdir:
        chosen = targets(workdir)
        if args.only:
            wanted = set(args.only.split(","))
            chosen = [t for t in chosen if t.name in wanted]
        print(
            f"load + save of a typical session, best of {args.repeats} x {args.rounds} "
            f"(µs per request; raw = the client alone, same server, same blob)"
        )
        print(
            f"{'backend':<12} {'store':>9} {'backend':>9} {'raw':>9} {'store/raw':>10} "
            f"{'backend/raw':>12} {'store/backend':>14} {'blob B':>7}  target (store/raw)"
        )
        for target in chosen:
            try:
                res = measure(target, args.sessions, args.rounds, args.repeats)
            except Exception as exc:  # one backend failing must not hide the others
                print(f"{target.name:<12} ERROR {type(exc).__name__}: {exc}")
                failed = failed or target.name in TARGETS
                continue
            verdict = ""
            if target.name in TARGETS:
                ok = res.ratio <= TARGET
                verdict = f"<= {TARGET}x {'PASS' if ok else 'FAIL'}"
                failed = failed or not ok
            print(
                f"{res.name:<12} {res.store_us:>9.1f} {res.backend_us:>9.1f} {res.raw_us:>9.1f} "
                f"{res.ratio:>9.2f}x {res.backend_ratio:>11.2f}x {res.own_ratio:>13.2f}x "
                f"{res.size:>7}  {verdict}",
                flush=True,
            )
    missing = [
        name
        for name, var in (
            ("redis", "WEBSESSION_TEST_REDIS_URL"),
            ("postgresql", "WEBSESSION_TEST_POSTGRES_URL"),
            ("memcached", "WEBSESSION_TEST_MEMCACHED"),
            ("mysql", "WEBSESSION_TEST_MYSQL_URL"),
        )
        if not env(var)
    ]
    if missing:
        print(f"not measured (no server URL in the environment): {', '.join(missing)}")
    return 1 if failed and not args.no_fail else 0


if __name__ == "__main__":
    raise SystemExit(main())
