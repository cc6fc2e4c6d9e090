"""HTTP throughput with a session read and written on every request, measured with wrk.

Run it with ``make bench-http`` (or ``.venv/bin/python benchmarks/http_throughput.py --help``).

Two comparisons, each between real servers on 127.0.0.1 started with the same settings:

(a) Starlette under uvicorn (1 worker, asyncio loop, h11, no access log, log level warning):
    ``websession.asgi.SessionMiddleware`` with a ``CookieStore`` (sealed: AES-256-GCM-SIV,
    msgpack) against Starlette's own ``SessionMiddleware`` (itsdangerous: signed, not
    encrypted, JSON + base64);
(b) Flask under gunicorn (1 sync worker): ``websession.flask.SessionInterface(CookieStore)``
    against Flask's default ``SecureCookieSessionInterface`` (itsdangerous, signed only).

Every app serves the same endpoint: ``GET /`` reads ``n`` from the session, stores ``n + 1`` and
answers it, so every request decodes a cookie and sends a new ``Set-Cookie``. Before timing, the
script checks that the counter really goes 1, 2, 3 through the Set-Cookie round trip, then takes
a cookie holding ``n = 1`` (plus a few typical values) and has wrk send it with every request
(``-H "Cookie: ..."``): each request loads an existing session, increments, and re-seals it.

The machine has few cores, so the server is pinned to one CPU and wrk (one thread) to another
when there are at least two (``taskset``); the variants are measured alternately (A, B, A, B...)
and the best and the median of the runs are reported, with the server's CPU time per request
(from /proc: the work each request costs, which moves less than req/s when other jobs share
the machine). The verdict uses the median of the ratios of runs made back to back.
"""

from __future__ import annotations

import argparse
import contextlib
import shutil
import statistics
import sys
import tempfile
import textwrap
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _wrk
from _wrk import HOST, WrkRun, cpus, free_port, interleaved, serving

SECRET = "benchmark secret: not for production, 32+ bytes long"

# The applications, written to a temporary module that the servers import.
APPS = textwrap.dedent(
    f"""
    from flask import Flask, session
    from starlette.applications import Starlette
    from starlette.middleware import Middleware
    from starlette.middleware.sessions import SessionMiddleware as StarletteSessionMiddleware
    from starlette.responses import PlainTextResponse
    from starlette.routing import Route

    import websession.asgi
    import websession.flask
    from websession import CookieOptions, CookieStore

    SECRET = {SECRET!r}
    store = CookieStore(SECRET, options=CookieOptions(secure=False))


    async def count(request):
        s = request.session
        n = s.get("n", 0) + 1
        s["n"] = n
        if "user" not in s:
            s["user"] = {{"id": 42, "name": "alice", "roles": ["admin", "editor"]}}
            s["csrf"] = "q8JpZC1YV0Pq9iUCgFZbC4f0q3rM8oLxkHq9sW3c"
        return PlainTextResponse(str(n))


    starlette_websession = Starlette(
        routes=[Route("/", count)],
        middleware=[Middleware(websession.asgi.SessionMiddleware, store=store)],
    )
    starlette_builtin = Starlette(
        routes=[Route("/", count)],
        middleware=[Middleware(StarletteSessionMiddleware, secret_key=SECRET, https_only=False)],
    )


    def flask_count():
        n = session.get("n", 0) + 1
        session["n"] = n
        if "user" not in session:
            session["user"] = {{"id": 42, "name": "alice", "roles": ["admin", "editor"]}}
            session["csrf"] = "q8JpZC1YV0Pq9iUCgFZbC4f0q3rM8oLxkHq9sW3c"
        return str(n)


    flask_websession = Flask("flask_websession")
    flask_websession.session_interface = websession.flask.SessionInterface(store)
    flask_websession.add_url_rule("/", view_func=flask_count)

    flask_builtin = Flask("flask_builtin")
    flask_builtin.secret_key = SECRET
    flask_builtin.add_url_rule("/", view_func=flask_count)
    """
)


