"""What Go writes, websession writes: the data in ``tests/data/go-vectors.json`` was made by Go.

``tools/govectors`` (Go's encoding/json and encoding/gob, gorilla/sessions registering its types)
wrote it; see that directory's README for how to make it again.
"""

from __future__ import annotations

import copy
import json
import random
import struct
from typing import Any

import pytest

from tests.support.interop import go_vectors
from websession import (
    CookieStore,
    EncodeError,
    GobSerializer,
    JSONSerializer,
    Malformed,
    NopSerializer,
    SecureCookie,
    generate_random_key,
)
from websession.serializers.gob import INT, STRING, UINT, GoDict, GoFloat, GoInt, GoList, GoType
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


# -- gob: Go's types survive a Python load and save --------------------------------------------

GOB_VECTORS: list[dict[str, Any]] = go_vectors()["gob"]
GOB = GobSerializer()
HASH_KEY = generate_random_key(32)
# The names Go's %T gives the types Python's own values are written as.
PLAIN_GO_NAMES = {
    str: "string",
    bool: "bool",
    int: "int",
    float: "float64",
    complex: "complex128",
    bytes: "[]uint8",
    list: "[]interface {}",
    dict: "map[string]interface {}",
    type(None): "<nil>",
}


def _go_name(value: Any) -> str:
    """The Go type a decoded value will be written back as, in Go's %T spelling."""
    go_name = getattr(value, "go_name", None)
    if go_name is not None:
        return str(go_name)
    return PLAIN_GO_NAMES[type(value)]


def _vid(v: dict[str, Any]) -> str:
    return str(v["id"])


def test_the_gob_vectors_cover_gos_types() -> None:
    names = {name for v in GOB_VECTORS for name in v["go_types"].values()}
    for name in (
        "int64", "int32", "int16", "int8", "uint", "uint8", "uint16", "uint32", "uint64",
        "uintptr", "float32", "complex64", "[]string", "[]int64", "[]float32",
        "map[string]interface {}", "map[interface {}]interface {}", "map[string]string",
        "main.Person", "*main.Address", "main.Account", "main.Tree", "main.Role", "[3]int",
    ):  # fmt: skip
        assert name in names
    assert sum(v["deterministic"] for v in GOB_VECTORS) >= 50
    assert all(v["go_accepts_python_hex"] is True for v in GOB_VECTORS)


@pytest.mark.parametrize("v", GOB_VECTORS, ids=_vid)
def test_gob_values_come_back_to_go_as_go_wrote_them(v: dict[str, Any]) -> None:
    """Decoded and encoded again untouched: Go's own bytes where Go's are deterministic, and
    otherwise the bytes Go's decoder read back into a value reflect.DeepEqual to its own
    (``go_accepts_python_hex``, recorded when govectors ran its check)."""
    again = GOB.serialize(GOB.deserialize(bytes.fromhex(v["hex"]))).hex()
    assert again == v["python_hex"]
    assert v["go_accepts_python_hex"] is True
    if v["deterministic"]:
        assert again == v["hex"]


@pytest.mark.parametrize("v", [v for v in GOB_VECTORS if not v["top"]], ids=_vid)
def test_decoded_values_know_their_go_types(v: dict[str, Any]) -> None:
    values = GOB.deserialize(bytes.fromhex(v["hex"]))
    for key, value in values.items():
        assert _go_name(value) == v["go_types"][str(key)]
        assert _go_name(key) == v["go_types"][f"key:{key}"]


def _go_cookie(name: str, gob_hex: str, codec: SecureCookie) -> str:
    """The cookie Go's securecookie makes of these gob bytes (it MACs what GobEncoder wrote)."""
    raw = SecureCookie(HASH_KEY, serializer=NopSerializer())
    return raw.encode(name, bytes.fromhex(gob_hex))


