"""What Go writes, websession writes: the data in ``tests/data/go-vectors.json`` was made by Go.

``tools/govectors`` (Go's encoding/json and encoding/gob, gorilla/sessions registering its types)
wrote it; see that directory's README for how to make it again.
"""

from __future__ import annotations

import json
import struct
from typing import Any

import pytest

from tests.interop import go_vectors
from websession import JSONSerializer
from websession.serializers.json import go_float

FLOATS: list[dict[str, Any]] = go_vectors()["floats"]


def _float(bits: str) -> float:
    value: float = struct.unpack(">d", int(bits, 16).to_bytes(8, "big"))[0]
    return value


def test_the_float_table_has_the_tricky_cases() -> None:
    texts = {case["json"] for case in FLOATS}
    for text in ("0.000001", "2", "-0", "1e+21", "100000000000000000000", "5e-324", "1e-7"):
        assert text in texts
    assert len(FLOATS) > 600


@pytest.mark.parametrize("case", FLOATS, ids=lambda case: case["json"])
def test_floats_format_as_gos_encoding_json(case: dict[str, Any]) -> None:
    value = _float(case["bits"])
    assert go_float(value) == case["json"]
    assert JSONSerializer().serialize({"f": value}) == b'{"f":' + case["json"].encode() + b"}\n"
    # Go reads every JSON number into a float64; Python reads "2" as an int
    assert float(JSONSerializer().deserialize(case["json"].encode())) == value


def test_floats_inside_containers_and_at_the_top() -> None:
    s = JSONSerializer()
    value = {"b": [1e-06, {"x": -0.0, "y": 2.0}], "a": "<é>", "c": None, "d": True, "e": 3}
    assert s.serialize(value) == (
        '{"a":"\\u003cé\\u003e","b":[0.000001,{"x":-0,"y":2}],"c":null,"d":true,"e":3}\n'.encode()
    )
    assert s.serialize(1e21) == b"1e+21\n"
    assert s.serialize((0.5,)) == b"[0.5]\n"
    # without floats the output is the same as before (the C encoder's path)
    assert s.serialize({"a": [1, "x"]}) == b'{"a":[1,"x"]}\n'
    assert json.loads(s.serialize(value)) == value


def test_json_go_compatible_off_keeps_pythons_floats() -> None:
    assert JSONSerializer(go_compatible=False).serialize({"f": 2.0}) == b'{"f":2.0}'


@pytest.mark.parametrize("value", [float("nan"), float("inf"), -float("inf")])
def test_non_finite_floats_are_refused(value: float) -> None:
    with pytest.raises(ValueError, match="JSON"):
        go_float(value)
