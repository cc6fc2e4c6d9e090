"""examples/fastapi_app.py under uvicorn: the cases of tests/examples/test_starlette.py.

``request.session`` (websession.asgi.SessionMiddleware) is injected as a dependency, and the
"prefs" session from a CookieStore through ``websession.fastapi.session_dependency``.
"""

from __future__ import annotations

import contextlib

from tests.support.example_cases import AsgiExampleCases
from tests.support.live import uvicorn


class TestFastAPIUnderUvicorn(AsgiExampleCases):
    @classmethod
    def launch(cls, env: dict[str, str]) -> contextlib.AbstractContextManager[str]:
        return uvicorn("fastapi_app:app", env)
