"""Go's encoding/gob, for gorilla/sessions' values. (Placeholder: being written.)"""

from __future__ import annotations

from typing import Any

from ..errors import EncodeError, Malformed

__all__ = ["GobSerializer"]


class GobSerializer:
    """Go's ``encoding/gob`` as gorilla/sessions stores ``Session.Values``."""

    def serialize(self, value: Any) -> bytes:
        raise EncodeError("GobSerializer is not implemented yet")

    def deserialize(self, data: bytes) -> Any:
        raise Malformed("GobSerializer is not implemented yet")
