"""Go's ``encoding/gob``, as gorilla/securecookie's ``GobEncoder`` writes ``Session.Values``.

Written from the gob specification (the ``encoding/gob`` package documentation); only the subset
that session values need is supported, and everything else is refused with a clear error.

Wire format
-----------
Integers come in two flavours. An *unsigned* integer below 128 is one byte; a larger one is one
byte holding the negated byte count (``0xff`` = 1 byte ... ``0xf8`` = 8 bytes) followed by the
value big-endian, so 256 is ``fe 01 00``. A *signed* integer ``i`` is sent as the unsigned
integer ``i << 1`` when ``i >= 0`` and ``(~i << 1) | 1`` otherwise (42 is ``54``, -1 is ``01``).
Floats are the IEEE-754 bits with the byte order reversed, sent as an unsigned integer (1.5 is
``fe f8 3f``); complex numbers are two floats. Booleans are the unsigned integer 0 or 1; strings
and ``[]byte`` are an unsigned length then the bytes.

A stream is a sequence of *messages*, each ``uint(length) || body``. A body starts with a signed
type id: negative means "the definition of type ``-id`` follows" (a ``wireType``), positive means
"a value of that type follows". Types 1-8 are predefined (bool, int, uint, float, []byte,
string, complex, interface); ids from 64 up are given out by the sending process in the order it
first met each type, so they must be read from the stream, never assumed. A ``wireType`` is a
struct with one of the fields ``ArrayT`` (1), ``SliceT`` (2), ``StructT`` (3), ``MapT`` (4),
``GobEncoderT`` (5), ``BinaryMarshalerT`` (6), ``TextMarshalerT`` (7) set; each holds a
``CommonType{Name, Id}`` plus ``Elem`` (array, slice), ``Len`` (array), ``Key``/``Elem`` (map)
or ``Field []{Name, Id}`` (struct).

Structs are sent as ``(uint field-number delta, field value)*`` ending with a 0 delta; fields
holding Go's zero value are left out. Any other value at the top level (or inside an interface)
is preceded by a 0 "singleton" delta. Maps are ``uint(count)`` then key, element pairs; slices
and arrays ``uint(count)`` then the elements. An ``interface{}`` value is ``uint(len) || name``
(the name the Go side registered: ``"string"``, ``"int"``, ``"[]interface {}"``, ...; an empty
name is a nil interface and nothing follows), then any type definitions it needs, the type id,
``uint(byte count)`` and the value as at the top level. When a definition is needed in the middle
of a value Go's encoder flushes what it has written so far as a message, so a value can continue
in the next message; after such a definition the decoder skips one byte count.

What is supported
-----------------
Decoding reads bool, every int and uint size, float32/64, complex, string, ``[]byte``, and any
slice, array, map and struct built from them or from ``interface{}``, into ``bool``, ``int``,
``float``, ``complex``, ``str``, ``bytes``, ``list``, ``dict`` and ``None`` (a nil interface). A
struct becomes a ``dict`` of the fields that were sent. Types with their own marshalling
(``GobEncoder``, ``BinaryMarshaler``, ``TextMarshaler``: ``time.Time`` for one) are refused, as
are map keys Python cannot hash (and complex keys, whose hashes are easy to make collide),
strings that are not UTF-8 and trailing data. Limits keep hostile input cheap: nesting depth,
input size, and every count checked against the bytes left before anything is allocated.

Encoding writes what gorilla reads back into ``map[interface{}]interface{}``: see
:class:`GobSerializer`.

Go's types are kept
-------------------
A value Go sent as a type Python's own types would not be written back as (``int64``,
``uint8``, ``float32``, ``[]string``, ``map[string]string``, a registered struct, a named type,
...) is decoded into a subclass of the Python type that remembers its Go type (module
``gotypes``, re-exported here): :class:`GoInt`,
:class:`GoFloat`, :class:`GoComplex`, :class:`GoStr`, :class:`GoBytes` (``go_name``, the name
Go registered it under) and :class:`GoList`, :class:`GoDict` (also ``go_type``, a
:class:`GoType`). Python code sees an ``int``, a ``list``, a ``dict``; the encoder writes them
back as what they were, so a session Go wrote, loaded and saved here, reads in Go exactly as Go
wrote it (``v.([]string)`` still holds). Values that are Python's own types keep the
documented mapping.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from typing import Any, Final, NoReturn

from ..errors import EncodeError, Malformed
from . import gotypes as _gotypes
from ._limits import (
    DEFAULT_MAX_DEPTH,
    DEFAULT_MAX_ITEMS,
    DEFAULT_MAX_SIZE,
    DEFAULT_MAX_STR_LEN,
    Limited,
    check_value,
)
from .gotypes import (
    BOOL,
    BYTES,
    COMPLEX,
    FLOAT,
    INT,
    INTERFACE,
    MAP_ANY,
    MAP_STRING_ANY,
    SLICE_ANY,
    STRING,
    UINT,
    WRAPPERS,
    GoBytes,
    GoComplex,
    GoDict,
    GoFloat,
    GoInt,
    GoList,
    GoStr,
    GoType,
)

# gob's API is GobSerializer and the Go types it reads into (gotypes' names, listed there once).
__all__ = ["GobSerializer"]
__all__ += _gotypes.__all__

# Predefined type ids.
_BOOL: Final = 1
_INT: Final = 2
_UINT: Final = 3
_FLOAT: Final = 4
_BYTES: Final = 5
_STRING: Final = 6
_COMPLEX: Final = 7
_INTERFACE: Final = 8
_FIRST_USER_ID: Final = 64
_MAX_TYPE_ID: Final = (1 << 31) - 1  # a typeId is an int32 in Go

_BUILTIN_NAMES: Final = {
    _BOOL: "bool",
    _INT: "int",
    _UINT: "uint",
    _FLOAT: "float",
    _BYTES: "[]byte",
    _STRING: "string",
    _COMPLEX: "complex",
    _INTERFACE: "interface",
}

# wireType kinds.
_K_ARRAY: Final = 0
_K_SLICE: Final = 1
_K_STRUCT: Final = 2
_K_MAP: Final = 3
_K_GOB_ENCODER: Final = 4
_K_BINARY_MARSHALER: Final = 5
_K_TEXT_MARSHALER: Final = 6
_KIND_NAMES: Final = (
    "array",
    "slice",
    "struct",
    "map",
    "GobEncoder",
    "BinaryMarshaler",
    "TextMarshaler",
)

_INT64_MIN: Final = -(1 << 63)
_INT64_MAX: Final = (1 << 63) - 1

# Names Go registers for its basic types, with the wire type each must carry and, for the sized
# integers, the range Go's decoder enforces ("value out of range"); (0, 0) when every value the
# wire type can carry fits (a gob integer is at most 64 bits).
_BASIC_NAMES: Final[dict[bytes, tuple[int, int, int]]] = {
    b"bool": (_BOOL, 0, 0),
    b"int": (_INT, 0, 0),
    b"int64": (_INT, 0, 0),
    b"int32": (_INT, -(1 << 31), (1 << 31) - 1),
    b"int16": (_INT, -(1 << 15), (1 << 15) - 1),
    b"int8": (_INT, -(1 << 7), (1 << 7) - 1),
    b"uint": (_UINT, 0, 0),
    b"uint64": (_UINT, 0, 0),
    b"uintptr": (_UINT, 0, 0),
    b"uint32": (_UINT, 0, (1 << 32) - 1),
    b"uint16": (_UINT, 0, (1 << 16) - 1),
    b"uint8": (_UINT, 0, (1 << 8) - 1),
    b"float64": (_FLOAT, 0, 0),
    b"float32": (_FLOAT, 0, 0),
    b"complex128": (_COMPLEX, 0, 0),
    b"complex64": (_COMPLEX, 0, 0),
    b"string": (_STRING, 0, 0),
    b"[]uint8": (_BYTES, 0, 0),
}

# Composite types Go registers (or gorilla, or commonly the application) by name, with the
# (kind, key, element) their definition must have.
_COMPOSITE_NAMES: Final[dict[bytes, tuple[int, int, int]]] = {
    b"[]interface {}": (_K_SLICE, 0, _INTERFACE),
    b"map[string]interface {}": (_K_MAP, _STRING, _INTERFACE),
    b"map[interface {}]interface {}": (_K_MAP, _INTERFACE, _INTERFACE),
    b"[]string": (_K_SLICE, 0, _STRING),
    b"[]int": (_K_SLICE, 0, _INT),
    b"[]int64": (_K_SLICE, 0, _INT),
    b"[]uint": (_K_SLICE, 0, _UINT),
    b"[]uint64": (_K_SLICE, 0, _UINT),
    b"[]float64": (_K_SLICE, 0, _FLOAT),
    b"[]bool": (_K_SLICE, 0, _BOOL),
}

_DOUBLE: Final = struct.Struct("<d")


# The names Python's own types are written under: a value Go sent under any other name is
# decoded into a Go* wrapper that remembers it.
_PLAIN_NAMES: Final = frozenset((b"bool", b"int", b"float64", b"complex128", b"string", b"[]uint8"))


def _fast_headers() -> dict[bytes, tuple[int, int, int, str | None]]:
    # An interface value's header (name length, name, type id) -> _BASIC_NAMES entry, and the
    # name to remember (None for the names Python's types are written under).
    return {
        bytes((len(name),)) + name + bytes((wire_id << 1,)): (
            wire_id,
            low,
            high,
            None if name in _PLAIN_NAMES else name.decode("ascii"),
        )
        for name, (wire_id, low, high) in _BASIC_NAMES.items()
    }


_FAST_HEADERS: Final = _fast_headers()


# --------------------------------------------------------------------------------------------
# Primitive encoders.

_SMALL_UINTS: Final = tuple(bytes((i,)) for i in range(128))


def _uint(x: int) -> bytes:
    """gob's unsigned integer: ``0 <= x < 2**64``."""
    if x < 0x80:
        return _SMALL_UINTS[x]
    n = (x.bit_length() + 7) >> 3
    return bytes((256 - n,)) + x.to_bytes(n, "big")


