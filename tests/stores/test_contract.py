"""The behavioural contract of server-side session backends.

Every backend websession ships, and any third-party one, must pass this one suite. It only uses
the :class:`websession.Backend` protocol (``get``/``set``/``delete``/``purge``/``close`` and
their ``a``-prefixed async twins) and :class:`websession.ServerStore` on top of it, so it knows
nothing about any particular database.

How a backend joins
-------------------
Add a module ``tests/support/cases/<name>.py`` that defines ``CASES``, a list of
:class:`tests.support.contract.BackendCase`::

    from tests.support.servers import server_url
    from tests.support.contract import BackendCase
    from mypackage import MyBackend

    CASES = [
        BackendCase(
            id="mydb",
            make=lambda: MyBackend(server_url("mydb"), namespace=unique_name()),
            cleanup=lambda backend: backend.drop_namespace(),
            native_ttl=True,        # the database expires records itself (purge() may return 0)
            follows_clock=False,    # True if MyBackend(clock=...) decides expiry by that clock
            make_with_clock=None,   # with follows_clock: lambda clock: MyBackend(..., clock=clock)
            versions=True,          # set(..., if_version=) is supported
        ),
    ]

``make`` must return a fresh, empty backend each time it is called. Every test then runs twice:
``[sync]`` through ``store.new``/``store.save`` and the backend's sync methods, ``[async]``
through ``store.anew``/``store.asave`` and the ``a*`` methods. Backends that follow an injected
clock are tested for expiry by moving a fake clock; the others by short real TTLs (1 second) and
a sleep (those tests are marked ``slow``).

What is checked, in one line each (the tests below say it in full):

- every value type round-trips; flashes are consumed only when the session is saved;
- ``max_age < 0`` deletes the record and the cookie, ``0`` is a browser-session cookie whose
  record lives for the store's ``ttl``, ``> 0`` sets ``Max-Age`` and the record's lifetime;
- expired records are gone (reason ``"not_found"``), and ``purge()`` removes them;
- tampered, foreign, expired, oversized and malformed cookies give a new session and a reason,
  never an exception; an id the store never issued is never adopted (no session fixation);
- ``regenerate_id()`` keeps the values and deletes the old record;
- key rotation re-seals and re-keys the record; the old key's record is removed;
- a session deleted by one request is not brought back by a stale copy's save;
- ``optimistic=True``: of two concurrent copies the first save wins, the second conflicts;
- data at rest is sealed and the backend key is not the session id.
"""

from __future__ import annotations

import datetime as dt
import time
from typing import Any

import pytest

from tests.support.contract import Api, BackendCase, FakeClock
from websession import (
    ConflictError,
    CookieOptions,
    ServerStore,
    codecs_from_pairs,
    encode_multi,
)
from websession.backends.base import Backend, Record
from websession.session import Session, SessionState
from websession.stores.server import new_session_id

SECRET = "contract-secret-0123456789-abcdefghij"
OLD_SECRET = "contract-old-secret-zyxwvutsrq-987654"
OTHER_SECRET = "somebody-else's-secret-entirely-0000"
NAME = "sid"
HASH_KEY = bytes.fromhex("5f0c3e1a9b7d2c4e8a6f1b3d5c7e9a0b2d4f6e8c1a3b5d7f9e0c2a4b6d8f0e1a")
BLOCK_KEY = bytes.fromhex("c4a1e7f03b9d5286af1c3e7d90b5a2f4e6d8c0b1a3f5e7d9c2b4a6f8e0d1c3b5")

#: values of every type a session must keep (msgpack, the default serializer)
VALUES: dict[Any, Any] = {
    "str": "héllo wörld ✓",
    42: 43,
    -7: "negative int key",
    "bytes": b"\x00\xff\x10binary",
    "float": 3.25,
    "bool_t": True,
    "bool_f": False,
    "none": None,
    "list": [1, "two", [3.0, None], {"k": "v"}],
    "dict": {"a": {"b": [1, 2, {"c": b"d"}]}, 5: "int key inside"},
    "datetime": dt.datetime(2024, 2, 29, 23, 59, 58, 123456, tzinfo=dt.timezone.utc),
    "naive": dt.datetime(2001, 1, 1, 0, 0, 1),
    "set": {1, 2, 3},
    "frozenset": frozenset({"a"}),
    "empty": "",
}


