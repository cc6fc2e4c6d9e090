"""Run a framework's own session tests against websession, from its pinned sdist on PyPI.

The sdist is downloaded at test time (``pip download --no-deps --no-binary :all:``) into
``.compat-cache/`` at the repository root (gitignored), unpacked, copied to a scratch directory,
and patched there: only the lines that construct the session middleware or interface change
(each edit is an exact ``(old, new)`` pair that must match once, so an upstream change fails
loudly instead of silently testing something else). The suite then runs in a subprocess with
the framework's own pytest configuration, and the outcome of every test is read back from a
JUnit XML report.
"""

from __future__ import annotations

import importlib.metadata
import os
import shutil
import subprocess
import sys
import tarfile
import xml.etree.ElementTree as ET
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from tests.support.servers import require

ROOT = Path(__file__).resolve().parents[2]
CACHE = ROOT / ".compat-cache"
HERE = Path(__file__).resolve().parent
EXPECTED = HERE / "expected_failures.txt"


@dataclass(frozen=True)
class Edit:
    """Replace ``old`` by ``new`` in ``path`` (relative to the sdist root); ``old`` must occur
    exactly ``count`` times."""

    path: str
    old: str
    new: str
    count: int = 1


@dataclass(frozen=True)
class Suite:
    """One framework's test files, pinned to the version installed in the venv."""

    name: str
    dist: str  # the distribution name on PyPI
    version: str
    edits: Sequence[Edit] = ()
    shims: Mapping[str, str] = field(default_factory=dict)  # our file -> where it goes
    remove: Sequence[str] = ()  # files of the sdist the run must not load (e.g. a conftest)

    @property
    def archive_stem(self) -> str:
        return f"{self.dist.replace('-', '_').lower()}-{self.version}"


def check_pin(suite: Suite) -> None:
    installed = importlib.metadata.version(suite.dist)
    assert installed == suite.version, (
        f"{suite.dist} {installed} is installed but the compat suite is pinned to "
        f"{suite.version}: update the pin in tests/compat and re-check expected_failures.txt"
    )


def sdist(suite: Suite, *, in_test: bool = True) -> Path:
    """The unpacked sdist, downloaded into the cache on first use.

    A failed download fails the test under CI (skips it locally); outside a test it raises.
    """
    CACHE.mkdir(exist_ok=True)
    unpacked = CACHE / suite.archive_stem
    if unpacked.is_dir():
        return unpacked
    archives = list(CACHE.glob(f"{suite.archive_stem}.tar.gz"))
    if not archives:
        command = [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps",
                   "--no-binary", ":all:", "--dest", str(CACHE),
                   f"{suite.dist}=={suite.version}"]  # fmt: skip
        done = subprocess.run(command, capture_output=True, text=True, timeout=600)
        archives = list(CACHE.glob(f"{suite.archive_stem}.tar.gz"))
        if done.returncode != 0 or not archives:
            message = (
                f"cannot download the {suite.dist} {suite.version} sdist (`make test` fetches "
                f"it before entering its network namespace: `python -m tests.compat.fetch`): "
                f"{done.stderr[-2000:]}"
            )
            if not in_test:
                raise RuntimeError(message)
            require(False, message)
    scratch = CACHE / f".{suite.archive_stem}.partial"
    shutil.rmtree(scratch, ignore_errors=True)
    with tarfile.open(archives[0]) as tar:
        tar.extractall(scratch, filter="data")
    (scratch / suite.archive_stem).rename(unpacked)
    shutil.rmtree(scratch, ignore_errors=True)
    return unpacked


