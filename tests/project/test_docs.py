"""The documentation site: built with ``mkdocs build --strict``, then read in headless Chromium.

The build is what ``make docs`` runs: a broken link, a missing page or an API reference that
cannot be generated fails it. Chromium then opens the home page, the API reference page of
:class:`~websession.CookieStore` and a store guide over HTTP, as a reader would, and finds
their headings; a full-page screenshot of each is kept in ``test-artifacts/docs/`` (gitignored).
"""

from __future__ import annotations

import functools
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from tests.support.browser import launch_chromium
from tests.support.once import made_once

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts" / "docs"

pytestmark = pytest.mark.slow


def build(out: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
    )
    assert result.returncode == 0, result.stderr[-4000:]


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return made_once(tmp_path_factory, "site", build)


def test_strict_build_makes_every_page_and_the_api_reference(site: Path) -> None:
    for page in (
        "index.html",
        "api/stores/index.html",
        "stores/redis/index.html",
        "frameworks/flask/index.html",
        "operations/index.html",
        "changelog/index.html",
    ):
        assert (site / page).is_file(), page
    api = (site / "api/stores/index.html").read_text(encoding="utf-8")
    for name in ("CookieStore", "ServerStore", "FilesystemStore", "MemoryStore", "open_store"):
        assert f'id="websession.{name}"' in api, name
    # the README's sections are included, not copied: the markers never show
    home = (site / "index.html").read_text(encoding="utf-8")
    assert "make demo" in home
    assert "--8&lt;--" not in home
    assert "--8<--" not in home
    # Sphinx roles in docstrings are turned into code, not shown raw
    assert ":class:`" not in api


@pytest.fixture(scope="module")
def served(site: Path) -> Iterator[str]:
    handler = functools.partial(_QuietHandler, directory=str(site))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    yield from launch_chromium()


@pytest.mark.browser
@pytest.mark.parametrize(
    ("path", "heading", "shot"),
    [
        ("/", "websession", "home"),
        ("/api/stores/", "CookieStore", "api-cookiestore"),
        ("/stores/redis/", "Redis", "store-redis"),
    ],
)
def test_chromium_reads_the_pages(
    served: str, browser: Any, path: str, heading: str, shot: str
) -> None:
    page = browser.new_page()
    try:
        response = page.goto(served + path)
        assert response is not None
        assert response.status == 200
        headings = [h.strip() for h in page.locator("article h1, article h2").all_inner_texts()]
        # a heading's text, without the permalink sign Material adds
        texts = {h.split("\n")[0].replace("¶", "").strip() for h in headings}
        assert any(t.endswith(heading) for t in texts), texts
        if heading == "CookieStore":
            target = page.locator('[id="websession.CookieStore"]')
            assert target.is_visible()
            page.goto(served + path + "#websession.CookieStore")
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        image = ARTIFACTS / f"{shot}.png"
        page.screenshot(path=str(image), full_page=True)
        assert image.stat().st_size > 10_000
    finally:
        page.close()


# The modules the API reference and the guides render (mkdocs.yml, docs/): every public class,
# function and method in them carries a docstring. The backends' protocol methods (get, set,
# delete, purge, close, and index, owned, unindex, with their async twins) are described once,
# on the Backend and OwnerIndex protocols.
DOCUMENTED = [
    "websession",
    *(f"websession.{m}" for m in ("wsgi", "asgi", "flask", "quart", "django", "starlette")),
    *(f"websession.{m}" for m in ("fastapi", "aiohttp", "litestar", "legacy", "events")),
    *(f"websession.{m}" for m in ("metrics", "errors", "backends.base", "serializers.gob")),
    *(f"websession.backends.{m}" for m in ("redis", "memcached", "postgresql", "mysql")),
    *(f"websession.backends.{m}" for m in ("sqlite", "sqlalchemy", "lmdb", "mongodb")),
    *(f"websession.backends.{m}" for m in ("dynamodb", "datastore", "firestore")),
    *(f"websession.backends.{m}" for m in ("filesystem", "memory")),
]
PROTOCOL = {"get", "set", "delete", "purge", "close", "index", "owned", "unindex"}


def undocumented() -> list[str]:
    import importlib
    import inspect

    missing: list[str] = []
    seen: set[object] = set()
    for module_name in DOCUMENTED:
        module = importlib.import_module(module_name)
        names = getattr(module, "__all__", [n for n in vars(module) if not n.startswith("_")])
        for name in names:
            obj = getattr(module, name)
            if not (inspect.isclass(obj) or inspect.isfunction(obj)) or obj in seen:
                continue
            if not obj.__module__.startswith("websession"):
                continue
            seen.add(obj)
            where = f"{obj.__module__}.{obj.__qualname__}"
            if not (obj.__doc__ or "").strip():
                missing.append(where)
            if not inspect.isclass(obj):
                continue
            backend = obj.__module__.startswith("websession.backends.")
            for attr, member in vars(obj).items():
                if attr.startswith("_") or (backend and attr.removeprefix("a") in PROTOCOL):
                    continue
                function = member.fget if isinstance(member, property) else member
                function = getattr(function, "__func__", function)
                if inspect.isfunction(function) and not (function.__doc__ or "").strip():
                    missing.append(f"{where}.{attr}")
    return missing


def test_every_public_name_in_the_reference_has_a_docstring() -> None:
    assert undocumented() == []