# -- helpers ---------------------------------------------------------------------------------
def clocked(case: BackendCase) -> bool:
    """True when the backend decides expiry by the test's fake clock."""
    return case.follows_clock and case.make_with_clock is not None


def make_store(backend: Backend, secret_keys: Any = SECRET, **kwargs: Any) -> ServerStore:
    return ServerStore(backend, secret_keys, **kwargs)


def cookie_of(header: str) -> str:
    """The cookie value of a Set-Cookie header."""
    first = header.split(";", 1)[0]
    name, _, value = first.partition("=")
    assert name == NAME
    return value


def attributes(header: str) -> list[str]:
    """The attribute names of a Set-Cookie header, in order."""
    return [part.strip().split("=", 1)[0] for part in header.split(";")[1:]]


def saved(
    api: Api, store: ServerStore, values: dict[Any, Any] | None = None
) -> tuple[Session, str]:
    """Make a new session holding ``values``, save it, return it and its cookie value."""
    session = api.new(store, NAME, None)
    assert session.is_new
    session.update(values if values is not None else {"user": "alice"})
    header = api.save(session)
    assert session.id is not None
    assert session._backend_key is not None
    return session, cookie_of(header)


def raw(api: Api, session_or_key: Session | str) -> Record | None:
    key = session_or_key if isinstance(session_or_key, str) else session_or_key._backend_key
    assert key is not None
    return api.get(key)


def now_for(case: BackendCase, clock: FakeClock) -> float:
    return clock() if clocked(case) else time.time()


# -- the Backend protocol itself ---------------------------------------------------------------
def test_backend_protocol_basics(api: Api, backend: Backend, backend_case: BackendCase) -> None:
    """get/set/delete on raw keys: versions, conditions, absent keys."""
    assert isinstance(backend, Backend)
    key = "contract-" + new_session_id()[:20]
    assert api.get(key) is None
    api.delete(key)  # deleting nothing is not an error
    assert api.set(key, b"x", 60, must_exist=True) is None, "must_exist wrote a new record"
    assert api.get(key) is None
    v1 = api.set(key, b"\x00first\xff", 60)
    assert isinstance(v1, int)
    record = api.get(key)
    assert record is not None
    assert record.data == b"\x00first\xff"
    assert record.version == v1
    v2 = api.set(key, b"second", 60, must_exist=True)
    assert isinstance(v2, int)
    assert v2 != v1
    assert api.get(key).data == b"second"  # type: ignore[union-attr]
    if backend_case.versions:
        assert api.set(key, b"stale", 60, if_version=v1) is None, "if_version ignored"
        assert api.get(key).data == b"second"  # type: ignore[union-attr]
        v3 = api.set(key, b"third", 60, if_version=v2)
        assert isinstance(v3, int)
        assert v3 != v2
        assert api.get(key).data == b"third"  # type: ignore[union-attr]
    api.delete(key)
    assert api.get(key) is None
    assert api.set(key, b"gone", 60, must_exist=True) is None, "a deleted record came back"
    assert api.get(key) is None


def test_backend_keys_are_independent(api: Api) -> None:
    a, b = "contract-a-" + new_session_id()[:12], "contract-b-" + new_session_id()[:12]
    api.set(a, b"A", 60)
    api.set(b, b"B", 60)
    api.delete(a)
    assert api.get(a) is None
    assert api.get(b).data == b"B"  # type: ignore[union-attr]


# -- values and flashes ----------------------------------------------------------------------
def test_round_trip_of_every_value_type(api: Api, backend: Backend) -> None:
    store = make_store(backend)
    session, cookie = saved(api, store, VALUES)
    loaded = api.new(store, NAME, cookie)
    assert not loaded.is_new
    assert loaded.reason is None
    assert loaded.id == session.id
    assert not loaded.modified
    got = loaded.copy()
    assert got == VALUES
    for key, value in VALUES.items():
        assert type(got[key]) is type(value), f"{key!r}: {type(got[key])} != {type(value)}"
    assert got["datetime"].tzinfo is not None
    assert got["naive"].tzinfo is None


