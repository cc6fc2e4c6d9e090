"""SecureCookie: gorilla/securecookie's format, checked against an independent implementation.

``spec_encode``/``spec_decode`` below are written from the algorithm in gorilla.md §A.4/§A.5
with nothing from websession: ``hmac.new``, AES-CTR straight from ``cryptography``, and the
``base64`` module behind a strict regular expression. Cookies must cross both ways.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import re
from collections.abc import Callable
from typing import Any

import pytest
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from hypothesis import given, settings
from hypothesis import strategies as st

import websession
from tests.support.backends import race
from websession import (
    DecodeError,
    EncodeError,
    Expired,
    InsecureSecret,
    InvalidSignature,
    JSONSerializer,
    Malformed,
    MsgpackSerializer,
    NopSerializer,
    SecureCookie,
    TooLong,
    TooNew,
    codecs_from_pairs,
    decode_details_multi,
    decode_multi,
    encode_multi,
)

NOW = 1_700_000_000
HASH_KEY = bytes.fromhex("e0d1c2b3a4958677f8e9dacbbcad9e8f71625344352617089aabbccddeeff001")
NEW_HASH_KEY = bytes.fromhex("7a3f9c2e5b8d1f4a6c0e3b7d9f2a5c8e1b4d7f0a3c6e9b2d5f8a1c4e7b0d3f6a")
OLD_HASH_KEY = bytes.fromhex("1d4a7e0b3c6f9a2d5e8b1f4c7a0d3e6b9c2f5a8d1e4b7c0f3a6d9e2b5c8f1a4d")
OTHER_HASH_KEY = bytes.fromhex("b8e2f5a1c4d7e0b3f6a9c2d5e8b1f4a7d0c3e6b9f2a5d8c1e4b7a0d3f6c9e2b5")
BLOCK_KEY = bytes.fromhex("2b7e151628aed2a6abf7158809cf4f3c762e7160f38b4da56a784d9045190cfe")
GO_TEST_KEY = InsecureSecret("12345")  # the hash key of gorilla's own test vectors

# -- the independent implementation ----------------------------------------------------------

_PADDED_URLSAFE = re.compile(
    rb"(?:[A-Za-z0-9_-]{4})*(?:[A-Za-z0-9_-]{2}==|[A-Za-z0-9_-]{3}=)?", re.ASCII
)


def spec_b64encode(data: bytes) -> bytes:
    return base64.urlsafe_b64encode(data)


def spec_b64decode(text: bytes) -> bytes:
    if not _PADDED_URLSAFE.fullmatch(text):
        raise ValueError("not padded URL-safe base64")
    return base64.urlsafe_b64decode(text)


def spec_ctr(block_key: bytes, iv: bytes, data: bytes) -> bytes:
    ctx = Cipher(algorithms.AES(block_key), modes.CTR(iv)).encryptor()
    return ctx.update(data) + ctx.finalize()


def spec_encode(
    name: str,
    payload: bytes,
    *,
    hash_key: bytes,
    block_key: bytes | None = None,
    digestmod: Any = "sha256",
    timestamp: bytes = str(NOW).encode(),
    iv: bytes | None = None,
) -> str:
    """gorilla.md §A.4 steps 2-8 over already serialized bytes."""
    if block_key is not None:
        iv = os.urandom(16) if iv is None else iv
        payload = iv + spec_ctr(block_key, iv, payload)
    value = spec_b64encode(payload)
    mac = hmac.new(hash_key, name.encode() + b"|" + timestamp + b"|" + value, digestmod).digest()
    return spec_b64encode(timestamp + b"|" + value + b"|" + mac).decode()


def spec_decode(
    name: str,
    cookie: str,
    *,
    hash_key: bytes,
    block_key: bytes | None = None,
    digestmod: Any = "sha256",
) -> tuple[int, bytes]:
    """gorilla.md §A.5 (without the age checks): (timestamp, serialized bytes)."""
    raw = spec_b64decode(cookie.encode())
    ts, value, mac = raw.split(b"|", 2)
    expected = hmac.new(hash_key, name.encode() + b"|" + ts + b"|" + value, digestmod).digest()
    if not hmac.compare_digest(mac, expected):
        raise ValueError("bad MAC")
    payload = spec_b64decode(value)
    if block_key is not None:
        payload = spec_ctr(block_key, payload[:16], payload[16:])
    return int(ts), payload


# -- both directions, every hash and block key size ------------------------------------------

HASHES: list[tuple[str, Any, Any]] = [
    ("sha1", "sha1", "sha1"),
    ("sha256", "sha256", "sha256"),
    ("sha512", "sha512", "sha512"),
    ("sha384-constructor", hashlib.sha384, hashlib.sha384),
]
BLOCK_SIZES = [None, 16, 24, 32]
NAMES = st.text(
    alphabet=st.characters(min_codepoint=33, max_codepoint=126, exclude_characters=";,="),
    min_size=1,
    max_size=20,
)


def _block(size: int | None) -> bytes | None:
    return None if size is None else bytes(range(1, size + 1))


@pytest.mark.parametrize("block_size", BLOCK_SIZES, ids=lambda s: f"aes{s * 8}" if s else "none")
@pytest.mark.parametrize(
    ("hash_spec", "digestmod"), [h[1:] for h in HASHES], ids=[h[0] for h in HASHES]
)
@settings(max_examples=25, deadline=None)
@given(
    payload=st.binary(min_size=1, max_size=300),
    name=NAMES,
    hash_key=st.binary(min_size=1, max_size=200),
)
def test_ours_verify_under_the_spec_and_back(
    hash_spec: Any,
    digestmod: Any,
    block_size: int | None,
    payload: bytes,
    name: str,
    hash_key: bytes,
) -> None:
    block_key = _block(block_size)
    codec = SecureCookie(  # any key: the format is what is tested
        InsecureSecret(hash_key),
        block_key,
        hash=hash_spec,
        serializer=NopSerializer(),
        clock=lambda: NOW,
    )
    cookie = codec.encode(name, payload)
    assert spec_decode(
        name, cookie, hash_key=hash_key, block_key=block_key, digestmod=digestmod
    ) == (NOW, payload)

    theirs = spec_encode(name, payload, hash_key=hash_key, block_key=block_key, digestmod=digestmod)
    found = codec.decode_details(name, theirs)
    assert found.value == payload
    assert found.issued_at == NOW


@pytest.mark.parametrize("block_size", BLOCK_SIZES, ids=lambda s: f"aes{s * 8}" if s else "none")
def test_json_values_cross_both_ways(block_size: int | None) -> None:
    block_key = _block(block_size)
    codec = SecureCookie(HASH_KEY, block_key, serializer=JSONSerializer(), clock=lambda: NOW)
    value = {"user": 42, "roles": ["a", "b"], "<tag>": "a&b"}
    cookie = codec.encode("session", value)
    _, payload = spec_decode("session", cookie, hash_key=HASH_KEY, block_key=block_key)
    assert payload == b'{"\\u003ctag\\u003e":"a\\u0026b","roles":["a","b"],"user":42}\n'
    theirs = spec_encode("session", payload, hash_key=HASH_KEY, block_key=block_key)
    assert codec.decode("session", theirs) == value


@pytest.mark.parametrize("counter", [2**128 - 1, 2**128 - 2, 2**128 - 5, 2**64 - 1, 0])
@pytest.mark.parametrize("size", [16, 24, 32])
def test_ctr_counter_wraps_like_go(
    counter: int, size: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The 128-bit counter increments big-endian and wraps modulo 2**128 (Go's cipher.NewCTR)."""
    iv = counter.to_bytes(16, "big")
    block_key = _block(size)
    assert block_key is not None
    payload = bytes(range(256)) * 2  # 32 blocks: crosses the wrap
    monkeypatch.setattr(websession.codecs.securecookie.os, "urandom", lambda n: iv[:n])
    codec = SecureCookie(HASH_KEY, block_key, serializer=NopSerializer(), clock=lambda: NOW)
    cookie = codec.encode("n", payload)
    assert cookie == spec_encode("n", payload, hash_key=HASH_KEY, block_key=block_key, iv=iv)
    assert codec.decode("n", cookie) == payload


