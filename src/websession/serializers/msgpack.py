"""msgpack with extension types: the default serializer."""

from __future__ import annotations

import datetime as _dt
import decimal
import threading
import uuid
from typing import Any

import msgpack

from ..errors import EncodeError, Malformed

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


class MsgpackSerializer:
    """Compact binary values that keep what JSON loses.

    Keeps int (and any hashable) keys, ``bytes``, ``bool`` and ``None``, and through msgpack
    extension types ``datetime`` (naive or aware), ``date``, ``time``, ``timedelta``, ``tuple``,
    ``set``, ``frozenset``, ``UUID`` and ``Decimal``. Anything else is an
    :class:`~websession.EncodeError`; there is no pickle fallback.

    Decoding is strict: input larger than ``max_size`` bytes, containers nested deeper than
    ``max_depth``, unknown extension types and trailing bytes are all
    :class:`~websession.Malformed`.

    Args:
        max_size: the largest input ``deserialize`` accepts, in bytes.
        max_depth: how deeply containers may nest (the top-level dict is depth 1).
    """

    __slots__ = ("_max_depth", "_max_size")

    def __init__(self, *, max_size: int = 1 << 20, max_depth: int = 32) -> None:
        if max_size <= 0 or max_depth <= 0:
            raise ValueError("max_size and max_depth must be positive")
        self._max_size = max_size
        self._max_depth = max_depth

    def serialize(self, value: Any) -> bytes:
        try:
            packer = _local.packer
        except AttributeError:
            packer = _local.packer = _new_packer()
        try:
            return packer.pack(value)  # type: ignore[no-any-return]
        except EncodeError:
            raise
        except (TypeError, ValueError, OverflowError) as exc:
            raise EncodeError(f"MsgpackSerializer cannot encode this value: {exc}") from exc

    def deserialize(self, data: bytes) -> Any:
        if len(data) > self._max_size:
            raise Malformed(f"msgpack data of {len(data)} bytes exceeds max_size {self._max_size}")
        try:
            # raw=False, use_list=True and timestamp=0 are msgpack's defaults; naming them costs.
            value = msgpack.unpackb(data, ext_hook=_ext_hook, strict_map_key=False)
        except Malformed:
            raise
        except Exception as exc:  # msgpack raises a zoo of types on hostile input
            raise Malformed(f"invalid msgpack data: {exc}") from exc
        if (
            type(value) in _CONTAINER_TYPES
            # how many bytes look like container headers (see _NOT_HEADER_BYTES)
            and len(bytes(data).translate(None, _NOT_HEADER_BYTES)) > self._max_depth
        ):
            _check_depth(value, self._max_depth)
        return value

    def __repr__(self) -> str:
        return f"MsgpackSerializer(max_size={self._max_size}, max_depth={self._max_depth})"


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


def _unpack(data: bytes) -> Any:
    return msgpack.unpackb(data, ext_hook=_ext_hook, raw=False, strict_map_key=False, timestamp=0)


def _ext_hook(code: int, data: bytes) -> Any:
    if code == _EXT_TUPLE:
        return tuple(_unpack(data))
    if code == _EXT_DATETIME:
        return _dt.datetime.fromisoformat(data.decode())
    if code == _EXT_DATE:
        return _dt.date.fromisoformat(data.decode())
    if code == _EXT_TIME:
        return _dt.time.fromisoformat(data.decode())
    if code == _EXT_TIMEDELTA:
        days, seconds, micro = _unpack(data)
        return _dt.timedelta(days=days, seconds=seconds, microseconds=micro)
    if code == _EXT_SET:
        return set(_unpack(data))
    if code == _EXT_FROZENSET:
        return frozenset(_unpack(data))
    if code == _EXT_UUID:
        return uuid.UUID(bytes=data)
    if code == _EXT_DECIMAL:
        return decimal.Decimal(data.decode())
    raise Malformed(f"unknown msgpack extension type {code}")


_CONTAINER_TYPES = frozenset(_CONTAINERS)

# Every container at nesting level L needs L array or map headers in the data (tuples and sets
# are extension types whose payload is an array), and no two share a header byte. So data with at
# most max_depth bytes that look like such headers (fixmap, fixarray, array 16/32, map 16/32;
# counting those inside strings too only overestimates) cannot nest too deeply: one C-level pass
# spares walking the decoded value in the common case.
_NOT_HEADER_BYTES = bytes(b for b in range(256) if not (0x80 <= b <= 0x9F or 0xDC <= b <= 0xDF))


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