def test_round_trip_of_tuples(api: Api, backend: Backend) -> None:
    store = make_store(backend)
    values = {"tuple": (1, "a", (2, 3)), "in_list": [(1,)], "empty": ()}
    _, cookie = saved(api, store, values)
    got = api.new(store, NAME, cookie).copy()
    assert got == values
    assert type(got["tuple"]) is tuple
    assert type(got["tuple"][2]) is tuple
    assert type(got["in_list"][0]) is tuple


def test_values_change_and_persist(api: Api, backend: Backend) -> None:
    store = make_store(backend)
    _, cookie = saved(api, store, {"n": 1, "drop": "me"})
    s = api.new(store, NAME, cookie)
    s["n"] += 1
    del s["drop"]
    s[99] = [1, 2]
    new_cookie = cookie_of(api.save(s))
    for c in (cookie, new_cookie):  # the id is stable: both cookies name the same record
        again = api.new(store, NAME, c)
        assert again.copy() == {"n": 2, 99: [1, 2]}


def test_flashes_are_consumed_only_by_a_save(api: Api, backend: Backend) -> None:
    store = make_store(backend)
    s = api.new(store, NAME, None)
    s.add_flash("hello")
    s.add_flash({"level": "warn", "text": "careful"})
    s.add_flash("other queue", key="errors")
    cookie = cookie_of(api.save(s))

    # read the flashes but do not save: they are still there next time
    first = api.new(store, NAME, cookie)
    assert first.flashes() == ["hello", {"level": "warn", "text": "careful"}]
    assert first.flashes() == []
    again = api.new(store, NAME, cookie)
    assert again.flashes() == ["hello", {"level": "warn", "text": "careful"}]

    # read and save: gone, and the other queue is untouched
    api.save(again)
    after = api.new(store, NAME, cookie)
    assert after.flashes() == []
    assert after.flashes("errors") == ["other queue"]


# -- max_age ---------------------------------------------------------------------------------
def test_max_age_positive_sets_max_age_and_record_lifetime(
    api: Api, backend: Backend, backend_case: BackendCase, clock: FakeClock
) -> None:
    store = make_store(backend, options=CookieOptions(max_age=3600), ttl=60)
    s = api.new(store, NAME, None)
    s["x"] = 1
    before = now_for(backend_case, clock)
    header = api.save(s)
    assert "; Max-Age=3600" in header
    assert attributes(header)[:3] == ["Path", "Expires", "Max-Age"]
    record = raw(api, s)
    assert record is not None
    # the record lives max_age seconds (not the store's ttl of 60)
    assert before + 3600 - 5 <= record.expires_at <= now_for(backend_case, clock) + 3600 + 5


def test_max_age_zero_is_a_browser_session_cookie(
    api: Api, backend: Backend, backend_case: BackendCase, clock: FakeClock
) -> None:
    store = make_store(backend, ttl=600)
    s = api.new(store, NAME, None)
    s["x"] = 1
    s.options.max_age = 0
    before = now_for(backend_case, clock)
    header = api.save(s)
    assert "Max-Age" not in header
    assert "Expires" not in header
    assert cookie_of(header)
    record = raw(api, s)
    assert record is not None, "max_age=0 must keep the record (it is not a deletion)"
    assert before + 600 - 5 <= record.expires_at <= now_for(backend_case, clock) + 600 + 5
    if clocked(backend_case):
        clock.advance(590)
    assert api.new(store, NAME, cookie_of(header)).copy() == {"x": 1}


def test_a_sessions_own_max_age_survives_later_saves(
    api: Api, backend: Backend, backend_case: BackendCase, clock: FakeClock
) -> None:
    """ "Remember me" is set once, at log in; every later save keeps that cookie lifetime."""
    store = make_store(backend, options=CookieOptions(max_age=3600), ttl=600)
    remembered = api.new(store, NAME, None)
    remembered["user"] = "alice"
    remembered.options.max_age = 86400 * 30
    first = api.save(remembered)
    loaded = api.new(store, NAME, cookie_of(first))
    assert loaded.options.max_age == 86400 * 30
    loaded["visits"] = 2
    again = api.save(loaded)
    assert f"; Max-Age={86400 * 30}" in again
    record = raw(api, loaded)
    assert record is not None
    assert record.expires_at >= now_for(backend_case, clock) + 86400 * 30 - 5

    browser = api.new(store, NAME, None)
    browser["user"] = "bob"
    browser.options.max_age = 0
    reloaded = api.new(store, NAME, cookie_of(api.save(browser)))
    assert reloaded.options.max_age == 0
    reloaded["visits"] = 2
    assert "Max-Age" not in api.save(reloaded), "a browser-session cookie must stay one"


