"""Django: ``SESSION_ENGINE = "websession.django"``, in process.

The behaviours Django's own ``SessionTestsMixin`` checks, run against the engine over a
MemoryStore, a FilesystemStore and a CookieStore (where a cookie store cannot do what a
server-side one does, e.g. forget an old key, the test says so and is skipped, as Django does
for its signed-cookie backend), their async twins, ``clearsessions``, the middleware's
``SessionInterrupted`` (400) and ``django.contrib.messages``' session storage. The example
project under gunicorn and uvicorn: tests/examples/test_django.py.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from datetime import timezone as dt_timezone
from pathlib import Path
from typing import Any

import django
import pytest
from django.conf import settings

SECRET = "django engine test secret, 32+ bytes long"
SESSION_AGE = 14 * 86400

if not settings.configured:
    settings.configure(
        SECRET_KEY=SECRET,
        INSTALLED_APPS=["django.contrib.sessions", "django.contrib.messages"],
        MIDDLEWARE=[
            "django.contrib.sessions.middleware.SessionMiddleware",
            "django.contrib.messages.middleware.MessageMiddleware",
        ],
        ROOT_URLCONF=__name__,
        DATABASES={},
        USE_TZ=True,
        SESSION_ENGINE="websession.django",
        SESSION_COOKIE_AGE=SESSION_AGE,
        MESSAGE_STORAGE="django.contrib.messages.storage.session.SessionStorage",
        ALLOWED_HOSTS=["testserver"],
    )
    django.setup()

from django.contrib import messages  # noqa: E402
from django.contrib.sessions.backends.base import UpdateError  # noqa: E402
from django.core import management  # noqa: E402
from django.http import HttpRequest, HttpResponse  # noqa: E402
from django.test import Client, override_settings  # noqa: E402
from django.urls import path  # noqa: E402
from django.utils import timezone  # noqa: E402

import websession.django as engine  # noqa: E402
from tests.support.contract import FakeClock  # noqa: E402
from websession import CookieStore, FilesystemStore, MemoryStore  # noqa: E402
from websession.django import SessionStore  # noqa: E402

# =============================================================================================
# In process: Django's SessionTestsMixin behaviours, on three stores
# =============================================================================================
KINDS = ("memory", "file", "cookie")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Run each engine test on the store kinds it applies to (not generated, not skipped).

    Tests that need records on the server (``server_side``) run on memory and file stores: a
    cookie store keeps none, so it cannot forget a key it issued. ``@pytest.mark.store_kinds``
    names the kinds explicitly.
    """
    if "kind" not in metafunc.fixturenames:
        return
    marker = metafunc.definition.get_closest_marker("store_kinds")
    if marker is not None:
        kinds = list(marker.args)
    elif "server_side" in metafunc.fixturenames:
        kinds = ["memory", "file"]
    else:
        kinds = list(KINDS)
    metafunc.parametrize("kind", kinds)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(time.time())


@pytest.fixture
def store(kind: str, tmp_path: Path, clock: FakeClock) -> Iterator[Any]:
    if kind == "memory":
        made: Any = MemoryStore(SECRET, ttl=SESSION_AGE, clock=clock)
    elif kind == "file":
        made = FilesystemStore(tmp_path / "sessions", SECRET, ttl=SESSION_AGE, clock=clock)
    else:
        made = CookieStore(SECRET)
    engine.reset_store()
    with override_settings(WEBSESSION={"STORE": made}):
        yield made
    engine.reset_store()


@pytest.fixture
def server_side(store: Any, kind: str) -> Any:
    """The store, for tests that need server-side records (memory and file kinds only)."""
    assert kind != "cookie"
    return store


@pytest.fixture
def session(store: Any) -> SessionStore:
    return SessionStore()


def test_the_engine_uses_the_configured_store(store: Any) -> None:
    assert engine.get_store() is store