def _int(x: int) -> bytes:
    """gob's signed integer: ``-2**63 <= x < 2**63``."""
    return _uint(x << 1 if x >= 0 else (~x << 1) | 1)


def _float(x: float) -> bytes:
    # The IEEE-754 bits with their bytes reversed: little-endian bytes read big-endian.
    return _uint(int.from_bytes(_DOUBLE.pack(x), "big"))


def _text(raw: bytes) -> bytes:
    return _uint(len(raw)) + raw


def _name(name: str) -> bytes:
    return _text(name.encode())


# --------------------------------------------------------------------------------------------
# Go types (see gotypes.py) as gob numbers the predefined ones.

_BY_WIRE_ID: Final = (None, BOOL, INT, UINT, FLOAT, BYTES, STRING, COMPLEX, INTERFACE)
_WIRE_ID: Final = {t.kind: i for i, t in enumerate(_BY_WIRE_ID) if t is not None}
for _plain in (MAP_ANY, SLICE_ANY, MAP_STRING_ANY):
    _plain._definitions = {}  # made of predefined types: the encoder's fast way
# Type ids as gob writes them, made once for the ids a session uses.
_TYPE_ID_CODES: Final = tuple(_int(i) for i in range(256))
_WRAPPERS: Final = WRAPPERS


def _common_type(type_id: int, name: str) -> bytes:
    # CommonType{Name, Id}: an empty Name is left out, so the Id is then field delta 2.
    if name:
        return b"\x01" + _name(name) + b"\x01" + _int(type_id) + b"\x00"
    return b"\x02" + _int(type_id) + b"\x00"


# Interface headers: the registered name then the type id, for the predefined types.
_HDR_STRING: Final = _name("string") + _int(_STRING)
_HDR_INT: Final = _name("int") + _int(_INT)
_HDR_BOOL: Final = _name("bool") + _int(_BOOL)
_HDR_FLOAT: Final = _name("float64") + _int(_FLOAT)
_HDR_BYTES: Final = _name("[]uint8") + _int(_BYTES)
_HDR_COMPLEX: Final = _name("complex128") + _int(_COMPLEX)
_NAME_SLICE_ANY: Final = _name("[]interface {}")
_NAME_MAP_STR: Final = _name("map[string]interface {}")
_NIL: Final = b"\x00"  # a nil interface: an empty name and nothing else
_TRUE: Final = b"\x02\x00\x01"  # byte count, singleton delta, 1
_FALSE: Final = b"\x02\x00\x00"
# Byte count, singleton delta and value of the commonest interface contents: the length prefix
# of a short string, and small ints.
_SHORT_STRING: Final = tuple(bytes((n + 2, 0, n)) for n in range(126))
_SMALL_INT: Final = tuple(b"\x02\x00" + _int(n) for n in range(-64, 64))


def _encode_error(value: Any, where: str) -> NoReturn:
    raise EncodeError(
        f"GobSerializer cannot encode {type(value).__module__}.{type(value).__qualname__}"
        f"{where}; store str, int, float, bool, None, bytes, list, tuple or dict values"
    )


