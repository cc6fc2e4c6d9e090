"""JSON as gorilla/securecookie's ``JSONEncoder`` writes it."""

from __future__ import annotations

import json
import math
import struct
from json.encoder import encode_basestring  # the C function json.dumps(ensure_ascii=False) uses
from typing import Any

from ..errors import EncodeError, Malformed
from ._limits import (
    DEFAULT_MAX_DEPTH,
    DEFAULT_MAX_ITEMS,
    DEFAULT_MAX_SIZE,
    DEFAULT_MAX_STR_LEN,
    Limited,
)

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


class JSONSerializer(Limited):
    """JSON the way Go's ``json.NewEncoder(w).Encode(v)`` writes it.

    Compact, map keys sorted, ``<``, ``>``, ``&``, U+2028 and U+2029 escaped, floats formatted
    as Go formats a ``float64`` (``0.000001``, ``2``, ``-0``, ``1e+21``: see :func:`go_float`;
    a ``float32`` read from Go by :class:`~websession.GobSerializer` as Go formats a float32),
    and a trailing ``"\\n"`` which is part of what gorilla MACs. So an integral float reads back
    as an int (``2.0`` as ``2``), as in any JSON reader but Go's ``float64``. Decoding reads the
    first JSON value and ignores what follows, as Go's decoder does. JSON objects have string
    keys only: a dict with any other key is an :class:`~websession.EncodeError` here, never a
    silent ``42 -> "42"``.

    Limits, the same on encoding (:class:`~websession.EncodeError`) and decoding
    (:class:`~websession.Malformed`), keep hostile input cheap: Python's C JSON parser recurses
    on the C stack, so nesting is measured on the text before it runs (no input can crash a
    thread with a small stack), and any input of ``max_size`` bytes fails in a few milliseconds.

    Args:
        go_compatible: write exactly what Go writes (the default). With ``False`` the output is
            plain compact JSON with no trailing newline and no HTML escaping.
        max_size: the largest input ``deserialize`` accepts (and output ``serialize`` writes), in
            bytes.
        max_depth: how deeply arrays and objects may nest (the top-level object is depth 1).
        max_items: the most items a value may hold: every array element and every object key
            and value counts one, as does the top-level value.
        max_str_len: the longest string, in characters of the JSON text (escape sequences as
            written, except that escaped quotes and backslashes count nothing).
    """

    __slots__ = ("_go",)

    def __init__(
        self,
        *,
        go_compatible: bool = True,
        max_size: int = DEFAULT_MAX_SIZE,
        max_depth: int = DEFAULT_MAX_DEPTH,
        max_items: int = DEFAULT_MAX_ITEMS,
        max_str_len: int = DEFAULT_MAX_STR_LEN,
    ) -> None:
        super().__init__(
            max_size=max_size, max_depth=max_depth, max_items=max_items, max_str_len=max_str_len
        )
        self._go = go_compatible

    def serialize(self, value: Any) -> bytes:
        """``value`` as JSON, as Go's ``json.Marshal`` writes it (floats in Go's format, a trailing
        newline like gorilla's ``JSONEncoder``).

        Raises:
            EncodeError: a value JSON cannot hold, or one beyond the size and depth limits.
        """
        try:
            # Also bounds the depth before Python's C encoder recurses on the C stack.
            has_float = _check_str_keys(value, self._max_depth)
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
            out = text.encode("utf-8")
        except UnicodeEncodeError as exc:  # a lone surrogate: not valid in UTF-8, nor in Go
            raise EncodeError(f"JSONSerializer cannot encode this value: {exc}") from exc
        if len(out) > self._max_size:
            raise EncodeError(
                f"JSONSerializer: the value takes {len(out)} bytes, more than "
                f"max_size={self._max_size}"
            )
        # The output is measured exactly as deserialize() will measure it.
        problem = self._problem(text)
        if problem:
            raise EncodeError(f"JSONSerializer: {problem}")
        return out

    def deserialize(self, data: bytes) -> Any:
        """The value JSON ``data`` holds, checked against the limits before it is parsed.

        Raises:
            Malformed: not JSON, or beyond the size, depth or item limits.
        """
        if len(data) > self._max_size:
            raise Malformed(f"JSON data of {len(data)} bytes exceeds max_size {self._max_size}")
        try:
            text = bytes(data).decode("utf-8").lstrip(" \t\r\n")
        except ValueError as exc:
            raise Malformed(f"securecookie: error - caused by: invalid JSON: {exc}") from exc
        problem = self._problem(text)
        if problem:
            raise Malformed(f"securecookie: error - caused by: invalid JSON: {problem}")
        try:
            value, _end = _DECODER.raw_decode(text)
        except (ValueError, RecursionError) as exc:
            raise Malformed(f"securecookie: error - caused by: invalid JSON: {exc}") from exc
        return value

    def _problem(self, text: str) -> str:
        """What in ``text`` breaks a limit, or ``""``. Linear, and C-level passes only.

        Every item takes at least one character, as does every bracket, so short texts with few
        brackets need nothing more than two counts (the usual session).
        """
        size = len(text)
        if (
            size <= self._max_items
            and size <= self._max_str_len
            and text.count("[") + text.count("{") <= self._max_depth
        ):
            return ""
        return _measure(text, self._max_depth, self._max_items, self._max_str_len)

    def __repr__(self) -> str:
        options = [] if self._go else ["go_compatible=False"]
        for name, value, default in (
            ("max_size", self._max_size, DEFAULT_MAX_SIZE),
            ("max_depth", self._max_depth, DEFAULT_MAX_DEPTH),
            ("max_items", self._max_items, DEFAULT_MAX_ITEMS),
            ("max_str_len", self._max_str_len, DEFAULT_MAX_STR_LEN),
        ):
            if value != default:
                options.append(f"{name}={value}")
        return f"JSONSerializer({', '.join(options)})"


