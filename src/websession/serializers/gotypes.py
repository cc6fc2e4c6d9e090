"""Go types, and Python values that remember the Go type they came as.

:class:`~websession.GobSerializer` decodes a value Go sent as a type Python's own types would not
be written back as (``int64``, ``float32``, ``[]string``, a registered struct...) into one of
the ``Go*`` classes here: subclasses of ``int``, ``float``, ``complex``, ``str``, ``bytes``,
``list`` and ``dict`` that carry the :class:`GoType` (and the name Go registered it under), so
the encoder writes them back as Go wrote them. They can be made in Python too, to ask for a Go
type. Nothing here knows gob's bytes; ``gob.py`` does.
"""

from __future__ import annotations

from typing import Any, Final, cast

__all__ = [
    "BOOL",
    "BYTES",
    "COMPLEX",
    "FLOAT",
    "INT",
    "INTERFACE",
    "MAP_ANY",
    "MAP_STRING_ANY",
    "SLICE_ANY",
    "STRING",
    "UINT",
    "GoBytes",
    "GoComplex",
    "GoDict",
    "GoFloat",
    "GoInt",
    "GoList",
    "GoStr",
    "GoType",
]

_PREDEFINED: Final = ("bool", "int", "uint", "float", "bytes", "string", "complex", "interface")
_KINDS: Final = (*_PREDEFINED, "slice", "array", "map", "struct")


class GoType:
    """A Go type as gob describes it, so a value read from Go is written back as that type.

    ``kind`` is one of gob's predefined types (``"bool"``, ``"int"``, ``"uint"``, ``"float"``,
    ``"bytes"``, ``"string"``, ``"complex"``, ``"interface"``: every size of int is ``"int"`` on
    the wire) or ``"slice"``, ``"array"``, ``"map"``, ``"struct"``. ``name`` is the name in gob's
    type definition (a struct's or a named type's name, such as ``"Person"``; usually ``""``
    for an unnamed type). ``elem``/``key`` are the element and key types, ``length`` an array's
    length, ``fields`` a struct's ``(name, type)`` pairs in Go's field order. Treat it as
    immutable; two GoTypes describing the same type compare equal.
    """

    __slots__ = ("_definitions", "_signature", "elem", "fields", "key", "kind", "length", "name")

    def __init__(
        self,
        kind: str,
        name: str = "",
        *,
        elem: GoType | None = None,
        key: GoType | None = None,
        length: int = 0,
        fields: tuple[tuple[str, GoType], ...] = (),
    ) -> None:
        if kind not in _KINDS:
            raise ValueError(f"GoType kind must be one of {', '.join(_KINDS)}, not {kind!r}")
        self.kind = kind
        self.name = name
        self.elem = elem
        self.key = key
        self.length = length
        self.fields = fields
        self._signature: str | None = None
        # The gob encoder's cache, for a type made of predefined types only: its definition
        # by type id, made once (None: not cached).
        self._definitions: dict[int, bytes] | None = None

    @property
    def signature(self) -> str:
        """A canonical text for the whole type (recursive types included); str caches its
        hash, and the encoder looks types up by it for every container it writes."""
        if self._signature is None:
            self._signature = self._describe({})
        return self._signature

    def _describe(self, active: dict[int, int]) -> str:
        if self.kind in _PREDEFINED:
            return self.kind
        if id(self) in active:  # a recursive type: refer back to the enclosing occurrence
            return f"@{active[id(self)]}"
        active[id(self)] = len(active)
        key = self.key._describe(active) if self.key is not None else ""
        elem = self.elem._describe(active) if self.elem is not None else ""
        fields = ",".join(f"{name!r}:{t._describe(active)}" for name, t in self.fields)
        del active[id(self)]
        return f"{self.kind}({self.name!r},{self.length},[{key}],[{elem}],{{{fields}}})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, GoType) and self.signature == other.signature

    def __hash__(self) -> int:
        return hash(self.signature)

    def __copy__(self) -> GoType:
        return self

    def __deepcopy__(self, memo: dict[int, Any]) -> GoType:
        return self

    def go_string(self) -> str:
        """The type in Go's syntax (``[]string``, ``map[string]interface {}``, ``Person``)."""
        return self._spell(set())

    def _spell(self, active: set[int]) -> str:
        if self.name:
            return self.name
        kind = self.kind
        if kind in _PREDEFINED:
            return _GO_SPELLING.get(kind, kind)
        if id(self) in active:  # an unnamed type containing itself: not a Go type anyway
            return "..."
        active.add(id(self))
        elem = self.elem._spell(active) if self.elem is not None else "?"
        if kind == "slice":
            return "[]" + elem
        if kind == "array":
            return f"[{self.length}]{elem}"
        if kind == "map":
            return f"map[{self.key._spell(active) if self.key is not None else '?'}]{elem}"
        return "struct {...}"

    def __repr__(self) -> str:
        return f"GoType({self.go_string()!r})"


_GO_SPELLING: Final = {
    "float": "float64",
    "bytes": "[]uint8",
    "complex": "complex128",
    "interface": "interface {}",
}

BOOL: Final = GoType("bool")
INT: Final = GoType("int")
UINT: Final = GoType("uint")
FLOAT: Final = GoType("float")
BYTES: Final = GoType("bytes")
STRING: Final = GoType("string")
COMPLEX: Final = GoType("complex")
INTERFACE: Final = GoType("interface")