@pytest.mark.parametrize("size", [4095, 4096, 4097, 50_000])
@pytest.mark.parametrize("counter", [2**128 - 2, 12345])
def test_large_values_encrypt_as_the_spec_does(
    size: int, counter: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    iv = counter.to_bytes(16, "big")
    payload = os.urandom(size)
    monkeypatch.setattr(websession.codecs.securecookie.os, "urandom", lambda n: iv[:n])
    codec = SecureCookie(
        HASH_KEY, b"k" * 32, serializer=NopSerializer(), clock=lambda: NOW, max_length=0
    )
    cookie = codec.encode("n", payload)
    assert cookie == spec_encode("n", payload, hash_key=HASH_KEY, block_key=b"k" * 32, iv=iv)
    assert codec.decode("n", cookie) == payload


# -- round trips of every serializer ---------------------------------------------------------

JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**53), 2**53)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda children: (
        st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=10), children, max_size=5)
    ),
    max_leaves=15,
)
MSGPACK_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**63), 2**64 - 1)
    | st.floats(allow_nan=False)
    | st.text()
    | st.binary()
    | st.datetimes(),
    lambda children: (
        st.lists(children, max_size=5)
        | st.dictionaries(
            st.integers(-(2**63), 2**64 - 1) | st.text(max_size=10), children, max_size=5
        )
        | st.tuples(children, children)
    ),
    max_leaves=15,
)


