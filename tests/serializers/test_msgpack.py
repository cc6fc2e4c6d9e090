"""MsgpackSerializer (the default): what it keeps, what it refuses, its limits, bad data."""

from __future__ import annotations

import collections
import contextlib
import datetime as dt
import decimal
import enum
import uuid
from typing import Any

import msgpack
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from websession import EncodeError, Malformed, MsgpackSerializer

INT64 = st.integers(-(2**63), 2**64 - 1)
HASHABLE = st.none() | st.booleans() | INT64 | st.text(max_size=10) | st.binary(max_size=10)
LEAVES = (
    HASHABLE
    | st.floats(allow_nan=False)
    | st.datetimes()
    | st.datetimes(timezones=st.just(dt.timezone.utc))
    | st.dates()
    | st.times()
    | st.timedeltas()
    | st.uuids()
    | st.decimals(allow_nan=False)
    | st.sets(HASHABLE, max_size=4)
    | st.frozensets(INT64, max_size=4)
)
MSGPACK_VALUES = st.recursive(
    LEAVES,
    lambda children: (
        st.lists(children, max_size=5)
        | st.dictionaries(HASHABLE | st.tuples(HASHABLE, HASHABLE), children, max_size=5)
        | st.tuples(children, children)
    ),
    max_leaves=25,
)


@settings(max_examples=150, deadline=None)
@given(value=MSGPACK_VALUES)
def test_msgpack_round_trip(value: Any) -> None:
    s = MsgpackSerializer()
    data = s.serialize(value)
    assert isinstance(data, bytes)
    back = s.deserialize(data)
    assert back == value
    assert type(back) is type(value)


def test_msgpack_keeps_what_json_loses() -> None:
    s = MsgpackSerializer()
    value = {
        42: 43,
        -1: "minus one",
        (1, "a"): "tuple key",
        "bytes": b"\x00\xff",
        "when": dt.datetime(2026, 5, 6, 7, 8, 9, 123456),
        "aware": dt.datetime(2026, 5, 6, tzinfo=dt.timezone(dt.timedelta(hours=2))),
        "tuple": (1, (2, 3)),
        "set": {1, 2, 3},
        "frozen": frozenset({"a"}),
        "nested": {"list": [1, [2, [3]]], "dict": {1: {2: None}}},
        "id": uuid.UUID(int=7),
        "money": decimal.Decimal("1.10"),
        "day": dt.date(2026, 1, 1),
        "span": dt.timedelta(days=1, seconds=2, microseconds=3),
        True: False,
    }
    back = s.deserialize(s.serialize(value))
    assert back == value
    assert type(back["tuple"]) is tuple
    assert type(back["tuple"][1]) is tuple
    assert type(back["set"]) is set
    assert back["aware"].utcoffset() == dt.timedelta(hours=2)


def test_msgpack_packs_subclasses_as_their_base() -> None:
    class Color(str, enum.Enum):
        RED = "red"

    class Level(enum.IntEnum):
        HIGH = 3

    point = collections.namedtuple("point", "x y")
    s = MsgpackSerializer()
    value = {
        "c": Color.RED,
        "l": Level.HIGH,
        "p": point(1, 2),
        "o": collections.OrderedDict(a=1),
        "d": collections.defaultdict(list, {"k": [1]}),
    }
    assert s.deserialize(s.serialize(value)) == {
        "c": "red",
        "l": 3,
        "p": (1, 2),
        "o": {"a": 1},
        "d": {"k": [1]},
    }


@pytest.mark.parametrize("value", [object(), {"a": object()}, 2**64, -(2**63) - 1, lambda: 1])
def test_msgpack_rejects_what_it_cannot_keep(value: Any) -> None:
    with pytest.raises(EncodeError):
        MsgpackSerializer().serialize(value)


def test_msgpack_never_pickles() -> None:
    class Custom:
        pass

    with pytest.raises(EncodeError, match="cannot encode"):
        MsgpackSerializer().serialize({"x": Custom()})


def _nested_list(depth: int) -> bytes:
    return b"\x91" * (depth - 1) + b"\x90"  # [[[...[]...]]]


def test_msgpack_max_depth() -> None:
    s = MsgpackSerializer(max_depth=32)
    assert s.deserialize(_nested_list(32)) is not None
    with pytest.raises(Malformed, match="nested too deeply"):
        s.deserialize(_nested_list(33))
    with pytest.raises(Malformed):
        s.deserialize(_nested_list(5000))
    assert MsgpackSerializer(max_depth=3).deserialize(msgpack.packb({"a": [[1]]})) == {"a": [[1]]}
    with pytest.raises(Malformed):
        MsgpackSerializer(max_depth=3).deserialize(msgpack.packb({"a": [[[1]]]}))


def test_msgpack_max_depth_counts_tuples_and_dict_keys() -> None:
    s = MsgpackSerializer(max_depth=3)
    deep_tuple = MsgpackSerializer().serialize([((1,),)])
    with pytest.raises(Malformed):
        MsgpackSerializer(max_depth=2).deserialize(deep_tuple)
    assert s.deserialize(deep_tuple) == [((1,),)]
    deep_key = MsgpackSerializer().serialize({((1,),): 0})
    with pytest.raises(Malformed):
        MsgpackSerializer(max_depth=2).deserialize(deep_key)


def test_msgpack_max_size() -> None:
    s = MsgpackSerializer(max_size=100)
    s.deserialize(msgpack.packb("x" * 90))
    with pytest.raises(Malformed, match="max_size"):
        s.deserialize(msgpack.packb("x" * 200))


def test_msgpack_unknown_extension_type() -> None:
    with pytest.raises(Malformed, match="extension type 99"):
        MsgpackSerializer().deserialize(msgpack.packb(msgpack.ExtType(99, b"x")))


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"\xc1",  # never used
        b"\x92\x01",  # truncated array
        b"\x01\x02",  # trailing bytes
        b"\xd9\x02\xff\xfe",  # invalid UTF-8
        msgpack.packb({(1, 2): 1}, strict_types=False),  # an array as a map key: unhashable
        msgpack.packb(msgpack.ExtType(1, b"not a date")),
        msgpack.packb(msgpack.ExtType(9, b"\x01")),  # timedelta ext that is not an array
        msgpack.packb(msgpack.ExtType(6, b"short")),  # UUID of the wrong length
    ],
)
def test_msgpack_bad_data_is_malformed(data: bytes) -> None:
    with pytest.raises(Malformed):
        MsgpackSerializer().deserialize(data)


@settings(max_examples=500, deadline=None)
@given(data=st.binary(max_size=200))
def test_msgpack_random_bytes_raise_only_malformed(data: bytes) -> None:
    with contextlib.suppress(Malformed):
        MsgpackSerializer().deserialize(data)


@pytest.mark.parametrize(("size", "depth"), [(0, 1), (1, 0), (-1, 5)])
def test_msgpack_limits_must_be_positive(size: int, depth: int) -> None:
    with pytest.raises(ValueError):
        MsgpackSerializer(max_size=size, max_depth=depth)
