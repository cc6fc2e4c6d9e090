"""JSONSerializer: gorilla's JSONEncoder, byte for byte as Go's encoding/json writes it."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from websession import EncodeError, JSONSerializer, Malformed

JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda children: (
        st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=10), children, max_size=5)
    ),
    max_leaves=25,
)


@settings(max_examples=150, deadline=None)
@given(value=JSON_VALUES)
def test_json_round_trip(value: Any) -> None:
    s = JSONSerializer()
    data = s.serialize(value)
    assert data.endswith(b"\n")
    assert _same_json(s.deserialize(data), value)
    assert _same_json(json.loads(data), value)  # plain JSON for any other reader


def _same_json(read: Any, written: Any) -> bool:
    """Whether ``read`` is ``written`` back, floats as Go writes them: an integral float is
    written without a fraction (``2``, ``57136636249988980``), so Python reads an int whose
    float is the float written (Go reads every JSON number into a float64)."""
    if isinstance(written, float):
        return type(read) in (int, float) and float(read) == written
    if isinstance(written, dict):
        return (
            isinstance(read, dict)
            and read.keys() == written.keys()
            and all(_same_json(read[k], v) for k, v in written.items())
        )
    if isinstance(written, list):
        return (
            isinstance(read, list)
            and len(read) == len(written)
            and all(map(_same_json, read, written))
        )
    return type(read) is type(written) and read == written


def test_json_is_gos_encoder_output() -> None:
    assert JSONSerializer().serialize({"foo": "bar"}) == b'{"foo":"bar"}\n'
    assert JSONSerializer().serialize({"b": 1, "a": [1, 2.5, None, True]}) == (
        b'{"a":[1,2.5,null,true],"b":1}\n'  # keys sorted, compact
    )


def test_json_escapes_html_like_go() -> None:
    data = JSONSerializer().serialize({"<a href='x'>": "&amp; \u2028\u2029 é 世"})
    assert data == (
        b'{"\\u003ca href=\'x\'\\u003e":"\\u0026amp; \\u2028\\u2029 ' + "é 世".encode() + b'"}\n'
    )
    assert JSONSerializer().deserialize(data) == {"<a href='x'>": "&amp; \u2028\u2029 é 世"}


def test_json_not_go_compatible_is_plain() -> None:
    s = JSONSerializer(go_compatible=False)
    assert s.serialize({"a": "<&>"}) == b'{"a":"<&>"}'
    assert s.deserialize(s.serialize({"a": "<&>"})) == {"a": "<&>"}


@pytest.mark.parametrize(
    "value", [{42: "x"}, {"ok": {1.5: "x"}}, [{"a": {None: 1}}], {"t": ({(1, 2): 3},)}]
)
def test_json_refuses_non_string_keys_clearly(value: Any) -> None:
    with pytest.raises(EncodeError, match="needs str keys") as info:
        JSONSerializer().serialize(value)
    assert "MsgpackSerializer" in str(info.value)


def test_json_accepts_str_subclass_keys() -> None:
    class Key(str):
        pass

    assert JSONSerializer().serialize({Key("a"): 1}) == b'{"a":1}\n'


@pytest.mark.parametrize(
    "value", [float("nan"), float("inf"), {"a": object()}, b"bytes", {1, 2}, "\ud800"]
)
def test_json_unencodable_values(value: Any) -> None:
    with pytest.raises(EncodeError):
        JSONSerializer().serialize(value)


def test_json_deeply_nested_is_an_encode_error() -> None:
    value: Any = []
    for _ in range(100_000):
        value = [value]
    with pytest.raises(EncodeError):
        JSONSerializer().serialize(value)


def test_json_decoder_reads_the_first_value_like_go() -> None:
    s = JSONSerializer()
    assert s.deserialize(b'  {"a":1}\n{"ignored": true}') == {"a": 1}
    assert s.deserialize(b'"x"\n') == "x"


@pytest.mark.parametrize("data", [b"", b"{", b"\xff\xfe", b"nul", b"[" * 100_000])
def test_json_bad_data_is_malformed(data: bytes) -> None:
    with pytest.raises(Malformed):
        JSONSerializer().deserialize(data)
