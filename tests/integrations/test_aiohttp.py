"""websession.aiohttp: aiohttp-session's API over websession stores, in process.

aiohttp's own server and test client (aiohttp.test_utils). Where aiohttp-session's own tests
pass and why some do not: tests/compat; the example app under its own server:
tests/examples/test_aiohttp.py; ``Vary``: test_vary.py.
"""

from __future__ import annotations

import logging

import pytest

from websession import CookieStore


async def test_aiohttp_sessions_speak_aiohttp_session_api() -> None:
    import warnings

    from aiohttp import web
    from aiohttp.test_utils import TestClient, TestServer

    from websession import CookieOptions, generate_random_key
    from websession.aiohttp import Session, get_session, new_session, setup

    seen: dict[str, object] = {}

    async def login(request: web.Request) -> web.Response:
        session = await new_session(request)
        session["user"] = "ann"
        session.max_age = 600  # "remember me", as with aiohttp-session
        seen["login"] = (session.new, session.empty, session.created)
        return web.Response(text="ok")

    async def whoami(request: web.Request) -> web.Response:
        session = await get_session(request)
        assert isinstance(session, Session)
        session["seen"] = session.get("seen", 0)  # same value: not a change...
        session.changed()  # ...until said so
        seen["whoami"] = (session.new, session.identity, session.created, session.max_age)
        return web.Response(text=session["user"])

    app = web.Application()
    setup(app, CookieStore(generate_random_key(), options=CookieOptions(secure=False)))
    app.router.add_get("/login", login)
    app.router.add_get("/whoami", whoami)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # aiohttp's NotAppKeyWarning among them
        async with TestClient(TestServer(app)) as client:
            response = await client.get("/login")
            assert "Max-Age=600" in response.headers["Set-Cookie"]
            assert await (await client.get("/whoami")).text() == "ann"
    new, empty, created = seen["login"]  # type: ignore[misc]
    assert (new, empty) == (True, False)
    # a cookie session has no server-side identity; created survives the save
    assert seen["whoami"] == (False, None, created, 600)


async def test_aiohttp_streams_are_returned_as_they_are_and_an_unsaved_change_is_logged(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """aiohttp-session's response rules: a stream is never saved into, so a change made in its
    handler is lost, but said so (one WARNING naming the session); a read still varies."""
    import warnings

    from aiohttp import web
    from aiohttp.test_utils import TestClient, TestServer, make_mocked_request

    from websession import CookieOptions, generate_random_key
    from websession.aiohttp import get_session, session_middleware, setup

    async def stream_write(request: web.Request) -> web.StreamResponse:
        session = await get_session(request)
        session["lost"] = True
        session["also"] = True
        return web.StreamResponse()

    async def stream_read(request: web.Request) -> web.StreamResponse:
        session = await get_session(request)
        response = web.StreamResponse()
        response.content_type = "text/plain"
        await response.prepare(request)
        await response.write(str(session.get("n")).encode())
        return response

    async def count(request: web.Request) -> web.Response:
        session = await get_session(request)
        session["n"] = session.get("n", 0) + 1
        return web.Response(text=str(session["n"]))

    store = CookieStore(generate_random_key(), options=CookieOptions(secure=False))
    app = web.Application()
    setup(app, store)
    app.router.add_get("/stream-write", stream_write)
    app.router.add_get("/stream-read", stream_read)
    app.router.add_get("/count", count)
    with warnings.catch_warnings(), caplog.at_level(logging.WARNING, logger="websession"):
        warnings.simplefilter("error")  # aiohttp's NotAppKeyWarning among them
        async with TestClient(TestServer(app)) as client:
            assert await (await client.get("/count")).text() == "1"
            written = await client.get("/stream-write")
            assert written.status == 200
            assert "Set-Cookie" not in written.headers  # not saved: the change is gone...
            assert written.headers["Vary"] == "Cookie"  # ...but it read the session
            read = await client.get("/stream-read")
            assert (read.status, await read.text()) == (200, "1")  # the cookie still holds
            assert await (await client.get("/count")).text() == "2"
    unsaved = [r for r in caplog.records if "not saved" in r.getMessage()]
    assert len(unsaved) == 1  # once per request, whatever the number of changes
    assert unsaved[0].levelno == logging.WARNING
    assert "'session'" in unsaved[0].getMessage()
    assert "StreamResponse" in unsaved[0].getMessage()

    async def prepared(request: web.Request) -> web.StreamResponse:
        response = web.Response(text="early")
        await response.prepare(request)
        return response

    with pytest.raises(RuntimeError, match="cannot save session data into a prepared response"):
        await session_middleware(store)(make_mocked_request("GET", "/"), prepared)


async def test_aiohttp_new_session_without_the_middleware_asks_the_request_store() -> None:
    """As aiohttp-session with only its storage at ``request[STORAGE_KEY]``."""
    from aiohttp import web
    from aiohttp.test_utils import make_mocked_request

    from websession import generate_random_key
    from websession.aiohttp import SESSION_KEY, STORAGE_KEY, Session, new_session

    request = make_mocked_request("GET", "/")
    old = Session("identity", data={"session": {"k": 1}}, new=False)
    request[SESSION_KEY] = old
    with pytest.raises(RuntimeError, match="no websession middleware"):
        await new_session(request)  # neither the middleware nor a store
    request[STORAGE_KEY] = CookieStore(generate_random_key())
    fresh = await new_session(request)
    assert fresh is not old
    assert request[SESSION_KEY] is fresh
    assert (fresh.new, fresh.empty, isinstance(fresh, Session)) == (True, True, True)
    # the key is a RequestKey that still reads as aiohttp-session's string key
    assert isinstance(SESSION_KEY, web.RequestKey)
    assert str(SESSION_KEY) == "aiohttp_session"
    assert SESSION_KEY.upper() == "AIOHTTP_SESSION"  # type: ignore[attr-defined]