@settings(max_examples=150, deadline=None)
@given(value=MSGPACK_VALUES, block=st.sampled_from(BLOCK_SIZES))
def test_round_trip_msgpack(value: Any, block: int | None) -> None:
    codec = SecureCookie(HASH_KEY, _block(block), max_length=0)
    assert codec.decode("s", codec.encode("s", value)) == value


@settings(max_examples=150, deadline=None)
@given(value=JSON_VALUES, block=st.sampled_from(BLOCK_SIZES))
def test_round_trip_json(value: Any, block: int | None) -> None:
    codec = SecureCookie(HASH_KEY, _block(block), serializer=JSONSerializer(), max_length=0)
    # what the serializer alone reads back (Go's float format writes 2.0 as 2: it reads as int)
    expected = JSONSerializer().deserialize(JSONSerializer().serialize(value))
    decoded = codec.decode("s", codec.encode("s", value))
    assert decoded == expected
    assert json.dumps(decoded, sort_keys=True) == json.dumps(expected, sort_keys=True)


@settings(max_examples=150, deadline=None)
@given(value=st.binary(min_size=1, max_size=500), block=st.sampled_from(BLOCK_SIZES))
def test_round_trip_nop(value: bytes, block: int | None) -> None:
    codec = SecureCookie(HASH_KEY, _block(block), serializer=NopSerializer(), max_length=0)
    assert codec.decode("s", codec.encode("s", value)) == value


# -- decoding rules (gorilla.md §A.5, Part C) ------------------------------------------------


def _codec(clock: Callable[[], float] = lambda: NOW, **options: Any) -> SecureCookie:
    return SecureCookie(HASH_KEY, serializer=NopSerializer(), clock=clock, **options)


def _made_at(ts: int, **options: Any) -> str:
    return _codec(lambda: ts, **options).encode("session", b"value")


def test_wrong_name_is_an_invalid_signature() -> None:
    cookie = _codec().encode("session", b"value")
    with pytest.raises(InvalidSignature) as info:
        _codec().decode("Session", cookie)
    assert str(info.value) == "securecookie: the value is not valid"


def test_wrong_key_is_an_invalid_signature() -> None:
    cookie = _codec().encode("session", b"value")
    with pytest.raises(InvalidSignature):
        SecureCookie(OTHER_HASH_KEY, serializer=NopSerializer(), clock=lambda: NOW).decode(
            "session", cookie
        )


def test_expiry_boundary() -> None:
    cookie = _made_at(NOW - 3600)
    assert _codec(max_age=3600).decode("session", cookie) == b"value"  # exactly max_age: valid
    with pytest.raises(Expired) as info:
        _codec(max_age=3599).decode("session", cookie)
    assert str(info.value) == "securecookie: expired timestamp"
    assert _codec(max_age=0).decode("session", _made_at(0)) == b"value"  # 0 disables


def test_min_age_boundary() -> None:
    cookie = _made_at(NOW - 60)
    assert _codec(min_age=60).decode("session", cookie) == b"value"  # exactly min_age: valid
    with pytest.raises(TooNew) as info:
        _codec(min_age=61).decode("session", cookie)
    assert str(info.value) == "securecookie: timestamp is too new"


