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
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

HOST = "127.0.0.1"
ROOT = Path(__file__).resolve().parent.parent
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


def cpus() -> tuple[list[str], list[str]]:
    """taskset prefixes for the server and for wrk (empty when pinning is not possible)."""
    taskset = shutil.which("taskset")
    count = os.cpu_count() or 1
    if taskset is None or count < 2:
        return [], []
    return [taskset, "-c", "0"], [taskset, "-c", "1"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


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


@contextlib.contextmanager
def running(
    variant: Variant, app_dir: str, workers: int, pin: list[str]
) -> Iterator[tuple[str, int]]:
    port = free_port()
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), app_dir])}
    argv = [*pin, *server_argv(variant, port, app_dir, workers)]
    with tempfile.TemporaryFile() as log:
        process = subprocess.Popen(argv, env=env, stdout=log, stderr=log, cwd=app_dir)
        try:
            deadline = time.monotonic() + 30
            while True:
                if process.poll() is not None:
                    log.seek(0)
                    raise RuntimeError(f"{' '.join(argv)} exited:\n{log.read().decode()}")
                try:
                    with socket.create_connection((HOST, port), timeout=0.5):
                        break
                except OSError:
                    if time.monotonic() > deadline:
                        raise RuntimeError(f"{' '.join(argv)} did not listen") from None
                    time.sleep(0.05)
            yield f"http://{HOST}:{port}/", process.pid
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def cpu_seconds(pid: int) -> float:
    """CPU time (user + system) used so far by ``pid`` and its descendants (Linux /proc)."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0
    stack = [pid]
    while stack:
        current = stack.pop()
        try:
            fields = Path(f"/proc/{current}/stat").read_text().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])  # utime, stime
            for task in Path(f"/proc/{current}/task").iterdir():
                stack.extend(int(c) for c in (task / "children").read_text().split())
        except (OSError, IndexError, ValueError):
            continue
    return total / tick


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


_RPS = re.compile(r"Requests/sec:\s+([\d.]+)")
_REQUESTS = re.compile(r"(\d+) requests in")
_ERRORS = re.compile(r"Non-2xx or 3xx responses: (\d+)|Socket errors: (.*)")


def wrk(
    url: str, cookie: str, args: argparse.Namespace, pin: list[str], seconds: float
) -> tuple[float, int]:
    """Run wrk; return (requests per second, requests completed)."""
    argv = [*pin, "wrk", "-t", str(args.threads), "-c", str(args.connections), "-d",
            f"{seconds:g}s", "-H", f"Cookie: {cookie}", url]  # fmt: skip
    out = subprocess.run(argv, capture_output=True, text=True, check=True).stdout
    match = _RPS.search(out)
    if match is None:
        raise RuntimeError(f"cannot read wrk's output:\n{out}")
    errors = _ERRORS.search(out)
    if errors is not None:
        raise RuntimeError(f"wrk saw errors against {url}:\n{out}")
    done = _REQUESTS.search(out)
    return float(match.group(1)), int(done.group(1)) if done else 0


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
        for i in range(args.runs):
            order = variants if i % 2 == 0 else variants[::-1]  # A B, B A, A B...
            for v in order:
                before = cpu_seconds(pids[v.app])
                rps, requests = wrk(urls[v.app], cookies[v.app], args, wrk_pin, args.duration)
                used = cpu_seconds(pids[v.app]) - before
                v.results.append(rps)
                v.cpu.append(used / max(requests, 1) * 1e6)
                print(
                    f"  run {i + 1}: {v.label}: {rps:,.0f} req/s, "
                    f"server CPU {v.cpu[-1]:,.0f} µs/request",
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
