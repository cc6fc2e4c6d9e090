"""Switching to websession without logging anyone out (websession.legacy).

Each test makes real sessions with the library being replaced (Flask's cookie sessions,
Starlette's SessionMiddleware, aiohttp-session's storages, Flask-Session and starsessions on
Redis; Django's engines are in tests/legacy/test_django.py), then serves the same routes on
websession with the matching reader, and checks what a user would: the values are there, the
response carries a sealed websession cookie (and deletes the old one where the name differs),
and that cookie opens without the reader. A tampered cookie, one past ``until=`` and a record
in pickle format give a fresh session with the reason, never an error, and nothing is unpickled.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import pickle
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import aiohttp
import aiohttp_session
import flask
import pytest
import redis
import redis.asyncio as aredis
import starsessions
from aiohttp import web
from aiohttp.test_utils import TestClient as AiohttpClient
from aiohttp.test_utils import TestServer
from aiohttp_session.cookie_storage import EncryptedCookieStorage
from aiohttp_session.redis_storage import RedisStorage
from cryptography.fernet import Fernet
from flask_session import Session as FlaskSession
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware as StarletteSessions
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse
from starlette.routing import Route
from starlette.testclient import TestClient
from starsessions.stores.redis import RedisStore as StarsessionsStore

import websession
import websession.aiohttp as ws_aiohttp
import websession.starlette
from tests.support.live import SetCookie, parse_set_cookie
from tests.support.servers import server_url
from websession import CookieStore, MemoryStore, Registry
from websession.asgi import SessionMiddleware
from websession.flask import SessionInterface
from websession.legacy import (
    AiohttpCookie,
    AiohttpRedis,
    FlaskCookie,
    FlaskSessionRedis,
    LegacyReader,
    StarletteCookie,
    StarsessionsRedis,
)

SECRET = websession.generate_random_key()  # websession's own
OLD_SECRET = "the replaced framework's secret key, 7Hq2xVb9sLkP0wRt"
VALUES = {"user": "alice", "roles": ["admin", "staff"], "visits": 3}
PAST = dt.date(2020, 1, 1)
FUTURE = dt.datetime.now(dt.timezone.utc) + dt.timedelta(days=30)

#: set if anything is ever unpickled (see Bomb)
UNPICKLED: list[str] = []


def _detonate() -> None:
    UNPICKLED.append("unpickled!")


class Bomb:
    """A value whose unpickling would call a function: the proof nothing was unpickled."""

    def __reduce__(self) -> tuple[Callable[[], None], tuple[()]]:
        return (_detonate, ())


def pickled_record() -> bytes:
    return pickle.dumps({"user": "mallory", "x": Bomb()}, protocol=pickle.HIGHEST_PROTOCOL)


def cookies_of(headers: list[str]) -> dict[str, SetCookie]:
    return {c.name: c for c in map(parse_set_cookie, headers)}


def opens_without_reader(store_factory: Callable[[], Any], name: str, value: str) -> dict:
    """The values a sealed websession cookie holds, opened by a store with no legacy reader."""
    session = store_factory().new(name, value)
    assert not session.is_new, session.reason
    return dict(session)


def tampered(value: str) -> str:
    middle = len(value) // 2
    return value[:middle] + ("A" if value[middle] != "A" else "B") + value[middle + 1 :]


@pytest.fixture(autouse=True)
def _nothing_unpickled() -> Iterator[None]:
    UNPICKLED.clear()
    yield
    assert UNPICKLED == []


# =============================================================================================
# The readers' contract, on a store directly
# =============================================================================================
class TestReaders:
    def test_until_accepts_a_date_or_a_datetime(self) -> None:
        assert FlaskCookie(OLD_SECRET, until=PAST).closed()
        assert not FlaskCookie(OLD_SECRET, until=FUTURE).closed()
        assert not FlaskCookie(OLD_SECRET).closed()
        naive = dt.datetime(2030, 1, 1, 12, 0)  # UTC
        reader = FlaskCookie(OLD_SECRET, until=naive)
        assert reader.closed(naive.replace(tzinfo=dt.timezone.utc).timestamp())
        assert not reader.closed(naive.replace(tzinfo=dt.timezone.utc).timestamp() - 1)
        with pytest.raises(TypeError):
            FlaskCookie(OLD_SECRET, until="2030-01-01")  # type: ignore[arg-type]

    def test_every_store_takes_legacy_readers(self, tmp_path: Any) -> None:
        reader = FlaskCookie(OLD_SECRET)
        stores = [
            CookieStore(SECRET, legacy=[reader]),
            MemoryStore(SECRET, legacy=[reader]),
            websession.FilesystemStore(tmp_path, SECRET, legacy=[reader]),
            websession.open_store("memory://", SECRET, legacy=[reader]),
        ]
        for store in stores:
            assert store.legacy == (reader,)
        with pytest.raises(TypeError, match=r"websession\.legacy"):
            CookieStore(SECRET, legacy=[object()])

    def test_a_reader_only_reads_and_a_websession_cookie_does_not_need_it(self) -> None:
        class Counting(LegacyReader):
            calls = 0

            def read(self, value: str) -> dict:
                Counting.calls += 1
                return {"from": value}

        store = CookieStore(SECRET, legacy=[Counting(cookie_name="old")])
        registry = Registry({"old": "v1"})
        session = registry.get(store, "session")
        assert session == {"from": "v1"}
        assert session.modified
        assert not session.is_new
        headers = cookies_of(registry.save_all())
        assert headers["old"].deletes  # the old cookie is deleted: its name differs
        sealed = headers["session"].value
        again = Registry({"session": sealed, "old": "v1"}).get(store, "session")
        assert again == {"from": "v1"}
        assert not again.modified
        assert Counting.calls == 1  # a valid websession cookie: the reader is not asked

    def test_an_error_inside_a_reader_is_a_rejected_cookie_not_a_500(self) -> None:
        class Broken(LegacyReader):
            def read(self, value: str) -> dict:
                raise KeyError("the old library choked")

        session = Registry({"session": "x"}).get(
            CookieStore(SECRET, legacy=[Broken(cookie_name="session")]), "session"
        )
        assert session.is_new
        assert session.reason == "malformed"


# =============================================================================================
# Flask's default (signed cookie) sessions
# =============================================================================================
def flask_app(interface: flask.sessions.SessionInterface | None = None) -> flask.Flask:
    """The same application before (Flask's sessions) and after (websession) the switch."""
    app = flask.Flask(__name__)
    app.secret_key = OLD_SECRET
    if interface is not None:
        app.session_interface = interface

    @app.post("/login")
    def login() -> str:
        flask.session.update(VALUES)
        flask.session["since"] = (2024, 5)  # a tuple: Flask's tagged JSON keeps it
        flask.flash("welcome back")
        return "ok"

    @app.get("/me")
    def me() -> Any:
        return flask.jsonify(
            values={k: flask.session.get(k) for k in VALUES},
            since=list(flask.session.get("since") or []),
            flashes=flask.get_flashed_messages(),
            reason=getattr(flask.session, "reason", None),
        )

    return app


def flask_get(app: flask.Flask, cookie: str, name: str = "session") -> Any:
    return app.test_client(use_cookies=False).get("/me", headers={"Cookie": f"{name}={cookie}"})


@pytest.fixture
def flask_cookie() -> str:
    response = flask_app().test_client(use_cookies=False).post("/login")
    return cookies_of(response.headers.getlist("Set-Cookie"))["session"].value


class TestFlaskCookie:
    @pytest.mark.parametrize("kind", ["cookie", "memory"])
    def test_switch_keeps_the_user_and_reseals(self, flask_cookie: str, kind: str) -> None:
        readers = [FlaskCookie(OLD_SECRET)]
        store = (
            CookieStore(SECRET, legacy=readers)
            if kind == "cookie"
            else MemoryStore(SECRET, legacy=readers)
        )
        app = flask_app(SessionInterface(store))
        response = flask_get(app, flask_cookie)
        body = response.get_json()
        assert body["values"] == VALUES
        assert body["since"] == [2024, 5]
        assert body["flashes"] == ["welcome back"]  # flask.flash made before the switch
        assert body["reason"] is None
        sealed = cookies_of(response.headers.getlist("Set-Cookie"))["session"]
        assert sealed.value != flask_cookie
        assert not sealed.deletes
        # The next request: the sealed cookie alone, on a store without the reader.
        if kind == "cookie":
            kept = opens_without_reader(lambda: CookieStore(SECRET), "session", sealed.value)
            assert {k: kept[k] for k in VALUES} == VALUES
        after = flask_get(flask_app(SessionInterface(store)), sealed.value).get_json()
        assert after["values"] == VALUES
        assert after["flashes"] == []
        # ... and websession's cookie is not a Flask cookie: the reader alone would refuse it
        assert (
            Registry({"session": sealed.value})
            .get(CookieStore(websession.generate_random_key(), legacy=readers), "session")
            .is_new
        )

    def test_the_drop_in_reads_flasks_cookies_by_itself(self, flask_cookie: str) -> None:
        # The one-line switch: app.session_interface = websession.flask.SessionInterface()
        response = flask_get(flask_app(SessionInterface()), flask_cookie)
        body = response.get_json()
        assert body["values"] == VALUES
        assert body["flashes"] == ["welcome back"]
        sealed = cookies_of(response.headers.getlist("Set-Cookie"))["session"].value
        assert sealed != flask_cookie
        assert FlaskCookie(OLD_SECRET).read(flask_cookie)["user"] == "alice"
        with pytest.raises(websession.DecodeError):
            FlaskCookie(OLD_SECRET).read(sealed)  # websession's own format now
        assert flask_get(flask_app(SessionInterface()), sealed).get_json()["values"] == VALUES

    def test_fallback_keys_verify(self) -> None:
        response = flask_app().test_client(use_cookies=False).post("/login")
        cookie = cookies_of(response.headers.getlist("Set-Cookie"))["session"].value
        store = CookieStore(
            SECRET,
            legacy=[FlaskCookie("a new flask key, 0123456789abcdef", fallbacks=[OLD_SECRET])],
        )
        assert flask_get(flask_app(SessionInterface(store)), cookie).get_json()["values"] == VALUES

    @pytest.mark.parametrize(
        ("reader", "cookie", "reason"),
        [
            (FlaskCookie(OLD_SECRET), "tampered", "invalid_signature"),
            (FlaskCookie("some other app's key, 0123456789abcdef"), "foreign", "invalid_signature"),
            (FlaskCookie(OLD_SECRET, until=PAST), "closed", "expired"),
            (FlaskCookie(OLD_SECRET), "garbage", "invalid_signature"),
        ],
    )
    def test_bad_legacy_cookies_give_a_fresh_session(
        self, flask_cookie: str, reader: FlaskCookie, cookie: str, reason: str
    ) -> None:
        value = {"tampered": tampered(flask_cookie), "garbage": "%%%not.a.cookie"}.get(
            cookie, flask_cookie
        )
        response = flask_get(
            flask_app(SessionInterface(CookieStore(SECRET, legacy=[reader]))), value
        )
        assert response.status_code == 200
        body = response.get_json()
        assert body["values"] == {"user": None, "roles": None, "visits": None}
        assert body["reason"] == reason
        assert "Set-Cookie" not in response.headers  # nothing adopted, nothing to save


# =============================================================================================
# Starlette's SessionMiddleware
# =============================================================================================
async def st_login(request: Request) -> PlainTextResponse:
    request.session.update(VALUES)
    return PlainTextResponse("ok")


async def st_me(request: Request) -> JSONResponse:
    session = request.session
    return JSONResponse(
        {"values": {k: session.get(k) for k in VALUES}, "reason": getattr(session, "reason", None)}
    )


ROUTES = [Route("/login", st_login, methods=["POST"]), Route("/me", st_me)]


def starlette_before() -> Starlette:
    return Starlette(
        routes=ROUTES, middleware=[Middleware(StarletteSessions, secret_key=OLD_SECRET)]
    )


def starlette_after(store: Any) -> Any:
    return SessionMiddleware(Starlette(routes=ROUTES), store)


def st_get(app: Any, cookie: str, name: str = "session") -> Any:
    with TestClient(app) as client:
        client.cookies.clear()
        return client.get("/me", headers={"Cookie": f"{name}={cookie}"})


class TestStarletteCookie:
    def test_switch_keeps_the_user_and_reseals(self) -> None:
        with TestClient(starlette_before()) as client:
            old = cookies_of(client.post("/login").headers.get_list("set-cookie"))["session"].value
        store = CookieStore(SECRET, legacy=[StarletteCookie(OLD_SECRET)])
        response = st_get(starlette_after(store), old)
        assert response.json() == {"values": VALUES, "reason": None}
        sealed = cookies_of(response.headers.get_list("set-cookie"))["session"].value
        assert opens_without_reader(lambda: CookieStore(SECRET), "session", sealed) == VALUES
        again = st_get(starlette_after(CookieStore(SECRET)), sealed)
        assert again.json()["values"] == VALUES

    def test_the_drop_in_reads_starlettes_cookies_by_itself(self) -> None:
        with TestClient(starlette_before()) as client:
            old = cookies_of(client.post("/login").headers.get_list("set-cookie"))["session"].value
        # The one-line switch: the import of SessionMiddleware, from websession.starlette
        after = Starlette(
            routes=ROUTES,
            middleware=[Middleware(websession.starlette.SessionMiddleware, secret_key=OLD_SECRET)],
        )
        response = st_get(after, old)
        assert response.json() == {"values": VALUES, "reason": None}
        sealed = cookies_of(response.headers.get_list("set-cookie"))["session"].value
        assert sealed != old
        assert st_get(after, sealed).json()["values"] == VALUES

    def test_tampered_and_closed(self) -> None:
        with TestClient(starlette_before()) as client:
            old = cookies_of(client.post("/login").headers.get_list("set-cookie"))["session"].value
        for reader, value, reason in [
            (StarletteCookie(OLD_SECRET), tampered(old), "invalid_signature"),
            (StarletteCookie(OLD_SECRET, until=PAST), old, "expired"),
        ]:
            response = st_get(starlette_after(CookieStore(SECRET, legacy=[reader])), value)
            assert response.status_code == 200
            assert response.json()["reason"] == reason
            assert response.json()["values"]["user"] is None


# =============================================================================================
# aiohttp-session: EncryptedCookieStorage, SimpleCookieStorage, RedisStorage
# =============================================================================================
def aiohttp_app(get_session: Callable[[web.Request], Any]) -> web.Application:
    async def login(request: web.Request) -> web.Response:
        session = await get_session(request)
        for key, value in VALUES.items():
            session[key] = value
        return web.Response(text="ok")

    async def me(request: web.Request) -> web.Response:
        session = await get_session(request)
        return web.json_response(
            {
                "values": {k: session.get(k) for k in VALUES},
                "reason": getattr(session, "reason", None),
            }
        )

    app = web.Application()
    app.router.add_post("/login", login)
    app.router.add_get("/me", me)
    return app


async def aiohttp_request(
    app: web.Application, method: str, cookie: str | None = None
) -> tuple[int, Any, dict[str, SetCookie]]:
    async with AiohttpClient(TestServer(app), cookie_jar=aiohttp.DummyCookieJar()) as client:
        headers = {"Cookie": cookie} if cookie else {}
        response = await client.request(
            method, "/login" if method == "POST" else "/me", headers=headers
        )
        body = await response.json() if method == "GET" else None
        return response.status, body, cookies_of(response.headers.getall("Set-Cookie", []))


def aiohttp_before(storage: Any) -> web.Application:
    app = aiohttp_app(aiohttp_session.get_session)
    aiohttp_session.setup(app, storage)
    return app


def aiohttp_after(store: Any) -> web.Application:
    app = aiohttp_app(ws_aiohttp.get_session)
    ws_aiohttp.setup(app, store)
    return app


def raw_cookie(cookie: SetCookie) -> str:
    return cookie.raw.split(";", 1)[0]  # name=value exactly as the server set it (quotes too)


FERNET_KEY = Fernet.generate_key().decode()  # str: the base64 form, as aiohttp-session takes it


class TestAiohttpCookie:
    @pytest.mark.parametrize("kind", ["encrypted", "simple"])
    async def test_switch_keeps_the_user_reseals_and_deletes_the_old_cookie(
        self, kind: str
    ) -> None:
        storage = (
            EncryptedCookieStorage(FERNET_KEY)
            if kind == "encrypted"
            else aiohttp_session.SimpleCookieStorage()
        )
        _, _, set_cookies = await aiohttp_request(aiohttp_before(storage), "POST")
        old = raw_cookie(set_cookies["AIOHTTP_SESSION"])
        reader = AiohttpCookie(FERNET_KEY if kind == "encrypted" else None)
        status, body, set_cookies = await aiohttp_request(
            aiohttp_after(CookieStore(SECRET, legacy=[reader])), "GET", old
        )
        assert status == 200
        assert body == {"values": VALUES, "reason": None}
        assert set_cookies["AIOHTTP_SESSION"].deletes  # the old cookie's name differs
        sealed = set_cookies["session"].value
        assert opens_without_reader(lambda: CookieStore(SECRET), "session", sealed) == VALUES
        _, body, _ = await aiohttp_request(
            aiohttp_after(CookieStore(SECRET)), "GET", f"session={sealed}"
        )
        assert body["values"] == VALUES

    async def test_raw_fernet_key_bytes_as_aiohttp_session_takes_them(self) -> None:
        raw = b"0123456789abcdef0123456789abcdef"
        _, _, set_cookies = await aiohttp_request(
            aiohttp_before(EncryptedCookieStorage(raw)), "POST"
        )
        old = raw_cookie(set_cookies["AIOHTTP_SESSION"])
        _, body, _ = await aiohttp_request(
            aiohttp_after(CookieStore(SECRET, legacy=[AiohttpCookie(raw)])), "GET", old
        )
        assert body["values"] == VALUES

    async def test_tampered_foreign_and_closed(self) -> None:
        _, _, set_cookies = await aiohttp_request(
            aiohttp_before(EncryptedCookieStorage(FERNET_KEY)), "POST"
        )
        name, value = raw_cookie(set_cookies["AIOHTTP_SESSION"]).split("=", 1)
        for reader, cookie, reason in [
            (AiohttpCookie(FERNET_KEY), f"{name}={tampered(value)}", "invalid_signature"),
            (AiohttpCookie(Fernet.generate_key().decode()), f"{name}={value}", "invalid_signature"),
            (AiohttpCookie(FERNET_KEY, until=PAST), f"{name}={value}", "expired"),
            (AiohttpCookie(None), f"{name}={value}", "malformed"),  # not JSON: a Fernet token
        ]:
            status, body, set_cookies = await aiohttp_request(
                aiohttp_after(CookieStore(SECRET, legacy=[reader])), "GET", cookie
            )
            assert status == 200
            assert body == {"values": dict.fromkeys(VALUES), "reason": reason}
            assert set_cookies == {}


# =============================================================================================
# Redis-backed: aiohttp-session RedisStorage, Flask-Session, starsessions
# =============================================================================================
@pytest.fixture
def redis_url() -> str:
    return server_url("redis")


@pytest.fixture
def prefix() -> str:
    return f"legacy-test-{uuid.uuid4().hex[:8]}:"


class TestAiohttpRedis:
    async def test_switch_sync_and_async(self, redis_url: str) -> None:
        client = aredis.Redis.from_url(redis_url)
        try:
            storage = RedisStorage(client)
            _, _, set_cookies = await aiohttp_request(aiohttp_before(storage), "POST")
        finally:
            await client.aclose()
        old = raw_cookie(set_cookies["AIOHTTP_SESSION"])
        reader = AiohttpRedis(redis_url)
        status, body, set_cookies = await aiohttp_request(
            aiohttp_after(MemoryStore(SECRET, legacy=[reader])), "GET", old
        )
        assert (status, body) == (200, {"values": VALUES, "reason": None})
        assert set_cookies["AIOHTTP_SESSION"].deletes
        assert "session" in set_cookies
        # the sync path (WSGI apps) reads the same record
        registry = Registry(old)
        assert registry.get(CookieStore(SECRET, legacy=[reader]), "session") == VALUES
        reader.close()

    async def test_pickle_record_is_refused_never_unpickled(
        self, redis_url: str, caplog: pytest.LogCaptureFixture
    ) -> None:
        sid = uuid.uuid4().hex
        sync = redis.Redis.from_url(redis_url)
        sync.set(f"AIOHTTP_SESSION_{sid}", pickled_record(), ex=60)
        reader = AiohttpRedis(redis_url)
        with caplog.at_level(logging.ERROR, "websession"):
            status, body, _set_cookies = await aiohttp_request(
                aiohttp_after(MemoryStore(SECRET, legacy=[reader])), "GET", f"AIOHTTP_SESSION={sid}"
            )
            session = Registry({"AIOHTTP_SESSION": sid}).get(
                CookieStore(SECRET, legacy=[reader]), "session"
            )
        assert (status, body["reason"]) == (200, "malformed")
        assert session.is_new
        assert session.reason == "malformed"
        assert "pickle" in caplog.text
        sync.delete(f"AIOHTTP_SESSION_{sid}")
        sync.close()
        reader.close()


class TestFlaskSessionRedis:
    def flask_session_app(self, redis_url: str, prefix: str) -> tuple[flask.Flask, Any]:
        app = flask_app()
        client = redis.Redis.from_url(redis_url)
        app.config.update(SESSION_TYPE="redis", SESSION_REDIS=client, SESSION_KEY_PREFIX=prefix)
        FlaskSession(app)
        return app, client

    def test_switch_keeps_the_user_and_reseals(self, redis_url: str, prefix: str) -> None:
        before, client = self.flask_session_app(redis_url, prefix)
        response = before.test_client(use_cookies=False).post("/login")
        sid = cookies_of(response.headers.getlist("Set-Cookie"))["session"].value
        assert client.get(prefix + sid)  # Flask-Session's record, in Redis
        reader = FlaskSessionRedis(redis_url, key_prefix=prefix)
        store = MemoryStore(SECRET, legacy=[reader])
        response = flask_get(flask_app(SessionInterface(store)), sid)
        body = response.get_json()
        assert body["values"] == VALUES
        assert body["flashes"] == ["welcome back"]
        sealed = cookies_of(response.headers.getlist("Set-Cookie"))["session"].value
        assert sealed != sid
        after = flask_get(flask_app(SessionInterface(store)), sealed).get_json()
        assert after["values"] == VALUES
        client.close()
        reader.close()

    def test_signed_ids_tampered_and_pickle(
        self, redis_url: str, prefix: str, caplog: pytest.LogCaptureFixture
    ) -> None:
        before, client = self.flask_session_app(redis_url, prefix)
        before.config["SESSION_USE_SIGNER"] = True
        FlaskSession(before)
        response = before.test_client(use_cookies=False).post("/login")
        signed = cookies_of(response.headers.getlist("Set-Cookie"))["session"].value
        reader = FlaskSessionRedis(redis_url, key_prefix=prefix, secret_key=OLD_SECRET)

        def me(value: str, r: FlaskSessionRedis = reader) -> Any:
            response = flask_get(
                flask_app(SessionInterface(MemoryStore(SECRET, legacy=[r]))), value
            )
            assert response.status_code == 200
            return response.get_json()

        assert me(signed)["values"] == VALUES
        assert me(tampered(signed))["reason"] == "invalid_signature"
        closed = FlaskSessionRedis(redis_url, key_prefix=prefix, secret_key=OLD_SECRET, until=PAST)
        assert me(signed, closed)["reason"] == "expired"
        # Flask-Session before 0.7 pickled its records: refused, logged, never unpickled.
        client.set(prefix + "oldpickledsession", pickled_record(), ex=60)
        with caplog.at_level(logging.ERROR, "websession"):
            body = me("oldpickledsession", FlaskSessionRedis(redis_url, key_prefix=prefix))
        assert body["reason"] == "malformed"
        assert body["values"]["user"] is None
        assert "pickle" in caplog.text
        assert (
            me("no-such-session-id", FlaskSessionRedis(redis_url, key_prefix=prefix))["reason"]
            == "not_found"
        )
        client.close()


class TestStarsessionsRedis:
    def test_switch_keeps_the_user_and_reseals(self, redis_url: str, prefix: str) -> None:
        before = Starlette(
            routes=ROUTES,
            middleware=[
                Middleware(
                    starsessions.SessionMiddleware,
                    store=StarsessionsStore(
                        connection=aredis.Redis.from_url(redis_url), prefix=prefix
                    ),
                    cookie_https_only=False,
                    lifetime=3600,
                ),
                Middleware(starsessions.SessionAutoloadMiddleware),
            ],
        )
        with TestClient(before) as client:
            sid = cookies_of(client.post("/login").headers.get_list("set-cookie"))["session"].value
        record = json.loads(redis.Redis.from_url(redis_url).get(prefix + sid))
        assert "__metadata__" in record  # starsessions' own record
        store = CookieStore(SECRET, legacy=[StarsessionsRedis(redis_url, prefix=prefix)])
        response = st_get(starlette_after(store), sid)
        assert response.json() == {"values": VALUES, "reason": None}
        sealed = cookies_of(response.headers.get_list("set-cookie"))["session"].value
        kept = opens_without_reader(lambda: CookieStore(SECRET), "session", sealed)
        assert kept == VALUES  # starsessions' metadata is not carried over
        # tampered id, past until=, pickle
        bad = st_get(starlette_after(store), sid[:-1] + ("0" if sid[-1] != "0" else "1"))
        assert bad.status_code == 200
        assert bad.json()["reason"] == "not_found"
        closed = CookieStore(
            SECRET, legacy=[StarsessionsRedis(redis_url, prefix=prefix, until=PAST)]
        )
        assert st_get(starlette_after(closed), sid).json()["reason"] == "expired"
        sync = redis.Redis.from_url(redis_url)
        sync.set(prefix + "pickledsession1", pickled_record(), ex=60)
        assert st_get(starlette_after(store), "pickledsession1").json()["reason"] == "malformed"
        sync.close()