class _Encoder:
    """One ``gob.NewEncoder(buf).Encode(value)``: type definitions are sent once per stream.

    Type ids are given out as a fresh Go process gives them: from 64, in the order the encoder
    first meets each type, and within a type as Go's ``newTypeObject`` numbers it (a struct
    before its fields; a map, slice or array after its key and element), so wherever Go's own
    output is deterministic ours is the same bytes. Definitions are sent as Go's
    ``sendActualType`` sends them: the type, then the types it is made of, depth first.

    Methods take ``w``, where a type definition goes (the stream, or for a value inside an
    interface the buffer that interface is written into), and ``b``, the buffer being filled.
    """

    __slots__ = ("ids", "map_str_id", "max_depth", "next_id", "sent", "slice_id")

    def __init__(self, max_depth: int) -> None:
        self.max_depth = max_depth
        # the ids of the types Python's list and dict are written as, once sent (a shortcut)
        self.slice_id = 0
        self.map_str_id = 0
        self.ids: dict[str, int] = {}
        self.next_id = _FIRST_USER_ID
        self.sent: set[int] = set()

    def encode(self, value: Any) -> bytes:
        out = bytearray()
        b = bytearray()
        cls = value.__class__
        if cls in _WRAPPERS:
            go_type: GoType = value.go_type
            if go_type.kind in _WIRE_ID:
                b += _int(_WIRE_ID[go_type.kind])
            else:
                b += _int(self._send(out, b, go_type))
            if go_type.kind != "struct":
                b += b"\x00"  # singleton delta: every top-level value but a struct
            self._typed(out, b, go_type, value, 0)
        elif isinstance(value, dict):
            b += _TYPE_ID_CODES[self._send(out, b, MAP_ANY)]  # 64: the first type met
            b += b"\x00"  # singleton delta
            self._map_any(out, b, value, 0)
        elif isinstance(value, (list, tuple)):
            b += _TYPE_ID_CODES[self._send(out, b, SLICE_ANY)]
            b += b"\x00"
            self._slice(out, b, value, 0)
        elif value is None:
            raise EncodeError(
                "GobSerializer cannot encode None at the top level (Go cannot either)"
            )
        else:
            header, payload = _scalar(value, " at the top level")
            b += header[-1:]  # the type id alone: predefined ids are one byte
            b += b"\x00"
            b += payload
        out += _uint(len(b))
        out += b
        return bytes(out)

    # -- types ----------------------------------------------------------------------------

    def _assign(self, go_type: GoType) -> int:
        """``go_type``'s id, numbering it and the types it is made of as Go would."""
        kind = go_type.kind
        if kind in _WIRE_ID:
            return _WIRE_ID[kind]
        signature = go_type.signature
        type_id = self.ids.get(signature)
        if type_id is not None:
            if type_id < 0:  # met again while its parts are numbered: only via a struct
                raise EncodeError(f"GobSerializer: recursive type {go_type!r} without a struct")
            return type_id
        if kind == "struct":  # Go numbers a struct first, so that it may contain itself
            type_id = self._new_id(signature)
            for field in go_type.fields:
                self._assign(field[1])
            return type_id
        self.ids[signature] = -1
        if go_type.key is not None:
            self._assign(go_type.key)
        if go_type.elem is not None:
            self._assign(go_type.elem)
        return self._new_id(signature)

    def _new_id(self, signature: str) -> int:
        type_id = self.next_id
        if type_id > _MAX_TYPE_ID:  # pragma: no cover - needs two billion types
            raise EncodeError("GobSerializer: too many types")
        self.next_id += 1
        self.ids[signature] = type_id
        return type_id

    def _send(self, w: bytearray, b: bytearray, go_type: GoType) -> int:
        """Send ``go_type``'s definition unless this stream has it already; return its id.

        Like Go, the definition is appended to ``b`` and ``b`` is flushed to ``w`` as one
        message: whatever was written of the current value so far travels with it. Then the
        types it is made of follow, each in a message of its own.
        """
        signature = go_type.signature
        type_id = self.ids.get(signature)
        if type_id is not None and type_id in self.sent:
            return type_id
        definitions = go_type._definitions
        if definitions is not None:  # made of predefined types (the usual ones): the fast way
            if type_id is None:
                type_id = self._new_id(signature)
            self.sent.add(type_id)
            definition = definitions.get(type_id)
            if definition is None:
                definition = definitions[type_id] = self._definition(go_type, type_id)
            b += definition
            w += _uint(len(b))
            w += b
            b.clear()
            return type_id
        if type_id is None or type_id < 0:
            type_id = self._assign(go_type)
        self.sent.add(type_id)
        b += self._definition(go_type, type_id)
        w += _uint(len(b))
        w += b
        b.clear()
        if go_type.kind == "struct":
            parts = [field_type for _name_, field_type in go_type.fields]
        else:
            parts = [t for t in (go_type.key, go_type.elem) if t is not None]
        for part in parts:
            if part.kind not in _WIRE_ID:
                self._send(w, b, part)
        return type_id

    def _definition(self, go_type: GoType, type_id: int) -> bytes:
        """``-id`` and the ``wireType`` of ``go_type``."""
        common = _common_type(type_id, go_type.name)
        kind = go_type.kind
        if kind == "slice" and go_type.elem is not None:
            # wireType{SliceT (delta 2): sliceType{CommonType (1), Elem (1)}}
            body = b"\x02\x01" + common + b"\x01" + _int(self._assign(go_type.elem)) + b"\x00"
        elif kind == "array" and go_type.elem is not None:
            # wireType{ArrayT (1): arrayType{CommonType (1), Elem (1), Len (1), zero Len left out}}
            body = b"\x01\x01" + common + b"\x01" + _int(self._assign(go_type.elem))
            if go_type.length:
                body += b"\x01" + _int(go_type.length)
            body += b"\x00"
        elif kind == "map" and go_type.key is not None and go_type.elem is not None:
            # wireType{MapT (4): mapType{CommonType (1), Key (1), Elem (1)}}
            key_id = self._assign(go_type.key)
            elem_id = self._assign(go_type.elem)
            body = b"\x04\x01" + common + b"\x01" + _int(key_id) + b"\x01" + _int(elem_id)
            body += b"\x00"
        elif kind == "struct":
            # wireType{StructT (3): structType{CommonType (1), Field (1): []fieldType{Name, Id}}}
            body = b"\x03\x01" + common
            if go_type.fields:
                body += b"\x01" + _uint(len(go_type.fields))
                for field_name, field_type in go_type.fields:
                    body += b"\x01" + _name(field_name) + b"\x01"
                    body += _int(self._assign(field_type)) + b"\x00"
            body += b"\x00"
        else:
            raise EncodeError(f"GobSerializer: {go_type!r} is not a type gob can define")
        return _int(-type_id) + body + b"\x00"

    # -- values of Python's own types -------------------------------------------------------

    def _slice(
        self, w: bytearray, b: bytearray, items: list[Any] | tuple[Any, ...], depth: int
    ) -> None:
        if depth >= self.max_depth:
            raise EncodeError(f"GobSerializer: value nested deeper than max_depth={self.max_depth}")
        b += _uint(len(items))
        for item in items:
            self._interface(w, b, item, depth + 1)

    def _map_any(self, w: bytearray, b: bytearray, mapping: dict[Any, Any], depth: int) -> None:
        if depth >= self.max_depth:
            raise EncodeError(f"GobSerializer: value nested deeper than max_depth={self.max_depth}")
        b += _uint(len(mapping))
        interface = self._interface
        for key, item in mapping.items():
            # A key is an interface{} like the value; only comparable scalars make Go map keys.
            if key.__class__ is str or key is None or isinstance(key, (str, int, float)):
                interface(w, b, key, depth + 1)
            else:
                _encode_error(key, " as a map key (keys may be str, int, float, bool or None)")
            interface(w, b, item, depth + 1)

    def _map_str(self, w: bytearray, b: bytearray, mapping: dict[str, Any], depth: int) -> None:
        if depth >= self.max_depth:
            raise EncodeError(f"GobSerializer: value nested deeper than max_depth={self.max_depth}")
        b += _uint(len(mapping))
        for key, item in mapping.items():
            b += _text(_utf8(key))
            self._interface(w, b, item, depth + 1)

    def _interface(self, w: bytearray, b: bytearray, value: Any, depth: int) -> None:
        """``value`` as the content of an ``interface{}``."""
        cls = value.__class__
        if cls is str:
            raw = value.encode()  # UnicodeEncodeError becomes an EncodeError in serialize()
            b += _HDR_STRING
            if len(raw) < len(_SHORT_STRING):
                b += _SHORT_STRING[len(raw)]
            else:
                size = _uint(len(raw))
                b += _uint(1 + len(size) + len(raw))
                b += b"\x00"
                b += size
            b += raw
        elif cls is bool:
            b += _HDR_BOOL
            b += _TRUE if value else _FALSE
        elif cls is int:
            b += _HDR_INT
            if -64 <= value < 64:
                b += _SMALL_INT[value + 64]
            else:
                payload = _checked_int(value)
                b += _uint(1 + len(payload))
                b += b"\x00"
                b += payload
        elif value is None:
            b += _NIL
        elif cls in _WRAPPERS:
            self._go_value(w, b, value, depth)
        elif isinstance(value, (list, tuple)):
            b += _NAME_SLICE_ANY
            type_id = self.slice_id
            if not type_id:
                type_id = self.slice_id = self._send(w, b, SLICE_ANY)
            b += _TYPE_ID_CODES[type_id] if type_id < 256 else _int(type_id)
            data = bytearray(b"\x00")
            self._slice(b, data, value, depth)
            b += _uint(len(data))
            b += data
        elif isinstance(value, dict):
            for key in value:
                if not isinstance(key, str):
                    raise EncodeError(
                        "GobSerializer: a nested dict must have str keys only: it becomes Go's "
                        f"map[string]interface{{}}; found key {key!r}. Only the top-level dict "
                        "(Session.Values itself) is written as map[interface{}]interface{}"
                    )
            b += _NAME_MAP_STR
            type_id = self.map_str_id
            if not type_id:
                type_id = self.map_str_id = self._send(w, b, MAP_STRING_ANY)
            b += _TYPE_ID_CODES[type_id] if type_id < 256 else _int(type_id)
            data = bytearray(b"\x00")
            self._map_str(b, data, value, depth)
            b += _uint(len(data))
            b += data
        else:
            header, payload = _scalar(value, "")
            b += header
            b += _uint(len(payload) + 1)
            b += b"\x00"
            b += payload

    # -- values that remember their Go type ------------------------------------------------

    def _go_value(self, w: bytearray, b: bytearray, value: Any, depth: int) -> None:
        """A Go-typed value (GoInt, GoList, ...) in an interface, under its registered name."""
        go_type: GoType = value.go_type
        name = value.go_name if value.go_name is not None else go_type.go_string()
        b += _name(name)
        if go_type.kind in _WIRE_ID:
            b += _int(_WIRE_ID[go_type.kind])
        else:
            b += _int(self._send(w, b, go_type))
        # a struct is sent bare, anything else after the singleton delta
        data = bytearray() if go_type.kind == "struct" else bytearray(b"\x00")
        self._typed(b, data, go_type, value, depth)
        b += _uint(len(data))
        b += data

    def _typed(self, w: bytearray, b: bytearray, go_type: GoType, value: Any, depth: int) -> None:
        """``value`` as a value of ``go_type`` (no interface around it)."""
        kind = go_type.kind
        try:
            if kind == "interface":
                self._interface(w, b, value, depth)
            elif kind == "string":
                b += _text(_utf8(_expect(value, str, go_type)))
            elif kind == "int":
                b += _checked_int(_expect(value, int, go_type))
            elif kind == "uint":
                number = _expect(value, int, go_type)
                if not 0 <= number < 1 << 64:
                    raise EncodeError(f"GobSerializer: {number} does not fit {go_type!r}")
                b += _uint(number)
            elif kind == "bool":
                b += b"\x01" if _expect(value, int, go_type) else b"\x00"
            elif kind == "float":
                b += _float(float(_expect(value, (int, float), go_type)))
            elif kind == "complex":
                number = complex(_expect(value, (int, float, complex), go_type))
                b += _float(number.real) + _float(number.imag)
            elif kind == "bytes":
                b += _text(bytes(_expect(value, (bytes, bytearray), go_type)))
            else:
                if depth >= self.max_depth:
                    raise EncodeError(
                        f"GobSerializer: value nested deeper than max_depth={self.max_depth}"
                    )
                self._composite(w, b, go_type, value, depth + 1)
        except EncodeError:
            raise
        except (TypeError, ValueError, OverflowError) as exc:
            raise EncodeError(
                f"GobSerializer cannot write {value!r} as {go_type!r}: {exc}"
            ) from exc

    def _composite(
        self, w: bytearray, b: bytearray, go_type: GoType, value: Any, depth: int
    ) -> None:
        kind = go_type.kind
        elem = go_type.elem
        if kind in ("slice", "array") and elem is not None:
            items = _expect(value, (list, tuple), go_type)
            if kind == "array" and len(items) != go_type.length:
                raise EncodeError(
                    f"GobSerializer: {go_type!r} holds {go_type.length} items, not {len(items)}"
                )
            b += _uint(len(items))
            for item in items:
                self._typed(w, b, elem, item, depth)
        elif kind == "map" and go_type.key is not None and elem is not None:
            mapping = _expect(value, dict, go_type)
            b += _uint(len(mapping))
            for key, item in mapping.items():
                self._typed(w, b, go_type.key, key, depth)
                self._typed(w, b, elem, item, depth)
        elif kind == "struct":
            record = _expect(value, dict, go_type)
            names = {field_name for field_name, _t in go_type.fields}
            unknown = [key for key in record if key not in names]
            if unknown:
                raise EncodeError(
                    f"GobSerializer: {go_type!r} has no field {unknown[0]!r} "
                    f"(its fields: {', '.join(sorted(names))})"
                )
            last = -1
            for number, (field_name, field_type) in enumerate(go_type.fields):
                if field_name not in record:
                    continue
                item = record[field_name]
                if _is_zero(field_type, item):
                    continue  # Go leaves out fields holding their zero value
                b += _uint(number - last)
                last = number
                self._typed(w, b, field_type, item, depth)
            b += b"\x00"
        else:
            raise EncodeError(f"GobSerializer: {go_type!r} is not a type gob can write")