def test_new_session_is_empty_and_untouched(session: SessionStore) -> None:
    assert session.modified is False
    assert session.accessed is False
    assert session.get("cat") is None
    assert session.is_empty()


def test_store_and_pop(session: SessionStore) -> None:
    session["cat"] = "dog"
    assert session.modified is True
    assert session.pop("cat") == "dog"
    assert session.pop("some key", "does not exist") == "does not exist"
    with pytest.raises(KeyError):
        session.pop("some key")


def test_setdefault_update_has_key_keys_values_items_clear(session: SessionStore) -> None:
    assert session.setdefault("foo", "bar") == "bar"
    assert session.setdefault("foo", "baz") == "bar"
    session.update({"update key": 1})
    assert session.modified is True
    assert session.get("update key") == 1
    assert "update key" in session
    assert sorted(session.keys()) == ["foo", "update key"]
    assert sorted(session.values(), key=str) == [1, "bar"]
    assert sorted(session.items()) == [("foo", "bar"), ("update key", 1)]
    session.clear()
    assert list(session.items()) == []


def test_values_survive_a_save_and_a_load(session: SessionStore) -> None:
    session["when"] = "now"
    session[42] = [1, 2, 3]  # websession's serializer keeps int keys
    session.save()
    loaded = SessionStore(session.session_key)
    assert loaded["when"] == "now"
    assert loaded[42] == [1, 2, 3]
    assert loaded.session_key == session.session_key


def test_save_then_exists(session: SessionStore) -> None:
    session["x"] = 1
    session.save()
    assert session.exists(session.session_key)
    assert not session.exists(None)
    assert not session.exists("")


def test_delete(server_side: Any, session: SessionStore) -> None:
    session["x"] = 1
    session.save()
    key = session.session_key
    session.delete(key)
    assert not session.exists(key)
    assert SessionStore(key).load() == {}


def test_flush_empties_changes_the_key_and_deletes_the_record(
    server_side: Any, session: SessionStore
) -> None:
    session["foo"] = "bar"
    session.save()
    old = session.session_key
    session.flush()
    assert not session.exists(old)
    assert session.session_key is None
    assert session.modified is True
    assert session.accessed is True
    assert dict(session.items()) == {}
    session["after"] = 1  # a session used after logout gets a new key
    session.save()
    assert session.session_key not in (None, old)


def test_cycle_key_keeps_the_data_and_changes_the_key(kind: str, session: SessionStore) -> None:
    session["a"], session["b"] = "c", "d"
    session.save()
    old = session.session_key
    data = list(session.items())
    session.cycle_key()
    assert session.session_key != old
    assert list(session.items()) == data
    session.save()  # what the middleware does at the end of the request
    assert sorted(SessionStore(session.session_key).items()) == sorted(data)
    if kind != "cookie":  # a server-side store forgets the old key (no fixation)
        assert not session.exists(old)
        assert SessionStore(old).load() == {}


def test_cycle_key_without_a_loaded_session(session: SessionStore) -> None:
    session["a"], session["b"] = "c", "d"
    session.save()
    data = list(session.items())
    other = SessionStore(session.session_key)
    other.cycle_key()
    assert list(other.items()) == data


def test_an_unknown_key_gives_a_new_empty_session_and_is_not_adopted(store: Any) -> None:
    for key in ["someunknownkey", "1", "x" * 60, "AX1HMu8A" + "A" * 60]:
        session = SessionStore(key)
        assert session.load() == {}
        assert session.session_key is None
        assert not session.exists(key)
        session["cat"] = "dog"
        session.save()
        assert session.session_key != key


def test_a_deleted_record_is_not_adopted_either(server_side: Any) -> None:
    first = SessionStore()
    first["x"] = 1
    first.save()
    key = first.session_key
    first.delete()
    again = SessionStore(key)
    assert again.get("x") is None
    again["y"] = 2
    again.save()
    assert again.session_key != key


