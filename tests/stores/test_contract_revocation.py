"""The "log out everywhere" part of the backend contract: the owner index, sessions_for, revoke.

Runs on every backend case of ``conftest.py`` (sync and async), like ``test_contract.py``.
A backend either keeps an owner index (:class:`websession.backends.base.OwnerIndex`) or says
plainly that it cannot (``BackendCase(owners=False)``: memcached), with NotImplementedError.
"""

from __future__ import annotations

import base64
import os
import time

import pytest

from tests.stores.conftest import Api, BackendCase, FakeClock
from websession.backends.base import Backend


def owner_key() -> str:
    """An owner key as stores make them: 43 characters of base64url."""
    return base64.urlsafe_b64encode(os.urandom(32)).decode("ascii").rstrip("=")


def record_key() -> str:
    return "k" + base64.urlsafe_b64encode(os.urandom(24)).decode("ascii")


def _now(backend_case: BackendCase, clock: FakeClock) -> float:
    return clock() if backend_case.follows_clock and backend_case.make_with_clock else time.time()


@pytest.mark.backends(owners=True)
def test_owner_index_lists_replaces_and_removes(
    api: Api, backend: Backend, backend_case: BackendCase, clock: FakeClock
) -> None:
    alice, bob = owner_key(), owner_key()
    k1, k2, k3 = record_key(), record_key(), record_key()
    until = _now(backend_case, clock) + 600
    assert api.owned(alice) == []
    api.index(alice, k1, b"\x00one\xff", until)
    api.index(alice, k2, b"two", until)
    api.index(bob, k3, b"three", until)
    assert dict(api.owned(alice)) == {k1: b"\x00one\xff", k2: b"two"}
    assert dict(api.owned(bob)) == {k3: b"three"}
    api.index(alice, k1, b"one again", until + 60)  # replaces, does not add
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
    api.index(owner, short, b"s", clock() + 60)
    api.index(owner, long, b"l", clock() + 6000)
    clock.advance(61)
    assert dict(api.owned(owner)) == {long: b"l"}
    clock.advance(6000)
    assert api.owned(owner) == []


@pytest.mark.slow
@pytest.mark.backends(owners=True, clocked=False)
def test_owner_index_expires_in_real_time(api: Api, backend: Backend) -> None:
    owner = owner_key()
    short, long = record_key(), record_key()
    api.index(owner, short, b"s", time.time() + 1)
    api.index(owner, long, b"l", time.time() + 600)
    time.sleep(1.6)
    assert dict(api.owned(owner)) == {long: b"l"}


@pytest.mark.backends(owners=False)
def test_backend_without_an_owner_index_says_so(api: Api, backend: Backend) -> None:
    owner, key = owner_key(), record_key()
    for call in (
        lambda: api.index(owner, key, b"x", time.time() + 60),
        lambda: api.owned(owner),
        lambda: api.unindex(owner, key),
    ):
        with pytest.raises(NotImplementedError, match="cannot list or revoke"):
            call()