_NOT_BRACKET_BYTES = bytes(b for b in range(256) if b not in b"[]{}")
_BRACES_AS_BRACKETS = bytes.maketrans(b"{}", b"[]")


def _measure(text: str, max_depth: int, max_items: int, max_str_len: int) -> str:
    """Count items, depth and string lengths of JSON ``text`` (see ``JSONSerializer._problem``).

    Exact for valid JSON (what follows the first value counts too); for anything else an
    estimate whose only use is refusing early, since the parser refuses it anyway. Only C-level
    passes over the text (no regular expression: one with a match per string, or a step per
    escape, would cost tens of milliseconds on a hostile megabyte).
    """
    # Without escaped backslashes and escaped quotes, every quote opens or closes a string.
    # (A run of backslashes pairs up from its start, both in JSON and in str.replace.) Each
    # check below is one pass, ordered so that a hostile text fails after a pass or two.
    bare = text
    if "\\" in bare:
        bare = bare.replace("\\\\", "").replace('\\"', "")
    quotes = bare.count('"')
    if quotes > 2 * max_items + 1:  # +1: an unterminated last string
        return f"more than max_items={max_items} items"
    if quotes:
        parts = bare.split('"')
        if len(text) > max_str_len:
            longest = max(map(len, parts[1::2]), default=0)
            if longest > max_str_len:
                return f"a string of {longest} characters exceeds max_str_len={max_str_len}"
        # Each string becomes one character: what is left is structure, numbers and literals.
        bare = "0".join(parts[0::2])
    opens = -1
    if len(bare) > max_items:  # every item takes at least one character of it
        commas = bare.count(",")
        if commas >= max_items:
            return f"more than max_items={max_items} items"
        opens = bare.count("[") + bare.count("{")
        if opens > max_items:
            return f"more than max_items={max_items} items"
        # Exact for compact JSON (whitespace inside an empty array only overestimates).
        items = commas + bare.count(":") + 1 + opens - bare.count("[]") - bare.count("{}")
        if items > max_items:
            return f"more than max_items={max_items} items"
    if opens < 0:
        opens = bare.count("[") + bare.count("{")
    if opens > max_depth:
        closes = bare.count("]") + bare.count("}")
        if opens + closes > 2 * max_items:  # more than valid JSON within max_items can have
            return f"more than max_items={max_items} items"
        # Brackets only, braces made brackets (a mismatched pair is refused by the parser
        # before it recurses any deeper). Each round takes out the innermost pairs; an opening
        # bracket left after max_depth rounds is nested deeper (or never closed: the parser
        # would recurse as deep).
        brackets = (
            bare.encode("utf-8", "surrogatepass")
            .translate(None, _NOT_BRACKET_BYTES)
            .translate(_BRACES_AS_BRACKETS)
        )
        for _ in range(max_depth):
            shorter = brackets.replace(b"[]", b"")
            if len(shorter) == len(brackets):
                break
            brackets = shorter
        if b"[" in brackets:
            return f"nested deeper than max_depth={max_depth}"
    return ""


_DECODER = json.JSONDecoder()


_ENCODER = json.JSONEncoder(
    ensure_ascii=False, separators=(",", ":"), sort_keys=True, allow_nan=False
)
_STR = frozenset((str,))
_SCALARS = frozenset((str, int, float, bool, type(None)))