def test_loading_an_unknown_key_creates_no_record(server_side: Any) -> None:
    backend = server_side.backend
    before = len(backend) if hasattr(backend, "__len__") else backend.count()
    session = SessionStore("someunknownkey-long-enough")
    session.load()
    after = len(backend) if hasattr(backend, "__len__") else backend.count()
    assert before == after


def test_save_after_a_concurrent_delete_raises_update_error_and_does_not_resurrect(
    server_side: Any,
) -> None:
    s1 = SessionStore()
    s1["test_data"] = "value1"
    s1.save(must_create=True)
    SessionStore(s1.session_key).delete()  # log out in another tab
    s1["test_data"] = "value2"
    with pytest.raises(UpdateError):
        s1.save()
    assert s1.load() == {}


def test_default_expiry(session: SessionStore) -> None:
    assert session.get_expiry_age() == SESSION_AGE
    session.set_expiry(0)  # browser close: still the default age
    assert session.get_expiry_age() == SESSION_AGE


def test_custom_expiry_seconds_timedelta_datetime_and_reset(session: SessionStore) -> None:
    session.set_expiry(10)
    assert session.get_expiry_age() == 10
    assert abs((session.get_expiry_date() - timezone.now()).total_seconds() - 10) < 2
    session.set_expiry(timedelta(seconds=10))
    assert session.get_expiry_age() in (9, 10)
    session.set_expiry(timezone.now() + timedelta(seconds=10))
    assert session.get_expiry_age() in (9, 10)
    session.set_expiry(None)
    assert session.get_expiry_age() == SESSION_AGE


def test_get_expire_at_browser_close(session: SessionStore) -> None:
    with override_settings(SESSION_EXPIRE_AT_BROWSER_CLOSE=False):
        session.set_expiry(10)
        assert session.get_expire_at_browser_close() is False
        session.set_expiry(0)
        assert session.get_expire_at_browser_close() is True
        session.set_expiry(None)
        assert session.get_expire_at_browser_close() is False
    with override_settings(SESSION_EXPIRE_AT_BROWSER_CLOSE=True):
        session.set_expiry(10)
        assert session.get_expire_at_browser_close() is False
        session.set_expiry(0)
        assert session.get_expire_at_browser_close() is True
        session.set_expiry(None)
        assert session.get_expire_at_browser_close() is True


def test_a_custom_expiry_survives_a_save(session: SessionStore) -> None:
    when = (timezone.now() + timedelta(days=2)).replace(microsecond=0)
    session.set_expiry(when)
    session["x"] = 1
    session.save()
    loaded = SessionStore(session.session_key)
    assert loaded.get_expiry_date() == when
    assert loaded.get_expire_at_browser_close() is False


def test_an_expiry_in_the_past_expires_the_session_at_once(session: SessionStore) -> None:
    session["foo"] = "bar"
    session.set_expiry(-timedelta(seconds=10))
    session.save()  # Django: no error, and the session is gone
    new = SessionStore(session.session_key)
    assert "foo" not in new


def test_a_server_side_record_lives_as_long_as_set_expiry_says(
    server_side: Any, clock: FakeClock
) -> None:
    session = SessionStore()
    session["x"] = 1
    session.set_expiry(60)
    session.save()
    key = session.session_key
    clock.now += 30
    assert SessionStore(key).get("x") == 1
    clock.now += 31
    assert SessionStore(key).get("x") is None


def test_clear_expired_and_the_clearsessions_command(server_side: Any, clock: FakeClock) -> None:
    def records() -> int:
        backend = server_side.backend
        return len(backend) if hasattr(backend, "__len__") else int(backend.count())

    assert records() == 0
    future = SessionStore()
    future["foo"] = "bar"
    future.set_expiry(3600)
    future.save()
    soon = SessionStore()
    soon["foo"] = "bar"
    soon.set_expiry(10)
    soon.save()
    browser_close = SessionStore()  # record lives the store's ttl (SESSION_COOKIE_AGE)
    browser_close["foo"] = "bar"
    browser_close.set_expiry(0)
    browser_close.save()
    assert records() == 3
    clock.now += 60
    management.call_command("clearsessions")
    assert records() == 2
    clock.now += SESSION_AGE
    SessionStore.clear_expired()
    assert records() == 0


