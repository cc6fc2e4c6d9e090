"""CookieStore: the whole session sealed in its cookie."""

from __future__ import annotations

import asyncio
import os
import re
import time

import pytest

from tests.support.contract import FakeClock
from websession import (
    CookieOptions,
    CookieStore,
    EncodeError,
    InsecureSecret,
    JSONSerializer,
    Registry,
    SecureCookie,
    codecs_from_pairs,
    decode_multi,
)
from websession.session import SessionState

SECRET = "cookie-store-secret-0123456789abcdefgh"
OLD = "cookie-store-old-secret-9876543210zyxw"
HASH_KEY = bytes(range(32))
NEW_HASH_KEY = bytes.fromhex("7a3f9c2e5b8d1f4a6c0e3b7d9f2a5c8e1b4d7f0a3c6e9b2d5f8a1c4e7b0d3f6a")
BLOCK_KEY = bytes(range(32, 64))


def value_of(header: str) -> str:
    return header.split(";", 1)[0].split("=", 1)[1]


def test_round_trip_and_default_attributes() -> None:
    store = CookieStore(SECRET)
    s = store.new("s", None)
    assert s.is_new
    assert s.id is None  # cookie sessions have no id
    s["user"] = "alice"
    s[42] = 43
    s["raw"] = b"\x00\x01"
    header = store.save(s)
    attrs = header.split("; ")[1:]
    assert attrs[0] == "Path=/"
    assert attrs[1].startswith("Expires=")
    assert attrs[2:] == ["Max-Age=2592000", "HttpOnly", "Secure", "SameSite=Lax"]
    assert "alice" not in header  # sealed, not just signed
    loaded = store.new("s", value_of(header))
    assert not loaded.is_new
    assert loaded == {"user": "alice", 42: 43, "raw": b"\x00\x01"}
    assert loaded.id is None
    assert loaded.issued_at is not None


def test_async_twins() -> None:
    store = CookieStore(SECRET)

    async def go() -> dict[object, object]:
        s = await store.anew("s", None)
        s["a"] = 1
        header = await store.asave(s)
        return (await store.anew("s", value_of(header))).copy()

    assert asyncio.run(go()) == {"a": 1}


def test_needs_keys() -> None:
    with pytest.raises(ValueError, match="secret_keys"):
        CookieStore()
    with pytest.raises(ValueError, match="not both"):
        CookieStore(SECRET, codecs=codecs_from_pairs(HASH_KEY))
    with pytest.raises(ValueError):
        CookieStore(codecs=[])
    with pytest.raises(ValueError):
        CookieStore("")


def test_too_large_for_a_browser_says_how_large() -> None:
    store = CookieStore(SECRET)
    s = store.new("s", None)
    # find a payload whose sealed value fits the codec's 4096 but whose header does not
    for size in range(2900, 3100):
        s["blob"] = os.urandom(size)
        try:
            header = store.save(s)
        except EncodeError as exc:
            message = str(exc)
            break
        assert len(header) <= 4096
    else:
        pytest.fail("no payload size crossed the browser limit")
    match = re.search(r"would be (\d+) bytes", message)
    assert match, message
    assert 4096 < int(match.group(1)) < 4300
    assert "4096" in message
    # far too large: the codec refuses it, and says how long it would be
    s["blob"] = os.urandom(10_000)
    with pytest.raises(EncodeError, match=r"\d{4,}"):
        store.save(s)


def test_large_but_compressible_sessions_fit() -> None:
    store = CookieStore(SECRET)
    s = store.new("s", None)
    s["text"] = "the same words again " * 400  # 8 KB of text
    header = store.save(s)
    assert len(header) < 4096
    assert store.new("s", value_of(header))["text"] == "the same words again " * 400


def test_unmodified_session_is_not_saved_again() -> None:
    store = CookieStore(SECRET)
    first = Registry()
    first.get(store, "s")["n"] = 1
    (header,) = first.save_all()
    reg = Registry(f"s={value_of(header)}")
    s = reg.get(store, "s")
    assert s["n"] == 1
    assert reg.save_all() == []
    s["n"] = 2
    assert len(reg.save_all()) == 1
    assert reg.save_all() == []  # saved: clean again


def test_key_rotation_reseals() -> None:
    old_store = CookieStore([OLD])
    s = old_store.new("s", None)
    s["v"] = 1
    old_cookie = value_of(old_store.save(s))

    rotated = CookieStore([SECRET, OLD])
    reg = Registry(f"s={old_cookie}")
    loaded = reg.get(rotated, "s")
    assert loaded == {"v": 1}
    assert loaded.state is SessionState.MODIFIED  # the older key: re-sealed on save
    (header,) = reg.save_all()  # re-sealed although nothing changed
    new_only = CookieStore([SECRET])
    assert new_only.new("s", value_of(header)) == {"v": 1}
    assert new_only.new("s", old_cookie).reason == "invalid_signature"


