"""JSON as gorilla/securecookie's ``JSONEncoder`` writes it."""

from __future__ import annotations

import json
from typing import Any

from ..errors import EncodeError, Malformed

__all__ = ["JSONSerializer"]

# Go's encoding/json escapes these inside strings by default (SetEscapeHTML(true)). They can only
# occur inside JSON strings, so replacing them in the output is exact.
_GO_ESCAPES = str.maketrans(
    {
        "<": "\\u003c",
        ">": "\\u003e",
        "&": "\\u0026",
        "\u2028": "\\u2028",
        "\u2029": "\\u2029",
    }
)


class JSONSerializer:
    """JSON the way Go's ``json.NewEncoder(w).Encode(v)`` writes it.

    Compact, map keys sorted, ``<``, ``>``, ``&``, U+2028 and U+2029 escaped, and a trailing
    ``"\\n"`` which is part of what gorilla MACs. Decoding reads the first JSON value and ignores
    what follows, as Go's decoder does. JSON objects have string keys only: a dict with any other
    key is an :class:`~websession.EncodeError` here, never a silent ``42 -> "42"``.

    Args:
        go_compatible: write exactly what Go writes (the default). With ``False`` the output is
            plain compact JSON with no trailing newline and no HTML escaping.
    """

    __slots__ = ("_go",)

    def __init__(self, *, go_compatible: bool = True) -> None:
        self._go = go_compatible

    def serialize(self, value: Any) -> bytes:
        try:
            _check_str_keys(value)
            text = _ENCODER.encode(value)
        except EncodeError:
            raise
        except (TypeError, ValueError) as exc:
            raise EncodeError(f"JSONSerializer cannot encode this value: {exc}") from exc
        except RecursionError as exc:
            raise EncodeError("JSONSerializer: value nested too deeply") from exc
        if self._go:
            if "<" in text or ">" in text or "&" in text or "\u2028" in text or "\u2029" in text:
                text = text.translate(_GO_ESCAPES)
            text += "\n"
        try:
            return text.encode("utf-8")
        except UnicodeEncodeError as exc:  # a lone surrogate: not valid in UTF-8, nor in Go
            raise EncodeError(f"JSONSerializer cannot encode this value: {exc}") from exc

    def deserialize(self, data: bytes) -> Any:
        try:
            text = bytes(data).decode("utf-8").lstrip(" \t\r\n")
            value, _end = _DECODER.raw_decode(text)
        except (ValueError, RecursionError) as exc:
            raise Malformed(f"securecookie: error - caused by: invalid JSON: {exc}") from exc
        return value

    def __repr__(self) -> str:
        return "JSONSerializer()" if self._go else "JSONSerializer(go_compatible=False)"


_DECODER = json.JSONDecoder()


_ENCODER = json.JSONEncoder(
    ensure_ascii=False, separators=(",", ":"), sort_keys=True, allow_nan=False
)
_STR = frozenset((str,))
_SCALARS = frozenset((str, int, float, bool, type(None)))


def _check_str_keys(value: Any) -> None:
    """Raise EncodeError for a dict key that JSON would silently turn into a string.

    Hot path: whole dicts and lists of plain keys and scalars are checked with C-level set
    operations; only nested containers are visited one by one.
    """
    if isinstance(value, dict):
        if not _STR.issuperset(map(type, value)):
            for key in value:
                if not isinstance(key, str):
                    raise EncodeError(
                        f"JSONSerializer needs str keys, got {type(key).__name__} key {key!r}; "
                        "use MsgpackSerializer or GobSerializer for other keys"
                    )
        children: Any = value.values()
    elif isinstance(value, (list, tuple)):
        children = value
    else:
        return
    if _SCALARS.issuperset(map(type, children)):
        return
    for sub in children:
        if type(sub) not in _SCALARS:
            _check_str_keys(sub)