@pytest.mark.store_kinds("cookie")
def test_clear_expired_on_a_cookie_store_does_nothing(kind: str, store: Any) -> None:
    """The sessions live in the browsers' cookies: nothing to clear, and nothing is lost."""
    session = SessionStore()
    session["foo"] = "bar"
    session.save()
    management.call_command("clearsessions")
    SessionStore.clear_expired()
    assert SessionStore(session.session_key).get("foo") == "bar"


# -- the async twins --------------------------------------------------------------------------
async def test_async_get_set_pop_setdefault_update_and_views(session: SessionStore) -> None:
    assert await session.aget("cat") is None
    await session.aset("cat", "dog")
    assert session.modified is True
    assert await session.aget("cat") == "dog"
    assert await session.apop("cat") == "dog"
    assert await session.asetdefault("foo", "bar") == "bar"
    await session.aupdate({"n": 1})
    assert await session.ahas_key("n")
    assert sorted(await session.akeys()) == ["foo", "n"]
    assert sorted(await session.avalues(), key=str) == [1, "bar"]
    assert sorted(await session.aitems()) == [("foo", "bar"), ("n", 1)]


async def test_async_save_load_exists(session: SessionStore) -> None:
    await session.aset("x", 1)
    await session.asave()
    assert await session.aexists(session.session_key)
    loaded = SessionStore(session.session_key)
    assert await loaded.aget("x") == 1
    assert await loaded.aload() == {"x": 1}


async def test_async_cycle_key_and_flush(kind: str, session: SessionStore) -> None:
    await session.aset("a", "b")
    await session.asave()
    old = session.session_key
    await session.acycle_key()
    assert session.session_key != old
    assert list(await session.aitems()) == [("a", "b")]
    await session.asave()
    if kind != "cookie":
        assert not await session.aexists(old)
    cycled = session.session_key
    await session.aflush()
    assert session.session_key is None
    assert list(await session.aitems()) == []
    if kind != "cookie":
        assert not await session.aexists(cycled)


async def test_async_save_after_a_concurrent_delete(server_side: Any) -> None:
    s1 = SessionStore()
    await s1.aset("k", 1)
    await s1.asave(must_create=True)
    await SessionStore(s1.session_key).adelete()
    await s1.aset("k", 2)
    with pytest.raises(UpdateError):
        await s1.asave()
    assert await s1.aload() == {}


async def test_async_clear_expired(server_side: Any, clock: FakeClock) -> None:
    session = SessionStore()
    await session.aset("x", 1)
    await session.aset_expiry(10)
    await session.asave()
    key = session.session_key
    assert await session.aexists(key)
    clock.now += 60
    await SessionStore.aclear_expired()
    backend = server_side.backend
    assert (len(backend) if hasattr(backend, "__len__") else backend.count()) == 0


async def test_async_expiry_accessors(session: SessionStore) -> None:
    await session.aset_expiry(10)
    assert await session.aget_expiry_age() == 10
    assert await session.aget_expire_at_browser_close() is False
    when = datetime.now(dt_timezone.utc) + timedelta(seconds=100)
    await session.aset_expiry(when)
    assert 98 <= await session.aget_expiry_age() <= 100


# -- through Django's middleware: messages, SessionInterrupted, cookie settings -------------
def add_message(request: HttpRequest) -> HttpResponse:
    messages.success(request, request.GET.get("text", "hello"))
    return HttpResponse("added")


def show_messages(request: HttpRequest) -> HttpResponse:
    return HttpResponse("|".join(str(m) for m in messages.get_messages(request)))


def count(request: HttpRequest) -> HttpResponse:
    request.session["n"] = request.session.get("n", 0) + 1
    if "expiry" in request.GET:
        request.session.set_expiry(int(request.GET["expiry"]))
    return HttpResponse(str(request.session["n"]))


