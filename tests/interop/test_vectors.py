"""Cookies made by Go's gorilla/securecookie decode here, and ours are byte-for-byte Go's.

The vectors come from the Go code (``tests/data/gorilla-vectors.json``, see its ``about``).
This module covers the JSON serializer, the negative vectors, key rotation and the worked
examples of ``gorilla.md`` §A.12; gob vectors are in ``test_gob.py``.
"""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

import websession
from tests.support.interop import VECTORS_FILE, all_vectors
from websession import (
    DecodeError,
    Expired,
    InsecureSecret,
    InvalidSignature,
    JSONSerializer,
    Malformed,
    NopSerializer,
    SecureCookie,
    TooLong,
    TooNew,
    codecs_from_pairs,
    decode_details_multi,
    decode_multi,
)

VECTORS = all_vectors()
JSON_VECTORS = [
    v
    for v in VECTORS
    if v.get("serializer") == "json"
    and "value_json" in v
    and "hash_key" in v
    and not v["id"].startswith("neg-")
]
NEGATIVE_VECTORS = [v for v in VECTORS if v["id"].startswith("neg-")]
ROTATION_VECTOR = next((v for v in VECTORS if v["id"] == "rotation-old-pair"), None)

EXPECTED_ERROR: dict[str, type[DecodeError]] = {
    "mac": InvalidSignature,
    "expired": Expired,
    "too_new": TooNew,
    "too_long": TooLong,
    "base64": Malformed,
    "any": DecodeError,
}


def _ids(vectors: list[dict[str, Any]]) -> list[str]:
    return [v["id"] for v in vectors]


def _key(hex_or_none: str | None) -> bytes | None:
    return bytes.fromhex(hex_or_none) if hex_or_none else None


def codec_for(vector: dict[str, Any]) -> SecureCookie:
    """The SecureCookie a Go service with this vector's settings would use."""
    now = vector.get("decode_at") or vector["timestamp"]
    hash_key = _key(vector["hash_key"])
    assert hash_key is not None
    return SecureCookie(
        InsecureSecret(hash_key),  # Go's test keys: what matters here is the format
        _key(vector.get("block_key")),
        hash=vector["hash"],
        serializer=JSONSerializer(),
        clock=lambda: now,
        max_age=vector.get("max_age", 2592000),
        min_age=vector.get("min_age", 0),
        max_length=vector.get("max_length", 4096),
    )


def _inner_iv(cookie: str) -> bytes:
    """The IV gorilla drew for an encrypted cookie: the first 16 bytes of the inner value."""
    inner = base64.urlsafe_b64decode(cookie).split(b"|", 2)[1]
    return base64.urlsafe_b64decode(inner)[:16]


def test_the_vectors_file_is_there() -> None:
    assert VECTORS_FILE.is_file(), f"gorilla vectors not found at {VECTORS_FILE}"
    assert len(JSON_VECTORS) >= 40
    assert len(NEGATIVE_VECTORS) >= 10
    assert ROTATION_VECTOR is not None


@pytest.mark.parametrize("vector", JSON_VECTORS, ids=_ids(JSON_VECTORS))
def test_go_json_cookie_decodes(vector: dict[str, Any]) -> None:
    codec = codec_for(vector)
    found = codec.decode_details(vector["name"], vector["cookie"])
    assert found.value == json.loads(vector["value_json"])
    assert found.issued_at == vector["timestamp"]
    assert codec.decode(vector["name"], vector["cookie"]) == json.loads(vector["value_json"])