@pytest.mark.parametrize("v", [v for v in GOB_VECTORS if not v["top"]], ids=_vid)
def test_a_go_session_loaded_and_saved_by_a_store_is_unchanged(v: dict[str, Any]) -> None:
    """The whole path: a gorilla cookie Go made, loaded by a CookieStore, saved untouched (and
    saved again after another key changed): Go finds its values with the types it wrote."""
    codec = SecureCookie(HASH_KEY, serializer=GobSerializer())
    store = CookieStore(codecs=[codec])
    session = store.new("s", _go_cookie("s", v["hex"], codec))
    assert not session.is_new, session.reason
    store_bytes = _saved_gob(store.save(session))
    assert store_bytes.hex() == v["python_hex"]
    session["visits"] = 1  # another key changes: the others keep their Go types
    loaded = GOB.deserialize(_saved_gob(store.save(session)))
    original = GOB.deserialize(bytes.fromhex(v["hex"]))
    for key, value in original.items():
        assert _go_name(loaded[key]) == _go_name(value)
        assert loaded[key] == value


def _saved_gob(set_cookie: str) -> bytes:
    text = set_cookie.split(";", 1)[0].split("=", 1)[1]
    raw: bytes = SecureCookie(HASH_KEY, serializer=NopSerializer()).decode("s", text)
    return raw


def _by_id(vector_id: str) -> dict[str, Any]:
    return next(v for v in GOB_VECTORS if v["id"] == vector_id)


def test_values_python_creates_keep_the_documented_mapping() -> None:
    """Plain values are written as before (Go's bytes for the same Go types); a Go type can be
    asked for with a wrapper."""
    for vector_id, value in [
        ("int", {"v": 42}),
        ("string", {"v": "hello"}),
        ("any-slice", {"v": ["a", 1, None, True]}),
        ("map-string-any-nested", {"v": {"b": [1, "x"]}}),
        ("flash", {"_flash": ["hi"]}),
        ("int64", {"v": GoInt(300, "int64")}),
        ("uint8", {"v": GoInt(255, "uint8")}),
        ("float32", {"v": GoFloat(0.10000000149011612, "float32")}),
        ("named-uint8", {"level": GoInt(3, "main.Level", UINT)}),
        (
            "strings",
            {"roles": GoList(["admin", "editor"], GoType("slice", elem=STRING), "[]string")},
        ),
        (
            "struct-pointer",
            {
                "addr": GoDict(
                    {"City": "Oslo", "Zip": 150},
                    GoType("struct", "Address", fields=(("City", STRING), ("Zip", INT))),
                    "*main.Address",
                )
            },
        ),
    ]:
        assert GOB.serialize(value).hex() == _by_id(vector_id)["hex"], vector_id


def test_changed_values_still_fit_their_go_type_or_fail_clearly() -> None:
    session = GOB.deserialize(bytes.fromhex(_by_id("session")["hex"]))
    session["roles"].append("editor")  # still a []string
    session["user_id"] += 1  # Python arithmetic: a plain int, written as Go's int
    session["prefs"]["lang"] = "nb"
    again = GOB.deserialize(GOB.serialize(session))
    assert _go_name(again["roles"]) == "[]string"
    assert again["roles"] == ["admin", "editor"]
    assert _go_name(again["user_id"]) == "int"
    assert again["user_id"] == 12345678902
    assert _go_name(again["prefs"]) == "map[string]string"
    assert again["prefs"] == {"theme": "dark", "lang": "nb"}
    session["roles"].append(5)
    with pytest.raises(EncodeError, match=r"int 5 as Go's string"):
        GOB.serialize(session)
    session["roles"].pop()
    session["user"]["Nickname"] = "A"
    with pytest.raises(EncodeError, match="no field 'Nickname'"):
        GOB.serialize(session)


def test_go_values_survive_copies() -> None:
    session = GOB.deserialize(bytes.fromhex(_by_id("session")["hex"]))
    for clone in (copy.deepcopy(session), copy.copy(session), dict(session)):
        assert GOB.serialize(clone) == GOB.serialize(session)
    deep = copy.deepcopy(session)
    assert deep["roles"] is not session["roles"]
    assert deep["user"].go_type == session["user"].go_type


