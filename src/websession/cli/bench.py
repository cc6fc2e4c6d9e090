"""``websession bench``: the codec benchmark of a source checkout."""

from __future__ import annotations

import argparse
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path


def benchmark_script() -> Path | None:
    """benchmarks/cookie_codecs.py of the source checkout this package runs from, if any."""
    here = Path(__file__).resolve().parent.parent  # src/websession
    candidate = here.parent.parent / "benchmarks" / "cookie_codecs.py"
    return candidate if candidate.is_file() else None


def cmd_bench(argv: Sequence[str]) -> int:
    script = benchmark_script()
    if script is None:
        print(
            "websession bench: the benchmarks are not installed with the package. Run it from a "
            "source checkout (git clone, then `make bench` or `websession bench` with an "
            "editable install).",
            file=sys.stderr,
        )
        return 2
    try:
        return subprocess.call([sys.executable, str(script), *argv])
    except KeyboardInterrupt:
        return 130


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the command to the ``websession`` parser's subcommands."""
    sub.add_parser(
        "bench",
        help="run the codec benchmark (from a source checkout)",
        description="Run benchmarks/cookie_codecs.py with this Python; every argument is passed "
        "on (`websession bench --help` shows the benchmark's options).",
        add_help=False,
    )
