"""``Vary: Cookie`` in every adapter: on each response that read a session or sets its cookie.

Each adapter gets the same three requests, in process through the framework's own test
client: a session is set (Set-Cookie, Vary); a request that never touches the session but
whose persistent cookie is re-issued (``refresh_each_request``, or a permanent Flask session:
Flask's CVE-2023-30861) must vary too, or a shared cache hands one user's cookie to the next;
a request with no session cookie that does not touch the session must not vary. A read-only
request varies without a Set-Cookie. (Django's engine: tests/integrations/test_django.py.)
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tests.support.asgi_calls import Seen, asgi_request, starlette_app
from websession import CookieOptions, CookieStore, generate_random_key

SECRET = generate_random_key()


def store() -> CookieStore:
    return CookieStore(SECRET, options=CookieOptions(secure=False, max_age=3600))


def check_vary(request: Callable[[str, str | None], Seen]) -> None:
    """``request(path, cookie)``: /set writes the session, /read reads it, /plain ignores it."""
    first = request("/set", None)
    assert len(first.set_cookies) == 1
    assert first.varies
    cookie = first.set_cookies[0].split(";", 1)[0]

    refreshed = request("/plain", cookie)
    assert len(refreshed.set_cookies) == 1, "the persistent cookie is re-issued"
    assert refreshed.varies, "a re-issued session cookie without Vary: Cookie can be cached"

    read = request("/read", cookie)
    assert read.varies
    assert read.body == "1"

    untouched = request("/plain", None)
    assert untouched.set_cookies == []
    assert not untouched.varies


# -- WSGI ------------------------------------------------------------------------------------
def test_wsgi() -> None:
    from werkzeug.test import Client

    from websession import get_session
    from websession.wsgi import SessionMiddleware

    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        path = environ["PATH_INFO"]
        body = b""
        if path == "/set":
            get_session(environ)["n"] = 1
        elif path == "/read":
            body = str(get_session(environ).get("n")).encode()
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [body]

    client = Client(
        SessionMiddleware(app, store(), refresh_each_request=True, refresh_interval=0),
        use_cookies=False,
    )

    def request(path: str, cookie: str | None) -> Seen:
        response = client.get(path, headers={"Cookie": cookie} if cookie else {})
        return Seen(response.headers.getlist("Set-Cookie"), response.headers.get("Vary"),
                    response.get_data(as_text=True))  # fmt: skip

    check_vary(request)


# -- ASGI (and the Starlette drop-in) ---------------------------------------------------------
def test_asgi() -> None:
    from websession.asgi import SessionMiddleware

    app = SessionMiddleware(
        starlette_app(), store(), refresh_each_request=True, refresh_interval=0
    )
    check_vary(lambda path, cookie: asgi_request(app, path, cookie))


def test_asgi_without_autoload_loads_the_session_to_refresh_it() -> None:
    from websession.asgi import SessionMiddleware

    async def app(scope: Any, receive: Any, send: Any) -> None:
        from websession import aget_session

        body = b""
        if scope["path"] == "/set":
            (await aget_session(scope))["n"] = 1
        elif scope["path"] == "/read":
            body = str((await aget_session(scope)).get("n")).encode()
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": body})

    wrapped = SessionMiddleware(
        app, store(), autoload=False, refresh_each_request=True, refresh_interval=0
    )
    check_vary(lambda path, cookie: asgi_request(wrapped, path, cookie))


def test_starlette_drop_in() -> None:
    from websession.starlette import SessionMiddleware

    app = SessionMiddleware(starlette_app(), SECRET.hex())
    first = asgi_request(app, "/set", None)
    assert first.varies
    assert len(first.set_cookies) == 1
    cookie = first.set_cookies[0].split(";", 1)[0]
    read = asgi_request(app, "/read", cookie)
    assert read.varies
    assert read.set_cookies == []
    assert read.body == "1"
    untouched = asgi_request(app, "/plain", None)
    assert not untouched.varies
    assert untouched.set_cookies == []


def test_refresh_waits_for_the_interval() -> None:
    from websession.asgi import SessionMiddleware

    app = SessionMiddleware(starlette_app(), store(), refresh_each_request=True)  # 60 s
    cookie = asgi_request(app, "/set", None).set_cookies[0].split(";", 1)[0]
    again = asgi_request(app, "/plain", cookie)
    assert again.set_cookies == [], "issued a moment ago: not re-issued before the interval"
    assert not again.varies  # loaded to decide, but neither read by the app nor re-issued


# -- Flask and Quart: a permanent session, refreshed by SESSION_REFRESH_EACH_REQUEST -----------
def test_flask_refreshed_permanent_session() -> None:
    from flask import Flask, session

    from websession.flask import SessionInterface

    app = Flask(__name__)
    app.secret_key = SECRET
    app.session_interface = SessionInterface()

    @app.get("/set")
    def set_() -> str:
        session["n"] = 1
        session.permanent = True
        return ""

    @app.get("/read")
    def read() -> str:
        return str(session.get("n"))

    @app.get("/plain")
    def plain() -> str:
        return ""

    client = app.test_client(use_cookies=False)

    def request(path: str, cookie: str | None) -> Seen:
        response = client.get(path, headers={"Cookie": cookie} if cookie else {})
        return Seen(response.headers.getlist("Set-Cookie"), response.headers.get("Vary"),
                    response.get_data(as_text=True))  # fmt: skip

    # A permanent session's cookie is re-issued on /read too (Flask's refresh).
    first = request("/set", None)
    cookie = first.set_cookies[0].split(";", 1)[0]
    assert first.varies
    refreshed = request("/plain", cookie)
    assert len(refreshed.set_cookies) == 1
    assert refreshed.varies
    untouched = request("/plain", None)
    assert untouched.set_cookies == []
    assert not untouched.varies


async def test_quart_refreshed_permanent_session() -> None:
    from quart import Quart, session

    from websession.quart import SessionInterface

    app = Quart(__name__)
    app.secret_key = SECRET
    app.session_interface = SessionInterface()

    @app.get("/set")
    async def set_() -> str:
        session["n"] = 1
        session.permanent = True
        return ""

    @app.get("/plain")
    async def plain() -> str:
        return ""

    client = app.test_client()
    first = await client.get("/set")
    assert "Cookie" in first.headers.get("Vary", "")
    cookie = first.headers["Set-Cookie"].split(";", 1)[0]
    refreshed = await app.test_client().get("/plain", headers={"Cookie": cookie})
    assert len(refreshed.headers.getlist("Set-Cookie")) == 1
    assert "Cookie" in refreshed.headers.get("Vary", "")
    untouched = await app.test_client().get("/plain")
    assert "Set-Cookie" not in untouched.headers
    from importlib.metadata import version

    if tuple(int(p) for p in version("quart").split(".")[:2]) < (0, 23):
        assert "Vary" not in untouched.headers
    else:
        # Quart >= 0.23 (Python >= 3.13) reads ctx.session itself while finishing every
        # request, which marks every session accessed: Vary: Cookie on every response is then
        # Quart's own behaviour, with its own sessions too
        assert untouched.headers.get("Vary") == "Cookie"


# -- aiohttp ---------------------------------------------------------------------------------
async def test_aiohttp() -> None:
    from aiohttp import web
    from aiohttp.test_utils import TestClient, TestServer

    from websession.aiohttp import get_session, session_middleware

    async def set_(request: web.Request) -> web.Response:
        (await get_session(request))["n"] = 1
        return web.Response(text="")

    async def read(request: web.Request) -> web.Response:
        return web.Response(text=str((await get_session(request)).get("n")))

    async def plain(request: web.Request) -> web.Response:
        return web.Response(text="")

    app = web.Application(
        middlewares=[session_middleware(store(), refresh_each_request=True, refresh_interval=0)]
    )
    app.router.add_get("/set", set_)
    app.router.add_get("/read", read)
    app.router.add_get("/plain", plain)
    async with TestClient(TestServer(app)) as client:
        seen = []
        for path, with_cookie in (("/set", False), ("/plain", True), ("/read", True),
                                  ("/plain", False)):  # fmt: skip
            cookie = seen[0].set_cookies[0].split(";", 1)[0] if with_cookie else None
            response = await client.get(
                path, headers={"Cookie": cookie} if cookie else {}, cookies=None
            )
            client.session.cookie_jar.clear()
            seen.append(Seen(response.headers.getall("Set-Cookie", []),
                             response.headers.get("Vary"), await response.text()))  # fmt: skip
    results = iter(seen)
    check_vary(lambda path, cookie: next(results))


# -- Litestar --------------------------------------------------------------------------------
def test_litestar() -> None:
    from litestar import Litestar, Request, get
    from litestar.testing import TestClient

    from websession.litestar import SessionPlugin

    @get("/set")
    async def set_(request: Request[Any, Any, Any]) -> str:
        request.session["n"] = 1
        return ""

    @get("/read")
    async def read(request: Request[Any, Any, Any]) -> str:
        return str(request.session.get("n"))

    @get("/plain")
    async def plain() -> str:
        return ""

    app = Litestar(
        route_handlers=[set_, read, plain],
        plugins=[SessionPlugin(store(), refresh_each_request=True, refresh_interval=0)],
    )
    with TestClient(app) as client:

        def request(path: str, cookie: str | None) -> Seen:
            client.cookies.clear()
            response = client.get(path, headers={"Cookie": cookie} if cookie else {})
            return Seen(response.headers.get_list("set-cookie"), response.headers.get("vary"),
                        response.text)  # fmt: skip

        check_vary(request)
