"""msgpack with extension types: the default serializer."""

from __future__ import annotations

import _thread
import datetime as _dt
import decimal
import operator
import struct
import threading
import uuid
from typing import Any, Final

import msgpack

from ..errors import EncodeError, Malformed
from ._limits import (
    DEFAULT_MAX_DEPTH,
    DEFAULT_MAX_ITEMS,
    DEFAULT_MAX_SIZE,
    DEFAULT_MAX_STR_LEN,
    SAFE_KEY_TYPES,
    Limited,
    check_value,
    count_value,
    is_shallow,
    too_many_collisions,
)

__all__ = ["MsgpackSerializer"]

# Extension type codes. Fixed forever: cookies and stored sessions carry them.
_EXT_DATETIME = 1
_EXT_TUPLE = 2
_EXT_SET = 3
_EXT_FROZENSET = 4
_EXT_DATE = 5
_EXT_UUID = 6
_EXT_DECIMAL = 7
_EXT_TIME = 8
_EXT_TIMEDELTA = 9

_CONTAINERS = (dict, list, tuple, set, frozenset)


class MsgpackSerializer(Limited):
    """Compact binary values that keep what JSON loses.

    Keeps int (and any hashable) keys, ``bytes``, ``bool`` and ``None``, and through msgpack
    extension types ``datetime`` (naive or aware), ``date``, ``time``, ``timedelta``, ``tuple``,
    ``set``, ``frozenset``, ``UUID`` and ``Decimal``. Anything else is an
    :class:`~websession.EncodeError`; there is no pickle fallback.

    Decoding is strict: unknown extension types, trailing bytes and anything beyond the limits
    below are :class:`~websession.Malformed`, and the same limits apply on encoding
    (:class:`~websession.EncodeError`), so what is written can be read back. Hostile input costs
    little: the limits are enforced without recursion on the C stack (a deep value cannot crash a
    thread with a small stack), and any input of ``max_size`` bytes fails in a few milliseconds.

    Args:
        max_size: the largest input ``deserialize`` accepts (and output ``serialize`` writes), in
            bytes.
        max_depth: how deeply containers may nest (the top-level dict is depth 1; a tuple, set
            or frozenset counts as a container).
        max_items: the most items a value may hold: every list, tuple or set element and every
            dict key and value counts one, as does the top-level value.
        max_str_len: the longest ``str`` (in UTF-8 bytes) or ``bytes`` a value may hold.

    Dicts and sets whose keys have many equal hashes (which cheap keys such as floats or tuples
    of ints can be made to have) are refused on both sides: building them would be quadratic.
    """

    __slots__ = ("_ext_hook",)

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
        # Extension payloads of containers decode in Python, never with a nested unpackb (each
        # puts a large context on the C stack).
        self._ext_hook = _ExtHook(max_depth, max_str_len)

    def serialize(self, value: Any) -> bytes:
        """``value`` as msgpack (datetime, tuple and set as extension types).

        Raises:
            EncodeError: a type msgpack cannot hold, or a value beyond the depth and size limits.
        """
        # msgpack's C packer recurses once per level of nesting. In the main thread (the
        # process's own stack, 8 MiB by default) its nesting limit of 511 (and Python's
        # recursion limit, for tuples) stops first, so the limits are checked on the output,
        # which costs next to nothing. Other threads may have small stacks (128 KiB under musl,
        # or threading.stack_size()), so there the depth is checked before the packer runs: the
        # usual session shape without a walk.
        walked = False
        if _get_ident() != _MAIN_THREAD and not is_shallow(value, self._max_depth):
            self._check(value)
            walked = True
        try:
            packer = _local.packer
        except AttributeError:
            packer = _local.packer = _new_packer()
        try:
            out: bytes = packer.pack(value)
        except EncodeError:
            raise
        except (TypeError, ValueError, OverflowError, RecursionError) as exc:
            if not walked:
                self._check(value)  # a clearer reason, if a limit is the cause
            raise EncodeError(f"MsgpackSerializer cannot encode this value: {exc}") from exc
        size = len(out)
        if size > self._max_size:
            raise EncodeError(
                f"MsgpackSerializer: the value takes {size} bytes, more than "
                f"max_size={self._max_size}"
            )
        # What deserialize() counts: container headers bound the depth (one C pass), every item
        # takes a byte, and keys that may flood are checked in inputs over _FLOOD_FREE_SIZE only.
        if walked:
            pass
        elif size > self._max_str_len:
            self._check(value)
        elif (
            size > self._max_items
            or size - len(out.translate(None, _HEADER_BYTES)) > self._max_depth
            or (size > _FLOOD_FREE_SIZE and len(out.translate(None, _RISKY_BYTES)) < size)
        ):
            count_value(value, "MsgpackSerializer", self._max_depth, self._max_items)
        return out

    def _check(self, value: Any) -> None:
        check_value(
            value,
            "MsgpackSerializer",
            self._max_depth,
            self._max_items,
            self._max_str_len,
            measure_strings=self._max_str_len < self._max_size,
        )

    def deserialize(self, data: bytes) -> Any:
        """The value msgpack ``data`` holds, the limits enforced while it is decoded.

        Raises:
            Malformed: not msgpack, trailing bytes, or beyond the depth, size or item limits.
        """
        size = len(data)
        if size > self._max_size:
            raise Malformed(f"msgpack data of {size} bytes exceeds max_size {self._max_size}")
        data = bytes(data)
        if size > self._max_items:
            # Long enough to hold too many items: msgpack's C parser would only let us count
            # them once each container is complete, so a hostile input could make it build
            # every item of a megabyte first. This parser enforces every limit as it goes.
            return _decode_any(data, 0, self._max_depth, self._max_items, self._max_str_len)
        # Every item takes at least one byte: below max_items bytes, only depth, string sizes
        # and flooding keys need watching. One C pass keeps the bytes that may be container
        # headers or float/extension headers (counting those inside strings and numbers too only
        # overestimates).
        marks = data.translate(None, _UNMARKED_BYTES)
        risky = len(marks.translate(None, _HEADER_BYTES)) if marks else 0
        try:
            if size > self._max_str_len:
                value = msgpack.unpackb(
                    data,
                    ext_hook=self._ext_hook,
                    object_pairs_hook=_checked_dict,
                    strict_map_key=False,
                    max_str_len=self._max_str_len,
                    max_bin_len=self._max_str_len,
                )
            elif risky and size > _FLOOD_FREE_SIZE:
                # Floats or extension values may be map keys: keys are checked for equal
                # hashes before a dict is built.
                value = msgpack.unpackb(
                    data,
                    ext_hook=self._ext_hook,
                    object_pairs_hook=_checked_dict,
                    strict_map_key=False,
                )
            else:
                # Keys can only be str, bytes, int, bool or None, which cannot flood a dict, or
                # the input is too short for flooding to cost anything.
                value = msgpack.unpackb(data, ext_hook=self._ext_hook, strict_map_key=False)
        except Malformed:
            raise
        except Exception as exc:  # msgpack raises a zoo of types on hostile input
            raise Malformed(f"invalid msgpack data: {exc}") from exc
        # msgpack's parser keeps its own stack (no C recursion, at most 1024 levels of at most
        # max_items bytes); every container at nesting level L needs L header bytes, so data
        # with at most max_depth of them cannot nest too deeply, and otherwise the value is
        # walked (at most max_items items).
        if len(marks) - risky > self._max_depth and type(value) in _CONTAINER_TYPES:
            _check_depth(value, self._max_depth)
        return value

    def __repr__(self) -> str:
        return (
            f"MsgpackSerializer(max_size={self._max_size}, max_depth={self._max_depth}, "
            f"max_items={self._max_items}, max_str_len={self._max_str_len})"
        )


