"""Test environment: install and run the servers the test suite needs (filled in by the stores work)."""

from __future__ import annotations

import os
import subprocess
import sys


def main(argv: list[str]) -> int:
    if not argv:
        print("usage: testenv.py install | run -- COMMAND...", file=sys.stderr)
        return 2
    if argv[0] == "install":
        return 0
    if argv[0] == "run":
        cmd = argv[2:] if argv[1:2] == ["--"] else argv[1:]
        return subprocess.call(cmd, env=os.environ.copy())
    print(f"unknown command {argv[0]!r}", file=sys.stderr)
    return 2


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