def test_max_age_negative_deletes_record_and_cookie(api: Api, backend: Backend) -> None:
    store = make_store(backend)
    s, cookie = saved(api, store)
    loaded = api.new(store, NAME, cookie)
    loaded.options.max_age = -1
    assert loaded.state is SessionState.INVALIDATED
    header = api.save(loaded)
    assert header.startswith(f"{NAME}=;")
    assert "; Max-Age=0" in header
    assert "; Expires=Thu, 01 Jan 1970 00:00:01 GMT" in header
    assert raw(api, s) is None
    gone = api.new(store, NAME, cookie)
    assert gone.is_new
    assert gone.reason == "not_found"


def test_invalidate_deletes(api: Api, backend: Backend) -> None:
    store = make_store(backend)
    s, cookie = saved(api, store)
    loaded = api.new(store, NAME, cookie)
    loaded.invalidate()
    header = api.save(loaded)
    assert "Max-Age=0" in header
    assert raw(api, s) is None
    assert api.new(store, NAME, cookie).is_new


def test_invalidating_a_new_session_writes_nothing(api: Api, backend: Backend) -> None:
    store = make_store(backend)
    s = api.new(store, NAME, None)
    s["x"] = 1
    s.invalidate()
    header = api.save(s)
    assert "Max-Age=0" in header
    assert s.id is None


# -- expiry ----------------------------------------------------------------------------------
@pytest.mark.backends(clocked=True)
def test_expiry_by_clock(
    api: Api, backend: Backend, backend_case: BackendCase, clock: FakeClock
) -> None:
    """Backends that follow the injected clock: past the TTL a session is gone."""
    store = make_store(backend, options=CookieOptions(max_age=0), ttl=60, clock=clock)
    _, cookie = saved(api, store)
    clock.advance(59)
    assert not api.new(store, NAME, cookie).is_new
    clock.advance(2)
    s = api.new(store, NAME, cookie)
    assert s.is_new
    assert s.reason == "not_found"
    assert len(s) == 0
    assert s.id is None


@pytest.mark.backends(clocked=True)
def test_purge_by_clock(
    api: Api, backend: Backend, backend_case: BackendCase, clock: FakeClock
) -> None:
    store = make_store(backend, options=CookieOptions(max_age=0), ttl=60)
    long_store = make_store(backend, options=CookieOptions(max_age=0), ttl=6000)
    dead = [saved(api, store)[0] for _ in range(3)]
    alive, alive_cookie = saved(api, long_store, {"alive": True})
    clock.advance(61)
    removed = api.purge(store)
    assert isinstance(removed, int)
    if not backend_case.native_ttl:
        assert removed >= 3
    for s in dead:
        assert raw(api, s) is None
    assert raw(api, alive) is not None
    assert api.new(long_store, NAME, alive_cookie).copy() == {"alive": True}
    assert api.purge(store) == 0  # a second purge finds nothing left to remove


@pytest.mark.backends(clocked=True)
def test_purge_reports_progress_and_removes_only_the_expired(
    api: Api, backend: Backend, backend_case: BackendCase, clock: FakeClock
) -> None:
    """``purge(progress)`` removes exactly the expired records, in several short batches where
    the backend's batch size can be set (``purge_batch``), and reports after each batch the
    records removed so far (never going back) and the fraction done, if any, in 0..1; the last
    report is the total the purge returns."""
    if hasattr(backend, "purge_batch"):
        backend.purge_batch = 4  # 30 records: at least three batches (later ones are >= 10)
    store = make_store(backend, options=CookieOptions(max_age=0), ttl=60)
    long_store = make_store(backend, options=CookieOptions(max_age=0), ttl=6000)
    dead = [saved(api, store)[0] for _ in range(30)]
    alive = [saved(api, long_store, {"alive": i}) for i in range(3)]
    clock.advance(61)
    reports: list[tuple[int, float | None]] = []
    removed = api.purge(store, lambda done, fraction: reports.append((done, fraction)))
    if not backend_case.native_ttl:
        assert removed == 30, reports
    assert reports, "purge(progress) never reported"
    assert reports[-1][0] == removed
    counts = [done for done, _ in reports]
    assert counts == sorted(counts)
    assert all(fraction is None or 0.0 <= fraction <= 1.0 for _, fraction in reports)
    if hasattr(backend, "purge_batch"):
        assert len(reports) >= 3, reports
    for session in dead:
        assert raw(api, session) is None
    for i, (session, cookie) in enumerate(alive):
        assert raw(api, session) is not None
        assert api.new(long_store, NAME, cookie).copy() == {"alive": i}