_get_ident = _thread.get_ident
_MAIN_THREAD = threading.main_thread().ident

# One Packer per thread: reusing it saves building one per call (a Packer is not thread-safe, and
# it resets itself when pack() fails). Nested values inside extension types go through _pack.
_local = threading.local()


# strict_types: without it msgpack packs tuples (and subclasses of dict, list, str, ...) natively,
# and a tuple would come back as a list; with it they reach _default, which keeps tuples as an
# extension type and turns subclasses into their base type.
def _new_packer() -> Any:
    return msgpack.Packer(default=_default, use_bin_type=True, datetime=False, strict_types=True)


def _pack(value: Any) -> bytes:
    return msgpack.packb(  # type: ignore[no-any-return]
        value, default=_default, use_bin_type=True, datetime=False, strict_types=True
    )


def _default(obj: Any) -> Any:
    if isinstance(obj, tuple):
        return msgpack.ExtType(_EXT_TUPLE, _pack(list(obj)))
    if isinstance(obj, _dt.datetime):
        return msgpack.ExtType(_EXT_DATETIME, obj.isoformat().encode())
    if isinstance(obj, _dt.date):
        return msgpack.ExtType(_EXT_DATE, obj.isoformat().encode())
    if isinstance(obj, _dt.time):
        return msgpack.ExtType(_EXT_TIME, obj.isoformat().encode())
    if isinstance(obj, _dt.timedelta):
        return msgpack.ExtType(_EXT_TIMEDELTA, _pack([obj.days, obj.seconds, obj.microseconds]))
    if isinstance(obj, frozenset):
        return msgpack.ExtType(_EXT_FROZENSET, _pack(list(obj)))
    if isinstance(obj, set):
        return msgpack.ExtType(_EXT_SET, _pack(list(obj)))
    if isinstance(obj, uuid.UUID):
        return msgpack.ExtType(_EXT_UUID, obj.bytes)
    if isinstance(obj, decimal.Decimal):
        return msgpack.ExtType(_EXT_DECIMAL, str(obj).encode())
    # Subclasses of the natively packed types (strict_types sends them here): their base value.
    if isinstance(obj, str):
        return str.__str__(obj)
    if isinstance(obj, int):
        return int.__int__(obj)
    if isinstance(obj, float):
        return float.__float__(obj)
    if isinstance(obj, (bytes, bytearray)):
        return bytes(obj)
    if isinstance(obj, dict):
        return dict(obj)
    if isinstance(obj, list):
        return list(obj)
    raise EncodeError(
        f"MsgpackSerializer cannot encode {type(obj).__module__}.{type(obj).__qualname__}; "
        "store plain data (str, int, float, bool, None, bytes, list, dict, tuple, set, "
        "datetime, date, time, timedelta, UUID, Decimal)"
    )


