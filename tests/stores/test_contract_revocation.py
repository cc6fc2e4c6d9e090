"""The "log out everywhere" part of the backend contract: the owner index, sessions_for, revoke.

Runs on every backend case of ``tests/support/cases/`` (sync and async), like ``test_contract.py``.
A backend either keeps an owner index (:class:`websession.backends.base.OwnerIndex`) or says
plainly that it cannot (``BackendCase(owners=False)``: memcached), with NotImplementedError.
"""

from __future__ import annotations

import base64
import os
import time

import pytest

from tests.support.contract import Api, FakeClock
from websession import CookieOptions, ServerStore
from websession.backends.base import Backend
from websession.session import Session
from websession.stores.owners import owner_key as owner_key_of


def owner_key() -> str:
    """An owner key as stores make them: 43 characters of base64url."""
    return base64.urlsafe_b64encode(os.urandom(32)).decode("ascii").rstrip("=")


def record_key() -> str:
    return "k" + base64.urlsafe_b64encode(os.urandom(24)).decode("ascii")


@pytest.mark.backends(owners=True)
def test_owner_index_lists_replaces_and_removes(api: Api, backend: Backend) -> None:
    alice, bob = owner_key(), owner_key()
    k1, k2, k3 = record_key(), record_key(), record_key()
    assert api.owned(alice) == []
    api.index(alice, k1, b"\x00one\xff", 600)
    api.index(alice, k2, b"two", 600)
    api.index(bob, k3, b"three", 600)
    assert dict(api.owned(alice)) == {k1: b"\x00one\xff", k2: b"two"}
    assert dict(api.owned(bob)) == {k3: b"three"}
    api.index(alice, k1, b"one again", 660)  # replaces, does not add
    assert dict(api.owned(alice)) == {k1: b"one again", k2: b"two"}
    api.unindex(alice, k2)
    api.unindex(alice, k2)  # removing what is not there is not an error
    api.unindex(bob, k1)  # nor removing another owner's key
    assert dict(api.owned(alice)) == {k1: b"one again"}
    assert dict(api.owned(bob)) == {k3: b"three"}
    # the index is not the records: deleting a record key leaves the entry to the store
    api.delete(k1)
    assert dict(api.owned(alice)) == {k1: b"one again"}


@pytest.mark.backends(owners=True, clocked=True)
def test_owner_index_expires_by_clock(api: Api, backend: Backend, clock: FakeClock) -> None:
    owner = owner_key()
    short, long = record_key(), record_key()
    api.index(owner, short, b"s", 60)
    api.index(owner, long, b"l", 6000)
    clock.advance(61)
    assert dict(api.owned(owner)) == {long: b"l"}
    clock.advance(6000)
    assert api.owned(owner) == []


@pytest.mark.slow
@pytest.mark.backends(owners=True, clocked=False)
def test_owner_index_expires_in_real_time(api: Api, backend: Backend) -> None:
    owner = owner_key()
    short, long = record_key(), record_key()
    api.index(owner, short, b"s", 1)
    api.index(owner, long, b"l", 600)
    time.sleep(1.6)
    assert dict(api.owned(owner)) == {long: b"l"}


@pytest.mark.backends(owners=False)
def test_backend_without_an_owner_index_says_so(api: Api, backend: Backend) -> None:
    owner, key = owner_key(), record_key()
    for call in (
        lambda: api.index(owner, key, b"x", 60),
        lambda: api.owned(owner),
        lambda: api.unindex(owner, key),
    ):
        with pytest.raises(NotImplementedError, match="cannot list or revoke"):
            call()


# -- the store: sessions_for and revoke over the index ----------------------------------------
SECRET = "revocation-contract-secret-Zq8v1Lx0Pw3N9kT7"
NAME = "sid"


def logged_in(api: Api, store: ServerStore, owner: str, device: str) -> tuple[Session, str]:
    """A new session of ``owner`` saved on ``device``; returns it and its cookie value."""
    session = api.new(store, NAME, None)
    session["device"] = device
    session.owner = owner
    session.device = {"user_agent": device}
    header = api.save(session)
    return session, header.split(";", 1)[0].split("=", 1)[1]


