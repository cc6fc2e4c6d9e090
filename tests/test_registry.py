"""Registry: the sessions of one request, from several stores, saved together."""

from __future__ import annotations

import asyncio
import os
import shutil
import tempfile

import pytest

from websession import (
    CookieOptions,
    CookieStore,
    EncodeError,
    FilesystemStore,
    MemoryStore,
    Record,
    Registry,
    SaveError,
    ServerStore,
)
from websession.backends.memory import MemoryBackend
from websession.cookies import MAX_VALUES_PER_NAME

SECRET = "registry-tests-secret-0123456789abcdef"


def cookie_pair(header: str) -> str:
    return header.split(";", 1)[0]


def as_header(headers: list[str]) -> str:
    return "; ".join(cookie_pair(h) for h in headers)


@pytest.fixture
def stores() -> tuple[CookieStore, MemoryStore]:
    return CookieStore(SECRET), MemoryStore(SECRET)


def test_sessions_from_two_stores(stores: tuple[CookieStore, MemoryStore]) -> None:
    cookie_store, memory = stores
    reg = Registry(None)
    prefs = reg.get(cookie_store, "prefs")
    auth = reg.get(memory, "auth")
    cart = reg.get(memory, "cart")
    prefs["theme"] = "dark"
    auth["user"] = 42
    cart[1] = ["apple"]
    headers = reg.save_all()
    assert sorted(h.split("=", 1)[0] for h in headers) == ["auth", "cart", "prefs"]

    # the next request sends the cookies back
    nxt = Registry(as_header(headers))
    assert nxt.get(cookie_store, "prefs") == {"theme": "dark"}
    assert nxt.get(memory, "auth") == {"user": 42}
    assert nxt.get(memory, "cart") == {1: ["apple"]}
    assert set(nxt.sessions) == {"prefs", "auth", "cart"}
    assert "auth" in nxt
    assert len(list(nxt)) == 3
    assert nxt.save_all() == []  # nothing changed


def test_cached_by_name(stores: tuple[CookieStore, MemoryStore]) -> None:
    cookie_store, memory = stores
    reg = Registry("")
    a = reg.get(cookie_store, "a")
    a["x"] = 1
    assert reg.get(cookie_store, "a") is a
    with pytest.raises(ValueError, match="another store"):
        reg.get(memory, "a")


def test_bad_cookie_reason_is_kept_on_the_cached_session(
    stores: tuple[CookieStore, MemoryStore],
) -> None:
    cookie_store, _ = stores
    reg = Registry("a=garbage")
    s = reg.get(cookie_store, "a")
    assert s.is_new
    assert s.reason == "malformed"
    assert reg.get(cookie_store, "a").reason == "malformed"


def test_save_all_returns_only_modified(stores: tuple[CookieStore, MemoryStore]) -> None:
    cookie_store, memory = stores
    first = Registry()
    for name, store in (("c1", cookie_store), ("m1", memory), ("m2", memory)):
        first.get(store, name)["v"] = name
    cookies = as_header(first.save_all())

    reg = Registry(cookies)
    untouched = reg.get(cookie_store, "c1")
    read_only = reg.get(memory, "m1")
    changed = reg.get(memory, "m2")
    assert untouched["v"] == "c1"
    assert read_only["v"] == "m1"
    changed["v"] = "changed"
    never_written = reg.get(memory, "fresh")  # new and empty: no cookie needed
    assert never_written.is_new
    headers = reg.save_all()
    assert [h.split("=", 1)[0] for h in headers] == ["m2"]
    assert [s.name for s in reg.pending()] == []


def test_save_all_deletes(stores: tuple[CookieStore, MemoryStore]) -> None:
    _, memory = stores
    first = Registry()
    first.get(memory, "s")["v"] = 1
    cookies = as_header(first.save_all())
    reg = Registry(cookies)
    reg.get(memory, "s").options.max_age = -1
    (header,) = reg.save_all()
    assert header.startswith("s=;")
    assert "Max-Age=0" in header
    assert Registry(cookies).get(memory, "s").is_new


