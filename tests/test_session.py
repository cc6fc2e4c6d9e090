"""Session: a dict of values with change tracking, flashes, options and a lifecycle."""

from __future__ import annotations

import asyncio

import pytest

from websession import CookieOptions, CookieStore, MemoryStore, Session
from websession.errors import InvalidSignature
from websession.session import FLASH_KEY, SessionState

SECRET = "session-tests-secret-0123456789abcdef"


def loaded(values: dict[object, object] | None = None) -> Session:
    """A session as a store hands it out after a valid cookie."""
    s = Session("s")
    s.load(dict(values if values is not None else {"a": 1}), issued_at=1, stale=False)
    return s


# -- the mapping -----------------------------------------------------------------------------
def test_any_hashable_key() -> None:
    s = Session("s")
    s[42] = 43
    s["42"] = "str"
    s[(1, 2)] = "tuple key"
    s[None] = "none key"
    assert s[42] == 43
    assert s["42"] == "str"
    assert s[(1, 2)] == "tuple key"
    assert len(s) == 4
    assert set(s) == {42, "42", (1, 2), None}
    assert 42 in s
    assert 41 not in s
    assert s.get(41, "default") == "default"
    assert s == {42: 43, "42": "str", (1, 2): "tuple key", None: "none key"}


def test_missing_key() -> None:
    with pytest.raises(KeyError):
        Session("s")["nope"]


def test_unhashable() -> None:
    with pytest.raises(TypeError):
        hash(Session("s"))


def test_new_session_state() -> None:
    s = Session("s")
    assert s.is_new
    assert s.id is None
    assert not s.modified
    assert s.state is SessionState.CLEAN
    assert s.reason is None
    assert s.options == CookieOptions()


def test_loaded_session_is_clean() -> None:
    s = loaded()
    assert not s.is_new
    assert not s.modified
    assert not s.accessed


@pytest.mark.parametrize(
    "change",
    [
        lambda s: s.__setitem__("b", 2),
        lambda s: s.__setitem__("a", 1),  # same value: still a write
        lambda s: s.__delitem__("a"),
        lambda s: s.pop("a"),
        lambda s: s.popitem(),
        lambda s: s.update(b=2),
        lambda s: s.setdefault("new", 1),
        lambda s: s.clear(),
        lambda s: s.add_flash("hi"),
        lambda s: s.mark_modified(),
        lambda s: s.regenerate_id(),
    ],
)
def test_changes_are_tracked(change: object) -> None:
    s = loaded()
    change(s)  # type: ignore[operator]
    assert s.modified
    assert s.state is SessionState.MODIFIED


@pytest.mark.parametrize(
    "read",
    [
        lambda s: s["a"],
        lambda s: s.get("a"),
        lambda s: "a" in s,
        lambda s: list(s),
        lambda s: len(s),
        lambda s: dict(s.items()),
        lambda s: s.setdefault("a", 5),  # present: nothing written
        lambda s: s.flashes(),  # no flashes: nothing removed
        lambda s: s.peek_flashes(),
        lambda s: s.to_dict(),
    ],
)
def test_reads_are_not_changes(read: object) -> None:
    s = loaded()
    read(s)  # type: ignore[operator]
    assert not s.modified


def test_reads_mark_accessed() -> None:
    s = loaded()
    _ = s.get("a")
    assert s.accessed


def test_clearing_an_empty_session_is_not_a_change() -> None:
    s = loaded({})
    s.clear()
    assert not s.modified


def test_nested_changes_need_mark_modified() -> None:
    s = loaded({"cart": [1]})
    s["cart"].append(2)
    assert not s.modified  # documented: in-place changes are not seen
    s.mark_modified()
    assert s.modified


def test_modified_setter() -> None:
    s = loaded()
    s.modified = True
    assert s.modified
    s.modified = False
    assert not s.modified
    s.invalidate()
    s.modified = False  # an invalidation cannot be undone this way
    assert s.state is SessionState.INVALIDATED


def test_mark_saved() -> None:
    s = Session("s")
    s["x"] = 1
    s.needs_reseal = True
    s.old_id = "old"
    s.mark_saved()
    assert not s.modified
    assert not s.is_new
    assert s.old_id is None
    assert not s.needs_reseal


def test_needs_reseal_means_modified() -> None:
    s = loaded()
    s.needs_reseal = True
    assert s.modified
    assert s.state is SessionState.MODIFIED


def test_repr_and_eq() -> None:
    s = loaded({"a": 1})
    assert "'s'" in repr(s)
    assert s == loaded({"a": 1})
    assert s != loaded({"a": 2})
    assert s != "not a session"


