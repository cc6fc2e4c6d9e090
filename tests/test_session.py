"""Session: a dict of values with change tracking, flashes, options and a lifecycle."""

from __future__ import annotations

import asyncio
import copy
import json
import pickle
from collections.abc import Callable
from typing import Any

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
        lambda s: dict(s),
        lambda s: s.copy(),
        lambda s: s | {"b": 2},
        lambda s: {"b": 2} | s,
        lambda s: json.dumps(s),
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
    s.load({"x": 1}, issued_at=1, stale=True)
    s.mark_saved()
    assert not s.modified
    assert not s.is_new


def test_stale_key_means_modified() -> None:
    s = Session("s")
    s.load({"a": 1}, issued_at=1, stale=True)  # an older key opened it: re-seal on save
    assert s.modified
    assert s.state is SessionState.MODIFIED


def test_repr_and_eq() -> None:
    s = loaded({"a": 1})
    assert "'s'" in repr(s)
    assert s == loaded({"a": 1})
    assert s != loaded({"a": 2})
    assert s != "not a session"


# -- a real dict -------------------------------------------------------------------------------
def test_is_a_dict() -> None:
    s = loaded({"a": 1, 2: [3]})
    assert isinstance(s, dict)
    assert json.dumps(loaded({"a": 1, "b": [2]})) == '{"a": 1, "b": [2]}'
    assert dict(s) == {"a": 1, 2: [3]}
    assert type(dict(s)) is dict
    assert {**s} == {"a": 1, 2: [3]}
    plain: dict[object, object] = {"a": 1, 2: [3]}
    assert s == plain
    assert plain == s
    assert s != {"a": 1}
    assert not s.modified


def test_fastapi_jsonable_encoder() -> None:
    encoding = pytest.importorskip("fastapi.encoders")
    assert encoding.jsonable_encoder(loaded({"a": 1, "b": [2]})) == {"a": 1, "b": [2]}


def test_or_and_copy_give_plain_dicts() -> None:
    s = loaded({"a": 1, "b": 2})
    merged = s | {"b": 3, "c": 4}
    assert merged == {"a": 1, "b": 3, "c": 4}
    assert type(merged) is dict
    left = {"b": 3, "z": 0} | s
    assert left == {"b": 2, "z": 0, "a": 1}
    assert type(left) is dict
    assert list(left) == ["b", "z", "a"]
    clone = s.copy()
    assert type(clone) is dict
    clone["a"] = 99
    assert s["a"] == 1
    assert not s.modified  # none of these changed the session
    assert s.__or__(5) is NotImplemented
    with pytest.raises(TypeError):
        s | 5  # type: ignore[operator]
    assert type(Session.fromkeys("ab", 0)) is dict


def test_copies_and_pickles_are_plain_dicts() -> None:
    s = CookieStore(SECRET).new("s", None)
    s["cart"] = [1, 2]
    for made in (copy.copy(s), copy.deepcopy(s), pickle.loads(pickle.dumps(s))):
        assert type(made) is dict
        assert made == {"cart": [1, 2]}
    deep = copy.deepcopy(s)
    deep["cart"].append(3)
    assert s["cart"] == [1, 2]


def test_ior_updates_in_place() -> None:
    s = loaded({"a": 1})
    same = s
    s |= {"b": 2}
    assert s is same
    assert s == {"a": 1, "b": 2}
    assert s.modified
    s |= [("c", 3)]
    assert s["c"] == 3


def test_popitem_takes_the_last_inserted() -> None:
    s = loaded({"a": 1, "b": 2})
    s["c"] = 3
    assert s.popitem() == ("c", 3)
    assert s.popitem() == ("b", 2)
    assert list(s) == ["a"]
    s.popitem()
    s.modified = False
    with pytest.raises(KeyError):
        s.popitem()
    assert not s.modified


