"""The ASGI application of the fault tests: counts requests in its session, answers the count.

:func:`serve_counter` runs it with uvicorn in a thread, on a store over a given backend.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterator
from typing import Any

from tests.support.live import free_port

#: the secret of the store :func:`serve_counter` serves (a test may open its cookies too)
SECRET = "counter-app-secret-5kPq8Zr2Lm7Xw4Tb-9aF3"


async def counter_app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """Counts requests in the session; answers the count."""
    if scope["type"] != "http":
        return
    session = scope["session"]
    session["n"] = session.get("n", 0) + 1
    body = str(session["n"]).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [(b"content-type", b"text/plain"), (b"content-length", b"%d" % len(body))],
        }
    )
    await send({"type": "http.response.body", "body": body})


@contextlib.contextmanager
def serve_counter(backend: Any) -> Iterator[str]:
    """The counter app on ``ServerStore(backend)`` (cookie ``sid``, plain http) under uvicorn
    in a thread of this process; yields its URL once it listens. Errors are logged (a 500's
    traceback shows), requests are not."""
    import uvicorn

    from websession import CookieOptions, ServerStore
    from websession.asgi import SessionMiddleware

    store = ServerStore(backend, SECRET, options=CookieOptions(secure=False))
    app = SessionMiddleware(counter_app, store, name="sid")
    port = free_port()
    config = uvicorn.Config(
        app, host="127.0.0.1", port=port, log_level="error", lifespan="off", access_log=False
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}/"
    finally:
        server.should_exit = True
        thread.join(timeout=15)