_CONTAINER_TYPES = frozenset(_CONTAINERS)

# Every container at nesting level L needs L array or map headers in the data (tuples and sets
# are extension types whose payload is an array), and no two share a header byte. So data with at
# most max_depth bytes that look like such headers (fixmap, fixarray, array 16/32, map 16/32)
# cannot nest too deeply: one C-level pass spares walking the decoded value in the common case.
# The same pass finds the bytes that may be float or extension headers (float 32/64, ext 8/16/32,
# fixext 1-16): without any, no map key can be of a type whose hashes collide cheaply.
# Even if every key of one map had the same hash (UUIDs, whose comparisons are the slowest, take
# 19 bytes a key), this many bytes cost under a millisecond: no check needed.
_FLOOD_FREE_SIZE: Final = 2048
_HEADER_BYTES = bytes(b for b in range(256) if 0x80 <= b <= 0x9F or 0xDC <= b <= 0xDF)
_RISKY_BYTES = bytes(b for b in range(256) if 0xC7 <= b <= 0xCB or 0xD4 <= b <= 0xD8)
_UNMARKED_BYTES = bytes(b for b in range(256) if b not in _HEADER_BYTES + _RISKY_BYTES)


def _checked_dict(pairs: list[tuple[Any, Any]]) -> dict[Any, Any]:
    """msgpack's ``object_pairs_hook``: a dict, unless its keys would flood it."""
    if not SAFE_KEY_TYPES.issuperset(map(type, map(_first, pairs))):
        try:
            flood = too_many_collisions(map(_first, pairs), len(pairs))
        except TypeError as exc:
            raise Malformed(f"msgpack map key cannot be a dict key: {exc}") from exc
        if flood:
            raise Malformed("msgpack map keys have too many equal hashes")
    return dict(pairs)


_first = operator.itemgetter(0)


class _Budget:
    """The items left to a large input, spent as msgpack builds each container."""

    __slots__ = ("left",)

    def __init__(self, items: int) -> None:
        self.left = items - 1  # the top-level value

    def spend(self, count: int) -> None:
        self.left -= count
        if self.left < 0:
            raise Malformed("msgpack data holds too many items")


