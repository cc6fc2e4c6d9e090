"""The order of the tests under pytest-xdist's ``worksteal``: the long ones spread out first.

``worksteal`` first hands each worker a contiguous share of the collected tests, in order, then
lets an idle worker take the back half of the longest queue. The long tests (marked ``slow``: a
frozen server, a failover, a real clock, a Django project served three times) are grouped by
module, so a share could hold most of them and finish a minute after the rest.
:func:`spread_slow` gives every share an equal part of them, spaced over its first two thirds:
their waits overlap the other workers' CPU-bound tests, and the short tests left at the end of
each share even out the finish.
"""

from __future__ import annotations

import pytest


def is_long(item: pytest.Item) -> bool:
    # not "browser": those take 2-4 s, and each module's Chromium would be launched once per
    # worker its tests were spread over
    return item.get_closest_marker("slow") is not None


def shares(total: int, workers: int) -> list[int]:
    """The sizes of the first shares ``worksteal`` hands out (its ``check_schedule``: each
    worker in turn gets the pending tests divided by the workers still to serve)."""
    sizes = []
    for k in range(workers):
        sizes.append(total // (workers - k))
        total -= sizes[-1]
    return sizes


def spread_slow(items: list[pytest.Item], workers: int) -> list[pytest.Item]:
    """``items`` reordered so that each of the ``workers`` first shares holds every
    ``workers``-th long test, spaced over its first two thirds (see the module's docstring)."""
    long = [item for item in items if is_long(item)]
    short = iter([item for item in items if not is_long(item)])
    sizes = shares(len(items), workers)
    parts = [long[k::workers] for k in range(workers)]
    if workers < 2 or not long or any(len(p) > s for p, s in zip(parts, sizes)):
        return items
    ordered: list[pytest.Item] = []
    for part, size in zip(parts, sizes):
        span = max(len(part), 2 * size // 3)
        at = {j * span // len(part): test for j, test in enumerate(part)} if part else {}
        ordered.extend(at[i] if i in at else next(short) for i in range(size))
    return ordered
