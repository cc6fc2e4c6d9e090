"""Limits shared by the serializers: what one value may hold, checked on encode and decode.

A serializer refuses, with :class:`~websession.Malformed` on decode and
:class:`~websession.EncodeError` on encode, any value that

- takes more than ``max_size`` bytes,
- nests containers deeper than ``max_depth`` (the top-level container is depth 1),
- holds more than ``max_items`` items: every element of a list, tuple or set, every key and every
  value of a dict, and the top-level value count one each,
- holds a string or byte string longer than ``max_str_len`` bytes (as encoded: UTF-8 for a str),
- or holds a dict or set whose keys have too many equal hashes (see :func:`too_many_collisions`).

The same limits on both sides mean a value that is written can always be read back, and a
hostile input costs at most about ``max_items`` steps whatever its size: the defaults keep any
input of ``max_size`` bytes under a few milliseconds.
"""

from __future__ import annotations

import datetime as _dt
import decimal
import uuid
from collections.abc import Iterable
from gc import get_referents
from itertools import compress
from typing import Any, Final

from ..errors import EncodeError

DEFAULT_MAX_SIZE: Final = 1 << 20
DEFAULT_MAX_DEPTH: Final = 32
DEFAULT_MAX_ITEMS: Final = 5_000
DEFAULT_MAX_STR_LEN: Final = 1 << 20

# A dict or set whose keys share fewer distinct hashes than keys minus this is refused. Honest
# data almost never has two equal hashes (-1 and -2 do, as do 1, 1.0 and True); a hostile one
# with thousands of equal hashes makes building the dict quadratic ("hash flooding").
MAX_COLLISIONS: Final = 8

# Key types whose hashes cannot be made to collide cheaply: str, bytes and the date types hash
# with the per-process random key; an int of at most 64 bits shares its hash with at most eight
# others (hashes are taken modulo 2**61 - 1). Floats, Decimals, UUIDs, timedeltas, tuples and
# frozensets can all be chosen to collide, so dicts and sets of them are checked.
SAFE_KEY_TYPES: Final = frozenset(
    (str, bytes, int, bool, type(None), _dt.datetime, _dt.date, _dt.time)
)

_STR: Final = frozenset((str,))
# Leaves the encode walk never needs to look at when strings are not measured.
_PLAIN: Final = frozenset((str, bytes, int, float, bool, type(None)))
_NUMBERS: Final = frozenset((int, float, bool, type(None)))


class Limited:
    """The four limits every serializer takes, validated (``ValueError`` naming a bad one)."""

    __slots__ = ("_max_depth", "_max_items", "_max_size", "_max_str_len")

    def __init__(
        self,
        *,
        max_size: int = DEFAULT_MAX_SIZE,
        max_depth: int = DEFAULT_MAX_DEPTH,
        max_items: int = DEFAULT_MAX_ITEMS,
        max_str_len: int = DEFAULT_MAX_STR_LEN,
    ) -> None:
        check_limits(max_size, max_depth, max_items, max_str_len)
        self._max_size = max_size
        self._max_depth = max_depth
        self._max_items = max_items
        self._max_str_len = max_str_len


def check_limits(max_size: int, max_depth: int, max_items: int, max_str_len: int) -> None:
    """Validate a serializer's limit options (``ValueError`` naming the bad one)."""
    for name, value in (
        ("max_size", max_size),
        ("max_depth", max_depth),
        ("max_items", max_items),
        ("max_str_len", max_str_len),
    ):
        if type(value) is not int or value <= 0:
            raise ValueError(f"{name} must be a positive int, got {value!r}")


def too_many_collisions(keys: Iterable[Any], count: int) -> bool:
    """Whether ``count`` keys have more than :data:`MAX_COLLISIONS` repeated hashes.

    Raises ``TypeError`` for an unhashable key. Building a set of the hashes (plain ints) is
    linear whatever they are: only equal hashes make a dict slow, and equal ints dedupe at once.
    """
    return count - len(set(map(hash, keys))) > MAX_COLLISIONS


def utf8_len(text: str) -> int:
    """Bytes ``text`` takes in UTF-8 (lone surrogates count 3, as Python would refuse them)."""
    return len(text.encode("utf-8", "surrogatepass"))


def is_shallow(value: Any, max_depth: int) -> bool:
    """Whether ``value`` is certainly within every limit but size: the common session shape.

    True for a dict with str, int, bool or None keys whose values are plain scalars or lists of
    plain scalars (two levels deep), or a list of such dicts and scalars (three: the stores'
    ``[values, meta]`` envelope): nothing to flood, and every item takes at least one byte of
    output, so a size check after encoding covers the item count. A plain loop: cheaper on a
    small session than anything that builds sets. Anything else goes through
    :func:`check_value`.
    """
    if value.__class__ is list:
        if max_depth < 3:
            return False
        for element in value:
            if element.__class__ not in _PLAIN and not is_shallow(element, 2):
                return False
        return True
    if not isinstance(value, dict) or max_depth < 2:
        return False
    for key, item in value.items():
        if key.__class__ not in _KEYS:
            return False
        cls = item.__class__
        if cls in _PLAIN:
            continue
        if cls is not list:
            return False
        for element in item:
            if element.__class__ not in _PLAIN:
                return False
    return True


_KEYS: Final = frozenset((str, int, bool, type(None)))


