"""What the wrk benchmarks share (``http_throughput.py``, ``http_stores.py``, and the scripts
built on them): the CPU pinning, a server run until it listens, one wrk run read back, and the
interleaved runs with the server's CPU time per request.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

HOST = "127.0.0.1"
ROOT = Path(__file__).resolve().parent.parent
K = TypeVar("K")


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


@contextlib.contextmanager
def serving(
    argv: list[str],
    port: int,
    *,
    cwd: str | Path,
    pythonpath: Sequence[str | Path],
    extra_env: dict[str, str] | None = None,
    deadline: float = 60,
) -> Iterator[tuple[str, int]]:
    """Run a server (``src/`` and ``pythonpath`` importable) until it listens on ``port``;
    yield its URL and pid; stop it after. Its output is shown only if it exits early."""
    path = os.pathsep.join([str(ROOT / "src"), *(str(p) for p in pythonpath)])
    env = {**os.environ, "PYTHONPATH": path, **(extra_env or {})}
    with tempfile.TemporaryFile() as log:
        process = subprocess.Popen(argv, env=env, stdout=log, stderr=log, cwd=cwd)
        try:
            until = time.monotonic() + deadline
            while True:
                if process.poll() is not None:
                    log.seek(0)
                    raise RuntimeError(f"{' '.join(argv)} exited:\n{log.read().decode()}")
                try:
                    with socket.create_connection((HOST, port), timeout=0.5):
                        break
                except OSError:
                    if time.monotonic() > until:
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


_RPS = re.compile(r"Requests/sec:\s+([\d.]+)")
_REQUESTS = re.compile(r"(\d+) requests in")
_ERRORS = re.compile(r"Non-2xx or 3xx responses: (\d+)|Socket errors: (.*)")


@dataclass
class WrkRun:
    """One wrk run: requests per second, requests completed, wrk's error line (None: no
    errors), and its whole output (for what a Lua script printed)."""

    rps: float
    requests: int
    errors: str | None
    out: str


def wrk(url: str, options: list[str], pin: list[str], seconds: float) -> WrkRun:
    """Run ``wrk OPTIONS -d SECONDS URL`` (pinned by ``pin``) and read its summary."""
    argv = [*pin, "wrk", *options, "-d", f"{seconds:g}s", url]
    out = subprocess.run(argv, capture_output=True, text=True, check=True).stdout
    rps = _RPS.search(out)
    if rps is None:
        raise RuntimeError(f"cannot read wrk's output:\n{out}")
    done = _REQUESTS.search(out)
    errors = _ERRORS.search(out)
    return WrkRun(
        float(rps.group(1)),
        int(done.group(1)) if done else 0,
        errors.group(0) if errors else None,
        out,
    )


R = TypeVar("R", bound=WrkRun)


def interleaved(
    variants: list[K], pids: Callable[[K], int], runs: int, run: Callable[[K], R]
) -> Iterator[tuple[int, K, R, float]]:
    """``run`` each variant ``runs`` times, alternating (A B, B A, A B...: runs made back to back
    pair up for ratios); yield (run index, variant, result, server CPU µs per request)."""
    for i in range(runs):
        for variant in variants if i % 2 == 0 else variants[::-1]:
            before = cpu_seconds(pids(variant))
            result = run(variant)
            used = cpu_seconds(pids(variant)) - before
            yield i, variant, result, used / max(result.requests, 1) * 1e6