def test_pop_and_setdefault_change_only_when_they_change() -> None:
    s = loaded({"a": 1})
    assert s.pop("missing", "d") == "d"
    with pytest.raises(KeyError):
        s.pop("missing")
    assert s.setdefault("a", 5) == 1
    s.update()
    s.update({})
    assert not s.modified
    assert s.pop("a") == 1
    assert s.modified


# dict's attributes that never read or write the items: the object protocol and class hooks.
_NOT_ITEMS = {
    "__class__", "__class_getitem__", "__delattr__", "__dir__", "__doc__", "__format__",
    "__ge__", "__getattribute__", "__getstate__", "__gt__", "__hash__", "__init__",
    "__init_subclass__", "__le__", "__lt__", "__new__", "__reduce__", "__reduce_ex__",
    "__setattr__", "__sizeof__", "__str__", "__subclasshook__", "fromkeys",
}  # fmt: skip

# dict's methods that read the items, each with a call: they must mark the session accessed.
_READS: dict[str, Callable[[Session], Any]] = {
    "__contains__": lambda s: "a" in s,
    "__eq__": lambda s: s == {"a": 1},
    "__ne__": lambda s: s != {"a": 1},
    "__getitem__": lambda s: s["a"],
    "__iter__": lambda s: list(s),
    "__len__": lambda s: len(s),
    "__or__": lambda s: s | {"b": 2},
    "__ror__": lambda s: {"b": 2} | s,
    "__repr__": repr,
    "__reversed__": lambda s: list(reversed(s)),
    "copy": lambda s: s.copy(),
    "get": lambda s: s.get("a"),
    "items": lambda s: list(s.items()),
    "keys": lambda s: list(s.keys()),
    "values": lambda s: list(s.values()),
}

# Every other method of dict changes the items: each needs a call here that changes them.
_WRITES: dict[str, Callable[[Session], Any]] = {
    "__delitem__": lambda s: s.__delitem__("a"),
    "__ior__": lambda s: s.__ior__({"b": 2}),
    "__setitem__": lambda s: s.__setitem__("b", 2),
    "clear": lambda s: s.clear(),
    "pop": lambda s: s.pop("a"),
    "popitem": lambda s: s.popitem(),
    "setdefault": lambda s: s.setdefault("b", 2),
    "update": lambda s: s.update(b=2),
}


def _overridden(name: str) -> bool:
    return getattr(Session, name) is not getattr(dict, name)


@pytest.mark.parametrize("name", sorted(set(dir(dict)) - _NOT_ITEMS))
def test_every_dict_method_is_tracked(name: str) -> None:
    """Found by introspection: a method a future Python adds to dict fails here until Session
    overrides it (and this test says whether it reads or writes)."""
    assert _overridden(name), f"Session does not override dict.{name}: its use is not tracked"
    s = loaded({"a": 1})
    if name in _READS:
        _READS[name](s)
        assert s.accessed, name
        assert not s.modified, name
        return
    assert name in _WRITES, f"dict.{name} is new: classify it (read or write) and track it"
    before = dict(s)
    _WRITES[name](s)
    assert dict(s) != before, f"the call for {name} should change the items"
    assert s.accessed, name
    assert s.modified, name
    assert s.state is SessionState.MODIFIED


def test_store_loads_and_saves_a_dict_session() -> None:
    store = CookieStore(SECRET)
    s = store.new("s", None)
    s |= {"a": 1, 42: (1, 2)}
    header = store.save(s)
    again = store.new("s", header.split(";")[0].split("=", 1)[1])
    assert isinstance(again, dict)
    assert not again.accessed  # loading is not reading
    assert again == {"a": 1, 42: (1, 2)}
    assert again.accessed


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
    assert s.modified


def test_reject_keeps_the_reason() -> None:
    s = Session("s")
    s.reject(InvalidSignature("bad"))
    assert s.reason == "invalid_signature"
    assert s.is_new
    s.load({"a": 1}, issued_at=5, stale=True)
    assert s.reason is None
    assert s.issued_at == 5
    assert s.modified  # stale: an older key


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