def test_bad_cookies() -> None:
    clock = FakeClock()
    store = CookieStore(SECRET, options=CookieOptions(max_age=100), clock=clock)
    s = store.new("s", None)
    s["v"] = 1
    good = value_of(store.save(s))
    cases = {
        "tampered": (
            good[:-3] + ("A" if good[-3] != "A" else "B") + good[-2:],
            "invalid_signature",
        ),
        "garbage": ("%%%", "malformed"),
        "huge": (good + "A" * 5000, "too_long"),
        "other secret": (value_of(CookieStore(OLD).save(CookieStore(OLD).new("s", None))), None),
    }
    for label, (value, reason) in cases.items():
        got = store.new("s", value)
        assert got.is_new, label
        assert len(got) == 0, label
        if reason:
            assert got.reason == reason, label
        else:
            assert got.reason == "invalid_signature", label
    assert store.new("other", good).reason == "invalid_signature"
    # valid cookie that does not hold a mapping
    not_a_dict = store.codecs[0].encode("s", [1, 2, 3])
    assert store.new("s", not_a_dict).reason == "malformed"
    clock.now += 101
    expired = store.new("s", good)
    assert expired.is_new
    assert expired.reason == "expired"


def test_server_side_validity_follows_a_longer_store_max_age() -> None:
    clock = FakeClock()
    store = CookieStore(SECRET, options=CookieOptions(max_age=3600), clock=clock)
    s = store.new("s", None)
    s["v"] = 1
    cookie = value_of(store.save(s))
    clock.now += 3500
    assert not store.new("s", cookie).is_new
    clock.now += 200
    assert store.new("s", cookie).reason == "expired"


def test_max_age_settings() -> None:
    store = CookieStore(SECRET)
    s = store.new("s", None)
    s["v"] = 1
    s.options.max_age = 0
    session_cookie = store.save(s)
    assert "Max-Age" not in session_cookie
    assert "Expires" not in session_cookie
    assert store.new("s", value_of(session_cookie)) == {"v": 1}
    s.options.max_age = -1
    deletion = store.save(s)
    assert deletion.startswith("s=;")  # unlike gorilla, no copy of the data rides along
    assert "Max-Age=0" in deletion
    assert "Expires=Thu, 01 Jan 1970 00:00:01 GMT" in deletion


def test_deleting_a_session_too_large_to_save_still_works() -> None:
    """gorilla's C.38: deleting an oversized session failed because it encoded the data."""
    store = CookieStore(SECRET)
    s = store.new("s", None)
    s["blob"] = os.urandom(8000)
    with pytest.raises(EncodeError):
        store.save(s)
    s.invalidate()
    assert "Max-Age=0" in store.save(s)


def test_gorilla_codecs_with_json() -> None:
    codecs = codecs_from_pairs(HASH_KEY, BLOCK_KEY, serializer=JSONSerializer())
    store = CookieStore(
        codecs=codecs, options=CookieOptions(http_only=False, same_site="None", max_age=86400)
    )
    s = store.new("gorilla", None)
    s["user"] = "alice"
    s["n"] = 5
    s["list"] = [1, "two", None, True]
    header = store.save(s)
    assert re.fullmatch(
        r"gorilla=[A-Za-z0-9_=-]+; Path=/; Expires=[^;]+; Max-Age=86400; Secure; SameSite=None",
        header,
    ), header
    value = value_of(header)
    # a plain securecookie decode (as Go's DecodeMulti would) reads it
    assert decode_multi("gorilla", value, codecs) == {
        "user": "alice",
        "n": 5,
        "list": [1, "two", None, True],
    }
    loaded = store.new("gorilla", value)
    assert loaded == {"user": "alice", "n": 5, "list": [1, "two", None, True]}
    # rotation with gorilla pairs: new pair first, old pair still decodes
    rotated = CookieStore(
        codecs=codecs_from_pairs(
            NEW_HASH_KEY, b"m" * 32, HASH_KEY, BLOCK_KEY, serializer=JSONSerializer()
        )
    )
    again = rotated.new("gorilla", value)
    assert again == loaded
    assert again.modified  # the older pair: re-sealed on save


def test_gorilla_codec_from_go_vectors() -> None:
    """A cookie made by Go's securecookie with the JSON encoder opens in a CookieStore."""
    import json

    from tests.support.interop import MISSING, all_vectors
    from tests.support.servers import require

    require(bool(all_vectors()), MISSING)
    vectors = [
        v
        for v in all_vectors()
        if v["id"].startswith("json-") and isinstance(json.loads(v["value_json"]), dict)
    ]
    assert vectors
    for v in vectors[:10]:
        codec = SecureCookie(
            InsecureSecret(bytes.fromhex(v["hash_key"])),  # Go's test key
            bytes.fromhex(v["block_key"]) if v["block_key"] else None,
            hash=v["hash"],
            serializer=JSONSerializer(),
            clock=lambda ts=v["timestamp"]: float(ts),
        )
        got = CookieStore(codecs=[codec]).new(v["name"], v["cookie"])
        assert not got.is_new, (v["id"], got.reason)
        assert got.copy() == json.loads(v["value_json"]), v["id"]