def test_one_failing_store_does_not_stop_the_others(
    stores: tuple[CookieStore, MemoryStore],
) -> None:
    cookie_store, memory = stores
    reg = Registry()
    reg.get(memory, "before")["v"] = 1
    # a session too big for a cookie: its store cannot save it
    reg.get(cookie_store, "huge")["blob"] = os.urandom(4000)
    reg.get(memory, "after")["v"] = 2
    with pytest.raises(SaveError) as info:
        reg.save_all()
    err = info.value
    assert set(err.errors) == {"huge"}
    assert isinstance(err.errors["huge"], EncodeError)
    assert reg.errors == err.errors
    assert sorted(h.split("=", 1)[0] for h in err.headers) == ["after", "before"]
    assert "huge" in str(err)
    # the ones that were saved really were
    nxt = Registry(as_header(err.headers))
    assert nxt.get(memory, "before") == {"v": 1}
    assert nxt.get(memory, "after") == {"v": 2}
    # the failed one is still pending: shrink it and save again
    reg.get(cookie_store, "huge")["blob"] = b"small"
    (header,) = reg.save_all()
    assert header.startswith("huge=")
    assert reg.errors == {}


def test_a_failing_filesystem_store(tmp_path: object) -> None:
    """A store that cannot write (its directory is gone and cannot be recreated)."""
    base = tempfile.mkdtemp()
    fs = FilesystemStore(base + "/sessions", SECRET)
    memory = MemoryStore(SECRET)

    shutil.rmtree(base)
    with open(base, "w") as fh:  # a file where the directory was: nothing can be created
        fh.write("x")
    try:
        reg = Registry()
        reg.get(fs, "files")["v"] = 1
        reg.get(memory, "mem")["v"] = 2
        with pytest.raises(SaveError) as info:
            reg.save_all()
        assert set(info.value.errors) == {"files"}
        assert [h.split("=", 1)[0] for h in info.value.headers] == ["mem"]
    finally:
        os.unlink(base)


def test_duplicate_cookie_values_the_one_that_verifies_wins(
    stores: tuple[CookieStore, MemoryStore],
) -> None:
    cookie_store, memory = stores
    for store in (cookie_store, memory):
        first = Registry()
        first.get(store, "s")["who"] = "real"
        good = cookie_pair(first.save_all()[0]).split("=", 1)[1]
        foreign = CookieStore("another app's secret, same cookie name!!")
        other = foreign.new("s", None)
        other["who"] = "other app"
        bad = cookie_pair(foreign.save(other)).split("=", 1)[1]
        for header in (f"s={bad}; s={good}", f"s=junk; s={good}; s={bad}", f"s={good}; s=junk"):
            s = Registry(header).get(store, "s")
            assert s == {"who": "real"}, header
            assert not s.is_new
        # a mapping with a list of values works the same
        assert Registry({"s": ["junk", good]}).get(store, "s") == {"who": "real"}
        assert Registry({"s": good}).get(store, "s") == {"who": "real"}
        # none verifies: a new session
        s = Registry(f"s=junk; s={bad}").get(store, "s")
        assert s.is_new
        assert s.reason is not None


def test_cookie_values(stores: tuple[CookieStore, MemoryStore]) -> None:
    reg = Registry(b"a=1; b=2; a=3")
    assert reg.cookie_values("a") == ["1", "3"]
    assert reg.cookie_values("zzz") == []


@pytest.mark.parametrize("name", ["", "bad name", "a;b", "a=b", "ü"])
def test_name_validation(stores: tuple[CookieStore, MemoryStore], name: str) -> None:
    cookie_store, memory = stores
    reg = Registry()
    with pytest.raises(ValueError):
        reg.get(cookie_store, name)
    with pytest.raises(ValueError):
        reg.get(memory, name)
    with pytest.raises(ValueError):
        asyncio.run(reg.aget(memory, name))