def _expect(value: Any, types: type | tuple[type, ...], go_type: GoType) -> Any:
    if not isinstance(value, types) or (value.__class__ is bool and go_type.kind != "bool"):
        raise EncodeError(
            f"GobSerializer cannot write {type(value).__name__} {value!r} as Go's "
            f"{go_type.go_string()}: a value read from Go keeps its Go type, so what it holds "
            "must still fit it"
        )
    return value


def _is_zero(go_type: GoType, value: Any) -> bool:
    """Whether Go would leave a struct field holding ``value`` out (its zero value)."""
    kind = go_type.kind
    if kind in ("map", "struct", "array"):
        return False  # sent even when empty (a nil map never reaches Python as a value)
    if kind == "interface":
        return value is None
    if kind in ("slice", "string", "bytes"):
        return isinstance(value, (str, bytes, bytearray, list, tuple)) and len(value) == 0
    return isinstance(value, (int, float, complex)) and value == 0


def _utf8(text: str) -> bytes:
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise EncodeError(
            f"GobSerializer cannot encode a str that is not valid UTF-8: {exc}"
        ) from exc


def _checked_int(value: int) -> bytes:
    if not _INT64_MIN <= value <= _INT64_MAX:
        raise EncodeError(
            f"GobSerializer cannot encode the int {value}: Go's int is 64 bits "
            f"({_INT64_MIN} to {_INT64_MAX})"
        )
    return _int(value)


