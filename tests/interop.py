"""The cookies made by the Go code: ``shared/interop/gorilla-vectors.json`` beside the checkout.

``WEBSESSION_GORILLA_VECTORS`` overrides the path. Without the file the vector tests skip when
run locally and fail under ``CI=true`` (a collection error for the parametrized ones).
"""

from __future__ import annotations

import functools
import json
import os
from pathlib import Path
from typing import Any

from tests.servers import in_ci, require

ROOT = Path(__file__).resolve().parent.parent
VECTORS_FILE = Path(
    os.environ.get(
        "WEBSESSION_GORILLA_VECTORS", ROOT.parent / "shared" / "interop" / "gorilla-vectors.json"
    )
)
MISSING = f"the gorilla vectors are not at {VECTORS_FILE} (set WEBSESSION_GORILLA_VECTORS)"


@functools.lru_cache(maxsize=1)
def all_vectors() -> list[dict[str, Any]]:
    """Every vector, in file order; [] locally when the file is missing."""
    if VECTORS_FILE.is_file():
        return list(json.loads(VECTORS_FILE.read_text("utf-8"))["vectors"])
    if in_ci():
        raise RuntimeError(MISSING)
    return []


def vector(vector_id: str) -> dict[str, Any]:
    """One vector by id (skips locally, fails under CI, when the file is missing)."""
    require(VECTORS_FILE.is_file(), MISSING)
    return next(v for v in all_vectors() if v["id"] == vector_id)