def test_future_timestamps_are_accepted_without_min_age() -> None:
    assert _codec().decode("session", _made_at(NOW + 86400)) == b"value"


def test_mac_is_checked_before_the_timestamp() -> None:
    cookie = _made_at(NOW - 10**6)
    with pytest.raises(InvalidSignature):
        _codec(max_age=10).decode("other", cookie)


def test_max_length_on_encode_and_decode() -> None:
    codec = _codec(max_length=100)
    codec.encode("session", b"x" * 10)
    with pytest.raises(EncodeError, match="too long"):
        codec.encode("session", b"x" * 100)
    long_cookie = _codec(max_length=0).encode("session", b"x" * 100)
    with pytest.raises(TooLong) as info:
        codec.decode("session", long_cookie)
    assert str(info.value) == f"securecookie: the value is too long: {len(long_cookie)}"
    # 0 means unlimited
    assert _codec(max_length=0).decode("session", long_cookie) == b"x" * 100


def test_default_max_length_is_4096() -> None:
    # gorilla.md §A.4: 2271 serialized bytes is the most that fits unencrypted.
    _codec().encode("session", b"x" * 2271)
    with pytest.raises(EncodeError):
        _codec().encode("session", b"x" * 2272)


@pytest.mark.parametrize(
    "cookie",
    [
        "!!!not*base64",
        "MTcwMDAwMDAwMHxhR1ZzYkc4PXzrN3szOt9rDKELd6_zyLL023KDDoIfJuXIBpdq8UCb8Q",  # no padding
        "MTcwMDAwMDAwMHxhR1ZzYkc4PXzrN3szOt9rDKELd6/zyLL023KDDoIfJuXIBpdq8UCb8Q==",  # std alphabet
        "MTcwMDAwMDAwMHxhR1ZzYkc4PXzrN3szOt9rDKELd6_zyLL023KDDoIfJuXIBpdq8UCb8Q== ",
        "MTcwMDAw MDAwMHxhR1ZzYkc4PXzrN3szOt9rDKELd6_zyLL023KDDoIfJuXIBpdq8UCb8Q==",
        "é",
    ],
)
def test_base64_is_strict(cookie: str) -> None:
    codec = SecureCookie(GO_TEST_KEY, serializer=NopSerializer(), clock=lambda: NOW)
    with pytest.raises(Malformed) as info:
        codec.decode("sid", cookie)
    assert str(info.value).startswith("securecookie: base64 decode failed")


def test_go_skips_newlines_in_base64_and_so_do_we() -> None:
    v1 = "MTcwMDAwMDAwMHxhR1ZzYkc4PXzrN3szOt9rDKELd6_zyLL023KDDoIfJuXIBpdq8UCb8Q=="
    codec = SecureCookie(GO_TEST_KEY, serializer=NopSerializer(), clock=lambda: 1700000000)
    assert codec.decode("sid", v1[:20] + "\r\n" + v1[20:]) == b"hello"


@pytest.mark.parametrize(
    "cookie", ["", "bm9waXBlc2hlcmU=", base64.urlsafe_b64encode(b"a|b").decode()]
)
def test_too_few_fields_is_an_invalid_signature(cookie: str) -> None:
    with pytest.raises(InvalidSignature):
        _codec().decode("session", cookie)


@pytest.mark.parametrize(
    ("timestamp", "ok"),
    [
        (b"+1700000000", True),
        (b"01700000000", True),
        (b"-5", True),
        (b" 1700000000", False),
        (b"1_700_000_000", False),
        (b"1700000000 ", False),
        (b"", False),
        (b"\xd9\xa1", False),  # an Arabic-Indic digit: int() would take it, Go would not
        (b"99999999999999999999", False),  # outside int64
    ],
)
def test_timestamp_syntax_is_gos(timestamp: bytes, ok: bool) -> None:
    """Only the key holder can mint these; ParseInt's rules still apply (Part C 18)."""
    cookie = spec_encode("session", b"value", hash_key=HASH_KEY, timestamp=timestamp)
    codec = _codec(max_age=0)
    if ok:
        assert codec.decode("session", cookie) == b"value"
    else:
        with pytest.raises(Malformed, match="invalid timestamp"):
            codec.decode("session", cookie)


