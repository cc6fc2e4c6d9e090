"""The test tree's own rules (issue 11), so a new file cannot quietly break them.

- Test modules import helpers from ``tests/support/`` (or their own folder's non-test
  modules), never from another test module: importing one runs its module-level fixtures and
  marks in the importer and ties two files' refactorings together.
- One ``conftest.py``, at ``tests/``: fixtures and hooks are found in one place.
- The tests mirror ``src/websession/``: each public module has its test file at the mirrored
  path (``backends/redis.py`` -> ``tests/backends/test_redis.py``; the framework adapters under
  ``tests/integrations/``), or is listed in ``ELSEWHERE`` with the file that tests it.
"""

from __future__ import annotations

import ast
from pathlib import Path

TESTS = Path(__file__).resolve().parents[1]
PACKAGE = TESTS.parent / "src" / "websession"
ADAPTERS = {"wsgi", "asgi", "flask", "quart", "django", "aiohttp", "starlette", "fastapi",
            "litestar"}  # fmt: skip
#: modules tested somewhere other than their mirrored path, and where
ELSEWHERE = {
    "__main__.py": "cli/test_cli.py",  # ``python -m websession``
    "backends/base.py": "stores/test_contract.py",  # the Backend protocol: the contract
    "cli/demo.py": "demo/test_demo.py",
    "codecs/base.py": "codecs/test_sealed.py",  # the Codec protocol, through both codecs
    "serializers/base.py": "serializers/test_msgpack.py",  # the protocol, through each one
    "serializers/gotypes.py": "serializers/test_gob.py",
    "stores/base.py": "stores/test_contract.py",
    "stores/server.py": "stores/test_contract.py",  # ServerStore over every backend
    "stores/owners.py": "stores/test_contract_revocation.py",
    "demo/app.py": "demo/test_demo.py",
    "demo/pages.py": "demo/test_browser.py",
}


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


def _mirror(module: Path) -> str:
    relative = module.relative_to(PACKAGE)
    if relative.as_posix() in ELSEWHERE:
        return ELSEWHERE[relative.as_posix()]
    if len(relative.parts) == 1 and relative.stem in ADAPTERS:
        return f"integrations/test_{relative.stem}.py"
    return (relative.parent / f"test_{relative.stem}.py").as_posix()


def test_every_module_of_the_package_has_its_test_file() -> None:
    # private modules and packages (``_adapter.py``, ``backends/_async/``) are tested through
    # the public ones
    modules = [
        m
        for m in sorted(PACKAGE.rglob("*.py"))
        if m.name == "__main__.py"
        or not any(part.startswith("_") for part in m.relative_to(PACKAGE).parts)
    ]
    assert len(modules) > 40  # the walk found the package
    missing = [
        f"{m.relative_to(PACKAGE)} -> tests/{_mirror(m)}"
        for m in modules
        if not (TESTS / _mirror(m)).is_file()
    ]
    assert missing == []


def test_the_suite_reads_nothing_outside_the_repository() -> None:
    """A copy of the repository runs as it is: the gorilla and Go vectors are in tests/data/,
    never read from a sibling checkout (``../shared`` was, once)."""
    assert (TESTS / "data" / "gorilla-vectors.json").is_file()
    assert (TESTS / "data" / "go-vectors.json").is_file()
    outside = [
        str(path.relative_to(TESTS.parent))
        for path in sorted(TESTS.rglob("*.py"))
        if path != Path(__file__).resolve()
        and any(p in path.read_text("utf-8") for p in ("../shared", "/work/"))
    ]
    assert outside == []