def test_json_serializer_refuses_int_keys_clearly() -> None:
    store = CookieStore(codecs=codecs_from_pairs(HASH_KEY, serializer=JSONSerializer()))
    s = store.new("s", None)
    s[42] = 43
    try:
        header = store.save(s)
    except EncodeError:
        return  # refusing is fine
    # or it keeps them in a way that reads back (never silently turns 42 into "42")
    assert store.new("s", value_of(header)).copy() in ({42: 43},)


def test_remember_me_outlives_the_store_lifetime_and_later_saves() -> None:
    """A session's own max_age is sealed into its cookie: it survives saves and sets validity."""
    now = [1_800_000_000.0]
    store = CookieStore(
        "remember-me-secret-0123456789abcdef",
        options=CookieOptions(secure=False, max_age=3600),
        clock=lambda: now[0],
    )
    session = store.new("s", None)
    session["user"] = "ann"
    session.options.max_age = 86400 * 365
    cookie = store.save(session).split(";", 1)[0].split("=", 1)[1]
    now[0] += 86400 * 100  # far beyond the store's own hour
    loaded = store.new("s", cookie)
    assert not loaded.is_new
    assert loaded.options.max_age == 86400 * 365
    loaded["visits"] = 1
    assert f"Max-Age={86400 * 365}" in store.save(loaded)
    now[0] += 86400 * 366
    assert store.new("s", cookie).reason == "expired"

    plain = store.new("s", None)
    plain["user"] = "bob"
    plain_cookie = store.save(plain).split(";", 1)[0].split("=", 1)[1]
    now[0] += 3601  # the store's lifetime applies to sessions without their own
    assert store.new("s", plain_cookie).reason == "expired"


# -- lifetimes ---------------------------------------------------------------------------------
def test_browser_session_cookie_is_honoured_for_ttl_only() -> None:
    """A max_age=0 cookie, which the browser may keep for weeks, is honoured ``ttl`` seconds
    after its last save: one day by default, not the 30 days of a persistent cookie."""
    clock = FakeClock()
    store = CookieStore(SECRET, clock=clock)  # persistent (30 days) by default
    s = store.new("s", None)
    s["user"] = "ann"
    s.options.max_age = 0  # this session: a browser-session cookie
    browser = value_of(store.save(s))
    clock.now += 86400 - 10
    assert store.new("s", browser) == {"user": "ann"}
    clock.now += 20
    late = store.new("s", browser)
    assert late.is_new
    assert late.reason == "expired"

    short = CookieStore(SECRET, options=CookieOptions(max_age=0), ttl=60, clock=clock)
    t = short.new("s", None)
    t["x"] = 1
    cookie = value_of(short.save(t))
    clock.now += 59
    assert not short.new("s", cookie).is_new
    clock.now += 2
    assert short.new("s", cookie).reason == "expired"


def test_timeouts_on_a_real_clock() -> None:
    """idle_timeout counts from the last save, absolute_timeout from creation (kept through
    saves and regenerate_id); past either the session is new and says which."""
    idle = CookieStore(SECRET, idle_timeout=1)
    absolute = CookieStore(SECRET, absolute_timeout=1)
    plain = CookieStore(SECRET)
    s = idle.new("s", None)
    s["a"] = 1
    created = s.created_at
    cookie = value_of(idle.save(s))
    assert idle.new("s", cookie) == {"a": 1}
    assert absolute.new("s", cookie) == {"a": 1}
    time.sleep(int(time.time()) + 2.05 - time.time())  # 2 whole seconds: 1 is over

    gone = idle.new("s", cookie)
    assert gone.is_new
    assert gone.reason == "idle_timeout"
    again = plain.new("s", cookie)
    again.regenerate_id()
    again["b"] = 2
    fresh = value_of(plain.save(again))
    assert idle.new("s", fresh) == {"a": 1, "b": 2}  # just saved: not idle
    over = absolute.new("s", fresh)
    assert over.is_new
    assert over.reason == "absolute_timeout"
    assert plain.new("s", fresh).created_at == created


def test_timeout_settings_are_checked() -> None:
    for bad in (0, -5, "60", 1.5, True):
        with pytest.raises(ValueError, match="idle_timeout must be a positive"):
            CookieStore(SECRET, idle_timeout=bad)  # type: ignore[arg-type]
        with pytest.raises(ValueError, match="absolute_timeout must be a positive"):
            CookieStore(SECRET, absolute_timeout=bad)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="ttl must be a positive"):
        CookieStore(SECRET, ttl=0)
    gorilla = codecs_from_pairs(HASH_KEY, BLOCK_KEY)
    with pytest.raises(ValueError, match="created_at"):
        CookieStore(codecs=gorilla, absolute_timeout=60)
    assert CookieStore(codecs=gorilla, idle_timeout=60).idle_timeout == 60


def test_idle_timeout_with_gorilla_codecs() -> None:
    clock = FakeClock()
    store = CookieStore(
        codecs=codecs_from_pairs(HASH_KEY, BLOCK_KEY, clock=clock), idle_timeout=60, clock=clock
    )
    s = store.new("s", None)
    s["a"] = 1
    cookie = value_of(store.save(s))
    clock.now += 59
    assert store.new("s", cookie) == {"a": 1}
    clock.now += 2
    assert store.new("s", cookie).reason == "idle_timeout"