def _scalar(value: Any, where: str) -> tuple[bytes, bytes]:
    """(interface header: name and type id, encoded value) for a predefined type."""
    if isinstance(value, bool):
        return _HDR_BOOL, b"\x01" if value else b"\x00"
    if isinstance(value, int):
        return _HDR_INT, _checked_int(value)
    if isinstance(value, float):
        return _HDR_FLOAT, _float(value)
    if isinstance(value, str):
        return _HDR_STRING, _text(_utf8(value))
    if isinstance(value, (bytes, bytearray)):
        return _HDR_BYTES, _text(bytes(value))
    if isinstance(value, complex):
        return _HDR_COMPLEX, _float(value.real) + _float(value.imag)
    _encode_error(value, where)


# --------------------------------------------------------------------------------------------
# Decoding.


def _bad_key(key: Any) -> NoReturn:
    if isinstance(key, complex):
        # Complex hashes are easy to make collide, which would make building the dict quadratic.
        raise Malformed("gob: complex map keys are not supported")
    raise Malformed(f"gob: map key of type {type(key).__name__} cannot be a Python dict key")


# Composite types Python's list and dict are written as: (kind, key, elem).
_PLAIN_COMPOSITES: Final = {
    b"[]interface {}": (_K_SLICE, 0, _INTERFACE),
    b"map[string]interface {}": (_K_MAP, _STRING, _INTERFACE),
}
# ... and at the top level: map[interface{}]interface{} (a dict) and []interface{} (a list).
_PLAIN_TOP: Final = frozenset(((_K_MAP, _INTERFACE, _INTERFACE), (_K_SLICE, 0, _INTERFACE)))


def _wrap_scalar(value: Any, go_name: str, type_id: int) -> Any:
    """A scalar Go sent under ``go_name``, in the wrapper that writes it back so."""
    go_type = _BY_WIRE_ID[type_id]
    assert go_type is not None
    if type_id in (_INT, _UINT, _BOOL):
        return GoInt(value, go_name, go_type)
    if type_id == _FLOAT:
        return GoFloat(value, go_name, go_type)
    if type_id == _STRING:
        return GoStr(value, go_name, go_type)
    if type_id == _BYTES:
        return GoBytes(value, go_name, go_type)
    return GoComplex(value, go_name, go_type)


class _WireType:
    """A type definition read from the stream."""

    __slots__ = ("elem", "fields", "key", "kind", "length", "name")

    def __init__(self, kind: int) -> None:
        self.kind = kind
        self.name = ""
        self.elem = 0
        self.key = 0
        self.length = 0
        self.fields: tuple[tuple[str, int], ...] = ()

    def describe(self) -> str:
        return f"{_KIND_NAMES[self.kind]} {self.name!r}" if self.name else _KIND_NAMES[self.kind]


# Parsed definitions by their bytes (a definition's meaning depends on its bytes only).
_CACHED_DEFINITION_SIZE: Final = 128
_DEFINITION_CACHE_ENTRIES: Final = 256
_DEFINITION_CACHE: dict[bytes, _WireType] = {}