class _ExtHook:
    """msgpack's ``ext_hook``: our extension types, decoded without a nested ``unpackb``."""

    __slots__ = ("max_depth", "max_str_len")

    def __init__(self, max_depth: int, max_str_len: int) -> None:
        self.max_depth = max_depth
        self.max_str_len = max_str_len

    def __call__(self, code: int, data: bytes) -> Any:
        if code in _EXT_COLLECTIONS or code == _EXT_TIMEDELTA:
            # Only called for inputs of at most max_items bytes: the budget cannot run out.
            return _decode_any(data, code, self.max_depth, len(data) + 1, self.max_str_len)
        return _ext_scalar(code, data)


def _ext_scalar(code: int, data: bytes) -> Any:
    """An extension type whose payload is not msgpack: its own text or bytes."""
    try:
        if code == _EXT_DATETIME:
            return _dt.datetime.fromisoformat(data.decode())
        if code == _EXT_DATE:
            return _dt.date.fromisoformat(data.decode())
        if code == _EXT_TIME:
            return _dt.time.fromisoformat(data.decode())
        if code == _EXT_UUID:
            return _uuid(data)
        if code == _EXT_DECIMAL:
            return decimal.Decimal(data.decode())
        if code == -1:  # msgpack's own Timestamp, which msgpack's C parser also returns
            return msgpack.Timestamp.from_bytes(data)
    except (ValueError, ArithmeticError) as exc:  # UnicodeDecodeError is a ValueError
        raise Malformed(f"invalid msgpack extension value (type {code}): {exc}") from exc
    raise Malformed(f"unknown msgpack extension type {code}")


def _uuid(data: bytes) -> uuid.UUID:
    """``uuid.UUID(bytes=data)`` in a third of the time (what its ``__init__`` does, minus the
    argument checks): decoding a hostile list of UUIDs costs ``max_items`` of these."""
    if len(data) != 16:
        raise ValueError("bytes is not a 16-char string")
    value = _new_object(uuid.UUID)
    _set_attribute(value, "int", int.from_bytes(data, "big"))
    _set_attribute(value, "is_safe", uuid.SafeUUID.unknown)
    return value


_new_object = object.__new__
_set_attribute = object.__setattr__

_EXT_COLLECTIONS: Final = {_EXT_TUPLE: tuple, _EXT_SET: set, _EXT_FROZENSET: frozenset}

# --------------------------------------------------------------------------------------------
# The payload of a tuple, set, frozenset or timedelta extension is itself msgpack. msgpack's C
# parser would decode it through a nested unpackb, one large context on the C stack per level,
# so nested tuples crashed the process; this parser keeps its own stack instead. It reads every
# msgpack type (and every extension type) and enforces the limits as it goes.

_STRUCTS: Final = {
    0xCA: struct.Struct(">f"),
    0xCB: struct.Struct(">d"),
    0xCC: struct.Struct(">B"),
    0xCD: struct.Struct(">H"),
    0xCE: struct.Struct(">I"),
    0xCF: struct.Struct(">Q"),
    0xD0: struct.Struct(">b"),
    0xD1: struct.Struct(">h"),
    0xD2: struct.Struct(">i"),
    0xD3: struct.Struct(">q"),
}
_U8: Final = struct.Struct(">B")
_U16: Final = struct.Struct(">H")
_U32: Final = struct.Struct(">I")
_EXT8: Final = struct.Struct(">Bb")
_EXT16: Final = struct.Struct(">Hb")
_EXT32: Final = struct.Struct(">Ib")
_FIXEXT_SIZES: Final = {0xD4: 1, 0xD5: 2, 0xD6: 4, 0xD7: 8, 0xD8: 16}
_EXT_HEADERS: Final = {0xC7: _EXT8, 0xC8: _EXT16, 0xC9: _EXT32}
_LENGTHS: Final = {0xC4: _U8, 0xC5: _U16, 0xC6: _U32, 0xD9: _U8, 0xDA: _U16, 0xDB: _U32}

_LIST: Final = 0
_MAP: Final = 1
_TIMEDELTA: Final = _EXT_TIMEDELTA  # kinds 2-4 are the _EXT_COLLECTIONS codes