@pytest.mark.parametrize("vector", JSON_VECTORS, ids=_ids(JSON_VECTORS))
def test_our_json_cookie_is_byte_for_byte_gos(
    vector: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Same keys, same time, same IV: Python writes exactly the cookie Go wrote."""
    if vector.get("block_key"):
        iv = _inner_iv(vector["cookie"])
        monkeypatch.setattr(websession.codecs.securecookie.os, "urandom", lambda n: iv[:n])
    codec = codec_for(vector)
    assert codec.encode(vector["name"], json.loads(vector["value_json"])) == vector["cookie"]


@pytest.mark.parametrize("vector", NEGATIVE_VECTORS, ids=_ids(NEGATIVE_VECTORS))
def test_negative_vector_fails_as_go_does(vector: dict[str, Any]) -> None:
    codec = codec_for(vector)
    expect = vector["expect_error"]
    if not expect:
        assert isinstance(codec.decode(vector["name"], vector["cookie"]), dict)
        return
    with pytest.raises(EXPECTED_ERROR[expect]) as info:
        codec.decode(vector["name"], vector["cookie"])
    if expect == "base64":
        assert str(info.value).startswith("securecookie: base64 decode failed - caused by: ")
    else:
        # Logs read the same in Go and Python services.
        assert str(info.value) == vector["go_error"]


def test_negative_vectors_also_fail_through_decode_multi() -> None:
    for vector in NEGATIVE_VECTORS:
        if not vector["expect_error"]:
            continue
        with pytest.raises(EXPECTED_ERROR[vector["expect_error"]]) as info:
            decode_multi(vector["name"], vector["cookie"], [codec_for(vector)])
        assert len(info.value.errors) == 1


def test_rotation_vector_decodes_with_the_old_pair() -> None:
    vector = ROTATION_VECTOR
    assert vector is not None
    keys = [InsecureSecret(bytes.fromhex(k)) for k in vector["key_pairs"]]
    ts = vector["timestamp"]
    codecs = codecs_from_pairs(*keys, serializer=JSONSerializer(), clock=lambda: ts)
    assert len(codecs) == 2
    expected = json.loads(vector["value_json"])
    assert decode_multi(vector["name"], vector["cookie"], codecs) == expected
    found = decode_details_multi(vector["name"], vector["cookie"], codecs)
    assert found.key_index == 1
    assert found.stale
    # The newest pair alone does not open it.
    with pytest.raises(InvalidSignature):
        codecs[0].decode(vector["name"], vector["cookie"])


# -- gorilla.md §A.12: hash key "12345", name "sid", timestamp 1700000000, SHA-256 ----------

V1 = "MTcwMDAwMDAwMHxhR1ZzYkc4PXzrN3szOt9rDKELd6_zyLL023KDDoIfJuXIBpdq8UCb8Q=="
V2 = "MTcwMDAwMDAwMHxleUptYjI4aU9pSmlZWElpZlFvPXwhwPuCXl3dTWKGcBDrZr2ePRYSoiuqgws87ick2-bwlQ=="
V4 = (
    "MTcwMDAwMDAwMHxBQUVDQXdRRkJnY0lDUW9MREEwT0Q4Slg3T2hBfJtHWDIdScDHv6lrGHiE-sQUGOqZw3UAU6eZiUdT"
    "5yme"
)


def _worked(serializer: Any, block_key: bytes | None = None) -> SecureCookie:
    return SecureCookie(
        InsecureSecret("12345"), block_key, serializer=serializer, clock=lambda: 1700000000
    )


def test_v1_nop_signed() -> None:
    codec = _worked(NopSerializer())
    assert codec.encode("sid", b"hello") == V1
    assert codec.decode("sid", V1) == b"hello"
    with pytest.raises(InvalidSignature) as info:
        codec.decode("SID", V1)
    assert str(info.value) == "securecookie: the value is not valid"


def test_v1_mac_is_gorillas() -> None:
    inner = base64.urlsafe_b64decode(V1)
    assert inner.startswith(b"1700000000|aGVsbG8=|")
    assert inner[-32:].hex() == "eb377b333adf6b0ca10b77aff3c8b2f4db72830e821f26e5c806976af1409bf1"


def test_v2_json() -> None:
    codec = _worked(JSONSerializer())
    assert codec.encode("sid", {"foo": "bar"}) == V2
    assert codec.decode("sid", V2) == {"foo": "bar"}


def test_v4_encrypted_with_a_forced_iv(monkeypatch: pytest.MonkeyPatch) -> None:
    codec = _worked(NopSerializer(), b"1234567890123456")
    assert codec.decode("sid", V4) == b"hello"
    monkeypatch.setattr(websession.codecs.securecookie.os, "urandom", lambda n: bytes(range(n)))
    assert codec.encode("sid", b"hello") == V4