@pytest.mark.slow
@pytest.mark.backends(clocked=False)
def test_expiry_real_ttl(api: Api, backend: Backend, backend_case: BackendCase) -> None:
    """Backends that keep real time: a 1-second record is gone 2.5 seconds later; purge works."""
    store = make_store(backend, options=CookieOptions(max_age=0), ttl=1)
    long_store = make_store(backend, options=CookieOptions(max_age=0), ttl=600)
    dead, dead_cookie = saved(api, store)
    dead2, _ = saved(api, store)
    _alive, alive_cookie = saved(api, long_store, {"alive": True})
    time.sleep(2.5)
    removed = api.purge(store)
    assert isinstance(removed, int)
    if not backend_case.native_ttl:
        assert removed >= 2
    assert raw(api, dead2) is None
    s = api.new(store, NAME, dead_cookie)
    assert s.is_new
    assert s.reason == "not_found"
    assert raw(api, dead) is None
    assert api.new(long_store, NAME, alive_cookie).copy() == {"alive": True}


def test_browser_session_default_ttl_is_a_day(
    api: Api, backend: Backend, backend_case: BackendCase, clock: FakeClock
) -> None:
    """A browser-session cookie's record lives the store's ttl, one day by default (not 30)."""
    store = make_store(backend, options=CookieOptions(max_age=0))
    before = now_for(backend_case, clock)
    s, _ = saved(api, store)
    record = raw(api, s)
    assert record is not None
    assert before + 86400 - 5 <= record.expires_at <= now_for(backend_case, clock) + 86400 + 5


@pytest.mark.slow
def test_idle_and_absolute_timeouts_on_a_real_clock(
    backend: Backend, backend_case: BackendCase, clock: FakeClock
) -> None:
    """OWASP lifetimes with the real clock: idle counts from the last save, absolute from the
    session's creation, whatever saves and regenerate_id() came since. A session past either
    is a new one whose reason says which, and its record is deleted. Sync and async twins run
    side by side in one test, so the suite sleeps once per backend."""
    runs = [Api("sync", backend), Api("async", backend)]
    idle = make_store(backend, idle_timeout=1)
    absolute = make_store(backend, absolute_timeout=1)
    plain = make_store(backend)
    try:
        sessions = []
        for api in runs:
            s_idle, c_idle = saved(api, idle, {"who": "idle"})
            s_abs, c_abs = saved(api, absolute, {"who": "absolute"})
            assert api.new(idle, NAME, c_idle).copy() == {"who": "idle"}
            assert api.new(absolute, NAME, c_abs).copy() == {"who": "absolute"}
            record = raw(api, s_idle)
            assert record is not None  # kept no longer than the timeout and an hour's grace
            assert record.expires_at <= now_for(backend_case, clock) + 1 + 3600 + 5
            sessions.append((api, s_idle, c_idle, s_abs, c_abs))
        # Seals and timeouts count whole seconds: 2 whole seconds past every save, 1 is over.
        time.sleep(int(time.time()) + 2.05 - time.time())

        for api, s_idle, c_idle, s_abs, c_abs in sessions:
            gone = api.new(idle, NAME, c_idle)
            assert gone.is_new
            assert gone.reason == "idle_timeout"
            assert len(gone) == 0
            assert raw(api, s_idle) is None, "a timed-out record was left behind"

            again = api.new(plain, NAME, c_abs)  # saved again, under a new id, no limits
            assert again.created_at == s_abs.created_at
            again.regenerate_id()
            again["more"] = 1
            fresh = cookie_of(api.save(again))
            assert api.new(idle, NAME, fresh).copy() == {"who": "absolute", "more": 1}
            over = api.new(absolute, NAME, fresh)
            assert over.is_new
            assert over.reason == "absolute_timeout"
            assert api.new(plain, NAME, fresh).reason == "not_found"
    finally:
        for api in runs:
            api.close()


