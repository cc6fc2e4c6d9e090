"""``websession demo``: the demo web app."""

from __future__ import annotations

import argparse


def cmd_demo(args: argparse.Namespace) -> int:
    from ..demo import serve

    return serve(
        host=args.host,
        port=args.port,
        store_dir=args.dir,
        secret=args.secret[0] if args.secret else None,
        store_url=args.store,
    )


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the command to the ``websession`` parser's subcommands."""
    demo = sub.add_parser(
        "demo",
        help="run the demo web app",
        description="Run a small web app that shows sessions at work: a visit counter, log in "
        "with 'remember me', flash messages, two sessions at once, and the raw Set-Cookie "
        "headers. Sessions are files under ./.demo-sessions (with its secret), so restarts "
        "keep them.",
    )
    demo.add_argument(
        "--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)"
    )
    demo.add_argument(
        "--port", type=int, default=8000, help="port (default 8000; 0 picks a free one)"
    )
    demo.add_argument(
        "--store", metavar="URL", help="keep the login sessions in this store instead"
    )
    demo.add_argument(
        "--secret", action="append", metavar="S", help="the secret (default: kept in DIR/secret)"
    )
    demo.add_argument(
        "--dir", default=".demo-sessions", help="the demo's folder (default ./.demo-sessions)"
    )
    demo.set_defaults(func=cmd_demo)
