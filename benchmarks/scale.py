"""Stores at scale: load + save latency of random existing sessions as a store grows.

Run it with ``make bench-scale`` (inside ``tools/testenv.py run``, which starts Redis,
PostgreSQL and MySQL/MariaDB on 127.0.0.1), or by hand with the ``WEBSESSION_TEST_*`` URLs set::

    .venv/bin/python benchmarks/scale.py --sizes 10000,100000 --stores sqlite,redis

For each store (file, sqlite, lmdb, redis, postgresql, mysql) the store is filled in bulk
through the store API (``ServerStore.save`` of new sessions; ``asave``, ``--fill-width`` (16)
in flight, for the network databases, four threads for the embedded ones, whose fill skips
the fsync per commit: LMDB ``sync=False``, SQLite ``synchronous=OFF``) up to each size in
turn (10k, 100k, 1M by default: the fill is cumulative), and at each size:

- **latency** (once the store has digested the fill: :func:`quiesce`): ``--samples`` (5,000)
  load + save round trips (``store.new(name, cookie)``, one value
  changed, ``store.save``) of sessions drawn at random among all the sessions filled so far,
  through a *new* store object (so no id cookie is remembered from the fill), after a warm-up;
  p50 and p99 in µs;
- **space**: bytes per session (the database's own accounting: Redis ``used_memory`` growth,
  ``pg_total_relation_size``, MySQL's ``data_length + index_length``, the SQLite file with its
  WAL, the LMDB data file's allocated blocks, the session files' allocated blocks and their
  apparent size).

Each session holds the typical logged-in values of ``stores.py``. The figures go to a JSON file
and a PNG plot (p50 and p99 against N per store, log-log) in ``benchmarks/results/``.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from websession import CookieOptions, ServerStore, open_store

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results"
SECRET = "benchmark-secret-Xk3vQ9pL2mN7rT5wY8zA1cE4gJ6hB0dF"  # not for production
NAME = "session"
TYPICAL: dict[Any, Any] = {
    "user_id": 1234567,
    "name": "Ann Example",
    "roles": ["admin", "editor"],
    "csrf": "Zq3n8bU4o0pW1yX2c3V4b5N6m7L8k9J0",
    "theme": "dark",
    "locale": "en-GB",
    "_flash": ["Welcome back!"],
}
OPTIONS = CookieOptions(secure=False, max_age=30 * 24 * 3600)
NETWORK = {"redis", "postgresql", "mysql"}
ENV = {
    "redis": "WEBSESSION_TEST_REDIS_URL",
    "postgresql": "WEBSESSION_TEST_POSTGRES_URL",
    "mysql": "WEBSESSION_TEST_MYSQL_URL",
}


@dataclass
class Result:
    store: str
    sizes: list[int] = field(default_factory=list)
    p50: list[float] = field(default_factory=list)  # µs
    p99: list[float] = field(default_factory=list)  # µs
    bytes_per_session: list[float] = field(default_factory=list)
    apparent_bytes_per_session: list[float] = field(default_factory=list)  # files only
    fill_seconds: list[float] = field(default_factory=list)


def url_for(kind: str, workdir: Path) -> str | None:
    if kind == "file":
        return f"file://{workdir / 'files'}"
    if kind == "sqlite":
        return f"sqlite:///{workdir / 'sessions.db'}"
    if kind == "lmdb":
        return f"lmdb://{workdir / 'lmdb'}"
    return os.environ.get(ENV[kind]) or None


#: options of the store that fills (only): skip the per-commit fsync of the embedded databases,
#: or filling 1M sessions takes hours on a shared disk. Measured through the default settings.
FILL_OPTIONS: dict[str, dict[str, Any]] = {
    "lmdb": {"sync": False},
    "sqlite": {"synchronous": "OFF"},
}


def make_store(url: str, **options: Any) -> ServerStore:
    return open_store(url, SECRET, options=OPTIONS, **options)


def cookie_of(set_cookie: str) -> str:
    return set_cookie.split(";", 1)[0].split("=", 1)[1]


def fill_sync(store: ServerStore, count: int, keep: Callable[[int, str], None], start: int) -> None:
    """Four threads (the file store's time is system calls, which release the GIL)."""
    from concurrent.futures import ThreadPoolExecutor

    lock = threading.Lock()

    def one(i: int) -> None:
        session = store.new(NAME, None)
        session.update(TYPICAL)
        session["i"] = i
        cookie = cookie_of(store.save(session))
        with lock:
            keep(i, cookie)

    with ThreadPoolExecutor(4) as pool:
        for _ in pool.map(one, range(start, start + count), chunksize=256):
            pass


async def fill_async(
    store: ServerStore, count: int, keep: Callable[[int, str], None], start: int, width: int
) -> None:
    in_flight = asyncio.Semaphore(width)

    async def one(i: int) -> None:
        async with in_flight:
            session = await store.anew(NAME, None)
            session.update(TYPICAL)
            session["i"] = i
            keep(i, cookie_of(await store.asave(session)))

    step = 10_000  # bounded task lists
    for base in range(start, start + count, step):
        await asyncio.gather(*(one(i) for i in range(base, min(base + step, start + count))))
    await store.aclose()


def measure(url: str, cookies: list[str], samples: int) -> tuple[float, float]:
    """p50, p99 in µs of load + save of random existing sessions, through a fresh store."""
    store = make_store(url)
    try:
        picks = [random.choice(cookies) for _ in range(samples + 200)]
        times = []
        for n, cookie in enumerate(picks):
            started = time.perf_counter()
            session = store.new(NAME, cookie)
            if session.is_new:
                raise AssertionError(f"{url}: a filled session was not found")
            session["n"] = session.get("n", 0) + 1
            store.save(session)
            if n >= 200:  # the first 200 warm the connections and caches
                times.append((time.perf_counter() - started) * 1e6)
        times.sort()
        return statistics.median(times), times[min(len(times) - 1, int(len(times) * 0.99))]
    finally:
        store.close()


def quiesce(kind: str, url: str) -> None:
    """Let the store digest the fill before timing, as a store in steady state has.

    A bulk fill leaves work behind that timed saves would otherwise queue behind: the kernel's
    dirty pages (a million session files: ~4 GB), PostgreSQL's next checkpoint, and InnoDB's
    dirty buffer-pool pages, which MariaDB flushes in the background for minutes after."""
    os.sync()
    if kind == "postgresql":
        import psycopg

        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("CHECKPOINT")
    elif kind == "mysql":
        # SET GLOBAL wants SUPER: the tests' server lets root in from 127.0.0.1 without a password
        conn = mysql_connect(url, user="root", password="")
        try:
            with conn.cursor() as cur:
                cur.execute("SELECT @@GLOBAL.innodb_max_dirty_pages_pct")
                (before,) = cur.fetchone()
                cur.execute("SET GLOBAL innodb_max_dirty_pages_pct = 0")
                deadline = time.monotonic() + 300
                while time.monotonic() < deadline:
                    cur.execute("SHOW GLOBAL STATUS LIKE 'Innodb_buffer_pool_pages_dirty'")
                    if int(cur.fetchone()[1]) < 100:
                        break
                    time.sleep(0.5)
                cur.execute(f"SET GLOBAL innodb_max_dirty_pages_pct = {float(before)}")
        finally:
            conn.close()
        os.sync()


def mysql_connect(url: str, **override: str) -> Any:
    from urllib.parse import urlsplit

    import pymysql

    parts = urlsplit(url)
    login = {"user": parts.username, "password": parts.password or "", **override}
    return pymysql.connect(
        host=parts.hostname, port=parts.port or 3306, database=parts.path.lstrip("/"), **login
    )


def blocks(path: Path) -> tuple[int, int]:
    """(allocated bytes, apparent bytes) of a file or a directory tree."""
    if path.is_file():
        st = path.stat()
        return st.st_blocks * 512, st.st_size
    allocated = apparent = 0
    for root, _dirs, files in os.walk(path):
        for f in files:
            st = os.stat(os.path.join(root, f))
            allocated += st.st_blocks * 512
            apparent += st.st_size
    return allocated, apparent


def space(kind: str, url: str, workdir: Path, baseline: float) -> tuple[float, float]:
    """(bytes, apparent bytes) the store's sessions take now (minus ``baseline``)."""
    if kind == "file":
        return blocks(workdir / "files")
    if kind == "sqlite":
        total = [blocks(p) for p in workdir.glob("sessions.db*")]
        return sum(a for a, _ in total), sum(b for _, b in total)
    if kind == "lmdb":
        a, b = blocks(workdir / "lmdb" / "data.mdb")
        return a, b
    if kind == "redis":
        import redis

        client = redis.Redis.from_url(url)
        used = float(client.info("memory")["used_memory"]) - baseline
        client.close()
        return used, used
    if kind == "postgresql":
        import psycopg

        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("VACUUM ANALYZE websession_sessions")
            row = conn.execute("SELECT pg_total_relation_size('websession_sessions')").fetchone()
        assert row is not None
        return float(row[0]), float(row[0])
    if kind == "mysql":
        conn = mysql_connect(url)
        with conn.cursor() as cur:
            cur.execute("ANALYZE TABLE websession_sessions")
            cur.fetchall()
            cur.execute(
                "SELECT data_length + index_length FROM information_schema.tables "
                "WHERE table_schema = DATABASE() AND table_name = 'websession_sessions'"
            )
            row = cur.fetchone()
        conn.close()
        assert row is not None
        return float(row[0]), float(row[0])
    raise ValueError(kind)


def redis_baseline(url: str) -> float:
    import redis

    client = redis.Redis.from_url(url)
    client.flushdb()
    used = float(client.info("memory")["used_memory"])
    client.close()
    return used


def run_store(kind: str, sizes: list[int], args: argparse.Namespace) -> Result | None:
    workdir = Path(tempfile.mkdtemp(prefix=f"ws-scale-{kind}-", dir=args.workdir))
    url = url_for(kind, workdir)
    if url is None:
        print(f"{kind}: skipped ({ENV[kind]} is not set)", file=sys.stderr)
        return None
    result = Result(kind)
    baseline = redis_baseline(url) if kind == "redis" else 0.0
    sample_size = max(args.samples * 4, 5000)
    cookies: list[str] = []  # a uniform random sample of all the sessions' cookies
    seen = 0

    def keep(i: int, cookie: str) -> None:
        nonlocal seen
        seen += 1
        if len(cookies) < sample_size:
            cookies.append(cookie)
        else:  # reservoir sampling: every session filled so far equally likely
            j = random.randrange(seen)
            if j < sample_size:
                cookies[j] = cookie

    try:
        filled = 0
        for size in sizes:
            started = time.perf_counter()
            store = make_store(url, **FILL_OPTIONS.get(kind, {}))
            if kind in NETWORK:
                asyncio.run(fill_async(store, size - filled, keep, filled, args.fill_width))
            else:
                fill_sync(store, size - filled, keep, filled)
                store.close()
            took = time.perf_counter() - started
            filled = size
            flushed = time.perf_counter()
            quiesce(kind, url)
            flush_s = time.perf_counter() - flushed
            p50, p99 = measure(url, cookies, args.samples)
            used, apparent = space(kind, url, workdir, baseline)
            result.sizes.append(size)
            result.p50.append(p50)
            result.p99.append(p99)
            result.bytes_per_session.append(used / size)
            result.apparent_bytes_per_session.append(apparent / size)
            result.fill_seconds.append(took)
            print(
                f"  {kind} N={size:,}: load+save p50 {p50:,.0f} µs, p99 {p99:,.0f} µs, "
                f"{used / size:,.0f} B/session ({apparent / size:,.0f} B apparent), "
                f"filled {size - (sizes[sizes.index(size) - 1] if sizes.index(size) else 0):,} "
                f"in {took:,.1f} s (then {flush_s:,.1f} s to digest it)",
                file=sys.stderr,
                flush=True,
            )
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    return result


def plot(results: list[Result], path: Path, note: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8, 5))
    for i, r in enumerate(results):
        color = f"C{i}"
        ax.plot(r.sizes, r.p50, "o-", color=color, label=f"{r.store} p50")
        ax.plot(r.sizes, r.p99, "s--", color=color, label=f"{r.store} p99", alpha=0.7)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("sessions in the store (N)")
    ax.set_ylabel("load + save of a random existing session (µs)")
    ax.set_title(f"websession stores at scale\n{note}", fontsize=9)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=7, ncol=2)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,100000,1000000", help="N, comma-separated")
    parser.add_argument("--stores", default="file,sqlite,lmdb,redis,postgresql,mysql")
    parser.add_argument("--samples", type=int, default=5000, help="timed load+saves per N")
    parser.add_argument("--workdir", default=None, help="where file/sqlite/lmdb go (tmp)")
    parser.add_argument("--name", default="scale", help="results/<name>.json and .png")
    parser.add_argument(
        "--fill-width", type=int, default=16, help="saves in flight while filling a network store"
    )
    parser.add_argument(
        "--include", type=Path, action="append", default=[],
        help="also report (and plot) the results in this JSON file of an earlier run",
    )  # fmt: skip
    args = parser.parse_args(argv)
    sizes = sorted(int(s) for s in args.sizes.split(","))
    results = [
        Result(**r) for path in args.include for r in json.loads(path.read_text())["results"]
    ]
    failed = []
    for kind in args.stores.split(","):
        print(f"{kind}: filling to {', '.join(f'{s:,}' for s in sizes)}", file=sys.stderr)
        try:
            r = run_store(kind, sizes, args)
        except Exception as exc:  # one store's failure must not lose the others' figures
            print(f"{kind}: FAILED: {type(exc).__name__}: {exc}", file=sys.stderr)
            failed.append(kind)
            continue
        if r is not None:
            results.append(r)
    print("\n| store | N | p50 µs | p99 µs | bytes/session | fill s |")
    print("|---|---:|---:|---:|---:|---:|")
    for r in results:
        for i, n in enumerate(r.sizes):
            extra = (
                f" ({r.apparent_bytes_per_session[i]:,.0f} of data)" if r.store == "file" else ""
            )
            print(
                f"| {r.store} | {n:,} | {r.p50[i]:,.0f} | {r.p99[i]:,.0f} | "
                f"{r.bytes_per_session[i]:,.0f}{extra} | {r.fill_seconds[i]:,.1f} |"
            )
    print("\n| store | p99 at largest N / p99 at smallest N | target <= 1.5x |")
    print("|---|---:|---|")
    for r in results:
        if len(r.sizes) > 1:
            growth = r.p99[-1] / r.p99[0]
            print(
                f"| {r.store} ({r.sizes[0]:,} -> {r.sizes[-1]:,}) | {growth:.2f}x | "
                f"{'yes' if growth <= 1.5 else 'no'} |"
            )
    RESULTS.mkdir(parents=True, exist_ok=True)
    commit = subprocess.run(
        ["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], capture_output=True, text=True
    ).stdout.strip()
    date = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d")
    load = os.getloadavg()[0]
    note = f"commit {commit}, {date}, load average {load:.1f} on 2 vCPUs"
    (RESULTS / f"{args.name}.json").write_text(
        json.dumps({"note": note, "results": [vars(r) for r in results]}, indent=1)
    )
    if results:
        plot(results, RESULTS / f"{args.name}.png", note)
        print(f"\nwrote {RESULTS / (args.name + '.png')} and .json ({note})")
    if failed:
        print(f"FAILED: {', '.join(failed)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