FLOATS32: list[dict[str, Any]] = go_vectors()["floats32"]


@pytest.mark.parametrize("case", FLOATS32, ids=lambda case: case["json"])
def test_float32s_format_as_gos_encoding_json(case: dict[str, Any]) -> None:
    """A float32 Go sent in a gob session (a GoFloat) is written to JSON as Go writes it."""
    value: float = struct.unpack(">f", int(case["bits"], 16).to_bytes(4, "big"))[0]
    assert go_float(value, 32) == case["json"]
    assert JSONSerializer().serialize([GoFloat(value, "float32")]) == f"[{case['json']}]\n".encode()


def test_the_float32_table_has_the_tricky_cases() -> None:
    texts = {case["json"] for case in FLOATS32}
    for text in ("0.1", "0.33333334", "3.4028235e+38", "1e-45", "0.000001", "1e+21", "-0"):
        assert text in texts
    with pytest.raises(ValueError, match="float32"):
        go_float(1e39, 32)


@pytest.mark.parametrize("v", GOB_VECTORS, ids=_vid)
def test_altered_go_streams_that_decode_write_back_stably(v: dict[str, Any]) -> None:
    """Whatever typed value a (corrupted) stream decodes to, writing it is an EncodeError or
    a stream that reads back to a value written the same again: never another exception."""
    rng = random.Random(v["id"])
    raw = bytes.fromhex(v["hex"])
    decoded = 0
    for _ in range(150):
        data = bytearray(raw)
        for _ in range(rng.randint(1, 3)):
            data[rng.randrange(len(data))] = rng.randrange(256)
        try:
            value = GOB.deserialize(bytes(data))
        except Malformed:
            continue
        decoded += 1
        try:
            out = GOB.serialize(value)
        except EncodeError:
            continue
        assert GOB.serialize(GOB.deserialize(out)) == out
    assert decoded > 0


def test_struct_fields_holding_zero_values_are_left_out_as_go_does() -> None:
    person = GOB.deserialize(bytes.fromhex(_by_id("struct")["hex"]))["user"]
    zero = GoDict({"Name": "", "Age": 0, "Tags": [], "Score": -0.0}, person.go_type, person.go_name)
    assert GOB.serialize({"user": zero}).hex() == _by_id("struct-zero")["hex"]


@pytest.mark.parametrize(
    ("vector_id", "key", "change", "message"),
    [
        ("uint8", "v", lambda v: GoInt(-1, "uint8"), "does not fit"),
        ("array", "v", lambda v: v.__delitem__(0), r"holds 3 items, not 2"),
        ("map-string-string", "v", lambda v: v.update({"k": 1}), "int 1 as Go's string"),
        ("map-string-int64", "v", lambda v: v.update({"n": True}), "bool True as Go's int"),
        ("struct", "user", lambda v: v.update({"Age": "old"}), "str 'old' as Go's int"),
    ],
)
def test_a_go_value_changed_to_something_its_type_cannot_hold_is_refused(
    vector_id: str, key: str, change: Any, message: str
) -> None:
    values = GOB.deserialize(bytes.fromhex(_by_id(vector_id)["hex"]))
    changed = change(values[key])
    if changed is not None:
        values[key] = changed
    with pytest.raises(EncodeError, match=message):
        GOB.serialize(values)


def test_go_types_are_checked_when_made() -> None:
    with pytest.raises(ValueError, match="kind"):
        GoType("chan")
    loop = GoType("slice")
    loop.elem = loop  # only a struct can contain itself in Go
    with pytest.raises(EncodeError, match="recursive"):
        GOB.serialize({"v": GoList([], loop, "main.Loop")})
    assert GoType("map", key=STRING, elem=GoType("array", elem=INT, length=2)).go_string() == (
        "map[string][2]int"
    )