# -- flashes ---------------------------------------------------------------------------------
def test_flashes() -> None:
    s = Session("s")
    assert s.flashes() == []
    s.add_flash("one")
    s.add_flash({"two": 2})
    s.add_flash("err", key="errors")
    assert s.peek_flashes() == ["one", {"two": 2}]
    assert s[FLASH_KEY] == ["one", {"two": 2}]
    assert s.flashes() == ["one", {"two": 2}]
    assert s.flashes() == []
    assert FLASH_KEY not in s
    assert s.flashes("errors") == ["err"]
    assert s.peek_flashes("errors") == []


def test_flashes_consumed_marks_modified() -> None:
    s = loaded({FLASH_KEY: ["x"]})
    assert s.flashes() == ["x"]
    assert s.modified


def test_flash_queue_of_another_type() -> None:
    s = loaded({FLASH_KEY: "a single value", "t": ("a", "b")})
    assert s.flashes() == ["a single value"]  # Go panics here; we return it as a list
    assert s.flashes("t") == ["a", "b"]
    s["bad"] = 5
    with pytest.raises(TypeError, match="not a list of flashes"):
        s.add_flash("x", key="bad")


def test_add_flash_to_a_tuple_queue() -> None:
    # a serializer without tuples->list distinction (or an old cookie) may hand back a tuple
    s = loaded({FLASH_KEY: ("old",)})
    s.add_flash("new")
    assert s.flashes() == ["old", "new"]


# -- lifecycle ---------------------------------------------------------------------------------
def test_invalidate() -> None:
    s = loaded({"a": 1})
    s.invalidate()
    assert len(s) == 0
    assert s.options.max_age < 0
    assert s.state is SessionState.INVALIDATED
    s["late"] = 1  # writing after invalidate does not undo it
    assert s.state is SessionState.INVALIDATED


def test_negative_max_age_invalidates() -> None:
    s = loaded()
    s.options.max_age = -1
    assert s.state is SessionState.INVALIDATED
    assert s.modified


def test_regenerate_id() -> None:
    s = loaded()
    s.id = "A" * 52
    s.regenerate_id()
    assert s.id is None
    assert s.old_id == "A" * 52
    s.regenerate_id()  # twice before a save: the first old id is kept for deletion
    assert s.old_id == "A" * 52
    fresh = Session("s")
    fresh.regenerate_id()
    assert fresh.old_id is None


def test_reject_keeps_the_reason() -> None:
    s = Session("s")
    s.reject(InvalidSignature("bad"))
    assert s.reason == "invalid_signature"
    assert s.is_new
    s.load({"a": 1}, issued_at=5, stale=True)
    assert s.reason is None
    assert s.issued_at == 5
    assert s.needs_reseal


def test_save_without_store() -> None:
    with pytest.raises(RuntimeError):
        Session("s").save()
    with pytest.raises(RuntimeError):
        asyncio.run(Session("s").asave())


def test_save_through_the_session() -> None:
    store = CookieStore(SECRET)
    s = store.new("s", None)
    s["a"] = 1
    header = s.save()
    again = store.new("s", header.split(";")[0].split("=", 1)[1])
    assert again == {"a": 1}
    header2 = asyncio.run(again.asave())
    assert header2.startswith("s=")


# -- options are per session ------------------------------------------------------------------
@pytest.mark.parametrize("make", [lambda: CookieStore(SECRET), lambda: MemoryStore(SECRET)])
def test_options_are_copied_per_session(make: object) -> None:
    """gorilla GH-8: changing one session's options must not change the store's or another's."""
    store = make()  # type: ignore[operator]
    a = store.new("a", None)
    b = store.new("b", None)
    a.options.max_age = 0
    a.options.path = "/only-a"
    assert b.options.max_age == 30 * 86400
    assert store.options.max_age == 30 * 86400
    assert store.options.path == "/"


def test_remember_me_is_one_setting() -> None:
    store = MemoryStore(SECRET, options=CookieOptions(max_age=0))
    s = store.new("s", None)
    s["user"] = 1
    assert "Max-Age" not in store.save(s)
    s.options.max_age = 14 * 86400
    assert "Max-Age=1209600" in store.save(s)


def test_bad_names_are_refused_by_stores() -> None:
    for store in (CookieStore(SECRET), MemoryStore(SECRET)):
        with pytest.raises(ValueError):
            store.new("bad name", None)
        with pytest.raises(ValueError):
            store.new("__Host-x", None) if not store.options.secure else store.new("a;b", None)
    insecure = CookieStore(SECRET, options=CookieOptions(secure=False))
    with pytest.raises(ValueError, match="__Host-"):
        insecure.new("__Host-sid", None)