def count_value(value: Any, who: str, max_depth: int, max_items: int) -> None:
    """:func:`check_value` but for strings, in C-level passes: a few per level of nesting.

    Walks the value level by level with ``gc.get_referents`` (which lists a container's
    elements, and its keys unless they are all str, without recursing); dicts and sets are
    checked for keys with equal hashes only on levels that hold keys of a type that can have
    them. A level holding anything but plain containers and known leaves (a dict subclass,
    which may list its ``__dict__`` too) takes :func:`check_value` instead, as does a value
    found too deep or too large (so that the error comes from one place).
    """
    level = [value]
    items = 1
    depth = 0
    while level:
        depth += 1
        kinds = set(map(type, level))
        if depth > max_depth or not _EXACT_CONTAINERS.issuperset(kinds):
            break
        items += sum(map(len, level))
        if dict in kinds:  # a dict's keys count as well as its values
            items += sum(map(len, compress(level, map(_IS_DICT, map(type, level)))))
        if items > max_items:
            break
        refs = get_referents(*level)
        ref_kinds = set(map(type, refs))
        if not _KNOWN_TYPES.issuperset(ref_kinds):
            break  # an unknown type: maybe a container subclass
        if not _NO_FLOOD.issuperset(ref_kinds):
            for obj in level:
                if (
                    obj.__class__ is not list
                    and obj.__class__ is not tuple
                    and not SAFE_KEY_TYPES.issuperset(map(type, obj))
                    and too_many_collisions(obj, len(obj))
                ):
                    raise EncodeError(f"{who}: a dict's or set's keys have too many equal hashes")
        level = list(compress(refs, map(_EXACT_CONTAINERS.__contains__, map(type, refs))))
    else:
        return
    check_value(value, who, max_depth, max_items, DEFAULT_MAX_SIZE, measure_strings=False)


_EXACT_CONTAINERS: Final = frozenset((dict, list, tuple, set, frozenset))
_IS_DICT: Final = {dict}.__contains__
# Types whose presence among a level's keys and elements means no dict or set there can flood.
_NO_FLOOD: Final = SAFE_KEY_TYPES | frozenset((list, dict))
_KNOWN_TYPES: Final = (
    _EXACT_CONTAINERS
    | _PLAIN
    | SAFE_KEY_TYPES
    | frozenset((_dt.timedelta, uuid.UUID, decimal.Decimal))
)


def check_value(
    value: Any,
    who: str,
    max_depth: int,
    max_items: int,
    max_str_len: int,
    *,
    measure_strings: bool,
    str_keys: bool = False,
) -> None:
    """Raise :class:`EncodeError` if ``value`` breaks the limits; never recurses.

    Run before a C encoder (msgpack's, json's) sees the value: they recurse on the C stack, and a
    deep value would crash a thread with a small stack before any recursion limit. Containers
    are dicts, lists, tuples, sets and frozensets (and their subclasses); other objects are
    leaves that the serializer itself accepts or refuses. ``measure_strings`` says whether
    strings need measuring (not when ``max_str_len`` is at least the serializer's ``max_size``:
    the encoded size check covers them). ``str_keys`` refuses dicts with other keys (JSON).
    """
    plain = _NUMBERS if measure_strings else _PLAIN
    items = 1
    stack: list[tuple[Any, int]] = [(value, 1)]
    pop = stack.pop
    push = stack.append
    while stack:
        obj, depth = pop()
        if isinstance(obj, dict):
            children: Any = obj.values()
            n = len(obj)
            items += 2 * n
            if not _STR.issuperset(map(type, obj)):
                if str_keys:
                    for key in obj:
                        if not isinstance(key, str):
                            raise EncodeError(
                                f"{who} needs str keys, got {type(key).__name__} key {key!r}; "
                                "use MsgpackSerializer or GobSerializer for other keys"
                            )
                else:
                    if not SAFE_KEY_TYPES.issuperset(map(type, obj)) and too_many_collisions(
                        obj, n
                    ):
                        raise EncodeError(f"{who}: a dict's keys have too many equal hashes")
                    for key in obj:
                        if type(key) not in plain:
                            push((key, depth + 1))
            elif measure_strings:
                for key in obj:
                    push((key, depth + 1))
        elif isinstance(obj, (list, tuple)):
            children = obj
            items += len(obj)
        elif isinstance(obj, (set, frozenset)):
            children = obj
            n = len(obj)
            items += n
            if not SAFE_KEY_TYPES.issuperset(map(type, obj)) and too_many_collisions(obj, n):
                raise EncodeError(f"{who}: a set's elements have too many equal hashes")
        elif isinstance(obj, str):
            if len(obj) > max_str_len or (
                len(obj) * 4 > max_str_len and utf8_len(obj) > max_str_len
            ):
                raise EncodeError(
                    f"{who}: a str of more than max_str_len={max_str_len} bytes in UTF-8"
                )
            continue
        elif isinstance(obj, (bytes, bytearray)):
            if len(obj) > max_str_len:
                raise EncodeError(
                    f"{who}: a bytes value of {len(obj)} bytes exceeds max_str_len={max_str_len}"
                )
            continue
        else:
            continue
        if depth > max_depth:
            raise EncodeError(f"{who}: value nested deeper than max_depth={max_depth}")
        if items > max_items:
            raise EncodeError(f"{who}: value holds more than max_items={max_items} items")
        if not plain.issuperset(map(type, children)):
            depth += 1
            for child in children:
                if type(child) not in plain:
                    push((child, depth))
