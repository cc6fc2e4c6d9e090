"""The README's snippets run as shown: the first WSGI app, served by a real WSGI call sequence."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any
from wsgiref.util import setup_testing_defaults

import pytest

import websession

README = Path(__file__).resolve().parents[2] / "README.md"


def python_blocks() -> list[str]:
    return re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), re.S)


def call(app: Any, path: str, cookie: str | None) -> tuple[str, dict[str, str], bytes]:
    environ: dict[str, Any] = {"PATH_INFO": path}
    if cookie:
        environ["HTTP_COOKIE"] = cookie
    setup_testing_defaults(environ)
    seen: dict[str, Any] = {}

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
        seen["status"], seen["headers"] = status, dict(headers)
        return lambda data: None

    body = b"".join(app(environ, start_response))
    return seen["status"], seen["headers"], body


def test_first_wsgi_counter_counts_pages_not_favicons(monkeypatch: pytest.MonkeyPatch) -> None:
    (first,) = [b for b in python_blocks() if b.startswith("# app.py")]
    monkeypatch.setenv("WEBSESSION_SECRET", websession.generate_random_key().hex())
    namespace: dict[str, Any] = {}
    exec(compile(first, "README.md", "exec"), namespace)
    app = namespace["app"]

    status, headers, body = call(app, "/", None)
    assert (status, body) == ("200 OK", b"visit 1")
    cookie = headers["Set-Cookie"].split(";", 1)[0]
    # a browser asks for the icon with the same cookie: it must not count as a visit
    status, headers, _ = call(app, "/favicon.ico", cookie)
    assert status.startswith("404")
    assert "Set-Cookie" not in headers
    status, headers, body = call(app, "/", cookie)
    assert body == b"visit 2"
    cookie = headers["Set-Cookie"].split(";", 1)[0]
    assert call(app, "/", cookie)[2] == b"visit 3"
