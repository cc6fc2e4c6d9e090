"""SealedCookie: websession's default format (AES-256-GCM-SIV in a versioned envelope)."""

from __future__ import annotations

import base64
import datetime as dt
import re
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.support.backends import race
from websession import (
    DecodeError,
    EncodeError,
    Expired,
    InvalidSignature,
    JSONSerializer,
    Malformed,
    NopSerializer,
    SealedCookie,
    TooLong,
    decode_details_multi,
    decode_multi,
    encode_multi,
)

NOW = 1_700_000_000
SECRET = "the newest secret, long and random enough"
OLD = b"an older secret that still opens cookies"
OLDEST = "the oldest secret, also 32+ bytes long"


def _codec(secrets: Any = SECRET, *, now: int = NOW, **options: Any) -> SealedCookie:
    return SealedCookie(secrets, clock=lambda: now, **options)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _envelope(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


# -- round trips -----------------------------------------------------------------------------

HASHABLE = st.none() | st.booleans() | st.integers(-(2**63), 2**64 - 1) | st.text(max_size=10)
VALUES = st.recursive(
    HASHABLE
    | st.floats(allow_nan=False)
    | st.binary(max_size=20)
    | st.datetimes()
    | st.datetimes(timezones=st.just(dt.timezone.utc))
    | st.dates()
    | st.sets(st.integers(-100, 100), max_size=4)
    | st.tuples(HASHABLE, HASHABLE),
    lambda children: (
        st.lists(children, max_size=5)
        | st.dictionaries(HASHABLE | st.tuples(HASHABLE, HASHABLE), children, max_size=5)
        | st.tuples(children, children)
    ),
    max_leaves=20,
)


@settings(max_examples=200, deadline=None)
@given(value=VALUES, name=st.text(min_size=1, max_size=30))
def test_round_trip(value: Any, name: str) -> None:
    codec = _codec(max_length=0)
    assert codec.decode(name, codec.encode(name, value)) == value


@settings(max_examples=50, deadline=None)
@given(value=st.dictionaries(st.text(max_size=10), st.text(max_size=50), max_size=10))
def test_round_trip_json(value: dict[str, str]) -> None:
    codec = _codec(serializer=JSONSerializer(), max_length=0)
    assert codec.decode("s", codec.encode("s", value)) == value


@settings(max_examples=50, deadline=None)
@given(value=st.binary(max_size=3000))
def test_round_trip_nop_and_compression(value: bytes) -> None:
    codec = _codec(serializer=NopSerializer(), max_length=0)
    assert codec.decode("s", codec.encode("s", value)) == value


def test_session_values_survive() -> None:
    codec = _codec()
    session = {
        "user_id": 42,
        42: 43,
        "roles": ("admin", "editor"),
        "seen": {1, 2},
        "when": dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.timezone.utc),
        "raw": b"\x00\xff",
        "_flash": ["Welcome back!"],
    }
    assert codec.decode("session", codec.encode("session", session)) == session


def test_cookie_is_url_safe_unpadded_and_random() -> None:
    codec = _codec()
    a, b = codec.encode("session", {"a": 1}), codec.encode("session", {"a": 1})
    assert re.fullmatch(r"[A-Za-z0-9_-]+", a)
    assert a != b  # a fresh nonce each time
    assert codec.decode("session", a) == codec.decode("session", b)


def test_issued_at_is_reported() -> None:
    cookie = _codec(now=NOW - 7).encode("session", "v")
    found = _codec().decode_details("session", cookie)
    assert (found.value, found.issued_at, found.key_index, found.stale) == ("v", NOW - 7, 0, False)


def test_large_repetitive_values_are_compressed() -> None:
    codec = _codec(max_length=0)
    value = {"notes": ["the same sentence, again and again"] * 200}
    cookie = codec.encode("session", value)
    assert _envelope(cookie)[0] == 2  # the zlib version
    assert len(cookie) < 1000
    assert codec.decode("session", cookie) == value
    small = codec.encode("session", {"a": "b"})
    assert _envelope(small)[0] == 1  # small payloads are never compressed


# -- key rotation ----------------------------------------------------------------------------


def test_rotation_old_keys_open_and_are_stale() -> None:
    old_cookie = _codec(OLD).encode("session", {"n": 1})
    oldest_cookie = _codec([OLDEST]).encode("session", {"n": 2})
    codec = _codec([SECRET, OLD, OLDEST])
    assert codec.key_count == 3

    found = codec.decode_details("session", old_cookie)
    assert (found.value, found.key_index, found.stale) == ({"n": 1}, 1, True)
    found = codec.decode_details("session", oldest_cookie)
    assert (found.value, found.key_index, found.stale) == ({"n": 2}, 2, True)

    new_cookie = codec.encode("session", {"n": 3})  # the newest key seals
    assert codec.decode_details("session", new_cookie).key_index == 0
    assert _codec(SECRET).decode("session", new_cookie) == {"n": 3}
    with pytest.raises(InvalidSignature):
        _codec(OLD).decode("session", new_cookie)


def test_a_removed_key_no_longer_opens() -> None:
    cookie = _codec(OLD).encode("session", 1)
    with pytest.raises(InvalidSignature):
        _codec([SECRET, OLDEST]).decode("session", cookie)


def test_key_ids_are_public_and_distinct() -> None:
    codec = _codec([SECRET, OLD])
    assert codec.key_id(0) != codec.key_id(1)
    assert re.fullmatch(r"[0-9a-f]{8}", codec.key_id())
    assert _envelope(codec.encode("s", 1))[1:5].hex() == codec.key_id(0)
    assert SECRET not in repr(codec)
    assert codec.key_id() in repr(codec)