@dataclass
class Variant:
    label: str
    server: str  # "uvicorn" or "gunicorn"
    app: str  # attribute of the apps module
    cookie: str = "session"
    results: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)  # server CPU µs per request

    @property
    def best(self) -> float:
        return max(self.results)

    @property
    def median(self) -> float:
        return statistics.median(self.results)

    @property
    def cpu_per_request(self) -> float:
        return min(self.cpu)


@dataclass
class Comparison:
    title: str
    ours: Variant
    baseline: Variant
    target: str


COMPARISONS = {
    "asgi": Comparison(
        "Starlette + uvicorn",
        Variant(
            "websession asgi.SessionMiddleware + CookieStore", "uvicorn", "starlette_websession"
        ),
        Variant("starlette.middleware.sessions.SessionMiddleware", "uvicorn", "starlette_builtin"),
        "websession ASGI middleware >= Starlette's SessionMiddleware",
    ),
    "flask": Comparison(
        "Flask + gunicorn",
        Variant("websession.flask.SessionInterface(CookieStore)", "gunicorn", "flask_websession"),
        Variant("Flask's default cookie session", "gunicorn", "flask_builtin"),
        "websession Flask integration >= Flask's default cookie session",
    ),
}


def server_argv(variant: Variant, port: int, app_dir: str, workers: int) -> list[str]:
    module = f"ws_bench_apps:{variant.app}"
    if variant.server == "uvicorn":
        return [sys.executable, "-m", "uvicorn", "--app-dir", app_dir, "--host", HOST,
                "--port", str(port), "--workers", str(workers), "--loop", "asyncio",
                "--http", "h11", "--no-access-log", "--log-level", "warning",
                "--lifespan", "off", module]  # fmt: skip
    return [sys.executable, "-m", "gunicorn", "--chdir", app_dir, "--bind", f"{HOST}:{port}",
            "--workers", str(workers), "--worker-class", "sync", "--log-level", "warning",
            module]  # fmt: skip


def running(
    variant: Variant, app_dir: str, workers: int, pin: list[str]
) -> contextlib.AbstractContextManager[tuple[str, int]]:
    port = free_port()
    argv = [*pin, *server_argv(variant, port, app_dir, workers)]
    return serving(argv, port, cwd=app_dir, pythonpath=[app_dir], deadline=30)


def session_cookie(url: str, variant: Variant) -> str:
    """Check the counter round trip; return a Cookie header value holding n = 1."""
    import httpx

    with httpx.Client(timeout=10) as client:
        cookie = None
        for expected in ("1", "2", "3"):
            headers = {"Cookie": cookie} if cookie else {}
            response = client.get(url, headers=headers)
            client.cookies.clear()
            set_cookie = response.headers.get("set-cookie", "")
            if response.text != expected or not set_cookie.startswith(f"{variant.cookie}="):
                raise AssertionError(
                    f"{variant.label}: expected {expected} and a new cookie, got "
                    f"{response.status_code} {response.text!r}, Set-Cookie {set_cookie!r}"
                )
            cookie = set_cookie.split(";", 1)[0]
            if expected == "1":
                first = cookie
        assert first is not None
        # The cookie wrk will send: every request reads n = 1 and writes n = 2.
        response = client.get(url, headers={"Cookie": first})
        client.cookies.clear()
        if response.text != "2" or "set-cookie" not in response.headers:
            raise AssertionError(
                f"{variant.label}: replaying the first cookie gave {response.text!r}"
            )
        return first


def wrk(url: str, cookie: str, args: argparse.Namespace, pin: list[str], seconds: float) -> WrkRun:
    """Run wrk with the session cookie on every request; wrk's errors end the benchmark."""
    options = ["-t", str(args.threads), "-c", str(args.connections), "-H", f"Cookie: {cookie}"]
    run = _wrk.wrk(url, options, pin, seconds)
    if run.errors is not None:
        raise RuntimeError(f"wrk saw errors against {url}:\n{run.out}")
    return run