def _decode_any(data: bytes, code: int, max_depth: int, max_items: int, max_str_len: int) -> Any:
    """``data`` as one msgpack value (``code`` 0), or as the payload of extension ``code``."""
    try:
        return _decode_py(data, code, max_depth, _Budget(max_items), max_str_len)
    except Malformed:
        raise
    except (IndexError, struct.error) as exc:
        raise Malformed("msgpack data is truncated") from exc
    except UnicodeDecodeError as exc:
        raise Malformed(f"msgpack string is not valid UTF-8: {exc}") from exc
    except (TypeError, ValueError, OverflowError) as exc:
        raise Malformed(f"invalid msgpack data: {exc}") from exc


def _container_header(data: bytes, pos: int) -> tuple[int, int, int]:
    """(kind, element count, position after) of the array or map header at ``pos``."""
    b = data[pos]
    if 0x90 <= b <= 0x9F:
        return _LIST, b & 0x0F, pos + 1
    if 0x80 <= b <= 0x8F:
        return _MAP, b & 0x0F, pos + 1
    if b == 0xDC:
        return _LIST, _U16.unpack_from(data, pos + 1)[0], pos + 3
    if b == 0xDD:
        return _LIST, _U32.unpack_from(data, pos + 1)[0], pos + 5
    if b == 0xDE:
        return _MAP, _U16.unpack_from(data, pos + 1)[0], pos + 3
    if b == 0xDF:
        return _MAP, _U32.unpack_from(data, pos + 1)[0], pos + 5
    return -1, 0, pos


def _decode_py(data: bytes, code: int, max_depth: int, budget: _Budget, max_str_len: int) -> Any:
    """``data`` as one value, or as the payload of extension ``code`` (a collection or a
    timedelta), with every limit enforced as it is read.

    Frames on the explicit stack are ``[kind, items left, items, end]``: ``kind`` is _LIST,
    _MAP, _TIMEDELTA or an _EXT_COLLECTIONS code, ``end`` where an extension's payload must end
    (-1 for a plain array or map). Only a timedelta's frame holds no containers, so every other
    frame on the stack is one level of nesting.
    """
    size = len(data)
    stack: list[list[Any]] = []
    pos = 0
    end = size  # the payload being opened ends here
    value: Any
    while True:
        if code:
            # An extension holding msgpack: its payload must be one array, ending at ``end``.
            kind, count, pos = _container_header(data, pos)
            if kind != _LIST or pos > end or (code == _EXT_TIMEDELTA and count != 3):
                raise Malformed(
                    f"msgpack extension type {code} does not hold an array of the right size"
                )
            kind = code
            code = 0
        else:
            if stack:
                # Fast path for most of a session's items: small ints and short strings go
                # straight into the open container, all but its last item (which the general
                # steps below add, closing the container). Anything else, or a string that is
                # truncated or too long, is left to the general steps.
                frame = stack[-1]
                items = frame[2]
                left = frame[1]
                while left > 1:
                    b = data[pos]
                    if b <= 0x7F:
                        items.append(b)
                        pos += 1
                    elif 0xA0 <= b <= 0xBF:
                        stop = pos + 1 + (b & 0x1F)
                        if stop > size or stop - pos - 1 > max_str_len:
                            break
                        items.append(data[pos + 1 : stop].decode("utf-8"))
                        pos = stop
                    else:
                        break
                    left -= 1
                frame[1] = left
            b = data[pos]
            pos += 1
            end = -1
            kind = -1
            if b <= 0x7F:
                value = b
            elif b >= 0xE0:
                value = b - 0x100
            elif 0xA0 <= b <= 0xBF:
                n = b & 0x1F
                if pos + n > size or n > max_str_len:
                    raise Malformed("msgpack string is truncated or exceeds max_str_len")
                value = data[pos : pos + n].decode("utf-8")
                pos += n
            elif b <= 0x9F or 0xDC <= b <= 0xDF:
                kind, count, pos = _container_header(data, pos - 1)
            elif b == 0xC0:
                value = None
            elif b == 0xC2:
                value = False
            elif b == 0xC3:
                value = True
            elif 0xCA <= b <= 0xD3:
                number = _STRUCTS[b]
                value = number.unpack_from(data, pos)[0]
                pos += number.size
            elif 0xD9 <= b <= 0xDB or 0xC4 <= b <= 0xC6:
                length = _LENGTHS[b]
                n = length.unpack_from(data, pos)[0]
                pos += length.size
                if n > max_str_len:
                    raise Malformed(f"msgpack string of {n} bytes exceeds max_str_len")
                if pos + n > size:
                    raise Malformed("msgpack string is truncated")
                raw = data[pos : pos + n]
                pos += n
                value = raw.decode("utf-8") if b >= 0xD9 else raw
            elif 0xC7 <= b <= 0xC9 or 0xD4 <= b <= 0xD8:
                if b >= 0xD4:
                    n = _FIXEXT_SIZES[b]
                    ext_code = _EXT8.unpack_from(data, pos - 1)[1]
                    pos += 1
                else:
                    header = _EXT_HEADERS[b]
                    n, ext_code = header.unpack_from(data, pos)
                    pos += header.size
                if pos + n > size:
                    raise Malformed("msgpack extension value is truncated")
                if ext_code in _EXT_COLLECTIONS or ext_code == _EXT_TIMEDELTA:
                    code = ext_code
                    end = pos + n
                    continue
                value = _ext_scalar(ext_code, data[pos : pos + n])
                pos += n
            else:
                raise Malformed(f"invalid msgpack byte 0x{b:02x}")
        if kind >= 0:
            # Open a container: an array, a map, or an extension's array.
            if stack and stack[-1][0] == _TIMEDELTA:
                raise Malformed("msgpack timedelta holds a container")
            if kind != _TIMEDELTA and len(stack) >= max_depth:
                raise Malformed("msgpack data nested too deeply")
            if kind == _MAP:
                count *= 2
            budget.spend(count)
            if count:
                stack.append([kind, count, [], end])
                continue
            if end >= 0 and pos != end:
                raise Malformed("msgpack extension payload has trailing data")
            value = _finish(kind, [])
        # Add the value to the open containers, closing each that it fills.
        while stack:
            frame = stack[-1]
            frame[2].append(value)
            frame[1] -= 1
            if frame[1]:
                break
            stack.pop()
            if frame[3] >= 0 and pos != frame[3]:
                raise Malformed("msgpack extension payload has trailing data")
            value = _finish(frame[0], frame[2])
        else:
            if pos != size:
                raise Malformed(f"msgpack data has {size - pos} bytes of trailing data")
            return value