class _Decoder:
    """One ``gob.NewDecoder(bytes.NewReader(data)).Decode(&v)``, with limits.

    ``pos`` walks ``data``; ``end`` is the end of the current message, past which only a new
    message (read when a type id is expected) may take us.
    """

    __slots__ = (
        "checked",
        "data",
        "end",
        "go_types",
        "items_left",
        "max_depth",
        "max_str_len",
        "pos",
        "short",
        "types",
    )

    def __init__(self, data: bytes, max_depth: int, max_items: int, max_str_len: int) -> None:
        self.data = data
        self.pos = 0
        self.end = 0
        self.max_depth = max_depth
        # Items are counted as each container's length is read, before it is built; strings
        # are measured in raw(), and the fast paths only read strings shorter than ``short``.
        self.items_left = max_items - 1  # the top-level value
        self.max_str_len = max_str_len
        self.short = min(0x80, max_str_len + 1)
        self.types: dict[int, _WireType] = {}
        self.checked: set[int] = set()
        self.go_types: dict[int, GoType] = {}

    # -- primitives ----------------------------------------------------------------------

    def uint(self) -> int:
        pos = self.pos
        if pos >= self.end:
            raise Malformed("gob: unexpected end of data")
        first = self.data[pos]
        if first < 0x80:
            self.pos = pos + 1
            return first
        size = 256 - first
        if size > 8:
            raise Malformed(f"gob: invalid unsigned integer (length byte 0x{first:02x})")
        stop = pos + 1 + size
        if stop > self.end:
            raise Malformed("gob: unexpected end of data inside an integer")
        self.pos = stop
        return int.from_bytes(self.data[pos + 1 : stop], "big")

    def sint(self) -> int:
        u = self.uint()
        return ~(u >> 1) if u & 1 else u >> 1

    def raw(self) -> bytes:
        size = self.uint()
        pos = self.pos
        if size > self.end - pos:
            raise Malformed(f"gob: length {size} exceeds the data left")
        if size > self.max_str_len:
            raise Malformed(f"gob: a string of {size} bytes exceeds max_str_len={self.max_str_len}")
        self.pos = pos + size
        return self.data[pos : pos + size]

    def spend(self, items: int) -> None:
        self.items_left -= items
        if self.items_left < 0:
            raise Malformed("gob: data holds more than max_items items")

    def text(self) -> str:
        try:
            return self.raw().decode("utf-8")
        except UnicodeDecodeError as exc:
            raise Malformed(f"gob: string is not valid UTF-8: {exc}") from exc

    def f64(self) -> float:
        value: float = _DOUBLE.unpack(self.uint().to_bytes(8, "big"))[0]
        return value

    # -- messages and type definitions ------------------------------------------------

    def next_message(self) -> None:
        self.end = len(self.data)
        size = self.uint()
        if size == 0:
            raise Malformed("gob: empty message")
        if size > self.end - self.pos:
            raise Malformed(f"gob: message of {size} bytes exceeds the data left")
        self.end = self.pos + size

    def type_id(self, in_interface: bool) -> int:
        """Read type definitions until a value's type id; return that id."""
        while True:
            if self.pos >= self.end:
                if self.pos >= len(self.data):
                    raise Malformed("gob: unexpected end of data (expected a type id)")
                self.next_message()
            type_id = self.sint()
            if type_id >= 0:
                return type_id
            self.define(-type_id)
            if self.pos < self.end:
                if not in_interface:
                    raise Malformed("gob: extra data after a type definition")
                self.uint()  # the byte count of what follows; unused, as in Go

    def type_ref(self) -> int:
        type_id = self.sint()
        if not 0 < type_id <= _MAX_TYPE_ID:
            raise Malformed(f"gob: invalid type id {type_id} in a type definition")
        return type_id

    def fields(self, count: int) -> Iterator[int]:
        """Yield the field numbers of a struct with ``count`` fields until its end marker."""
        field = -1
        while True:
            delta = self.uint()
            if delta == 0:
                return
            field += delta
            if field >= count:
                raise Malformed("gob: field number out of range in a type definition")
            yield field

    def common_type(self, wire: _WireType) -> None:
        for field in self.fields(2):
            if field == 0:
                wire.name = self.text()
            else:
                self.type_ref()  # Id: the definition's own id, repeated

    def define(self, type_id: int) -> None:
        if type_id < _FIRST_USER_ID or type_id > _MAX_TYPE_ID:
            raise Malformed(f"gob: type definition for reserved or invalid id {type_id}")
        if type_id in self.types:
            raise Malformed(f"gob: duplicate definition of type id {type_id}")
        # Go ends the message after each definition, so a definition is usually the rest of the
        # message; the same few definitions open every session, and parsing one is far slower
        # than looking it up.
        pos = self.pos
        key = self.data[pos : self.end] if self.end - pos <= _CACHED_DEFINITION_SIZE else b""
        cached = _DEFINITION_CACHE.get(key) if key else None
        if cached is not None:
            self.pos = self.end
            self.types[type_id] = cached
            return
        wire = self.parse_definition()
        if key and self.pos == self.end:
            if len(_DEFINITION_CACHE) >= _DEFINITION_CACHE_ENTRIES:
                _DEFINITION_CACHE.clear()
            _DEFINITION_CACHE[key] = wire
        self.types[type_id] = wire

    def parse_definition(self) -> _WireType:
        """Read a ``wireType``; the result is never modified afterwards (it may be cached)."""
        wire: _WireType | None = None
        for kind in self.fields(7):
            if wire is not None:
                raise Malformed("gob: a type definition with more than one kind")
            wire = _WireType(kind)
            if kind == _K_ARRAY:
                for field in self.fields(3):
                    if field == 0:
                        self.common_type(wire)
                    elif field == 1:
                        wire.elem = self.type_ref()
                    else:
                        wire.length = self.sint()
                        if wire.length < 0:
                            raise Malformed("gob: negative array length in a type definition")
            elif kind == _K_SLICE:
                for field in self.fields(2):
                    if field == 0:
                        self.common_type(wire)
                    else:
                        wire.elem = self.type_ref()
            elif kind == _K_STRUCT:
                for field in self.fields(2):
                    if field == 0:
                        self.common_type(wire)
                    else:
                        wire.fields = self.struct_fields()
            elif kind == _K_MAP:
                for field in self.fields(3):
                    if field == 0:
                        self.common_type(wire)
                    elif field == 1:
                        wire.key = self.type_ref()
                    else:
                        wire.elem = self.type_ref()
            else:  # GobEncoder, BinaryMarshaler, TextMarshaler: CommonType only
                for _ in self.fields(1):
                    self.common_type(wire)
        if wire is None:
            raise Malformed("gob: empty type definition")
        if wire.kind in (_K_ARRAY, _K_SLICE) and not wire.elem:
            raise Malformed(f"gob: {wire.describe()} type definition without an element type")
        if wire.kind == _K_MAP and not (wire.key and wire.elem):
            raise Malformed(f"gob: {wire.describe()} type definition without key or element type")
        return wire

    def struct_fields(self) -> tuple[tuple[str, int], ...]:
        count = self.uint()
        if count > self.end - self.pos:
            raise Malformed(f"gob: {count} struct fields exceed the data left")
        result = []
        for _ in range(count):
            name = ""
            type_id = 0
            for field in self.fields(2):
                if field == 0:
                    name = self.text()
                else:
                    type_id = self.type_ref()
            if not type_id:
                raise Malformed(f"gob: struct field {name!r} without a type")
            result.append((name, type_id))
        return tuple(result)

    def check(self, type_id: int) -> None:
        """Every type reachable from ``type_id`` must be defined (Go compiles them all first)."""
        if type_id in self.checked:
            return
        if type_id == _INTERFACE:
            raise Malformed("gob: an interface type cannot be the type of a value")
        if 0 < type_id < _INTERFACE:
            return
        seen: set[int] = set()
        todo = [type_id]
        while todo:
            current = todo.pop()
            if current in seen or current in self.checked or 0 < current <= _INTERFACE:
                continue
            wire = self.types.get(current)
            if wire is None:
                raise Malformed(f"gob: type id {current} is used but not defined")
            seen.add(current)
            if wire.kind == _K_MAP:
                todo.append(wire.key)
                todo.append(wire.elem)
            elif wire.kind == _K_STRUCT:
                todo.extend(field_type for _, field_type in wire.fields)
            elif wire.elem:
                todo.append(wire.elem)
        self.checked |= seen

    # -- values ---------------------------------------------------------------------------

    def top(self) -> Any:
        type_id = self.type_id(False)
        value = self.concrete(type_id, 0)
        if self.pos != len(self.data):
            raise Malformed(f"gob: {len(self.data) - self.pos} bytes of trailing data")
        if type_id >= _FIRST_USER_ID:
            wire = self.types[type_id]
            if (wire.kind, wire.key, wire.elem) not in _PLAIN_TOP:
                return self.wrap(value, type_id, None)
        return value

    def concrete(self, type_id: int, depth: int) -> Any:
        """A value as ``Encode`` writes it: structs bare, anything else after a 0 delta."""
        if 0 < type_id < _INTERFACE:
            if self.uint() != 0:
                raise Malformed("gob: corrupted data: non-zero delta for a singleton value")
            return self.value(type_id, depth)
        self.check(type_id)
        wire = self.types.get(type_id)
        if wire is not None and wire.kind == _K_STRUCT:
            return self.record(wire, depth)
        if self.uint() != 0:
            raise Malformed("gob: corrupted data: non-zero delta for a singleton value")
        return self.value(type_id, depth)

    def interface(self, depth: int) -> Any:
        data = self.data
        pos = self.pos
        end = self.end
        if pos < end:
            # Fast path for the usual case: a predefined type under its usual name, a one-byte
            # byte count and the 0 singleton delta, all in this message.
            size = data[pos]
            if size == 0:
                self.pos = pos + 1
                return None
            stop = pos + 2 + size  # length byte, name, one-byte type id
            if size < 0x80 and stop + 2 <= end:  # (a type name: not subject to max_str_len)
                header = data[pos:stop]
                expected = _FAST_HEADERS.get(header)
                if expected is not None and data[stop] < 0x80 and data[stop + 1] == 0:
                    type_id, low, high, go_name = expected
                    pos = stop + 2
                    if type_id == _STRING and pos < end:
                        size = data[pos]
                        stop = pos + 1 + size
                        if size < self.short and stop <= end:
                            self.pos = stop
                            try:
                                return data[pos + 1 : stop].decode("utf-8")
                            except UnicodeDecodeError as exc:
                                raise Malformed(f"gob: string is not valid UTF-8: {exc}") from exc
                    self.pos = pos
                    value = self.value(type_id, depth)
                    if high and not low <= value <= high:
                        name = header[1:-1].decode("ascii")
                        raise Malformed(f"gob: value {value} out of range for {name}")
                    if go_name is not None:
                        return _wrap_scalar(value, go_name, type_id)
                    return value
        return self.interface_slow(depth)

    def interface_slow(self, depth: int) -> Any:
        size = self.uint()
        if size == 0:
            return None
        pos = self.pos
        if size > self.end - pos:
            raise Malformed(f"gob: interface type name of {size} bytes exceeds the data left")
        name = self.data[pos : pos + size]
        self.pos = pos + size
        type_id = self.type_id(True)
        self.uint()  # byte count of the value; Go ignores it too
        expected = _BASIC_NAMES.get(name)
        if expected is None:
            shape = _COMPOSITE_NAMES.get(name)
            wire = self.types.get(type_id)
            if shape is not None and (wire is None or (wire.kind, wire.key, wire.elem) != shape):
                raise Malformed(
                    f"gob: interface value named {name.decode('ascii')!r} carries "
                    f"{self.type_name(type_id)} data"
                )
            value = self.concrete(type_id, depth)
            try:
                go_name = name.decode("utf-8")
            except UnicodeDecodeError as exc:
                raise Malformed(f"gob: type name is not valid UTF-8: {exc}") from exc
            if type_id < _FIRST_USER_ID or wire is None:  # a named basic type: type Role string
                return _wrap_scalar(value, go_name, type_id)
            plain = _PLAIN_COMPOSITES.get(name)
            if plain is not None and (wire.kind, wire.key, wire.elem) == plain:
                return value  # []interface{} and map[string]interface{}: a list, a dict
            return self.wrap(value, type_id, go_name)
        wire_id, low, high = expected
        if type_id != wire_id:
            raise Malformed(
                f"gob: interface value named {name.decode('ascii')!r} carries "
                f"{self.type_name(type_id)} data"
            )
        value = self.concrete(type_id, depth)
        if high and not low <= value <= high:
            raise Malformed(f"gob: value {value} out of range for {name.decode('ascii')}")
        if name not in _PLAIN_NAMES:
            return _wrap_scalar(value, name.decode("ascii"), type_id)
        return value

    def wrap(self, value: Any, type_id: int, go_name: str | None) -> Any:
        """``value`` (a list or dict read as ``type_id``) in a wrapper remembering its type."""
        go_type = self.go_type(type_id)
        if go_type.kind in ("slice", "array"):
            return GoList(value, go_type, go_name)
        return GoDict(value, go_type, go_name)

    def go_type(self, type_id: int, depth: int = 0) -> GoType:
        """The GoType of a type id of this stream (recursive types included)."""
        if 0 < type_id <= _INTERFACE:
            predefined = _BY_WIRE_ID[type_id]
            assert predefined is not None
            return predefined
        known = self.go_types.get(type_id)
        if known is not None:
            return known
        if depth >= self.max_depth:
            raise Malformed(f"gob: types nested deeper than max_depth={self.max_depth}")
        wire = self.types.get(type_id)
        if wire is None or wire.kind > _K_MAP:  # (an empty container of such types)
            raise Malformed(f"gob: values of {self.type_name(type_id)} types are not supported")
        go_type = GoType(("array", "slice", "struct", "map")[wire.kind], wire.name)
        go_type.length = wire.length
        self.go_types[type_id] = go_type  # before its parts: they may refer back to it
        if wire.kind == _K_STRUCT:
            go_type.fields = tuple((name, self.go_type(t, depth + 1)) for name, t in wire.fields)
        else:
            go_type.elem = self.go_type(wire.elem, depth + 1)
            if wire.kind == _K_MAP:
                go_type.key = self.go_type(wire.key, depth + 1)
            if wire.elem <= _INTERFACE and wire.key <= _INTERFACE:
                go_type._definitions = {}  # made of predefined types: the encoder's fast way
        return go_type

    def type_name(self, type_id: int) -> str:
        if type_id in _BUILTIN_NAMES:
            return _BUILTIN_NAMES[type_id]
        wire = self.types.get(type_id)
        return wire.describe() if wire is not None else f"type id {type_id}"

    def value(self, type_id: int, depth: int) -> Any:
        """A value of ``type_id`` as it appears inside a container (no singleton delta)."""
        if type_id >= _FIRST_USER_ID:
            return self.composite(type_id, depth)
        if type_id == _INTERFACE:
            return self.interface(depth)
        if type_id == _STRING:
            pos = self.pos
            if pos < self.end:
                size = self.data[pos]
                stop = pos + 1 + size
                if size < self.short and stop <= self.end:
                    self.pos = stop
                    try:
                        return self.data[pos + 1 : stop].decode("utf-8")
                    except UnicodeDecodeError as exc:
                        raise Malformed(f"gob: string is not valid UTF-8: {exc}") from exc
            return self.text()
        if type_id == _INT:
            u = self.uint()
            return ~(u >> 1) if u & 1 else u >> 1
        if type_id == _BOOL:
            return self.uint() != 0
        if type_id == _UINT:
            return self.uint()
        if type_id == _FLOAT:
            return self.f64()
        if type_id == _BYTES:
            return self.raw()
        if type_id == _COMPLEX:
            real = self.f64()
            return complex(real, self.f64())
        raise Malformed(f"gob: unknown type id {type_id}")

    def composite(self, type_id: int, depth: int) -> Any:
        """A value of a type defined in the stream."""
        wire = self.types.get(type_id)
        if wire is None:
            raise Malformed(f"gob: unknown type id {type_id}")
        if depth >= self.max_depth:
            raise Malformed(f"gob: data nested deeper than max_depth={self.max_depth}")
        kind = wire.kind
        if kind == _K_MAP:
            return self.mapping(wire, depth + 1)
        if kind == _K_SLICE:
            return self.seq(wire.elem, self.uint(), depth + 1)
        if kind == _K_STRUCT:
            return self.record(wire, depth)
        if kind == _K_ARRAY:
            count = self.uint()
            if count != wire.length:
                raise Malformed(
                    f"gob: array of {count} elements for a type of length {wire.length}"
                )
            return self.seq(wire.elem, count, depth + 1)
        raise Malformed(
            f"gob: values of {wire.describe()} types (custom marshalling, such as time.Time) "
            "are not supported"
        )

    def seq(self, elem: int, count: int, depth: int) -> list[Any]:
        if count > len(self.data) - self.pos:  # every element takes at least one byte
            raise Malformed(f"gob: {count} elements exceed the data left")
        self.spend(count)
        if elem == _INTERFACE:
            return [self.interface(depth) for _ in range(count)]
        if elem == _STRING:
            return [self.text() for _ in range(count)]
        value = self.value
        return [value(elem, depth) for _ in range(count)]

    def mapping(self, wire: _WireType, depth: int) -> dict[Any, Any]:
        count = self.uint()
        if count > len(self.data) - self.pos:
            raise Malformed(f"gob: {count} map entries exceed the data left")
        # Keys are str, int, float, bool or bytes, whose hashes cannot be made to collide
        # much (a float or 64-bit int shares its hash with a dozen others at most): no hash
        # flooding. Complex keys could, and are refused.
        self.spend(2 * count)
        key_type = wire.key
        elem_type = wire.elem
        result: dict[Any, Any] = {}
        if elem_type == _INTERFACE and key_type in (_INTERFACE, _STRING):
            # map[interface{}]interface{} and map[string]interface{}: nearly every session.
            interface = self.interface
            if key_type == _STRING:
                text = self.text
                for _ in range(count):
                    key = text()
                    result[key] = interface(depth)
                return result
            for _ in range(count):
                key = interface(depth)
                if key.__class__ is complex:
                    _bad_key(key)
                item = interface(depth)
                try:
                    result[key] = item
                except TypeError:
                    _bad_key(key)
            return result
        value = self.value
        for _ in range(count):
            key = value(key_type, depth)
            if key.__class__ is complex:
                _bad_key(key)
            item = value(elem_type, depth)
            try:
                result[key] = item
            except TypeError:
                _bad_key(key)
        return result

    def record(self, wire: _WireType, depth: int) -> dict[str, Any]:
        if depth >= self.max_depth:
            raise Malformed(f"gob: data nested deeper than max_depth={self.max_depth}")
        fields = wire.fields
        result: dict[str, Any] = {}
        field = -1
        while True:
            delta = self.uint()
            if delta == 0:
                return result
            field += delta
            if field >= len(fields):
                raise Malformed(f"gob: field number out of range for {wire.describe()}")
            name, type_id = fields[field]
            self.spend(1)
            result[name] = self.value(type_id, depth + 1)


