"""The test tree's own rules (issue 11), so a new file cannot quietly break them.

- Test modules import helpers from ``tests/support/`` (or their own folder's non-test
  modules), never from another test module: importing one runs its module-level fixtures and
  marks in the importer and ties two files' refactorings together.
- One ``conftest.py``, at ``tests/``: fixtures and hooks are found in one place.
"""

from __future__ import annotations

import ast
from pathlib import Path

TESTS = Path(__file__).resolve().parents[1]


def _imported_modules(path: Path) -> list[str]:
    """The modules ``path`` imports, relative imports resolved against its package."""
    package = list(path.relative_to(TESTS.parent).with_suffix("").parts[:-1])
    found: list[str] = []
    for node in ast.walk(ast.parse(path.read_text("utf-8"), str(path))):
        if isinstance(node, ast.Import):
            found.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = package[: len(package) - node.level + 1] if node.level else []
            module = ".".join([*base, *([node.module] if node.module else [])])
            if node.module:
                found.append(module)
            # ``from tests.stores import test_contract`` imports a module too
            found.extend(f"{module}.{alias.name}" for alias in node.names)
    return found


def test_no_module_of_the_suite_imports_a_test_module() -> None:
    offenders = [
        f"{path.relative_to(TESTS.parent)} imports {module}"
        for path in sorted(TESTS.rglob("*.py"))
        for module in _imported_modules(path)
        if module.startswith("tests.") and module.rsplit(".", 1)[-1].startswith("test_")
    ]
    assert offenders == []


def test_the_only_conftest_is_at_the_root_of_the_tests() -> None:
    assert sorted(TESTS.rglob("conftest.py")) == [TESTS / "conftest.py"]