def prepare(suite: Suite, workdir: Path, parts: Sequence[str]) -> Path:
    """A patched copy of the sdist's ``parts`` (paths relative to its root) in ``workdir``."""
    source = sdist(suite)
    target = workdir / suite.archive_stem
    for part in parts:
        src = source / part
        if src.is_dir():
            shutil.copytree(src, target / part)
        else:
            (target / part).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, target / part)
    for name in suite.remove:
        (target / name).unlink()
    for edit in suite.edits:
        path = target / edit.path
        text = path.read_text()
        found = text.count(edit.old)
        assert found == edit.count, (
            f"{suite.name}: expected {edit.count} of {edit.old!r} in {edit.path}, found {found}"
        )
        path.write_text(text.replace(edit.old, edit.new))
    for ours, theirs in suite.shims.items():
        (target / theirs).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(HERE / ours, target / theirs)
    return target


@dataclass
class Outcome:
    passed: set[str] = field(default_factory=set)
    failed: dict[str, str] = field(default_factory=dict)  # test id -> first line of the error
    skipped: set[str] = field(default_factory=set)

    @property
    def total(self) -> int:
        return len(self.passed) + len(self.failed) + len(self.skipped)


def run_pytest(
    root: Path, args: Sequence[str], env: Mapping[str, str] | None = None, timeout: int = 600
) -> Outcome:
    """Run pytest in ``root`` (its own configuration) and read every test's outcome."""
    report = root / "junit.xml"
    command = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q",
               f"--junitxml={report}", "-o", "junit_family=xunit1",
               "-o", "asyncio_default_fixture_loop_scope=function", *args]  # fmt: skip
    environment = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1", **(env or {})}
    environment.pop("PYTEST_ADDOPTS", None)
    done = subprocess.run(
        command, cwd=root, env=environment, capture_output=True, text=True, timeout=timeout
    )
    assert report.exists(), f"pytest did not run:\n{done.stdout[-4000:]}\n{done.stderr[-4000:]}"
    return read_junit(report, done.stdout)


def read_junit(report: Path, log: str = "") -> Outcome:
    outcome = Outcome()
    for case in ET.parse(report).iter("testcase"):
        file = case.get("file") or case.get("classname", "").replace(".", "/") + ".py"
        test_id = f"{file}::{case.get('name')}"
        problem = case.find("failure")
        if problem is None:
            problem = case.find("error")
        if problem is not None:
            message = (problem.get("message") or "").strip().splitlines()
            outcome.failed[test_id] = message[0][:300] if message else "(no message)"
        elif case.find("skipped") is not None:
            outcome.skipped.add(test_id)
        else:
            outcome.passed.add(test_id)
    assert outcome.total, f"no test ran:\n{log[-4000:]}"
    return outcome


def expected_failures(suite: str) -> dict[str, str]:
    """``expected_failures.txt``: ``suite  test-id  reason`` per line, ``#`` comments."""
    found: dict[str, str] = {}
    for raw in EXPECTED.read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        name, test_id, reason = line.split(maxsplit=2)
        if name == suite:
            found[test_id] = reason
    return found


def check(suite: str, outcome: Outcome, at_least: int, of: int) -> None:
    """The outcome is exactly the expected one: the listed failures fail, all else passes."""
    expected = expected_failures(suite)
    unexpected = {t: m for t, m in outcome.failed.items() if t not in expected}
    now_passing = sorted(t for t in expected if t in outcome.passed)
    missing = sorted(t for t in expected if t not in outcome.failed and t not in outcome.passed)
    summary = (
        f"{suite}: {len(outcome.passed)} passed, {len(outcome.failed)} failed, "
        f"{len(outcome.skipped)} skipped of {outcome.total}"
    )
    assert not unexpected, f"{summary}; failures not listed in expected_failures.txt: " + (
        "\n".join(f"  {t}: {m}" for t, m in sorted(unexpected.items()))
    )
    assert not now_passing, (
        f"{summary}; listed in expected_failures.txt but passing now (remove them): {now_passing}"
    )
    assert not missing, f"{summary}; listed tests that did not run: {missing}"
    assert not outcome.skipped, f"{summary}; skipped: {sorted(outcome.skipped)}"
    assert outcome.total == of, f"{summary}; expected {of} tests"
    assert len(outcome.passed) >= at_least, f"{summary}; expected at least {at_least} to pass"
    print(summary)
