#!/usr/bin/env python3
"""Generate the backends' sync code from their async source (``make generate``).

A backend's operations are written once, as async code, in
``src/websession/backends/_async/<name>.py``; this script writes the sync twin of every such file
(all ``*.py`` there but ``__init__.py``: there is no list to keep) to
``src/websession/backends/_sync/<name>.py`` by substituting whole words and a few phrases
(``async def`` -> ``def``, ``await x`` -> ``x``, ``aget`` -> ``get``, ``AsyncFoo`` -> ``Foo``,
...: see ``SUBSTITUTIONS``, extend it there), then formats the result with ``ruff format`` so
it is stable under ``make lint``. A source line ending in ``# unasync: remove`` is left out of
the sync code (an import only the async side needs, say).

``--check`` writes nothing: it exits 1 naming every generated file that is missing, stale or
has no source any more (``make lint`` runs it), 0 when all are current.

The idea and the substitution style follow httpcore's ``scripts/unasync.py``: a table of
regular expressions is simpler to read and to extend than an AST transformer, and the async
source stays ordinary Python that mypy and ruff check as they are.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ASYNC_DIR = Path("src/websession/backends/_async")
SYNC_DIR = Path("src/websession/backends/_sync")

#: (regular expression, replacement), applied in order to every line of the async source. Plain
#: identifiers are matched as whole words only (``aget`` never touches ``target``).
SUBSTITUTIONS: list[tuple[str, str]] = [
    # the language
    (r"\basync def\b", "def"),
    (r"\basync with\b", "with"),
    (r"\basync for\b", "for"),
    (r"\bawait ", ""),
    (r"\b__aenter__\b", "__enter__"),
    (r"\b__aexit__\b", "__exit__"),
    (r"\b__aiter__\b", "__iter__"),
    (r"\b__anext__\b", "__next__"),
    (r"\bStopAsyncIteration\b", "StopIteration"),
    (r"\basynccontextmanager\b", "contextmanager"),
    (r"\bAsyncExitStack\b", "ExitStack"),
    (r"\bAsyncIterator\b", "Iterator"),
    (r"\bAsyncIterable\b", "Iterable"),
    (r"\bAsyncGenerator\b", "Generator"),
    (r"\bAwaitable\[([^\]]*)\]", r"\1"),
    (r"\basyncio\.sleep\b", "time.sleep"),
    # ... so a source's asyncio is time in its twin (any other use of asyncio would have no
    # sync meaning: ruff's undefined-name check in make lint catches it)
    (r"^import asyncio$", "import time"),
    (r"\basyncio\.TimeoutError\b", "TimeoutError"),
    # websession's backend protocol: the async methods are the sync names with an "a" in front
    (r"\baget\b", "get"),
    (r"\baset\b", "set"),
    (r"\badelete\b", "delete"),
    (r"\bapurge\b", "purge"),
    (r"\baclose\b", "close"),
    (r"\baindex\b", "index"),
    (r"\baowned\b", "owned"),
    (r"\baunindex\b", "unindex"),
    # helpers of the backends, by the same rule (an async helper ``_afoo`` is the sync ``_foo``)
    (
        r"\b_a(command|client|call|execute|fetch|connect|transaction|cursor|checkout|checkin)\b",
        r"_\1",
    ),
    # ... and the SQL backends' (sqlbase, postgresql, mysql, sqlalchemy)
    (r"\ba(create_schema|drop_schema|purge_owners|purge_in_batches)\b", r"\1"),
    (
        r"\b_a(run|connection|drain|open_pool|configure|bounded|statement|pool|prepared|schema"
        r"|touch|update|upsert|result|write|create)\b",
        r"_\1",
    ),
    (r"\bAbstractAsyncContextManager\b", "AbstractContextManager"),
    # classes: AsyncRedisOps -> RedisOps, redis.asyncio.Redis -> redis.Redis
    (r"\bAsync([A-Z]\w*)", r"\1"),
    (r"\bredis\.asyncio\b", "redis"),
    # words in docstrings and comments
    (r"\basynchronous\b", "synchronous"),
    (r"\bAsynchronous\b", "Synchronous"),
    (r"\ban async\b", "a sync"),
    (r"\bAn async\b", "A sync"),
    (r"\basync\b", "sync"),
]

_COMPILED = [(re.compile(pattern), replacement) for pattern, replacement in SUBSTITUTIONS]
_REMOVE = re.compile(r"#\s*unasync:\s*remove\s*$")


def header(source: Path) -> str:
    name = source.name
    return f"# GENERATED from _async/{name} by tools/unasync.py (make generate): do not edit.\n"


def unasync_text(text: str) -> str:
    """The sync code for an async source text (before formatting)."""
    lines = []
    for line in text.splitlines(keepends=True):
        if _REMOVE.search(line):
            continue
        for pattern, replacement in _COMPILED:
            line = pattern.sub(replacement, line)
        lines.append(line)
    return "".join(lines)


def ruff_format(text: str, target: Path, root: Path) -> str:
    """``text`` as ``ruff format`` (the project's settings) writes it for ``target``."""
    result = subprocess.run(
        [sys.executable, "-m", "ruff", "format", "--stdin-filename", str(target), "-"],
        input=text,
        capture_output=True,
        text=True,
        cwd=root,
        check=False,
    )
    if result.returncode != 0:
        raise SystemExit(f"ruff format failed on the sync code for {target}:\n{result.stderr}")
    return result.stdout


def generated(root: Path) -> dict[Path, str]:
    """{sync file (relative to root): its expected content} for every async source."""
    out: dict[Path, str] = {}
    for source in sorted((root / ASYNC_DIR).glob("*.py")):
        if source.name == "__init__.py":
            continue
        relative = source.relative_to(root)
        target = SYNC_DIR / source.name
        text = header(relative) + unasync_text(source.read_text(encoding="utf-8"))
        out[target] = ruff_format(text, target, root)
    return out


def stale(root: Path) -> list[str]:
    """Why each generated file is not current (empty when all are)."""
    expected = generated(root)
    problems = []
    for target, text in expected.items():
        path = root / target
        if not path.exists():
            problems.append(f"{target}: missing")
        elif path.read_text(encoding="utf-8") != text:
            problems.append(f"{target}: stale (its async source changed, or it was edited)")
    for path in sorted((root / SYNC_DIR).glob("*.py")):
        relative = path.relative_to(root)
        if path.name != "__init__.py" and relative not in expected:
            problems.append(f"{relative}: no async source {ASYNC_DIR / path.name}")
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--check", action="store_true", help="exit 1 if a sync file is stale")
    parser.add_argument("--root", type=Path, default=ROOT, help="the repository (for tests)")
    args = parser.parse_args(argv)
    root: Path = args.root.resolve()
    if args.check:
        problems = stale(root)
        for problem in problems:
            print(f"tools/unasync.py --check: {problem}", file=sys.stderr)
        if problems:
            print("run `make generate` to write the sync code again", file=sys.stderr)
        return 1 if problems else 0
    for target, text in generated(root).items():
        path = root / target
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            path.write_text(text, encoding="utf-8")
            print(f"wrote {target}")
    for path in sorted((root / SYNC_DIR).glob("*.py")):
        if path.name != "__init__.py" and not (root / ASYNC_DIR / path.name).exists():
            path.unlink()
            print(f"removed {path.relative_to(root)} (its async source is gone)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