def _check_str_keys(value: Any, depth_left: int) -> bool:
    """Raise EncodeError for a dict key that JSON would silently turn into a string, or for
    containers nested more than ``depth_left`` deep.

    Return whether ``value`` holds a float. Hot path: whole dicts and lists of plain keys and
    scalars are checked with C-level set operations; only nested containers are visited one by
    one (recursion bounded by the depth limit).
    """
    if isinstance(value, (dict, list, tuple)) and depth_left <= 0:
        raise EncodeError("JSONSerializer: value nested deeper than max_depth")
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
        if type(sub) not in _SCALARS and _check_str_keys(sub, depth_left - 1):
            has_float = True
    return has_float


def go_float(value: float, bits: int = 64) -> str:
    """``value`` as Go's encoding/json writes a ``float64`` (or, with ``bits=32``, a
    ``float32``).

    Go takes the shortest digits that read back as the same float (as ``repr`` does for a
    float64) and writes them without an exponent when ``1e-6 <= |value| < 1e21``
    (``0.000001``, ``2``, ``100000000000000000000``, ``-0``), otherwise with one (``1e+21``,
    ``5e-324``, ``1e-7``: at least two exponent digits, except that ``e-0N`` is shortened to
    ``e-N``), as ECMAScript does. A float32 gets the shortest digits that identify it as a
    float32 (``float32(0.1)`` is ``0.1``, not ``0.10000000149011612``).

    Raises:
        ValueError: ``value`` is NaN or infinite, or too large for a float32 (JSON has no
            such numbers; nor does Go).
    """
    if not math.isfinite(value):
        raise ValueError(f"Out of range float values are not JSON compliant: {value!r}")
    sign = "-" if math.copysign(1.0, value) < 0 else ""
    if value == 0:
        return sign + "0"
    magnitude = abs(value)
    if bits == 32:
        try:
            magnitude = _FLOAT32.unpack(_FLOAT32.pack(magnitude))[0]  # as Go converts it
        except OverflowError:
            raise ValueError(f"{value!r} does not fit a float32") from None
        shortest = _shortest_float32(magnitude)
        plain = _FLOAT32_1E_6 <= magnitude < _FLOAT32_1E21
    else:
        shortest = repr(magnitude)  # the shortest round-tripping text: "1.5", "1e-06", "2.0"
        plain = 1e-6 <= magnitude < 1e21
    mantissa, _, exp = shortest.partition("e")
    whole, _, fraction = mantissa.partition(".")
    raw = whole + fraction
    digits = raw.lstrip("0")
    # the decimal point sits after `point` digits of `digits` (negative: zeros before them)
    point = len(whole) + int(exp or 0) - (len(raw) - len(digits))
    digits = digits.rstrip("0")
    if plain:
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


_FLOAT32 = struct.Struct("<f")
_FLOAT32_1E_6: float = _FLOAT32.unpack(_FLOAT32.pack(1e-6))[0]
_FLOAT32_1E21: float = _FLOAT32.unpack(_FLOAT32.pack(1e21))[0]
_FLOAT32_MAX: float = _FLOAT32.unpack(b"\xff\xff\x7f\x7f")[0]


def _shortest_float32(value: float) -> str:
    """The fewest significant digits that read back as the float32 ``value`` (positive).

    Each ``%.Ng`` is the closest N-digit decimal, so the first that reads back is the
    shortest, and the closest of that length, as Go's strconv chooses.
    """
    target = _FLOAT32.pack(value)
    for precision in range(1, 9):
        text = f"{value:.{precision}g}"
        candidate = float(text)
        if candidate > _FLOAT32_MAX:  # struct refuses it, but it may still round to the max
            if candidate < _FLOAT32_MAX + 2.0**103 and target == _FLOAT32.pack(_FLOAT32_MAX):
                return text
            continue
        if _FLOAT32.pack(candidate) == target:
            return text
    return f"{value:.9g}"  # nine digits identify every float32


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
        # a float32 read from Go (gob's GoFloat) is written as Go writes a float32
        return go_float(value, 32 if getattr(value, "go_name", None) == "float32" else 64)
    if isinstance(value, dict):
        items = sorted(value.items())
        return "{" + ",".join(encode_basestring(k) + ":" + _go_encode(v) for k, v in items) + "}"
    if isinstance(value, (list, tuple)):
        return "[" + ",".join(map(_go_encode, value)) + "]"
    raise TypeError(f"Object of type {cls.__name__} is not JSON serializable")
