"""The distributions a release would publish: built from this checkout, checked as PyPI would.

``python -m build`` makes the sdist and then the wheel *from that sdist* (so the sdist builds on
its own); ``twine check`` validates both; the tests below look inside them for what a user gets.
Built without isolation (the ``dist`` dependency group brings setuptools), since ``make test``
runs where no package index can be reached.
"""

from __future__ import annotations

import email
import subprocess
import sys
import tarfile
import zipfile
from email.message import Message
from pathlib import Path

import pytest

from tests.support.once import made_once

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "src" / "websession"

pytestmark = pytest.mark.slow


def build(out: Path) -> None:
    # the sdist step writes src/websession.egg-info in the checkout: made_once's lock also keeps
    # two workers from building at once (one build would fail)
    subprocess.run(
        [sys.executable, "-m", "build", "--no-isolation", "--outdir", str(out), str(ROOT)],
        check=True,
        capture_output=True,
        timeout=600,
    )


@pytest.fixture(scope="module")
def dist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return made_once(tmp_path_factory, "dist", build)


def only(directory: Path, pattern: str) -> Path:
    (path,) = directory.glob(pattern)
    return path


def wheel_names(dist: Path) -> set[str]:
    with zipfile.ZipFile(only(dist, "*.whl")) as wheel:
        return set(wheel.namelist())


def wheel_metadata(dist: Path) -> Message:
    with zipfile.ZipFile(only(dist, "*.whl")) as wheel:
        (name,) = [n for n in wheel.namelist() if n.endswith(".dist-info/METADATA")]
        return email.message_from_bytes(wheel.read(name))


def test_twine_check_passes(dist: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "twine", "check", "--strict", *map(str, sorted(dist.iterdir()))],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.count("PASSED") == 2


def test_wheel_holds_every_module_and_the_typing_marker(dist: Path) -> None:
    names = wheel_names(dist)
    expected = {
        str(path.relative_to(PACKAGE.parent))
        for path in PACKAGE.rglob("*")
        if path.is_file() and path.suffix in (".py", ".typed")
    }
    assert "websession/py.typed" in expected
    assert expected <= names, sorted(expected - names)
    # nothing but the package and its metadata: no tests, examples, tools or caches
    stray = {n for n in names if not n.startswith(("websession/", "websession-"))}
    assert stray == set()
    assert not [n for n in names if "__pycache__" in n or n.endswith(".pyc")]
    assert any(n.endswith(".dist-info/licenses/LICENSE") for n in names)
    with zipfile.ZipFile(only(dist, "*.whl")) as wheel:
        (entry_points,) = [n for n in names if n.endswith("entry_points.txt")]
        assert "websession = websession.cli:main" in wheel.read(entry_points).decode()


def test_wheel_metadata_for_pypi(dist: Path) -> None:
    from trove_classifiers import classifiers as known

    meta = wheel_metadata(dist)
    assert meta["License-Expression"] == "BSD-3-Clause"
    assert meta["Requires-Python"] == ">=3.10"
    classifiers = meta.get_all("Classifier") or []
    assert set(classifiers) <= known, set(classifiers) - known
    for wanted in ("Typing :: Typed", "Framework :: Django", "Framework :: Flask"):
        assert wanted in classifiers
    python = "Programming Language :: Python :: "
    versions = {c.removeprefix(python) for c in classifiers if c.startswith(python + "3.")}
    assert versions == {"3.10", "3.11", "3.12", "3.13"}
    urls = dict(u.split(", ", 1) for u in meta.get_all("Project-URL") or [])
    assert {"Documentation", "Source", "Issues", "Changelog"} <= set(urls)
    # development tools are dependency groups, not published extras
    extras = set(meta.get_all("Provides-Extra") or [])
    assert {"redis", "postgresql", "flask", "all", "examples"} <= extras
    assert not extras & {"test", "bench", "dev", "docs"}
    examples = [r for r in meta.get_all("Requires-Dist") or [] if 'extra == "examples"' in r]
    for server in ("gunicorn", "uvicorn", "hypercorn"):
        assert any(r.startswith(server) for r in examples), examples


def test_sdist_leaves_the_tests_out_and_keeps_license_and_changelog(dist: Path) -> None:
    with tarfile.open(only(dist, "*.tar.gz")) as sdist:
        names = {n.split("/", 1)[1] for n in sdist.getnames() if "/" in n}
    assert {"LICENSE", "CHANGELOG.md", "README.md", "pyproject.toml"} <= names
    assert "src/websession/py.typed" in names
    assert not [n for n in names if n.startswith("tests")]
