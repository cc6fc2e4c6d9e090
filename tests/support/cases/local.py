"""The embedded backends: memory and files."""

from __future__ import annotations

import tempfile

from tests.support.contract import BackendCase
from websession.backends.filesystem import FilesystemBackend
from websession.backends.memory import MemoryBackend

CASES = [
    BackendCase(
        id="memory",
        make=MemoryBackend,
        follows_clock=True,
        make_with_clock=lambda clock: MemoryBackend(clock=clock),
    ),
    BackendCase(
        id="filesystem",
        make=lambda: FilesystemBackend(tempfile.mkdtemp(prefix="ws-fs-")),
        follows_clock=True,
        make_with_clock=lambda clock: FilesystemBackend(
            tempfile.mkdtemp(prefix="ws-fs-"), clock=clock
        ),
    ),
]