# Go's basic types by name, as the wire type each travels as (every int size is "int").
BASIC_TYPES: Final = {
    **dict.fromkeys(("int", "int64", "int32", "int16", "int8"), INT),
    **dict.fromkeys(("uint", "uint64", "uint32", "uint16", "uint8", "uintptr"), UINT),
    "bool": BOOL,
    "float64": FLOAT,
    "float32": FLOAT,
    "complex128": COMPLEX,
    "complex64": COMPLEX,
    "string": STRING,
    "[]uint8": BYTES,
}


# The types plain Python values are written as.
MAP_ANY: Final = GoType("map", key=INTERFACE, elem=INTERFACE)  # a top-level dict
SLICE_ANY: Final = GoType("slice", elem=INTERFACE)  # a list or tuple
MAP_STRING_ANY: Final = GoType("map", key=STRING, elem=INTERFACE)  # a dict inside a value


class _GoScalar:
    """What the scalar wrappers share: their Go type, copying and printing."""

    __slots__ = ()
    _base: Any  # the Python type extended: int, float, complex, str, bytes
    _default: GoType
    go_name: str
    go_type: GoType

    def __new__(cls, value: Any, go_name: str, go_type: GoType | None = None) -> Any:
        self: Any = cast(Any, super()).__new__(cls, value)  # int.__new__, str.__new__, ...
        self.go_name = go_name
        self.go_type = go_type if go_type is not None else BASIC_TYPES.get(go_name, cls._default)
        return self

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self._base(self), self.go_name, self.go_type))

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._base.__repr__(self)}, {self.go_name!r})"

    def __str__(self) -> str:  # as the plain value prints
        return str.__str__(self) if isinstance(self, str) else self._base.__repr__(self)


class GoInt(_GoScalar, int):
    """An integer Go sent as a type other than ``int`` (``int64``, ``uint8``, a named type...).

    It is an ``int`` for Python code, and is written back as the type it came as, so Go's
    ``v.(int64)`` still holds. ``go_name`` is the name Go registered the type under (what
    gob writes in an ``interface{}``); ``go_type`` its wire type (:data:`INT`, :data:`UINT`,
    or :data:`BOOL` for a named bool type). Arithmetic gives plain ints: a value Python
    computes is written with the usual mapping. ``GoInt(5, "int64")`` makes one in Python; a
    named type needs its wire type too: ``GoInt(3, "main.Level", UINT)`` for ``type Level
    uint8``.
    """

    _base = int
    _default = INT


class GoFloat(_GoScalar, float):
    """A float Go sent as ``float32`` (or a named float type); see :class:`GoInt`."""

    _base = float
    _default = FLOAT


class GoComplex(_GoScalar, complex):
    """A complex number Go sent as ``complex64`` (or a named type); see :class:`GoInt`."""

    _base = complex
    _default = COMPLEX


class GoStr(_GoScalar, str):
    """A string Go sent as a named string type (``type Role string``); see :class:`GoInt`."""

    _base = str
    _default = STRING


class GoBytes(_GoScalar, bytes):
    """Bytes Go sent as a named ``[]byte`` type; see :class:`GoInt`."""

    _base = bytes
    _default = BYTES


class GoList(list):  # type: ignore[type-arg]
    """A Go slice or array of a type other than ``[]interface{}`` (``[]string``, ``[3]int``).

    A ``list`` for Python code, written back as its Go type: its items must still fit it
    (``session["roles"].append("x")`` keeps a ``[]string``; appending an int is an
    :class:`~websession.EncodeError` at save, where Go's ``v.([]string)`` would have panicked).
    ``go_name`` is the name Go registered it under (``None`` at the top level). Made in
    Python: ``GoList(["a"], GoType("slice", elem=STRING), "[]string")``.
    """

    go_type: GoType
    go_name: str | None

    def __init__(self, items: Any = (), go_type: GoType = SLICE_ANY, go_name: str | None = None):
        super().__init__(items)
        self.go_type = go_type
        self.go_name = go_name

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (list(self), self.go_type, self.go_name))

    def __repr__(self) -> str:
        name = self.go_name if self.go_name is not None else self.go_type.go_string()
        return f"{type(self).__name__}({list(self)!r}, {name!r})"


class GoDict(dict):  # type: ignore[type-arg]
    """A Go map or struct that a plain ``dict`` would not write back as itself.

    ``map[string]string``, ``map[interface{}]interface{}`` inside a value, a registered struct
    (its fields by name; Go leaves out fields holding zero values, and so does the encoder), a
    named map type. A ``dict`` for Python code, written back as its Go type; see
    :class:`GoList`.
    """

    go_type: GoType
    go_name: str | None

    def __init__(self, items: Any = (), go_type: GoType = MAP_ANY, go_name: str | None = None):
        super().__init__(items)
        self.go_type = go_type
        self.go_name = go_name

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (dict(self), self.go_type, self.go_name))

    def __repr__(self) -> str:
        name = self.go_name if self.go_name is not None else self.go_type.go_string()
        return f"{type(self).__name__}({dict(self)!r}, {name!r})"


# Every class of value that carries its Go type.
WRAPPERS: Final = frozenset((GoInt, GoFloat, GoComplex, GoStr, GoBytes, GoList, GoDict))
