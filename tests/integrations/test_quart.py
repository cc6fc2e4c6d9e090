"""websession.quart.SessionInterface in a Quart app, in process (Quart's test client).

The async-only paths the example does not provoke: a 5xx, a store that is down. The example
itself runs under hypercorn and uvicorn in tests/examples/test_quart.py.
"""

from __future__ import annotations


async def test_nothing_is_saved_with_a_5xx_response() -> None:
    from quart import Quart, session

    from websession import MemoryStore
    from websession.quart import SessionInterface

    app = Quart(__name__)
    app.session_interface = SessionInterface(MemoryStore("in-process secret, 32+ bytes long!!"))

    @app.get("/set")
    async def set_value() -> str:
        session["n"] = session.get("n", 0) + 1
        return str(session["n"])

    @app.get("/fail")
    async def fail() -> str:
        session["n"] = 999
        raise RuntimeError("boom")

    client = app.test_client()
    assert await (await client.get("/set")).get_data(as_text=True) == "1"
    response = await client.get("/fail")
    assert response.status_code == 500
    assert response.headers.getlist("Set-Cookie") == []
    assert await (await client.get("/set")).get_data(as_text=True) == "2"


async def test_a_store_that_is_down_gives_a_503_only_where_the_session_is_used() -> None:
    from quart import Quart, session

    from websession import ServerStore, StoreUnavailable
    from websession.backends.memory import MemoryBackend
    from websession.quart import SessionInterface

    class DownBackend(MemoryBackend):
        async def aget(self, key: str, *, touch: int | None = None) -> None:
            raise StoreUnavailable("the database is down")

    store = ServerStore(MemoryBackend(), "in-process secret, 32+ bytes long!!")
    app = Quart(__name__)
    app.session_interface = SessionInterface(store)

    @app.get("/set")
    async def set_value() -> str:
        session["n"] = 1
        return "ok"

    @app.get("/plain")
    async def plain() -> str:
        return "plain"

    client = app.test_client()
    response = await client.get("/set")
    cookie = response.headers["Set-Cookie"].split(";")[0]
    store.backend = DownBackend()
    used = await client.get("/set", headers={"Cookie": cookie})
    assert used.status_code == 503
    unused = await client.get("/plain", headers={"Cookie": cookie})
    assert unused.status_code == 200