# --------------------------------------------------------------------------------------------


class GobSerializer(Limited):
    """Go's ``encoding/gob``, as gorilla/securecookie's ``GobEncoder`` stores session values.

    Share cookies (and FilesystemStore files) with Go services that use gorilla/sessions.

    **Encoding.** A ``dict`` at the top level becomes ``map[interface{}]interface{}``, the type
    of gorilla's ``Session.Values``, so its keys may be ``str``, ``int``, ``float``, ``bool``
    or ``None``. Inside it, ``str`` becomes ``string``, ``int`` ``int`` (64 bits:
    anything larger is an error), ``float`` ``float64``, ``bool`` ``bool``, ``bytes`` and
    ``bytearray`` ``[]uint8``, ``complex`` ``complex128``, ``None`` a nil interface, ``list`` and
    ``tuple`` ``[]interface{}`` (which gorilla/sessions registers, so flashes work), and a
    nested ``dict`` ``map[string]interface{}``: nested dicts must have ``str`` keys. The Go side
    must call ``gob.Register(map[string]interface{}{})`` to read nested dicts; gorilla does not.
    A value other than a dict at the top level is written as Go writes that type at the top
    level (``"hello"`` is ``08 0c 00 05 68 65 6c 6c 6f``); ``None`` cannot be. Anything else
    (sets, datetimes, objects, ...) is an :class:`~websession.EncodeError`. Values decoded from
    Go into ``Go*`` wrappers are written as the Go type they came as (see the module docs); one
    that no longer fits it (an int appended to a ``[]string``) is an EncodeError. Type ids are
    numbered as a fresh Go process numbers them, in the order the encoder meets the types
    (``map[interface{}]interface{}`` first, 64), and dicts are written in their order, so the
    output is byte-identical to Go's wherever Go's is deterministic (Go writes maps in random
    order).

    **Decoding.** Any gob stream made of bool, integers, floats, complex numbers, strings,
    ``[]byte``, slices, arrays, maps, structs and interfaces: maps become ``dict``, slices and
    arrays ``list``, ``[]byte`` ``bytes``, every integer type ``int``, ``float32``/``float64``
    ``float``, a nil interface ``None`` and a struct a ``dict`` of the fields that were sent (Go
    leaves out fields holding their zero value); those whose Go type Python's own would not
    write back are the ``Go*`` subclasses of these, which remember it. Type ids are read from
    the stream's definitions, never assumed. Types with custom marshalling (``GobEncoder``,
    ``BinaryMarshaler``, ``TextMarshaler``, such as ``time.Time``), strings that are not UTF-8,
    map keys Python cannot hash, complex map keys, trailing data (Go would leave it unread), and
    input larger than ``max_size`` or nested deeper than ``max_depth`` are all
    :class:`~websession.Malformed`; so is every other defect, whatever the bytes.

    The limits apply to both encoding (:class:`~websession.EncodeError`) and decoding, and
    keep hostile input cheap: any input of ``max_size`` bytes fails in a few milliseconds.

    Args:
        max_size: the largest input ``deserialize`` accepts (and output ``serialize`` writes),
            in bytes.
        max_items: the most items a value may hold: every slice or array element, every map
            key and value and every struct field counts one, as does the top-level value.
        max_str_len: the longest string or ``[]byte``, in bytes.
        max_depth: how deeply containers (maps, slices, arrays, structs) may nest, on both
            encoding and decoding; the top-level dict is depth 1.
    """

    __slots__ = ()

    def __init__(
        self,
        *,
        max_size: int = DEFAULT_MAX_SIZE,
        max_depth: int = DEFAULT_MAX_DEPTH,
        max_items: int = DEFAULT_MAX_ITEMS,
        max_str_len: int = DEFAULT_MAX_STR_LEN,
    ) -> None:
        super().__init__(
            max_size=max_size, max_depth=max_depth, max_items=max_items, max_str_len=max_str_len
        )

    def serialize(self, value: Any) -> bytes:
        """Return ``value`` as one gob message stream, as ``gob.NewEncoder(w).Encode`` would.

        Raises:
            EncodeError: the value has a type gob (or a Go session) cannot represent, an int
                outside int64, a str that is not UTF-8, or breaks a limit (``max_depth``,
                ``max_items``, ``max_str_len``, ``max_size``).
        """
        try:
            out = _Encoder(self._max_depth).encode(value)
        except EncodeError:
            raise
        except UnicodeEncodeError as exc:  # a lone surrogate: not UTF-8, so not a Go string
            raise EncodeError(
                f"GobSerializer cannot encode a str that is not valid UTF-8: {exc}"
            ) from exc
        except RecursionError as exc:
            raise EncodeError("GobSerializer: value nested too deeply") from exc
        except (TypeError, ValueError, OverflowError) as exc:  # pragma: no cover - defensive
            raise EncodeError(f"GobSerializer cannot encode this value: {exc}") from exc
        if len(out) > self._max_size:
            raise EncodeError(
                f"GobSerializer: the value takes {len(out)} bytes, more than "
                f"max_size={self._max_size}"
            )
        # Every item and every byte of a string is at least a byte of output: only a long
        # output can break the item or string limits (the walk is iterative and cheap).
        if len(out) > self._max_items or len(out) > self._max_str_len:
            check_value(
                value,
                "GobSerializer",
                self._max_depth,
                self._max_items,
                self._max_str_len,
                measure_strings=len(out) > self._max_str_len,
            )
        return out

    def deserialize(self, data: bytes) -> Any:
        """Return the value held by the gob stream ``data``.

        Raises:
            Malformed: ``data`` is not a gob stream this serializer can read (see the class
                documentation); never any other exception.
        """
        if not isinstance(data, (bytes, bytearray, memoryview)):
            raise Malformed(f"gob data must be bytes, not {type(data).__name__}")
        if len(data) > self._max_size:
            raise Malformed(f"gob data of {len(data)} bytes exceeds max_size {self._max_size}")
        try:
            return _Decoder(bytes(data), self._max_depth, self._max_items, self._max_str_len).top()
        except Malformed:
            raise
        except Exception as exc:  # pragma: no cover - a bug; never let it escape as such
            raise Malformed(f"invalid gob data: {type(exc).__name__}: {exc}") from exc

    def __repr__(self) -> str:
        return (
            f"GobSerializer(max_size={self._max_size}, max_depth={self._max_depth}, "
            f"max_items={self._max_items}, max_str_len={self._max_str_len})"
        )
