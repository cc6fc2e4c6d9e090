"""Scratch directories for backends that tests make outside fixtures (the contract's cases).

They all live under one directory per test process, removed when the process exits, so a run
of thousands of tests leaves nothing behind in the system's temporary directory.
"""

from __future__ import annotations

import tempfile

# Removed at interpreter exit (weakref.finalize); an LMDB file still mapped is no obstacle.
_ROOT = tempfile.TemporaryDirectory(prefix="websession-tests-", ignore_cleanup_errors=True)


def scratch_dir(prefix: str) -> str:
    """A new, empty directory under this process's scratch root."""
    return tempfile.mkdtemp(prefix=prefix, dir=_ROOT.name)
