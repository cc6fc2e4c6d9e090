"""The serializer protocol: Python values <-> bytes."""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable

__all__ = ["Serializer"]


@runtime_checkable
class Serializer(Protocol):
    """Turns session values into bytes and back.

    ``serialize`` raises :class:`websession.EncodeError` for a value it cannot represent;
    ``deserialize`` raises :class:`websession.Malformed` for bytes it cannot read. Neither may
    raise anything else, whatever the input.
    """

    def serialize(self, value: Any) -> bytes:
        """Return ``value`` as bytes."""
        ...

    def deserialize(self, data: bytes) -> Any:
        """Return the value that ``data`` holds."""
        ...
