"""The embedded backends: memory and files."""

from __future__ import annotations

from tests.support.contract import BackendCase
from tests.support.scratch import scratch_dir
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
        make=lambda: FilesystemBackend(scratch_dir("ws-fs-")),
        follows_clock=True,
        make_with_clock=lambda clock: FilesystemBackend(scratch_dir("ws-fs-"), clock=clock),
    ),
]