def test_inner_base64_is_checked_after_the_mac() -> None:
    mac_input = b"session|" + str(NOW).encode() + b"|not*base64"
    mac = hmac.new(HASH_KEY, mac_input, "sha256").digest()
    cookie = spec_b64encode(str(NOW).encode() + b"|not*base64|" + mac).decode()
    with pytest.raises(Malformed, match="base64 decode failed"):
        _codec().decode("session", cookie)


def test_empty_plaintext_encrypts_but_never_decrypts_like_go() -> None:
    codec = SecureCookie(HASH_KEY, b"k" * 16, serializer=NopSerializer(), clock=lambda: NOW)
    cookie = codec.encode("session", b"")
    with pytest.raises(Malformed, match="could not be decrypted"):
        codec.decode("session", cookie)


def test_serializer_failure_on_decode_is_malformed() -> None:
    cookie = spec_encode("session", b"\xc1 not msgpack", hash_key=HASH_KEY)
    with pytest.raises(Malformed):
        SecureCookie(HASH_KEY, clock=lambda: NOW).decode("session", cookie)
    cookie = spec_encode("session", b"{not json", hash_key=HASH_KEY)
    with pytest.raises(Malformed):
        SecureCookie(HASH_KEY, serializer=JSONSerializer(), clock=lambda: NOW).decode(
            "session", cookie
        )


@pytest.mark.parametrize("text", [None, 42, ["a"]])
def test_non_string_input_is_malformed(text: Any) -> None:
    with pytest.raises(Malformed):
        _codec().decode("session", text)


def test_nop_serializer_never_encrypts_the_callers_buffer() -> None:
    """gorilla encrypts a NopEncoder value in place (Part C 21); we never touch it."""
    codec = SecureCookie(HASH_KEY, b"k" * 32, serializer=NopSerializer(), clock=lambda: NOW)
    for buf in (bytearray(b"secret!!"), b"secret!!", memoryview(bytearray(b"secret!!"))):
        before = bytes(buf)
        cookie = codec.encode("session", buf)
        assert bytes(buf) == before
        assert codec.decode("session", cookie) == before


def test_issued_at_and_key_index() -> None:
    found = _codec().decode_details("session", _made_at(NOW - 5))
    assert (found.value, found.issued_at, found.key_index, found.stale) == (
        b"value",
        NOW - 5,
        0,
        False,
    )


def test_the_cookie_is_cookie_safe() -> None:
    cookie = SecureCookie(HASH_KEY, b"k" * 32).encode("session", {"a": "b" * 100})
    assert re.fullmatch(r"[A-Za-z0-9_=-]+", cookie)
    assert len(cookie) % 4 == 0


def test_repr_shows_no_key() -> None:
    text = repr(SecureCookie(OTHER_HASH_KEY, BLOCK_KEY))
    assert "super-secret" not in text
    assert "AES-256" in text


# -- configuration errors fail at construction (gorilla only reports them on first use) ------


@pytest.mark.parametrize("hash_key", [b"", ""])
def test_empty_hash_key(hash_key: Any) -> None:
    with pytest.raises(ValueError, match="hash key is not set"):
        SecureCookie(hash_key)


def test_none_hash_key() -> None:
    with pytest.raises(ValueError, match="hash key is not set"):
        SecureCookie(None)  # type: ignore[arg-type]


@pytest.mark.parametrize("size", [0, 5, 15, 17, 31, 33, 64])
def test_bad_block_key_length(size: int) -> None:
    with pytest.raises(ValueError, match=f"invalid key size {size}"):
        SecureCookie(HASH_KEY, b"k" * size)


@pytest.mark.parametrize("hash_spec", ["sha257", "", "shake_128"])
def test_unknown_hash(hash_spec: str) -> None:
    with pytest.raises(ValueError):
        SecureCookie(HASH_KEY, hash=hash_spec)


@pytest.mark.parametrize("hash_spec", [42, object(), lambda: object()])
def test_hash_that_is_not_a_hash(hash_spec: Any) -> None:
    with pytest.raises(TypeError):
        SecureCookie(HASH_KEY, hash=hash_spec)


@pytest.mark.parametrize(("hash_key", "block_key"), [(42, None), (HASH_KEY, 16)])
def test_keys_of_the_wrong_type(hash_key: Any, block_key: Any) -> None:
    with pytest.raises(TypeError):
        SecureCookie(hash_key, block_key)


