"""Revocable cookie sessions: CookieStore(..., revocations=backend) over real backends.

Each test runs on a fresh revocations backend: memory, an SQLite file, Redis and PostgreSQL
(real servers, from ``tools/testenv.py``), sync and async. What a user checks: after
``invalidate()``, ``regenerate_id()`` or ``revoke()``, a copy of the old cookie no longer
opens; everything else still does.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.scratch import scratch_dir
from tests.support.servers import server_url
from websession import CookieStore, SessionInfo
from websession.backends.base import Backend
from websession.session import Session

SECRET = "cookie-revocation-secret-7Yb2kQ9xLm4Pz0Rt8Wv3"
NAME = "session"


def _memory() -> Backend:
    from websession.backends.memory import MemoryBackend

    return MemoryBackend()


def _sqlite() -> Backend:
    from websession.backends.sqlite import SQLiteBackend

    return SQLiteBackend(Path(scratch_dir("ws-rev-")) / "revocations.db")


def _redis() -> Backend:
    from websession.backends.redis import RedisBackend

    return RedisBackend.from_url(server_url("redis"), key_prefix=f"ws-rev-{uuid.uuid4().hex[:8]}:")


def _postgresql() -> Backend:
    from websession.backends.postgresql import PostgreSQLBackend

    return PostgreSQLBackend.from_url(
        server_url("postgresql"), table=f"ws_rev_{uuid.uuid4().hex[:8]}"
    )


BACKENDS: dict[str, Callable[[], Backend]] = {
    "memory": _memory,
    "sqlite": _sqlite,
    "redis": _redis,
    "postgresql": _postgresql,
}


class Client:
    """One test body, sync or async calls."""

    def __init__(self, mode: str) -> None:
        self.mode = mode

    def _go(self, sync: Callable[[], Any], coro: Callable[[], Any]) -> Any:
        if self.mode == "sync":
            return sync()
        return asyncio.run(coro())

    def load(self, store: CookieStore, cookie: str | None) -> Session:
        result: Session = self._go(
            lambda: store.new(NAME, cookie), lambda: store.anew(NAME, cookie)
        )
        return result

    def save(self, session: Session) -> str:
        store = session.store
        assert isinstance(store, CookieStore)
        header: str = self._go(lambda: store.save(session), lambda: store.asave(session))
        return header

    def revoke(self, store: CookieStore, owner: str, keep: Session | None = None) -> int:
        result: int = self._go(
            lambda: store.revoke(owner, keep=keep), lambda: store.arevoke(owner, keep=keep)
        )
        return result

    def sessions_for(self, store: CookieStore, owner: str) -> list[SessionInfo]:
        result: list[SessionInfo] = self._go(
            lambda: store.sessions_for(owner), lambda: store.asessions_for(owner)
        )
        return result


def cookie_of(header: str) -> str:
    name, _, value = header.split(";", 1)[0].partition("=")
    assert name == NAME
    return value


@pytest.fixture(params=sorted(BACKENDS))
def backend(request: pytest.FixtureRequest) -> Iterator[Backend]:
    made = BACKENDS[request.param]()
    try:
        yield made
    finally:
        drop = getattr(made, "drop_schema", None)
        if drop is not None:
            drop()
        made.close()


@pytest.fixture(params=["sync", "async"])
def client(request: pytest.FixtureRequest) -> Client:
    return Client(request.param)


def make_store(backend: Backend, **kwargs: Any) -> CookieStore:
    return CookieStore(SECRET, revocations=backend, **kwargs)


def login(
    client: Client, store: CookieStore, owner: str | None, device: str
) -> tuple[Session, str]:
    session = client.load(store, None)
    session["device"] = device
    if owner is not None:
        session.owner = owner
        session.device = {"user_agent": device}
    return session, cookie_of(client.save(session))


def opens(client: Client, store: CookieStore, cookie: str) -> bool:
    session = client.load(store, cookie)
    if session.is_new:
        assert session.reason == "revoked", session.reason
        assert len(session) == 0
        assert session.owner is None
        return False
    return True


# -- the finding: without revocations, a copy of the cookie outlives invalidate() -------------
def test_without_revocations_a_copy_outlives_invalidate_and_listing_is_refused() -> None:
    store = CookieStore(SECRET)
    session = store.new(NAME, None)
    session.owner = "user-42"
    session["cart"] = [1]
    copy = cookie_of(store.save(session))
    session.invalidate()
    assert "Max-Age=0" in store.save(session)  # the browser is told to drop it...
    assert store.new(NAME, copy)["cart"] == [1]  # ...but a copy still opens: documented
    with pytest.raises(NotImplementedError, match="revocations="):
        store.sessions_for("user-42")
    with pytest.raises(NotImplementedError, match="revocations="):
        store.revoke("user-42")


# -- with revocations ---------------------------------------------------------------------------
def test_invalidate_ends_copies_of_an_owned_session(client: Client, backend: Backend) -> None:
    store = make_store(backend)
    _laptop, laptop = login(client, store, "user-42", "laptop")
    _phone, phone = login(client, store, "user-42", "phone")
    loaded = client.load(store, laptop)
    assert loaded.owner == "user-42"
    assert loaded.id_hash is not None
    loaded.invalidate()
    assert "Max-Age=0" in client.save(loaded)
    assert not opens(client, store, laptop)
    assert opens(client, store, phone)  # only that one session ended
    # a second store (another process) sees it too: nothing cached there yet
    assert not opens(client, make_store(backend), laptop)
    assert [i.meta["user_agent"] for i in client.sessions_for(store, "user-42")] == ["phone"]


def test_invalidate_ends_copies_of_an_anonymous_session(client: Client, backend: Backend) -> None:
    store = make_store(backend)
    _s, cookie = login(client, store, None, "anon")
    _t, other = login(client, store, None, "other anon")
    loaded = client.load(store, cookie)
    loaded.invalidate()
    client.save(loaded)
    assert not opens(client, store, cookie)
    assert not opens(client, make_store(backend), cookie)
    assert opens(client, store, other)


def test_regenerate_id_ends_the_old_cookie(client: Client, backend: Backend) -> None:
    store = make_store(backend)
    _s, before_login = login(client, store, None, "anon")
    session = client.load(store, before_login)
    session.regenerate_id()
    session.owner = "user-7"  # log in
    after_login = cookie_of(client.save(session))
    assert not opens(client, store, before_login)
    assert client.load(store, after_login)["device"] == "anon"
    # and again, owned this time (privilege change)
    again = client.load(store, after_login)
    again.regenerate_id()
    newest = cookie_of(client.save(again))
    assert not opens(client, store, after_login)
    assert opens(client, store, newest)
    assert [i.id_hash for i in client.sessions_for(store, "user-7")] == [again.id_hash]


def test_revoke_ends_every_session_of_the_owner_but_the_kept_one(
    client: Client, backend: Backend
) -> None:
    store = make_store(backend)
    other_process = make_store(backend)
    laptop_session, laptop = login(client, store, "user-42", "laptop")
    _p, phone = login(client, store, "user-42", "phone")
    _t, tablet = login(client, store, "user-42", "tablet")
    _o, theirs = login(client, store, "user-9", "theirs")
    assert opens(client, other_process, phone)  # now cached there as valid

    here = client.load(store, laptop)
    listed = client.sessions_for(store, "user-42")
    assert {i.meta["user_agent"] for i in listed} == {"laptop", "phone", "tablet"}
    assert laptop_session.id_hash in {i.id_hash for i in listed}
    assert client.revoke(store, "user-42", keep=here) == 2

    assert not opens(client, store, phone)
    assert not opens(client, store, tablet)
    assert opens(client, store, laptop)
    assert opens(client, store, theirs)
    assert [i.meta["user_agent"] for i in client.sessions_for(store, "user-42")] == ["laptop"]
    # the kept session lives on through saves and a later regenerate_id()
    here["n"] = 1
    client.save(here)
    here.regenerate_id()
    kept = cookie_of(client.save(here))
    assert opens(client, store, kept)
    # log out everywhere, this device too
    assert client.revoke(store, "user-42") == 1
    assert not opens(client, store, kept)
    assert client.sessions_for(store, "user-42") == []


def test_other_processes_see_a_revocation_within_the_cache_time(
    client: Client, backend: Backend
) -> None:
    store = make_store(backend)
    other = make_store(backend, revocation_cache=0.5)
    _p, phone = login(client, store, "user-42", "phone")
    assert opens(client, other, phone)  # read and cached there
    client.revoke(store, "user-42")
    assert not opens(client, store, phone)  # at once where it was revoked
    assert opens(client, other, phone)  # still cached as valid: the documented window
    time.sleep(0.6)
    assert not opens(client, other, phone)


def test_new_sessions_after_a_revoke_are_valid(client: Client, backend: Backend) -> None:
    store = make_store(backend)
    login(client, store, "user-42", "old")
    client.revoke(store, "user-42")
    time.sleep(0.002)  # a new lineage begins after the revoke's epoch (ms)
    _n, fresh = login(client, store, "user-42", "new")
    assert opens(client, store, fresh)
    assert [i.meta["user_agent"] for i in client.sessions_for(store, "user-42")] == ["new"]


def test_revocations_from_a_url() -> None:
    store = CookieStore(SECRET, revocations="memory://")
    session = store.new(NAME, None)
    session.owner = "user-1"
    cookie = cookie_of(store.save(session))
    assert store.revoke("user-1") == 1
    assert store.new(NAME, cookie).reason == "revoked"


def test_revocations_need_an_owner_index_and_the_sealed_format() -> None:
    class NoIndex:
        def get(self, key: str, *, touch: int | None = None) -> None:
            return None

    with pytest.raises(NotImplementedError, match="owner"):
        CookieStore(SECRET, revocations=NoIndex())  # type: ignore[arg-type]
    from websession import codecs_from_pairs, generate_random_key

    with pytest.raises(ValueError, match="sealed format"):
        CookieStore(codecs=codecs_from_pairs(generate_random_key()), revocations="memory://")


def test_logging_in_after_a_revoke_stays_logged_in(client: Client, backend: Backend) -> None:
    """Sessions begun before a "log out everywhere" may log in afterwards (a new lineage)."""
    store = make_store(backend)
    _b, browser_b = login(client, store, None, "browser B")  # anonymous, from before
    _c, browser_c = login(client, store, None, "browser C")
    _a, browser_a = login(client, store, "user-42", "browser A")
    time.sleep(0.002)
    client.revoke(store, "user-42")
    assert not opens(client, store, browser_a)

    with_regenerate = client.load(store, browser_b)
    with_regenerate.regenerate_id()
    with_regenerate.owner = "user-42"
    after_b = cookie_of(client.save(with_regenerate))
    without_regenerate = client.load(store, browser_c)
    without_regenerate.owner = "user-42"  # (regenerate_id() is better practice)
    after_c = cookie_of(client.save(without_regenerate))
    assert opens(client, store, after_b)
    assert opens(client, store, after_c)
    assert not opens(client, store, browser_b)  # the anonymous cookies they replaced ended
    assert not opens(client, store, browser_c)
    assert {i.meta.get("user_agent") for i in client.sessions_for(store, "user-42")} == {None}
    assert len(client.sessions_for(store, "user-42")) == 2
