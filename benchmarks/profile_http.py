"""Where a server-side request's CPU time goes: py-spy on the real server under wrk load.

Run inside ``tools/testenv.py run`` (Redis, PostgreSQL), e.g.::

    WEBSESSION_TESTENV_ONLY=redis,postgresql .venv/bin/python tools/testenv.py run -- \\
        .venv/bin/python benchmarks/profile_http.py starlette-redis --seconds 10

Starts the pair's server(s) from ``http_stores.py`` exactly as the benchmark does, drives each
with the same wrk + Lua load, and samples the server process with ``py-spy record`` (100 Hz,
busy samples only: time waiting in the event loop's ``epoll`` or in ``accept`` is not counted).
Prints the share of the busy samples by where the innermost frame is (websession, the database
client, the framework, the server, asyncio, other) and the functions with the most samples,
inclusive and self. ``--raw DIR`` keeps py-spy's collapsed stacks (for flame graphs).
"""

from __future__ import annotations

import argparse
import collections
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from http_stores import LUA, Variant, check_counter, cpus, pairs, running, wrk

#: (label, substrings of a frame's file path), first match wins
AREAS = [
    ("websession", ("/websession/",)),
    (
        "database client",
        ("/redis/", "/hiredis", "/psycopg", "/sqlalchemy/", "/django/db/", "/django/core/cache/"),
    ),
    (
        "session library (peer)",
        ("/starsessions/", "/flask_session/", "/aiohttp_session/", "/django/contrib/sessions/",
         "/cachelib/", "/msgspec/"),
    ),
    (
        "crypto / serialization",
        ("/cryptography/", "/msgpack/", "/itsdangerous/", "json/", "/pickle", "base64",
         "hmac.py", "hashlib", "secrets.py"),
    ),
    ("framework", ("/starlette/", "/flask/", "/werkzeug/", "/aiohttp/web", "/django/")),
    ("server", ("/uvicorn/", "/h11/", "/gunicorn/", "/aiohttp/")),
    ("asyncio / sockets", ("asyncio/", "selectors.py", "socket.py", "ssl.py")),
]


PY_SPY: str | None = None  # the py-spy next to this Python (a venv's bin) or on PATH


def function(frame: str) -> str:
    """``name (path/file.py:123)`` -> ``name (path/file.py)``: one entry per function."""
    return re.sub(r":\d+\)$", ")", frame)


def area(frame: str) -> str:
    path = "/" + frame.rpartition(" (")[2]  # py-spy's paths are relative to site-packages
    for label, needles in AREAS:
        if any(n in path for n in needles):
            return label
    return "other"


def profile(v: Variant, args: argparse.Namespace, script: str, raw_dir: Path) -> None:
    server_pin, wrk_pin = cpus()
    with running(v, server_pin) as (url, pid):
        check_counter(url, v)
        wrk(url, script, args, wrk_pin, 1)
        out = raw_dir / f"{v.factory}.txt"
        spy = subprocess.Popen(
            [PY_SPY or "py-spy", "record", "--pid", str(pid), "--duration", str(int(args.seconds)),
             "--rate", "100", "--format", "raw", "--output", str(out), "--nonblocking",
             "--subprocesses"],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        )  # fmt: skip
        load = threading.Thread(
            target=wrk, args=(url, script, args, wrk_pin, args.seconds + 2), daemon=True
        )
        load.start()
        _, err = spy.communicate()
        load.join()
        if spy.returncode != 0 or not out.exists():
            raise RuntimeError(f"py-spy failed: {err.decode()[-2000:]}")
    summarize(v, out, args.top)


def summarize(v: Variant, path: Path, top: int) -> None:
    by_area: collections.Counter[str] = collections.Counter()
    inclusive: collections.Counter[str] = collections.Counter()
    self_time: collections.Counter[str] = collections.Counter()
    total = 0
    for line in path.read_text().splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack:
            continue
        count = int(count_text)
        frames = [function(f) for f in stack.split(";")]
        total += count
        by_area[area(frames[-1])] += count
        self_time[frames[-1]] += count
        for f in set(frames):
            inclusive[f] += count
    print(f"\n### {v.label} ({total} busy samples at 100 Hz)\n")
    print("| innermost frame in | share of busy samples |")
    print("|---|---:|")
    for label, count in by_area.most_common():
        print(f"| {label} | {count / total:.0%} |")
    print("\nTop functions, inclusive (websession's and the clients'):\n")
    shown = 0
    for f, count in inclusive.most_common():
        if area(f) in ("websession", "database client", "session library (peer)"):
            print(f"- {count / total:5.1%}  {f}")
            shown += 1
            if shown >= top:
                break
    print("\nTop functions, self:\n")
    for f, count in self_time.most_common(top):
        print(f"- {count / total:5.1%}  {f}")


def main(argv: list[str] | None = None) -> int:
    table = pairs()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("pair", choices=sorted(table))
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--top", type=int, default=15)
    parser.add_argument("--raw", type=Path, help="keep py-spy's collapsed stacks here")
    args = parser.parse_args(argv)
    global PY_SPY
    PY_SPY = shutil.which("py-spy", path=os.pathsep.join([str(Path(sys.executable).parent),
                                                          os.environ.get("PATH", "")]))  # fmt: skip
    if PY_SPY is None:
        print("py-spy is not installed (pip install py-spy)", file=sys.stderr)
        return 2
    p = table[args.pair]
    raw_dir = args.raw or Path(tempfile.mkdtemp(prefix="ws-profile-"))
    raw_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as f:
        f.write(LUA)
        script = f.name
    try:
        for v in [p.ours] + ([p.peer] if p.peer else []):
            profile(v, args, script, raw_dir)
    finally:
        os.unlink(script)
        if args.raw is None:
            shutil.rmtree(raw_dir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
