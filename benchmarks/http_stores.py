"""HTTP throughput with server-side sessions: websession against each framework's usual library.

Run it with ``make bench-http`` (inside ``tools/testenv.py run``, which starts Redis and
PostgreSQL on 127.0.0.1) or by hand with ``WEBSESSION_TEST_REDIS_URL`` and
``WEBSESSION_TEST_POSTGRES_URL`` set: ``.venv/bin/python benchmarks/http_stores.py --help``.

Pairs, each on the same database and the same server settings (apps in ``server_apps.py``):

====================  ==========  ============================================================
framework / server    database    websession vs peer
====================  ==========  ============================================================
Starlette / uvicorn   Redis       ``websession.asgi.SessionMiddleware`` vs starsessions' RedisStore
Starlette / uvicorn   PostgreSQL  ``websession.asgi.SessionMiddleware`` (no peer: starsessions
                                  has no SQL store)
Flask / gunicorn      Redis       ``websession.flask.SessionInterface`` vs Flask-Session (redis)
Flask / gunicorn      PostgreSQL  ``websession.flask.SessionInterface`` vs Flask-Session
                                  (sqlalchemy, Flask-SQLAlchemy + psycopg)
aiohttp               Redis       ``websession.aiohttp`` vs aiohttp-session's RedisStorage
aiohttp               PostgreSQL  ``websession.aiohttp`` (no peer)
Django / gunicorn     Redis       ``SESSION_ENGINE="websession.django"`` vs Django's cache engine
                                  on ``django.core.cache.backends.redis.RedisCache``
Django / gunicorn     PostgreSQL  ``websession.django`` vs Django's db engine
====================  ==========  ============================================================

uvicorn: 1 worker, ``--loop asyncio --http h11 --no-access-log``; gunicorn: 1 sync worker;
aiohttp: ``web.run_app`` without access log. ``GET /`` reads ``n``, stores ``n + 1`` and
answers it. wrk runs one thread per connection (``-t16 -c16``) with a Lua script that keeps
each thread's cookie (the ``Set-Cookie`` of the last response goes back with the next request),
so each connection has its own session, loaded and saved on every request; the script also
checks every response's counter is one more than the last one on that connection, and reports
the totals when wrk ends: a run passes the persistence check when the last counters add up to
the number of responses with no gap. The server is pinned to CPU 0 and wrk to CPU 1 when the
machine has two; the databases run unpinned.

Each pair is run ``--repeats`` times (3), interleaved (A B, B A, A B); reported per variant are
req/s min/median/max and the server's CPU time per request (lowest), and per pair the ratio
websession/peer of runs made back to back (min/median/max). Issue 14's target is a median ratio
>= 1.2; it is reported, not enforced. Exit status 1 when a run had errors or lost a session.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _wrk
from _wrk import HOST, ROOT, cpus, free_port, interleaved

BENCH = Path(__file__).resolve().parent
TARGET = 1.2

LUA = r"""
-- one wrk thread per connection: these globals are that connection's own
local cookie = nil
responses, last, breaks = 0, 0, 0
local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function request()
  if cookie then
    return wrk.format(nil, nil, {["Cookie"] = cookie})
  end
  return wrk.format(nil, nil, {})
end

function response(status, headers, body)
  responses = responses + 1
  for k, v in pairs(headers) do
    if string.lower(k) == "set-cookie" then
      cookie = string.match(v, "^[^;]*")
    end
  end
  local n = tonumber(body)
  if n == nil or n ~= last + 1 then breaks = breaks + 1 end
  if n ~= nil then last = n end
end

function done(summary, latency, requests)
  local total, counted, gaps = 0, 0, 0
  for _, t in ipairs(threads) do
    total = total + t:get("responses")
    counted = counted + t:get("last")
    gaps = gaps + t:get("breaks")
  end
  io.write(string.format("SESSIONS responses=%d counted=%d breaks=%d\n", total, counted, gaps))
  io.write(string.format("LATENCY p50=%d p99=%d\n",
    latency:percentile(50), latency:percentile(99)))