# -- the public surface, created_at and owner ---------------------------------------------------
PUBLIC = {
    "accessed", "add_flash", "asave", "created_at", "device", "flashes", "id", "id_hash",
    "invalidate", "is_new",
    "issued_at", "load", "mark_modified", "mark_saved", "modified", "name", "options", "owner",
    "peek_flashes", "reason", "regenerate_id", "reject", "rejected", "save", "state", "store",
}  # fmt: skip


def test_store_bookkeeping_is_private() -> None:
    """Issue 11: a session's public attributes are the mapping's and the documented ones."""
    own = {n for n in dir(Session) if not n.startswith("_")} - set(dir(dict))
    assert own == PUBLIC
    for gone in ("backend_key", "id_cookie", "version", "old_id", "needs_reseal", "to_dict"):
        assert not hasattr(Session("s"), gone)


def test_owner() -> None:
    s = loaded()
    assert s.owner is None
    s.owner = "user-42"
    assert s.owner == "user-42"
    assert s.modified
    with pytest.raises(TypeError, match="str or None"):
        s.owner = 42  # type: ignore[assignment]
    again = loaded()
    again.owner = None  # unchanged: not a change
    assert not again.modified


@pytest.mark.parametrize("make", [lambda: CookieStore(SECRET), lambda: MemoryStore(SECRET)])
def test_created_at_and_owner_are_sealed(make: Callable[[], Any]) -> None:
    store = make()
    s = store.new("s", None)
    assert s.created_at is not None
    created = s.created_at
    s["a"] = 1
    s.owner = "user-42"
    cookie = store.save(s).split(";")[0].split("=", 1)[1]
    again = store.new("s", cookie)
    assert again.owner == "user-42"
    assert again.created_at == created
    again.regenerate_id()
    again["b"] = 2
    cookie = store.save(again).split(";")[0].split("=", 1)[1]
    third = store.new("s", cookie)
    assert (third.owner, third.created_at) == ("user-42", created)
    third.owner = None
    cookie = store.save(third).split(";")[0].split("=", 1)[1]
    assert store.new("s", cookie).owner is None


def test_stores_declare_capabilities(tmp_path: Any) -> None:
    """Adapters read what a store declares, never its class (issue 11)."""
    from websession import FilesystemStore, Registry, codecs_from_pairs
    from websession._adapter import _loads_without_io

    gorilla = codecs_from_pairs(websession_key(), websession_key())
    fs = FilesystemStore(tmp_path, SECRET)
    assert (CookieStore(SECRET).needs_io, MemoryStore(SECRET).needs_io, fs.needs_io) == (
        False,
        False,
        True,
    )
    assert CookieStore(SECRET).keeps_metadata
    assert fs.keeps_metadata
    assert not CookieStore(codecs=gorilla).keeps_metadata
    assert not MemoryStore(codecs=gorilla).keeps_metadata

    class Custom:  # a third-party store: declares nothing, so it is assumed to need I/O
        options = CookieOptions()

    registry = Registry("s=abc")
    assert not _loads_without_io(registry, Custom(), "s")  # type: ignore[arg-type]
    Custom.needs_io = False  # type: ignore[attr-defined]
    assert _loads_without_io(registry, Custom(), "s")  # type: ignore[arg-type]
    assert _loads_without_io(registry, fs, "other")  # no cookie: nothing to load


def websession_key() -> bytes:
    from websession import generate_random_key

    return generate_random_key()


def test_gorilla_codecs_keep_no_owner() -> None:
    from websession import EncodeError, codecs_from_pairs

    store = CookieStore(codecs=codecs_from_pairs(websession_key(), websession_key()))
    s = store.new("s", None)
    assert s.created_at is None
    s["a"] = 1
    cookie = store.save(s).split(";")[0].split("=", 1)[1]
    assert store.new("s", cookie).created_at is None
    s.owner = "user-42"
    with pytest.raises(EncodeError, match="owner"):
        store.save(s)