def test_prefix_rules_are_checked_on_get() -> None:
    insecure = MemoryStore(SECRET, options=CookieOptions(secure=False))
    with pytest.raises(ValueError, match="__Secure-"):
        Registry().get(insecure, "__Secure-s")


def test_async_twins(stores: tuple[CookieStore, MemoryStore]) -> None:
    cookie_store, memory = stores

    async def go() -> None:
        reg = Registry()
        (await reg.aget(cookie_store, "c"))["v"] = 1
        (await reg.aget(memory, "m"))["v"] = 2
        assert await reg.aget(memory, "m") is reg.get(memory, "m")
        headers = await reg.asave_all()
        assert len(headers) == 2
        nxt = Registry(as_header(headers))
        assert await nxt.aget(cookie_store, "c") == {"v": 1}
        assert await nxt.aget(memory, "m") == {"v": 2}
        assert await nxt.asave_all() == []

        failing = Registry()
        (await failing.aget(cookie_store, "huge"))["b"] = os.urandom(4000)
        (await failing.aget(memory, "ok"))["v"] = 1
        with pytest.raises(SaveError) as info:
            await failing.asave_all()
        assert set(info.value.errors) == {"huge"}
        assert len(info.value.headers) == 1

    asyncio.run(go())


def test_registries_share_nothing(stores: tuple[CookieStore, MemoryStore]) -> None:
    cookie_store, _ = stores
    a, b = Registry(), Registry()
    a.get(cookie_store, "s")["x"] = 1
    assert b.get(cookie_store, "s") == {}


# -- duplicate cookie values (issue 9): one backend read per distinct value, a few at most ----


class CountingBackend(MemoryBackend):
    """A real MemoryBackend that counts its reads."""

    def __init__(self) -> None:
        super().__init__()
        self.reads = 0

    def get(self, key: str, *, touch: int | None = None) -> Record | None:
        self.reads += 1
        return super().get(key, touch=touch)

    async def aget(self, key: str, *, touch: int | None = None) -> Record | None:
        self.reads += 1
        return super().get(key, touch=touch)


def _unknown_ids(store: ServerStore, count: int) -> list[str]:
    """Validly sealed ids the backend does not hold: each costs a read to find out."""
    out = []
    for _ in range(count):
        s = store.new("session", None)
        s["x"] = 1
        out.append(cookie_pair(store.save(s)).split("=", 1)[1])
    store.backend._records.clear()  # type: ignore[attr-defined]
    return out


@pytest.mark.parametrize("aio", [False, True])
def test_a_repeated_cookie_value_is_read_once(aio: bool) -> None:
    backend = CountingBackend()
    store = ServerStore(backend, SECRET)
    [unknown] = _unknown_ids(store, 1)
    backend.reads = 0
    reg = Registry("; ".join([f"session={unknown}"] * 1000))
    session = asyncio.run(reg.aget(store, "session")) if aio else reg.get(store, "session")
    assert session.is_new
    assert backend.reads == 1


@pytest.mark.parametrize("aio", [False, True])
def test_many_distinct_values_of_one_name_cost_a_few_reads(aio: bool) -> None:
    backend = CountingBackend()
    store = ServerStore(backend, SECRET)
    unknown = _unknown_ids(store, 50)
    backend.reads = 0
    reg = Registry({"session": unknown})
    session = asyncio.run(reg.aget(store, "session")) if aio else reg.get(store, "session")
    assert session.is_new
    assert backend.reads == MAX_VALUES_PER_NAME == 3


def test_a_good_value_among_the_first_few_still_opens() -> None:
    """Browsers send one name twice for two paths or domains: the valid one is found."""
    store = MemoryStore(SECRET)
    good = store.new("session", None)
    good["user"] = "alice"
    value = cookie_pair(store.save(good)).split("=", 1)[1]
    reg = Registry(f"session=garbage; session=; session={value}; session={value}")
    assert reg.get(store, "session")["user"] == "alice"