end
"""


@dataclass
class Variant:
    label: str
    server: str  # uvicorn, gunicorn, aiohttp
    factory: str  # in server_apps.py
    rps: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)  # server CPU µs per request
    p50: list[float] = field(default_factory=list)  # ms
    p99: list[float] = field(default_factory=list)  # ms
    problems: list[str] = field(default_factory=list)


@dataclass
class Pair:
    key: str
    framework: str
    db: str
    ours: Variant
    peer: Variant | None


def pairs() -> dict[str, Pair]:
    def pair(key: str, framework: str, server: str, db: str, ours: str, peer: tuple[str, str]
             | None) -> Pair:  # fmt: skip
        prefix = {"uvicorn": "starlette", "gunicorn": key.split("-")[0], "aiohttp": "aiohttp"}
        factory = f"{prefix[server]}_websession_{db}"
        return Pair(
            key,
            framework,
            db,
            Variant(ours, server, factory),
            Variant(peer[0], server, peer[1]) if peer else None,
        )

    made = [
        pair("starlette-redis", "Starlette + uvicorn", "uvicorn", "redis",
             "websession asgi.SessionMiddleware", ("starsessions RedisStore",
                                                   "starlette_starsessions_redis")),
        pair("starlette-postgresql", "Starlette + uvicorn", "uvicorn", "postgresql",
             "websession asgi.SessionMiddleware", None),
        pair("flask-redis", "Flask + gunicorn", "gunicorn", "redis",
             "websession.flask.SessionInterface", ("Flask-Session (redis)", "flask_session_redis")),
        pair("flask-postgresql", "Flask + gunicorn", "gunicorn", "postgresql",
             "websession.flask.SessionInterface", ("Flask-Session (sqlalchemy)",
                                                   "flask_session_postgresql")),
        pair("aiohttp-redis", "aiohttp", "aiohttp", "redis", "websession.aiohttp",
             ("aiohttp-session RedisStorage", "aiohttp_session_redis")),
        pair("aiohttp-postgresql", "aiohttp", "aiohttp", "postgresql", "websession.aiohttp", None),
        pair("django-redis", "Django + gunicorn", "gunicorn", "redis", "websession.django",
             ("Django cache engine (RedisCache)", "django_cache_redis")),
        pair("django-postgresql", "Django + gunicorn", "gunicorn", "postgresql",
             "websession.django", ("Django db engine", "django_db_postgresql")),
    ]  # fmt: skip
    return {p.key: p for p in made}


def server_argv(v: Variant, port: int) -> list[str]:
    py = sys.executable
    if v.server == "uvicorn":
        return [py, "-m", "uvicorn", "--app-dir", str(BENCH), "--factory", "--host", HOST,
                "--port", str(port), "--workers", "1", "--loop", "asyncio", "--http", "h11",
                "--no-access-log", "--log-level", "warning", "--lifespan", "off",
                f"server_apps:{v.factory}"]  # fmt: skip
    if v.server == "gunicorn":
        return [py, "-m", "gunicorn", "--chdir", str(BENCH), "--bind", f"{HOST}:{port}",
                "--workers", "1", "--worker-class", "sync", "--log-level", "warning",
                f"server_apps:{v.factory}()"]  # fmt: skip
    return [py, str(BENCH / "server_apps.py"), v.factory, HOST, str(port)]


def running(v: Variant, pin: list[str]) -> contextlib.AbstractContextManager[tuple[str, int]]:
    port = free_port()
    return serving([*pin, *server_argv(v, port)], port)


def serving(
    argv: list[str], port: int, extra_env: dict[str, str] | None = None
) -> contextlib.AbstractContextManager[tuple[str, int]]:
    """Run a server with server_apps.py importable until it listens on ``port``; yield its URL
    and pid; stop it after."""
    return _wrk.serving(argv, port, cwd=BENCH, pythonpath=[BENCH], extra_env=extra_env)


def check_counter(url: str, v: Variant) -> None:
    """The counter goes 1, 2, 3 through the cookie round trip (and not without the cookie)."""
    import httpx

    with httpx.Client(timeout=10) as client:
        for expected in ("1", "2", "3"):
            response = client.get(url)
            if response.text != expected:
                raise AssertionError(
                    f"{v.label}: expected {expected}, got {response.status_code} "
                    f"{response.text[:200]!r}"
                )
    with httpx.Client(timeout=10) as fresh:
        if fresh.get(url).text != "1":
            raise AssertionError(f"{v.label}: a client without cookie did not start at 1")


_SESSIONS = re.compile(r"SESSIONS responses=(\d+) counted=(\d+) breaks=(\d+)")
_LATENCY = re.compile(r"LATENCY p50=(\d+) p99=(\d+)")


@dataclass
class SessionRun(_wrk.WrkRun):
    """A wrk run with the Lua script's figures: responses, latency (ms), what went wrong."""

    responses: int
    p50: float
    p99: float
    problems: list[str]


def wrk(
    url: str, script: str, args: argparse.Namespace, pin: list[str], seconds: float
) -> SessionRun:
    c = args.connections
    run = _wrk.wrk(url, ["-t", str(c), "-c", str(c), "--timeout", "10s", "-s", script], pin,
                   seconds)  # fmt: skip
    sessions, latency = _SESSIONS.search(run.out), _LATENCY.search(run.out)
    if sessions is None or latency is None:
        raise RuntimeError(f"cannot read the Lua script's lines in wrk's output:\n{run.out}")
    responses, counted, breaks = (int(g) for g in sessions.groups())
    problems = [] if run.errors is None else [run.errors]
    if breaks or counted != responses:
        problems.append(
            f"session check: {responses} responses, counters add up to {counted}, {breaks} gaps"
        )
    p50, p99 = (int(g) / 1000 for g in latency.groups())
    return SessionRun(**vars(run), responses=responses, p50=p50, p99=p99, problems=problems)


