"""Load test: many clients incrementing counters in their sessions, some sharing one; 0 lost.

Run it with ``make bench-load`` (inside ``tools/testenv.py run``: Redis, PostgreSQL and
MySQL/MariaDB on 127.0.0.1) or by hand with the ``WEBSESSION_TEST_*`` URLs set::

    .venv/bin/python benchmarks/load.py --clients 64 --increments 50 --stores redis,sqlite

For each store (redis, postgresql, mysql, sqlite, file; ``optimistic=True``) and each server
(gunicorn with 4 sync workers serving a Flask app; uvicorn with 2 workers serving a Starlette
app; apps in ``load_apps.py``), ``--clients`` concurrent clients (64) each send
``--increments`` ``GET /inc`` requests (50), one after the other, on a keep-alive connection.
``--shared`` of them (16) share sessions in groups of 4 (so concurrent saves of one session
conflict, and the app retries them), the rest have one session each. Afterwards each session's
counter is read back (``GET /get``) and compared with the increments the server acknowledged
(200 responses):

- **lost updates** (counter < acknowledged) must be 0, and so must counts above the
  acknowledged ones (an increment applied but answered with an error);
- **5xx** other than the app's deliberate 503 (conflicts still there after its retries, or
  the store unreachable) must be 0; 503s are reported;
- p50 and p99 of the client-side latency, the conflicts retried, requests per second.

Bounded: loopback only, a fixed number of requests, ``--time-limit`` seconds per store and
server (a run that exceeds it fails). Exit status 1 when a check fails.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from http_stores import BENCH, HOST, free_port, serving

ENV = {
    "redis": "WEBSESSION_TEST_REDIS_URL",
    "postgresql": "WEBSESSION_TEST_POSTGRES_URL",
    "mysql": "WEBSESSION_TEST_MYSQL_URL",
}


@dataclass
class Outcome:
    store: str
    server: str
    sessions: int = 0
    acknowledged: int = 0
    counted: int = 0
    lost: int = 0
    extra: int = 0
    status: dict[int, int] = field(default_factory=dict)
    retries: int = 0
    latencies: list[float] = field(default_factory=list)
    seconds: float = 0.0
    problems: list[str] = field(default_factory=list)


def server_argv(server: str, port: int) -> list[str]:
    py = sys.executable
    if server == "gunicorn":
        return [py, "-m", "gunicorn", "--chdir", str(BENCH), "--bind", f"{HOST}:{port}",
                "--workers", "4", "--worker-class", "sync", "--log-level", "warning",
                "--timeout", "60", "load_apps:flask_app()"]  # fmt: skip
    return [py, "-m", "uvicorn", "--app-dir", str(BENCH), "--factory", "--host", HOST,
            "--port", str(port), "--workers", "2", "--loop", "asyncio", "--http", "h11",
            "--no-access-log", "--log-level", "warning", "--lifespan", "off",
            "load_apps:starlette_app"]  # fmt: skip


async def drive(base: str, args: argparse.Namespace, outcome: Outcome) -> None:
    import aiohttp

    shared_groups = args.shared // 4
    own = args.clients - shared_groups * 4
    timeout = aiohttp.ClientTimeout(total=60)
    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(
        timeout=timeout, connector=connector, cookie_jar=aiohttp.DummyCookieJar()
    ) as http:

        async def request(path: str, cookie: str | None) -> tuple[int, str, Mapping[str, str]]:
            headers = {"Cookie": f"session={cookie}"} if cookie else {}
            async with http.get(base + path, headers=headers) as response:
                # a case-insensitive copy: h11 sends header names in lower case
                return response.status, await response.text(), response.headers.copy()

        # one session per own client and per group: created by a first increment
        cookies: list[str] = []
        acks = []
        for _ in range(own + shared_groups):
            status, body, headers = await request("/inc", None)
            if status != 200 or body != "1":
                raise RuntimeError(f"creating a session: {status} {body!r}")
            cookies.append(headers["Set-Cookie"].split(";", 1)[0].split("=", 1)[1])
            acks.append(1)
        owners = list(range(own)) + [own + g for g in range(shared_groups) for _ in range(4)]

        async def client(session_index: int) -> None:
            for _ in range(args.increments):
                started = time.perf_counter()
                status, _body, headers = await request("/inc", cookies[session_index])
                outcome.status[status] = outcome.status.get(status, 0) + 1
                outcome.retries += int(headers.get("X-Attempts", "1")) - 1
                if status == 200:
                    acks[session_index] += 1
                    outcome.latencies.append((time.perf_counter() - started) * 1000)

        started = time.perf_counter()
        await asyncio.gather(*(client(i) for i in owners))
        outcome.seconds = time.perf_counter() - started
        outcome.sessions = len(cookies)
        for index, cookie in enumerate(cookies):
            status, body, _ = await request("/get", cookie)
            if status != 200:
                outcome.problems.append(f"reading session {index}: {status} {body!r}")
                continue
            n = int(body)
            outcome.acknowledged += acks[index]
            outcome.counted += n
            outcome.lost += max(0, acks[index] - n)
            outcome.extra += max(0, n - acks[index])


def run_one(store: str, server: str, args: argparse.Namespace, workdir: Path) -> Outcome:
    if store == "file":
        url = f"file://{workdir / f'files-{server}'}"
    elif store == "sqlite":
        url = f"sqlite:///{workdir / f'{server}.db'}"
    else:
        url = os.environ[ENV[store]]
    outcome = Outcome(store, server)
    port = free_port()
    env = {
        "WEBSESSION_LOAD_STORE": url,
        "WEBSESSION_LOAD_OPTIMISTIC": "0" if args.not_optimistic else "1",
    }
    with serving(server_argv(server, port), port, env) as (base, _):
        try:
            asyncio.run(
                asyncio.wait_for(drive(base.rstrip("/"), args, outcome), args.time_limit)
            )
        except asyncio.TimeoutError:
            outcome.problems.append(f"did not finish within {args.time_limit:g} s")
    bad = {s: c for s, c in outcome.status.items() if s >= 500 and s != 503}
    if bad:
        outcome.problems.append(f"5xx other than 503: {bad}")
    if outcome.lost:
        outcome.problems.append(f"{outcome.lost} lost updates")
    if outcome.extra:
        outcome.problems.append(f"{outcome.extra} increments applied but not acknowledged")
    return outcome


def percentile(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * p / 100))]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stores", default="redis,postgresql,mysql,sqlite,file")
    parser.add_argument("--servers", default="gunicorn,uvicorn")
    parser.add_argument("--clients", type=int, default=64)
    parser.add_argument("--shared", type=int, default=16, help="clients sharing (groups of 4)")
    parser.add_argument("--increments", type=int, default=50, help="requests per client")
    parser.add_argument(
        "--not-optimistic",
        action="store_true",
        help="stores without optimistic mode: the check must then report lost updates",
    )
    parser.add_argument("--time-limit", type=float, default=300, help="seconds per run")
    args = parser.parse_args(argv)
    workdir = Path(tempfile.mkdtemp(prefix="ws-load-"))
    outcomes = []
    try:
        for store in args.stores.split(","):
            if store in ENV and not os.environ.get(ENV[store]):
                print(f"{store}: skipped ({ENV[store]} is not set)", file=sys.stderr)
                continue
            for server in args.servers.split(","):
                o = run_one(store, server, args, workdir)
                outcomes.append(o)
                print(
                    f"  {store} on {server}: {sum(o.status.values())} requests in "
                    f"{o.seconds:.1f} s, statuses {dict(sorted(o.status.items()))}, "
                    f"lost {o.lost}, retries {o.retries}"
                    + (f"  PROBLEMS: {'; '.join(o.problems)}" if o.problems else ""),
                    file=sys.stderr,
                    flush=True,
                )
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    print(
        f"\n{args.clients} clients x {args.increments} increments ({args.shared} sharing "
        "sessions in groups of 4); gunicorn 4 sync workers (Flask), uvicorn 2 workers "
        "(Starlette); optimistic stores, conflicts retried\n"
    )
    print("| store | server | req/s | p50 ms | p99 ms | 200 | 503 | other 5xx | retries "
          "| acknowledged | counted | lost |")  # fmt: skip
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    ok = True
    for o in outcomes:
        total = sum(o.status.values())
        other = sum(c for s, c in o.status.items() if s >= 500 and s != 503)
        print(
            f"| {o.store} | {o.server} | {total / max(o.seconds, 1e-9):,.0f} | "
            f"{percentile(o.latencies, 50):.1f} | {percentile(o.latencies, 99):.1f} | "
            f"{o.status.get(200, 0)} | {o.status.get(503, 0)} | {other} | {o.retries} | "
            f"{o.acknowledged} | {o.counted} | {o.lost} |"
        )
        for problem in o.problems:
            ok = False
            print(f"FAIL {o.store} on {o.server}: {problem}")
    if ok and outcomes:
        print("\nPASS: 0 lost updates, no 5xx other than deliberate 503s, in every run.")
    return 0 if ok and outcomes else 1


if __name__ == "__main__":
    sys.exit(main())