@pytest.mark.backends(clocked=True)
def test_rolling_extends_on_load(
    api: Api, backend: Backend, backend_case: BackendCase, clock: FakeClock
) -> None:
    store = make_store(backend, options=CookieOptions(max_age=0), ttl=60, rolling=True, clock=clock)
    _, cookie = saved(api, store)
    for _ in range(3):  # 150 s in all, never 60 s without a load
        clock.advance(50)
        assert not api.new(store, NAME, cookie).is_new
    clock.advance(61)
    assert api.new(store, NAME, cookie).reason == "not_found"


# -- cookies that must not be trusted ----------------------------------------------------------
def _tamper(cookie: str) -> str:
    middle = len(cookie) // 2
    swapped = "A" if cookie[middle] != "A" else "B"
    return cookie[:middle] + swapped + cookie[middle + 1 :]


def test_bad_cookies_give_a_new_session_and_a_reason(
    api: Api, backend: Backend, clock: FakeClock
) -> None:
    store = make_store(backend)
    _s, cookie = saved(api, store, {"secret": 1})
    foreign = make_store(backend, OTHER_SECRET)
    cases = {
        "tampered": (store, _tamper(cookie), {"invalid_signature", "malformed"}),
        "foreign secret": (foreign, cookie, {"invalid_signature"}),
        "oversized": (store, cookie + "A" * 5000, {"too_long"}),
        "garbage": (store, "not a cookie at all!", {"malformed"}),
        "truncated": (store, cookie[:20], {"malformed"}),
        "null bytes": (store, "\x00" * 40, {"malformed"}),
        "non-ascii": (store, "ünïcödé" * 10, {"malformed"}),
    }
    for label, (which, value, reasons) in cases.items():
        got = api.new(which, NAME, value)
        assert got.is_new, label
        assert got.id is None, label
        assert len(got) == 0, label
        assert got.reason in reasons, f"{label}: {got.reason}"
    # a cookie sealed for another name does not open under this one
    renamed = api.new(store, "other", cookie)
    assert renamed.is_new
    assert renamed.reason == "invalid_signature"
    # no cookie, or an empty one: new, and no reason
    for value in (None, ""):
        fresh = api.new(store, NAME, value)
        assert fresh.is_new
        assert fresh.reason is None
    # and the original still loads: nothing above damaged the record
    assert api.new(store, NAME, cookie).copy() == {"secret": 1}


@pytest.mark.backends(clocked=True)
def test_sealed_ids_do_not_expire_before_their_record(
    api: Api, backend: Backend, backend_case: BackendCase, clock: FakeClock
) -> None:
    """The record decides a sealed session's lifetime, not the cookie's issue time.

    "Remember me" (a session max_age longer than the store's) and rolling sessions kept alive
    by loads must not be cut short by the age of the cookie that names them.
    """
    store = make_store(backend, options=CookieOptions(max_age=3600), ttl=60, clock=clock)
    s = api.new(store, NAME, None)
    s["remember"] = True
    s.options.max_age = 90 * 86400
    cookie = cookie_of(api.save(s))
    clock.advance(60 * 86400)
    assert api.new(store, NAME, cookie).copy() == {"remember": True}
    clock.advance(31 * 86400)
    assert api.new(store, NAME, cookie).reason == "not_found"


def test_expired_cookie_gorilla_mode(api: Api, backend: Backend) -> None:
    """With gorilla codecs the cookie's own timestamp expires it, as in Go."""
    store_clock = FakeClock(time.time())
    codecs = codecs_from_pairs(HASH_KEY, BLOCK_KEY, max_age=100, clock=store_clock)
    store = make_store(backend, None, codecs=codecs, options=CookieOptions(max_age=100))
    _, cookie = saved(api, store)
    assert not api.new(store, NAME, cookie).is_new
    store_clock.advance(102)
    s = api.new(store, NAME, cookie)
    assert s.is_new
    assert s.reason == "expired"