def _finish(kind: int, items: list[Any]) -> Any:
    if kind == _LIST:
        return items
    if kind == _MAP:
        keys = items[0::2]
        if not SAFE_KEY_TYPES.issuperset(map(type, keys)):
            try:
                flood = too_many_collisions(keys, len(keys))
            except TypeError as exc:
                raise Malformed(f"msgpack map key cannot be a dict key: {exc}") from exc
            if flood:
                raise Malformed("msgpack map keys have too many equal hashes")
        return dict(zip(keys, items[1::2]))
    if kind == _TIMEDELTA:
        days, seconds, micro = items
        if not _NUMBERS.issuperset((type(days), type(seconds), type(micro))):
            raise Malformed("msgpack timedelta holds something other than numbers")
        return _dt.timedelta(days=days, seconds=seconds, microseconds=micro)
    if kind != _EXT_TUPLE and not SAFE_KEY_TYPES.issuperset(map(type, items)):
        try:
            flood = too_many_collisions(items, len(items))
        except TypeError as exc:
            raise Malformed(f"msgpack set element cannot be hashed: {exc}") from exc
        if flood:
            raise Malformed("msgpack set elements have too many equal hashes")
    return _EXT_COLLECTIONS[kind](items)


_NUMBERS: Final = frozenset((int, float))


def _check_depth(obj: Any, remaining: int) -> None:
    """Reject containers nested deeper than allowed. Recursion is bounded by ``remaining``."""
    if remaining <= 0:
        raise Malformed("msgpack data nested too deeply")
    if type(obj) is dict:
        for key in obj:
            if type(key) in _CONTAINER_TYPES:
                _check_depth(key, remaining - 1)
        items: Any = obj.values()
    else:
        items = obj
    for item in items:
        if type(item) in _CONTAINER_TYPES:
            _check_depth(item, remaining - 1)
