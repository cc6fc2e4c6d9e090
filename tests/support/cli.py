"""What the tests of the `websession` command (tests/cli/) share: the real command line."""

from __future__ import annotations

import os
import subprocess
import sys

SECRET = "cli test secret, long enough to be a real one"
OLD_SECRET = "the secret before the rotation, also long"


def run(*args: str, cwd: str | None = None) -> subprocess.CompletedProcess[str]:
    """The real command line: a new Python process, as users run it."""
    return subprocess.run(
        [sys.executable, "-m", "websession", *args],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=cwd,
        env={k: v for k, v in os.environ.items() if k != "WEBSESSION_SECRET"},
    )


def cookie_value(set_cookie: str) -> str:
    return set_cookie.split(";", 1)[0].split("=", 1)[1]


def values_of(out: str) -> dict[str, str]:
    """The printed values: {repr(key): repr(value)} from the lines after "values"."""
    lines = out.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("values"))
    pairs = (line.strip().split(" : ", 1) for line in lines[start + 1 :] if " : " in line)
    return {k.strip(): v.strip() for k, v in pairs}
