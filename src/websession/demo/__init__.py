"""``websession demo``: a small web app that shows sessions at work, on the standard library.

:func:`make_app` builds the WSGI application (tests serve it with any WSGI server);
:func:`serve` runs it on a threading ``wsgiref`` server until Ctrl-C.
"""

from __future__ import annotations

import os
import signal
import socket
import socketserver
import sys
from types import FrameType
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from .app import REMEMBER_ME, load_secret, make_app

__all__ = ["REMEMBER_ME", "load_secret", "make_app", "serve"]


class ThreadingWSGIServer(socketserver.ThreadingMixIn, WSGIServer):
    """wsgiref's server, one thread per request (a browser opens several connections)."""

    daemon_threads = True
    allow_reuse_address = True


class QuietHandler(WSGIRequestHandler):
    """One short line per request on stderr."""

    def log_message(self, format: str, *args: object) -> None:
        sys.stderr.write(f"  {format % args}\n")

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        sys.stderr.write(f"  {self.command} {self.path} -> {code}\n")


def _stop(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def serve(
    host: str = "127.0.0.1",
    port: int = 8000,
    *,
    store_dir: str | os.PathLike[str] = ".demo-sessions",
    secret: str | None = None,
    store_url: str | None = None,
) -> int:
    """Serve the demo on ``host:port`` (0: any free port) until Ctrl-C or SIGTERM."""
    names = {"localhost", host}  # the name it was started under (an IP literal always passes)
    if host in ("", "0.0.0.0", "::"):  # every interface: the machine's own names too
        names |= {socket.gethostname(), socket.getfqdn()}
    app = make_app(store_dir=store_dir, secret=secret, store_url=store_url, allowed_hosts=names)
    try:
        server = make_server(
            host, port, app, server_class=ThreadingWSGIServer, handler_class=QuietHandler
        )
    except OSError as exc:
        print(
            f"websession demo: cannot listen on {host}:{port}: {exc.strerror or exc} "
            "(pick another with --port)",
            file=sys.stderr,
        )
        return 1
    bound_host, bound_port = str(server.server_address[0]), int(server.server_address[1])
    shown = f"[{bound_host}]" if ":" in bound_host else bound_host
    where = store_url or os.path.abspath(os.path.join(os.fspath(store_dir), "sessions"))
    print(f"websession demo: http://{shown}:{bound_port}/", flush=True)
    print(f"  sessions: {where}\n  stop with Ctrl-C", file=sys.stderr, flush=True)
    previous = signal.signal(signal.SIGTERM, _stop)
    try:
        server.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        pass
    finally:
        signal.signal(signal.SIGTERM, previous)
        server.server_close()
        close = getattr(getattr(app, "store", None), "close", None)
        if callable(close):
            close()
    print("websession demo: stopped", file=sys.stderr, flush=True)
    return 0