def test_str_and_bytes_secrets_are_the_same_key() -> None:
    assert _codec(SECRET.encode()).decode("s", _codec(SECRET).encode("s", 1)) == 1


def test_decode_multi_across_sealed_codecs_counts_keys() -> None:
    first = _codec([SECRET, OLD])
    second = _codec(OLDEST)
    cookie = _codec(OLDEST).encode("session", "x")
    found = decode_details_multi("session", cookie, [first, second])
    assert (found.value, found.key_index, found.stale) == ("x", 2, True)
    assert decode_multi("session", encode_multi("session", "y", [first, second]), [first]) == "y"


# -- what does not open ----------------------------------------------------------------------


def test_wrong_name() -> None:
    cookie = _codec().encode("session", {"a": 1})
    with pytest.raises(InvalidSignature):
        _codec().decode("Session", cookie)


def test_expiry_boundary() -> None:
    cookie = _codec(now=NOW - 3600).encode("session", 1)
    assert _codec(max_age=3600).decode("session", cookie) == 1  # exactly max_age: valid
    with pytest.raises(Expired):
        _codec(max_age=3599).decode("session", cookie)
    assert _codec(max_age=0, now=NOW + 10**8).decode("session", cookie) == 1  # 0 disables


def test_issue_time_is_authenticated() -> None:
    env = bytearray(_envelope(_codec(now=NOW - 10**6).encode("session", 1)))
    env[9] ^= 0xFF  # move the issue time
    with pytest.raises(InvalidSignature):
        _codec(max_age=0).decode("session", _b64(bytes(env)))


def test_every_single_byte_change_is_rejected() -> None:
    codec = _codec()
    env = _envelope(codec.encode("session", {"user": 1}))
    for i in range(len(env)):
        tampered = bytearray(env)
        tampered[i] ^= 0x01
        with pytest.raises(DecodeError):
            codec.decode("session", _b64(bytes(tampered)))


def test_max_length_on_encode_and_decode() -> None:
    codec = _codec(max_length=100, serializer=NopSerializer())
    codec.encode("s", b"x" * 10)
    with pytest.raises(EncodeError, match="too long"):
        codec.encode("s", b"x" * 200)
    long_cookie = _codec(max_length=0, serializer=NopSerializer()).encode("s", b"x" * 200)
    with pytest.raises(TooLong):
        codec.decode("s", long_cookie)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "not base64!",
        "abc=",  # padding: sealed cookies are unpadded
        "a",  # impossible length
        _b64(b"\x01" + b"\x00" * 20),  # too short
        _b64(b"\x07" + b"\x00" * 60),  # unknown version
        "é" * 10,
    ],
)
def test_malformed(text: str) -> None:
    with pytest.raises(Malformed):
        _codec().decode("session", text)


def test_unknown_key_id_is_an_invalid_signature() -> None:
    env = bytearray(_envelope(_codec().encode("session", 1)))
    env[1:5] = b"\x00\x00\x00\x00"
    with pytest.raises(InvalidSignature, match="unknown key id"):
        _codec().decode("session", _b64(bytes(env)))


@pytest.mark.parametrize("text", [None, 42, ["a"]])
def test_non_string_input(text: Any) -> None:
    with pytest.raises(Malformed):
        _codec().decode("session", text)


def test_a_securecookie_value_does_not_open() -> None:
    from websession import SecureCookie

    gorilla = SecureCookie(SECRET).encode("session", 1)
    with pytest.raises(DecodeError):
        _codec().decode("session", gorilla)


# -- configuration errors at construction ----------------------------------------------------


@pytest.mark.parametrize("secrets", [[], (), None, "", b"", [SECRET, ""], [b""]])
def test_empty_secrets(secrets: Any) -> None:
    with pytest.raises(ValueError):
        SealedCookie(secrets)


@pytest.mark.parametrize("secrets", [[42], [SECRET, None]])
def test_secrets_of_the_wrong_type(secrets: Any) -> None:
    with pytest.raises(TypeError):
        SealedCookie(secrets)


@pytest.mark.parametrize("option", ["max_age", "max_length"])
def test_negative_limits(option: str) -> None:
    with pytest.raises(ValueError):
        SealedCookie(SECRET, **{option: -1})


def test_one_codec_shared_by_threads() -> None:

    codec = _codec(now=NOW)

    def work(n: int) -> None:
        for i in range(300):
            value = {"thread": n, "i": i, "t": (n, i), "when": dt.date(2026, 1, 1 + i % 28)}
            assert codec.decode("s", codec.encode("s", value)) == value

    race(8, work, switch_interval=1e-6)  # switch threads as often as possible


# -- a cookie value given as bytes (a framework that hands raw header bytes) --------------------
def test_a_value_given_as_bytes_opens_like_the_text() -> None:
    codec = _codec()
    text = codec.encode("session", {"user": "ada"})
    assert codec.decode("session", text.encode("ascii")) == {"user": "ada"}


@pytest.mark.parametrize(
    ("value", "error", "reason"),
    [
        # standard-alphabet characters: Go's URL-safe decoder refuses them, and so do we
        (b"AQ+/" * 16, Malformed, "not base64url"),
        (b"A" * 41, Malformed, "not base64url"),  # a length no base64 text has
        (b"A" * 5000, TooLong, "too long"),
        (12345, Malformed, "not a string"),
    ],
)
def test_bad_bytes_values_are_rejected_with_a_reason(value: Any, error: type, reason: str) -> None:
    with pytest.raises(error, match=reason):
        _codec(max_length=4096).decode("session", value)
