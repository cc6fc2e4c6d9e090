"""JSON as gorilla/securecookie's ``JSONEncoder`` writes it."""

from __future__ import annotations

import json
import math
from json.encoder import encode_basestring  # the C function json.dumps(ensure_ascii=False) uses
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

    Compact, map keys sorted, ``<``, ``>``, ``&``, U+2028 and U+2029 escaped, floats formatted
    as Go formats a ``float64`` (``0.000001``, ``2``, ``-0``, ``1e+21``: see :func:`go_float`),
    and a trailing ``"\\n"`` which is part of what gorilla MACs. So an integral float reads back
    as an int (``2.0`` as ``2``), as in any JSON reader but Go's ``float64``. Decoding reads the
    first JSON value and ignores what follows, as Go's decoder does. JSON objects have string
    keys only: a dict with any other key is an :class:`~websession.EncodeError` here, never a
    silent ``42 -> "42"``.

    Args:
        go_compatible: write exactly what Go writes (the default). With ``False`` the output is
            plain compact JSON with no trailing newline and no HTML escaping.
    """

    __slots__ = ("_go",)

    def __init__(self, *, go_compatible: bool = True) -> None:
        self._go = go_compatible

    def serialize(self, value: Any) -> bytes:
        try:
            has_float = _check_str_keys(value)
            # Python's C encoder writes floats with repr(); a value holding floats takes the
            # slower walk below, which writes them as Go does (floats are rare in sessions).
            text = _go_encode(value) if has_float and self._go else _ENCODER.encode(value)
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


def _check_str_keys(value: Any) -> bool:
    """Raise EncodeError for a dict key that JSON would silently turn into a string.

    Return whether ``value`` holds a float. Hot path: whole dicts and lists of plain keys and
    scalars are checked with C-level set operations; only nested containers are visited one by
    one.
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
        return isinstance(value, float)
    types = set(map(type, children))
    has_float = float in types
    if _SCALARS.issuperset(types):
        return has_float
    for sub in children:
        if type(sub) not in _SCALARS and _check_str_keys(sub):
            has_float = True
    return has_float


def go_float(value: float) -> str:
    """``value`` as Go's encoding/json writes a ``float64``.

    Go takes the shortest digits that read back as the same float (as ``repr`` does) and
    writes them without an exponent when ``1e-6 <= |value| < 1e21`` (``0.000001``, ``2``,
    ``100000000000000000000``, ``-0``), otherwise with one (``1e+21``, ``5e-324``, ``1e-7``: at
    least two exponent digits, except that ``e-0N`` is shortened to ``e-N``), as ECMAScript
    does.

    Raises:
        ValueError: ``value`` is NaN or infinite (JSON has no such numbers; nor does Go).
    """
    if not math.isfinite(value):
        raise ValueError(f"Out of range float values are not JSON compliant: {value!r}")
    sign = "-" if math.copysign(1.0, value) < 0 else ""
    if value == 0:
        return sign + "0"
    # repr() is the shortest round-tripping form: "1.5", "1e-06", "1.2345e+22", "123.0".
    mantissa, _, exp = repr(abs(value)).partition("e")
    whole, _, fraction = mantissa.partition(".")
    raw = whole + fraction
    digits = raw.lstrip("0")
    # the decimal point sits after `point` digits of `digits` (negative: zeros before them)
    point = len(whole) + int(exp or 0) - (len(raw) - len(digits))
    digits = digits.rstrip("0")
    magnitude = abs(value)
    if 1e-6 <= magnitude < 1e21:
        if point <= 0:
            return f"{sign}0.{'0' * -point}{digits}"
        if point >= len(digits):
            return sign + digits + "0" * (point - len(digits))
        return f"{sign}{digits[:point]}.{digits[point:]}"
    exponent = point - 1
    head = digits[0] + ("." + digits[1:] if len(digits) > 1 else "")
    if exponent < 0:
        return f"{sign}{head}e-{-exponent}" if exponent > -10 else f"{sign}{head}e{exponent}"
    return f"{sign}{head}e+{exponent:02d}"


def _go_encode(value: Any) -> str:
    """JSON text for ``value`` with Go's float format (same output as ``_ENCODER`` otherwise)."""
    cls = value.__class__
    if cls is str or isinstance(value, str):
        return encode_basestring(value)
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, int):
        return int.__repr__(value)
    if isinstance(value, float):
        return go_float(value)
    if isinstance(value, dict):
        items = sorted(value.items())
        return "{" + ",".join(encode_basestring(k) + ":" + _go_encode(v) for k, v in items) + "}"
    if isinstance(value, (list, tuple)):
        return "[" + ",".join(map(_go_encode, value)) + "]"
    raise TypeError(f"Object of type {cls.__name__} is not JSON serializable")
