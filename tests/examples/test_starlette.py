"""examples/starlette_app.py under uvicorn, driven over 127.0.0.1 with a cookie-keeping client.

The cases are :class:`~tests.support.example_cases.AsgiExampleCases` (the cases every example
shares, plus the cookie options the ASGI examples set through their stores), run again by
tests/examples/test_{fastapi,aiohttp,litestar}.py against their own servers.
"""

from __future__ import annotations

import contextlib

from tests.support.example_cases import AsgiExampleCases
from tests.support.live import uvicorn


class TestStarletteUnderUvicorn(AsgiExampleCases):
    @classmethod
    def launch(cls, env: dict[str, str]) -> contextlib.AbstractContextManager[str]:
        return uvicorn("starlette_app:app", env)
