"""Purge at scale: N expired sessions purged while a loop loads and saves live ones.

``make bench-purge`` (servers from ``tools/testenv.py run``) or by hand::

    python benchmarks/purge.py --n 1000000 --stores sqlite,postgresql,mysql,file
    python benchmarks/purge.py --n 10000 --stores mongodb,dynamodb,datastore,firestore

(the last four are filled one save at a time, so a smaller N).

For each store: fill N expired records in bulk, start a thread that loads and saves 50 live
sessions (1 ms apart) on its own connection, purge, and print the purge's wall and CPU time,
its batches, and the loop's max and p99 latency and errors (see ``tests/support/purge_load.py``).
Targets (issue 14): no load or save waits more than 100 ms; purge <= 15 s on SQLite,
PostgreSQL and MySQL, <= 60 s on the filesystem. The CPU time and the load average printed
with each row tell a busy machine's wall times from the code's.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.support.purge_load import KINDS, REMOTE_KINDS, describe, measure

SERVER_VARS = {
    "postgresql": "WEBSESSION_TEST_POSTGRES_URL",
    "mysql": "WEBSESSION_TEST_MYSQL_URL",
    "mongodb": "WEBSESSION_TEST_MONGODB_URL",
    "dynamodb": "WEBSESSION_TEST_DYNAMODB_URL",
}
#: stores found through their own environment variable (the URL is not passed)
EMULATOR_VARS = {"datastore": "DATASTORE_EMULATOR_HOST", "firestore": "FIRESTORE_EMULATOR_HOST"}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=1_000_000, help="expired sessions to purge")
    parser.add_argument(
        "--stores",
        default=",".join(KINDS),
        help="comma-separated: " + ", ".join((*KINDS, *REMOTE_KINDS)),
    )
    parser.add_argument("--dir", default=None, help="where the local stores go (a temp dir)")
    args = parser.parse_args(argv)
    failed = False
    for kind in args.stores.split(","):
        url = None
        if kind in SERVER_VARS:
            url = os.environ.get(SERVER_VARS[kind])
            if not url:
                print(f"{kind}: skipped ({SERVER_VARS[kind]} is not set)", flush=True)
                continue
        elif kind in EMULATOR_VARS and not os.environ.get(EMULATOR_VARS[kind]):
            print(f"{kind}: skipped ({EMULATOR_VARS[kind]} is not set)", flush=True)
            continue
        result = measure(kind, args.n, where=args.dir, url=url)
        load = os.getloadavg()[0]
        print(f"{describe(result)}; load average {load:.1f}", flush=True)
        limit = 60.0 if kind == "file" else 15.0
        if result.loop_errors or result.removed != args.n:
            failed = True
            print(f"  FAIL: {result.loop_errors[:3]}", flush=True)
        verdict = "PASS" if result.max_latency <= 0.1 and result.seconds <= limit else "MISS"
        print(
            f"  {verdict}: max {result.max_latency * 1000:.0f} ms (<= 100), "
            f"{result.seconds:.1f} s (<= {limit:.0f})",
            flush=True,
        )
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