def plain(request: HttpRequest) -> HttpResponse:
    return HttpResponse("plain")


def deleted_meanwhile(request: HttpRequest) -> HttpResponse:
    request.session["n"] = 1
    SessionStore(request.session.session_key).delete()  # another request logs out meanwhile
    return HttpResponse("too late")


urlpatterns = [
    path("add", add_message),
    path("show", show_messages),
    path("count", count),
    path("deleted", deleted_meanwhile),
    path("plain", plain),
]


def test_messages_round_trip_through_the_session(store: Any) -> None:
    client = Client()
    client.get("/add", {"text": "saved!"})
    client.get("/add", {"text": "again"})
    assert client.get("/show").content == b"saved!|again"
    assert client.get("/show").content == b""


def test_a_session_deleted_during_the_request_answers_400(server_side: Any) -> None:
    client = Client()
    assert client.get("/count").content == b"1"
    response = client.get("/deleted")
    assert response.status_code == 400  # SessionInterrupted, not a resurrected session
    assert client.get("/count").content == b"1"


def test_the_cookie_follows_django_settings(store: Any) -> None:
    client = Client()
    cookie = client.get("/count").cookies["sessionid"]
    assert cookie["max-age"] == SESSION_AGE
    assert cookie["httponly"] is True
    assert cookie["samesite"] == "Lax"
    assert cookie["path"] == "/"
    cookie = client.get("/count", {"expiry": "0"}).cookies["sessionid"]
    assert cookie["max-age"] == ""
    assert cookie["expires"] == ""
    with override_settings(
        SESSION_EXPIRE_AT_BROWSER_CLOSE=True,
        SESSION_COOKIE_SECURE=True,
        SESSION_COOKIE_SAMESITE="Strict",
        SESSION_COOKIE_NAME="sid",
    ):
        client = Client()
        cookie = client.get("/count").cookies["sid"]
        assert (cookie["max-age"], cookie["secure"], cookie["samesite"]) == ("", True, "Strict")
        assert client.get("/count").content == b"2"


def test_vary_cookie_whenever_a_session_is_read_or_its_cookie_set(store: Any) -> None:
    client = Client()
    written = client.get("/count")
    assert "sessionid" in written.cookies
    assert written.headers["Vary"] == "Cookie"
    assert "Vary" not in client.get("/plain").headers  # untouched: nothing to vary on
    # SESSION_SAVE_EVERY_REQUEST re-issues the cookie on a request that never touched the
    # session: the response depends on the cookie, so it must vary (CVE-2023-30861's case).
    with override_settings(SESSION_SAVE_EVERY_REQUEST=True):
        refreshed = client.get("/plain")
        assert "sessionid" in refreshed.cookies
        assert refreshed.headers["Vary"] == "Cookie"
    assert "Vary" not in Client().get("/plain").headers  # no session cookie at all


@pytest.mark.parametrize("url", ["cookie", "memory://"])
def test_settings_choose_the_json_serializer(url: str) -> None:
    engine.reset_store()
    with override_settings(WEBSESSION={"STORE": url, "SERIALIZER": "json"}):
        session = SessionStore()
        session["pair"] = (1, 2)  # JSON's types, as Django's default SESSION_SERIALIZER
        session.save()
        assert SessionStore(session.session_key)["pair"] == [1, 2]
    engine.reset_store()
    with override_settings(WEBSESSION={"STORE": url}):  # msgpack, the default, keeps tuples
        session = SessionStore()
        session["pair"] = (1, 2)
        session.save()
        assert SessionStore(session.session_key)["pair"] == (1, 2)
    engine.reset_store()


def test_an_unknown_serializer_is_refused() -> None:
    engine.reset_store()
    with override_settings(WEBSESSION={"SERIALIZER": "pickle"}), pytest.raises(ValueError):
        engine.get_store()
    engine.reset_store()