def measure(pair: Pair, args: argparse.Namespace, script: str) -> None:
    server_pin, wrk_pin = cpus()
    variants = [pair.ours] + ([pair.peer] if pair.peer else [])
    with contextlib.ExitStack() as stack:
        urls, pids = {}, {}
        for v in variants:
            urls[v.factory], pids[v.factory] = stack.enter_context(running(v, server_pin))
            check_counter(urls[v.factory], v)
            wrk(urls[v.factory], script, args, wrk_pin, 1)  # warm up
        runs = interleaved(
            variants,
            lambda v: pids[v.factory],
            args.repeats,
            lambda v: wrk(urls[v.factory], script, args, wrk_pin, args.duration),
        )
        for i, v, r, cpu in runs:
            v.rps.append(r.rps)
            v.cpu.append(cpu)
            v.p50.append(r.p50)
            v.p99.append(r.p99)
            v.problems.extend(f"run {i + 1}: {p}" for p in r.problems)
            note = f" PROBLEM: {'; '.join(r.problems)}" if r.problems else ""
            print(
                f"  {pair.key} run {i + 1}: {v.label}: {r.rps:,.0f} req/s, "
                f"p50 {r.p50:.1f} ms, p99 {r.p99:.1f} ms, server CPU "
                f"{cpu:,.0f} µs/request, sessions kept ({r.responses} responses){note}",
                file=sys.stderr,
                flush=True,
            )


def mmm(values: list[float], fmt: str = "{:,.0f}") -> str:
    return " / ".join(fmt.format(x) for x in (min(values), statistics.median(values),
                                               max(values)))  # fmt: skip


def report(done: list[Pair], args: argparse.Namespace) -> bool:
    ok = True
    print(
        f"\nwrk -t{args.connections} -c{args.connections} -d{args.duration:g}s (one session per "
        f"connection, kept by Lua), {args.repeats} interleaved repeats; min / median / max\n"
    )
    print("| setup | database | variant | req/s | p99 ms | server CPU µs/req |")
    print("|---|---|---|---:|---:|---:|")
    for p in done:
        for v in [p.ours] + ([p.peer] if p.peer else []):
            print(
                f"| {p.framework} | {p.db} | {v.label} | {mmm(v.rps)} | "
                f"{mmm(v.p99, '{:.1f}')} | {min(v.cpu):,.0f} |"
            )
    print("\n| setup | database | websession / peer (paired runs) | CPU/req | >= 1.2x |")
    print("|---|---|---|---:|---|")
    for p in done:
        if p.peer is None:
            continue
        ratios = [a / b for a, b in zip(p.ours.rps, p.peer.rps, strict=True)]
        cpu = min(p.ours.cpu) / min(p.peer.cpu)
        met = "yes" if statistics.median(ratios) >= TARGET else "no"
        print(
            f"| {p.framework} | {p.db} | {mmm(ratios, '{:.2f}x')} vs {p.peer.label} | "
            f"{cpu:.2f}x | {met} |"
        )
    for p in done:
        for v in [p.ours] + ([p.peer] if p.peer else []):
            for problem in v.problems:
                ok = False
                print(f"PROBLEM {p.key}: {v.label}: {problem}")
    if ok:
        print("\nEvery run kept every connection's session (no gap in any counter), no errors.")
    return ok


def main(argv: list[str] | None = None) -> int:
    table = pairs()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", choices=sorted(table), action="append")
    parser.add_argument("--repeats", type=int, default=3, help="interleaved repeats (3)")
    parser.add_argument("--duration", type=float, default=5, help="seconds per run (5)")
    parser.add_argument("--connections", type=int, default=16, help="wrk connections (16)")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args(argv)
    if shutil.which("wrk") is None:
        print("wrk is not installed (Debian: apt-get install wrk)", file=sys.stderr)
        return 2
    missing = [
        var
        for var in ("WEBSESSION_TEST_REDIS_URL", "WEBSESSION_TEST_POSTGRES_URL")
        if not os.environ.get(var)
    ]
    if missing:
        print(f"not set: {', '.join(missing)} (run inside tools/testenv.py run)", file=sys.stderr)
        return 2
    chosen = [table[k] for k in (args.only or list(table))]
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as f:
        f.write(LUA)
        script = f.name
    try:
        for p in chosen:
            peer = f" vs {p.peer.label}" if p.peer else ""
            print(f"{p.framework}, {p.db}: {p.ours.label}{peer}", file=sys.stderr, flush=True)
            measure(p, args, script)
    finally:
        os.unlink(script)
    ok = report(chosen, args)
    if args.json:
        args.json.write_text(
            json.dumps(
                {
                    "date": datetime.datetime.now(datetime.timezone.utc).isoformat(),
                    "commit": subprocess.run(["git", "-C", str(ROOT), "rev-parse", "HEAD"],
                                             capture_output=True, text=True).stdout.strip(),
                    "load_average": os.getloadavg(),
                    "args": {k: str(v) for k, v in vars(args).items()},
                    "pairs": [asdict(p) for p in chosen],
                },
                indent=1,
            )
        )  # fmt: skip
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