def measure(comparison: Comparison, args: argparse.Namespace, app_dir: str) -> None:
    server_pin, wrk_pin = cpus()
    variants = [comparison.ours, comparison.baseline]
    with contextlib.ExitStack() as stack:
        urls = {}
        pids = {}
        cookies = {}
        for v in variants:
            urls[v.app], pids[v.app] = stack.enter_context(
                running(v, app_dir, args.workers, server_pin)
            )
            cookies[v.app] = session_cookie(urls[v.app], v)
            wrk(urls[v.app], cookies[v.app], args, wrk_pin, 1)  # warm up
        runs = interleaved(
            variants,
            lambda v: pids[v.app],
            args.runs,
            lambda v: wrk(urls[v.app], cookies[v.app], args, wrk_pin, args.duration),
        )
        for i, v, run, cpu in runs:
            v.results.append(run.rps)
            v.cpu.append(cpu)
            print(
                f"  run {i + 1}: {v.label}: {run.rps:,.0f} req/s, server CPU {cpu:,.0f} µs/request",
                file=sys.stderr,
            )


def report(comparisons: list[Comparison], args: argparse.Namespace) -> bool:
    ok = True
    print(
        f"\nwrk -t{args.threads} -c{args.connections} -d{args.duration:g}s, {args.runs} runs "
        f"each (alternating), {args.workers} server worker(s); req/s (best, median) and the "
        "server's CPU time per request (lowest)\n"
    )
    print(f"| {'setup':<20} | {'variant':<50} | {'best':>8} | {'median':>8} | CPU µs/req |")
    print(f"|{'-' * 22}|{'-' * 52}|{'-' * 10}|{'-' * 10}|{'-' * 12}|")
    for c in comparisons:
        for v in (c.ours, c.baseline):
            print(
                f"| {c.title:<20} | {v.label:<50} | {v.best:>8,.0f} | {v.median:>8,.0f} "
                f"| {v.cpu_per_request:>10,.0f} |"
            )
    print()
    for c in comparisons:
        best = c.ours.best / c.baseline.best
        median = c.ours.median / c.baseline.median
        # Runs i of both variants were back to back: their ratio is the least noisy figure.
        paired = statistics.median(
            a / b for a, b in zip(c.ours.results, c.baseline.results, strict=True)
        )
        passed = paired >= 1.0
        ok = ok and passed
        print(
            f"{'PASS' if passed else 'FAIL'}  {c.target}: websession/baseline = "
            f"{paired:.2f} (median of paired runs), {best:.2f} (best), {median:.2f} (median); "
            f"server CPU per request {c.ours.cpu_per_request / c.baseline.cpu_per_request:.2f}x"
        )
    return ok


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", choices=sorted(COMPARISONS), action="append")
    parser.add_argument("--runs", type=int, default=5, help="runs per variant (default 5)")
    parser.add_argument("--duration", type=float, default=5, help="seconds per run (5)")
    parser.add_argument("--threads", type=int, default=1, help="wrk threads (1)")
    parser.add_argument("--connections", type=int, default=16, help="wrk connections (16)")
    parser.add_argument("--workers", type=int, default=1, help="server workers (1)")
    args = parser.parse_args(argv)
    if shutil.which("wrk") is None:
        print("wrk is not installed (Debian: apt-get install wrk)", file=sys.stderr)
        return 2
    comparisons = [COMPARISONS[name] for name in (args.only or sorted(COMPARISONS))]
    with tempfile.TemporaryDirectory(prefix="ws-bench-http-") as app_dir:
        Path(app_dir, "ws_bench_apps.py").write_text(APPS)
        for c in comparisons:
            print(f"{c.title}: {c.ours.label} vs {c.baseline.label}", file=sys.stderr)
            measure(c, args, app_dir)
    return 0 if report(comparisons, args) else 1


if __name__ == "__main__":
    sys.exit(main())