@pytest.mark.parametrize("option", ["max_length", "min_age"])
def test_negative_limits(option: str) -> None:
    with pytest.raises(ValueError):
        SecureCookie(HASH_KEY, **{option: -1})


def test_str_keys_are_utf8() -> None:
    key = "clé, a hash key of 32 bytes or more"
    a = SecureCookie(key, "k" * 16, serializer=NopSerializer(), clock=lambda: NOW)
    b = SecureCookie(key.encode(), b"k" * 16, serializer=NopSerializer(), clock=lambda: NOW)
    assert b.decode("n", a.encode("n", b"v")) == b"v"


# -- several codecs (key rotation) -----------------------------------------------------------


def test_encode_and_decode_multi_without_codecs() -> None:
    with pytest.raises(ValueError, match="no codecs"):
        encode_multi("session", b"v", [])
    with pytest.raises(ValueError, match="no codecs"):
        decode_multi("session", "x", [])
    with pytest.raises(ValueError):
        codecs_from_pairs()


def test_encode_multi_uses_the_first_codec() -> None:
    new, old = codecs_from_pairs(NEW_HASH_KEY, b"n" * 32, OLD_HASH_KEY, b"o" * 32)
    cookie = encode_multi("session", {"a": 1}, [new, old])
    assert new.decode("session", cookie) == {"a": 1}
    with pytest.raises(InvalidSignature):
        old.decode("session", cookie)


def test_decode_multi_raises_the_first_codecs_error_with_all_of_them() -> None:
    cookie = _made_at(NOW - 100)
    expired = _codec(max_age=10)
    foreign = SecureCookie(OTHER_HASH_KEY, serializer=NopSerializer(), clock=lambda: NOW)
    with pytest.raises(Expired) as info:
        decode_multi("session", cookie, [expired, foreign])
    assert [type(e) for e in info.value.errors] == [Expired, InvalidSignature]
    assert str(info.value) == "securecookie: expired timestamp"
    with pytest.raises(InvalidSignature) as info2:
        decode_multi("session", cookie, [foreign, expired])
    assert [type(e) for e in info2.value.errors] == [InvalidSignature, Expired]
    assert isinstance(info2.value, DecodeError)


def test_decode_multi_with_one_codec_still_lists_the_error() -> None:
    with pytest.raises(InvalidSignature) as info:
        decode_multi("other", _made_at(NOW), [_codec()])
    assert len(info.value.errors) == 1


def test_rotation_old_pair_decodes_and_is_stale() -> None:
    old_keys = (OLD_HASH_KEY, b"o" * 16)
    cookie = SecureCookie(*old_keys, clock=lambda: NOW).encode("session", {"n": 1})
    codecs = codecs_from_pairs(NEW_HASH_KEY, b"n" * 16, *old_keys, clock=lambda: NOW)
    found = decode_details_multi("session", cookie, codecs)
    assert found.value == {"n": 1}
    assert found.key_index == 1
    assert found.stale


def test_codecs_from_pairs_odd_last_key_signs_only_and_options_apply() -> None:
    codecs = codecs_from_pairs(
        NEW_HASH_KEY,
        b"k" * 16,
        OLD_HASH_KEY,
        serializer=JSONSerializer(),
        max_age=5,
        clock=lambda: NOW,
    )
    assert len(codecs) == 2
    assert "no encryption" in repr(codecs[1])
    assert all(isinstance(c.serializer, JSONSerializer) and c.max_age == 5 for c in codecs)
    with pytest.raises(ValueError):
        codecs_from_pairs(None, b"k" * 16)


def test_default_serializer_is_msgpack_and_keeps_int_keys() -> None:
    codec = SecureCookie(HASH_KEY)
    assert isinstance(codec.serializer, MsgpackSerializer)
    assert codec.decode("s", codec.encode("s", {42: 43})) == {42: 43}


def test_one_codec_shared_by_threads() -> None:
    """The cached cipher context and hash states are shared: threads must not disturb them."""

    codec = SecureCookie(HASH_KEY, b"k" * 32, serializer=JSONSerializer())

    def work(n: int) -> None:
        for i in range(300):
            value = {"thread": n, "i": i, "pad": "x" * (i % 50)}
            assert codec.decode("s", codec.encode("s", value)) == value

    race(8, work, switch_interval=1e-6)  # switch threads as often as possible
