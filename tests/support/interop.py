"""The cookies made by the Go code: ``tests/data/gorilla-vectors.json`` (its ``about`` says how).

The vectors are committed with the tests, so a copy of the repository runs them as they are; a
missing file is an error, never a skip.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

DATA = Path(__file__).resolve().parents[1] / "data"
VECTORS_FILE = DATA / "gorilla-vectors.json"
MISSING = f"the gorilla vectors are not at {VECTORS_FILE}"


@functools.lru_cache(maxsize=1)
def all_vectors() -> list[dict[str, Any]]:
    """Every vector, in file order."""
    return list(json.loads(VECTORS_FILE.read_text("utf-8"))["vectors"])


def vector(vector_id: str) -> dict[str, Any]:
    """One vector by id."""
    return next(v for v in all_vectors() if v["id"] == vector_id)


GO_VECTORS_FILE = DATA / "go-vectors.json"


@functools.lru_cache(maxsize=1)
def go_vectors() -> dict[str, Any]:
    """The data ``tools/govectors`` made with Go's encoding/gob and encoding/json (``about``)."""
    result: dict[str, Any] = json.loads(GO_VECTORS_FILE.read_text("utf-8"))
    return result