def test_gorilla_mode_round_trip(api: Api, backend: Backend) -> None:
    """gorilla-compatible codecs: the id is the backend key; data is a securecookie value."""
    store = make_store(backend, None, codecs=codecs_from_pairs(HASH_KEY, BLOCK_KEY))
    values = {"user": "alice", 42: 43, "nested": {"a": [1, 2]}}
    s, cookie = saved(api, store, values)
    assert s._backend_key == s.id
    assert s.id is not None
    assert len(s.id) == 52
    loaded = api.new(store, NAME, cookie)
    assert loaded.copy() == values
    loaded["user"] = "bob"
    api.save(loaded)
    assert api.new(store, NAME, cookie)["user"] == "bob"
    loaded.options.max_age = -1
    api.save(loaded)
    assert api.get(s.id) is None
    assert api.new(store, NAME, cookie).reason == "not_found"


def test_sealed_cookie_with_bad_ids(api: Api, backend: Backend) -> None:
    """A correctly sealed cookie that holds something other than a valid session id."""
    store = make_store(backend)
    for bad in ("../../etc/passwd", "short", 12345, None, {"id": "x"}, "a" * 300, "bad id!" * 5):
        s = api.new(store, NAME, encode_multi(NAME, bad, store.codecs))
        assert s.is_new, bad
        assert s.reason == "malformed", bad


def test_unknown_id_is_never_adopted(api: Api, backend: Backend) -> None:
    """Session fixation: a cookie sealed for an id the store never issued starts afresh."""
    store = make_store(backend)
    planted = new_session_id()
    cookie = encode_multi(NAME, planted, store.codecs)
    s = api.new(store, NAME, cookie)
    assert s.is_new
    assert s.reason == "not_found"
    assert s.id is None
    s["user"] = "victim"
    header = api.save(s)
    assert s.id is not None
    assert s.id != planted
    assert api.new(store, NAME, cookie).is_new, "the planted id was adopted"
    assert api.new(store, NAME, cookie_of(header)).copy() == {"user": "victim"}


# -- ids -------------------------------------------------------------------------------------
def test_regenerate_id_moves_the_data(api: Api, backend: Backend) -> None:
    store = make_store(backend)
    s, cookie = saved(api, store, {"user": "alice", 1: 2})
    old_id, old_key = s.id, s._backend_key
    loaded = api.new(store, NAME, cookie)
    loaded.regenerate_id()
    loaded["role"] = "admin"
    header = api.save(loaded)
    assert loaded.id is not None
    assert loaded.id != old_id
    assert loaded._backend_key != old_key
    assert api.get(old_key) is None  # type: ignore[arg-type]
    stale = api.new(store, NAME, cookie)
    assert stale.is_new
    assert stale.reason == "not_found"
    fresh = api.new(store, NAME, cookie_of(header))
    assert fresh.copy() == {"user": "alice", 1: 2, "role": "admin"}


def test_ids_are_unique_and_long(api: Api, backend: Backend) -> None:
    store = make_store(backend)
    ids = {saved(api, store)[0].id for _ in range(20)}
    assert len(ids) == 20
    assert all(i is not None and len(i) >= 43 for i in ids)


# -- rotation --------------------------------------------------------------------------------
def test_key_rotation_reseals_and_rekeys(api: Api, backend: Backend) -> None:
    old_store = make_store(backend, [OLD_SECRET])
    s, old_cookie = saved(api, old_store, {"user": "bob", 7: "seven"})
    old_key = s._backend_key
    assert old_key is not None

    rotated = make_store(backend, [SECRET, OLD_SECRET])
    loaded = api.new(rotated, NAME, old_cookie)
    assert not loaded.is_new
    assert loaded.copy() == {"user": "bob", 7: "seven"}
    assert loaded.modified  # a registry saves it although no value changed
    new_cookie = cookie_of(api.save(loaded))
    assert new_cookie != old_cookie
    assert loaded.id == s.id  # rotation keeps the id; only the seal and the key change
    assert not loaded.modified

    new_only = make_store(backend, [SECRET])
    again = api.new(new_only, NAME, new_cookie)
    assert not again.is_new, again.reason
    assert not again.modified
    assert again.copy() == {"user": "bob", 7: "seven"}
    assert api.get(old_key) is None, "the record under the old key was left behind"
    assert api.new(new_only, NAME, old_cookie).is_new