@pytest.mark.backends(owners=True)
def test_sessions_for_lists_an_owners_live_sessions(api: Api, backend: Backend) -> None:
    store = ServerStore(backend, SECRET)
    owner, other = f"user-{owner_key()[:8]}", f"user-{owner_key()[:8]}"
    before = time.time()
    laptop, _ = logged_in(api, store, owner, "laptop")
    phone, _ = logged_in(api, store, owner, "phone")
    logged_in(api, store, other, "tablet")
    anonymous = api.new(store, NAME, None)
    anonymous["x"] = 1
    api.save(anonymous)

    listed = api.sessions_for(store, owner)
    assert {i.id_hash for i in listed} == {laptop.id_hash, phone.id_hash}
    assert listed[0].id_hash == phone.id_hash  # the most recently saved first
    for info in listed:
        assert info.meta["user_agent"] in ("laptop", "phone")
        assert info.saved_at >= before - 1
        assert info.expires_at > info.saved_at
        # a handle, never a cookie or the session id
        assert laptop.id not in info.id_hash
    assert [i.meta for i in api.sessions_for(store, other)] == [{"user_agent": "tablet"}]
    assert api.sessions_for(store, "nobody") == []


@pytest.mark.backends(owners=True)
def test_revoke_ends_every_session_but_the_kept_one(api: Api, backend: Backend) -> None:
    store = ServerStore(backend, SECRET)
    owner, other = f"user-{owner_key()[:8]}", f"user-{owner_key()[:8]}"
    laptop, laptop_cookie = logged_in(api, store, owner, "laptop")
    _phone, phone_cookie = logged_in(api, store, owner, "phone")
    _tablet, tablet_cookie = logged_in(api, store, owner, "tablet")
    _theirs, their_cookie = logged_in(api, store, other, "theirs")

    assert api.revoke(store, owner, keep=laptop) == 2
    for cookie in (phone_cookie, tablet_cookie):
        session = api.new(store, NAME, cookie)
        assert session.is_new
        assert session.reason == "not_found"
        assert session.owner is None
    kept = api.new(store, NAME, laptop_cookie)
    assert not kept.is_new
    assert kept.owner == owner
    assert kept["device"] == "laptop"
    assert not api.new(store, NAME, their_cookie).is_new  # another owner's: untouched
    assert [i.id_hash for i in api.sessions_for(store, owner)] == [laptop.id_hash]
    # log out everywhere, this one too
    assert api.revoke(store, owner) == 1
    assert api.new(store, NAME, laptop_cookie).is_new
    assert api.sessions_for(store, owner) == []
    assert api.revoke(store, owner) == 0


@pytest.mark.backends(owners=True)
def test_invalidate_and_regenerate_keep_the_index_exact(api: Api, backend: Backend) -> None:
    store = ServerStore(backend, SECRET)
    owner = f"user-{owner_key()[:8]}"
    _one, one_cookie = logged_in(api, store, owner, "one")
    two, _ = logged_in(api, store, owner, "two")
    old_key = two.id_hash

    reloaded = api.new(store, NAME, one_cookie)
    reloaded.invalidate()
    api.save(reloaded)
    two.regenerate_id()
    api.save(two)
    assert two.id_hash != old_key

    assert [i.id_hash for i in api.sessions_for(store, owner)] == [two.id_hash]
    okey = owner_key_of(owner)
    assert {k for k, _ in api.owned(okey)} == {two.id_hash}, "index entries linger"
    assert api.revoke(store, owner) == 1
    assert api.owned(okey) == []


@pytest.mark.backends(owners=True, clocked=True)
def test_expired_sessions_are_not_listed(api: Api, backend: Backend, clock: FakeClock) -> None:
    store = ServerStore(backend, SECRET, options=CookieOptions(max_age=60), clock=clock)
    owner = f"user-{owner_key()[:8]}"
    logged_in(api, store, owner, "short")
    clock.advance(30)
    logged_in(api, store, owner, "later")
    clock.advance(31)
    assert [i.meta["user_agent"] for i in api.sessions_for(store, owner)] == ["later"]
    clock.advance(60)
    assert api.sessions_for(store, owner) == []
    assert api.revoke(store, owner) == 0
    assert api.owned(owner_key_of(owner)) == []  # pruned, not only hidden


@pytest.mark.backends(owners=False)
def test_store_without_an_owner_index_says_so_but_still_saves_owners(
    api: Api, backend: Backend
) -> None:
    store = ServerStore(backend, SECRET)
    owner = f"user-{owner_key()[:8]}"
    session, cookie = logged_in(api, store, owner, "laptop")
    assert api.new(store, NAME, cookie).owner == owner  # owners work; listing them does not
    with pytest.raises(NotImplementedError, match="cannot list or revoke"):
        api.sessions_for(store, owner)
    with pytest.raises(NotImplementedError, match="cannot list or revoke"):
        api.revoke(store, owner, keep=session)
