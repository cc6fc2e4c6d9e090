"""Download and unpack the pinned sdists tests/compat runs, into .compat-cache/.

``make test`` runs this before starting the test servers: the tests themselves run inside a
loopback-only network namespace (tools/testenv.py), where PyPI cannot be reached. Run it by
hand (``python -m tests.compat.fetch``) to run tests/compat that way outside ``make test``.
"""

from __future__ import annotations

import sys

from tests.compat.harness import sdist
from tests.compat.suites import AIOHTTP_SESSION, DJANGO, FLASK, STARLETTE


def main() -> int:
    for suite in (FLASK, STARLETTE, AIOHTTP_SESSION, DJANGO):
        print(f"compat: {suite.dist} {suite.version}: {sdist(suite, in_test=False)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