# -- concurrency -----------------------------------------------------------------------------
def test_deleted_session_is_not_resurrected_by_a_stale_copy(api: Api, backend: Backend) -> None:
    store = make_store(backend)
    s, cookie = saved(api, store, {"n": 0})
    copy_a = api.new(store, NAME, cookie)  # request A, e.g. a slow page load
    copy_b = api.new(store, NAME, cookie)  # request B: log out
    copy_b.invalidate()
    api.save(copy_b)
    copy_a["n"] = 1
    header = api.save(copy_a)
    assert "Max-Age=0" in header, "a stale copy must not get a live cookie"
    assert raw(api, s) is None
    later = api.new(store, NAME, cookie)
    assert later.is_new
    assert later.reason == "not_found"


@pytest.mark.backends(versions=True)
def test_stale_copy_conflicts_in_optimistic_mode(
    api: Api, backend: Backend, backend_case: BackendCase
) -> None:
    store = make_store(backend, optimistic=True)
    s, cookie = saved(api, store, {"n": 0})
    copy_a = api.new(store, NAME, cookie)
    copy_b = api.new(store, NAME, cookie)
    copy_b.invalidate()
    api.save(copy_b)
    copy_a["n"] = 1
    with pytest.raises(ConflictError):
        api.save(copy_a)
    assert raw(api, s) is None
    assert api.new(store, NAME, cookie).is_new


@pytest.mark.backends(versions=True)
def test_optimistic_first_save_wins(api: Api, backend: Backend, backend_case: BackendCase) -> None:
    store = make_store(backend, optimistic=True)
    _, cookie = saved(api, store, {"n": 0})
    first = api.new(store, NAME, cookie)
    second = api.new(store, NAME, cookie)
    first["n"] = 1
    second["n"] = 2
    api.save(first)
    with pytest.raises(ConflictError):
        api.save(second)
    assert api.new(store, NAME, cookie)["n"] == 1
    # the loser reloads and retries: now it applies on top of the winner
    retry = api.new(store, NAME, cookie)
    retry["n"] += 10
    api.save(retry)
    assert api.new(store, NAME, cookie)["n"] == 11
    # and a session saved twice in a row by the same request does not conflict with itself
    retry["n"] = 12
    api.save(retry)
    assert api.new(store, NAME, cookie)["n"] == 12


def test_last_save_wins_without_optimistic(api: Api, backend: Backend) -> None:
    store = make_store(backend)
    _, cookie = saved(api, store, {"n": 0})
    first = api.new(store, NAME, cookie)
    second = api.new(store, NAME, cookie)
    first["n"] = 1
    second["n"] = 2
    api.save(first)
    api.save(second)
    assert api.new(store, NAME, cookie)["n"] == 2


# -- data at rest ----------------------------------------------------------------------------
def test_data_at_rest_is_sealed(api: Api, backend: Backend) -> None:
    store = make_store(backend)
    marker = "plaintext-marker-Zq81"
    s, cookie = saved(api, store, {"secret": marker, "blob": marker.encode(), marker: 1})
    assert s._backend_key != s.id
    assert s.id is not None
    assert s._backend_key is not None
    assert s.id not in s._backend_key
    assert api.get(s.id) is None, "the record is reachable by the session id"
    record = raw(api, s)
    assert record is not None
    assert marker.encode() not in record.data
    assert s.id.encode() not in record.data
    assert cookie.encode() not in record.data
    # the sealed record is bound to its id: copied under another id it does not open
    victim, victim_cookie = saved(api, store, {"user": "victim"})
    api.set(victim._backend_key, record.data, 60)  # type: ignore[arg-type]
    swapped = api.new(store, NAME, victim_cookie)
    assert swapped.is_new
    assert marker not in swapped.copy().values()


def test_unreadable_record_gives_a_new_session(api: Api, backend: Backend) -> None:
    store = make_store(backend)
    s, cookie = saved(api, store)
    api.set(s._backend_key, b"\xff\x00 not a sealed record", 60)  # type: ignore[arg-type]
    got = api.new(store, NAME, cookie)
    assert got.is_new
    assert got.reason in {"malformed", "invalid_signature"}
