"""examples/quart_app.py under hypercorn and uvicorn, over HTTP.

The same cases as the Flask example (:class:`~tests.support.example_cases.FlaskLikeCases`): the
two examples serve the same pages, one sync, one async. The adapter in process:
tests/integrations/test_quart.py.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.example_cases import FlaskLikeCases, example_env
from tests.support.live import hypercorn, uvicorn


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("quart-sessions")


@pytest.fixture(scope="module", params=["hypercorn", "uvicorn"])
def base(request: pytest.FixtureRequest, files: Path) -> Iterator[str]:
    runner = hypercorn if request.param == "hypercorn" else uvicorn
    with runner("quart_app:app", example_env(files)) as url:
        yield url


class TestQuart(FlaskLikeCases):
    pass
