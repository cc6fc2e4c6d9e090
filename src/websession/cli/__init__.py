"""The ``websession`` command: keygen, inspect, purge, demo, bench (also ``python -m websession``).

Every command reports problems as one clear line on stderr and a non-zero exit status, never a
traceback: ``inspect`` exits 1 when the cookie is rejected (and says why), 2 for usage errors.
One module per command, each with its ``cmd_*`` function and the ``add_parser`` that declares
its options; this module builds the parser from them and runs the command.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import NoReturn

from .. import __version__
from ..errors import WebsessionError
from . import bench, demo, inspect, keygen, purge
from ._common import UsageError

__all__ = ["main"]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="websession",
        description="HTTP sessions for Python web applications: tools for secrets, cookies, "
        "stores, and a demo app.",
        epilog="Run `websession COMMAND --help` for a command's options.",
    )
    parser.add_argument("--version", action="version", version=f"websession {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for command in (keygen, inspect, purge, demo, bench):
        command.add_parser(sub)
    return parser


def _fail(message: str, status: int) -> NoReturn:
    print(f"websession: {message}", file=sys.stderr)
    raise SystemExit(status)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit status."""
    args_list = list(sys.argv[1:] if argv is None else argv)
    if args_list and args_list[0] == "bench":
        # every argument goes to the benchmark script, --help included
        return bench.cmd_bench(args_list[1:])
    parser = build_parser()
    args = parser.parse_args(args_list)
    if args.command is None:
        parser.print_help()
        return 2
    if args.command == "inspect" and args.gorilla and args.serializer is None:
        args.serializer = "gob"
    try:
        status: int = args.func(args)
    except UsageError as exc:
        _fail(str(exc), 2)
    except KeyboardInterrupt:
        return 130
    except (OSError, WebsessionError, ValueError) as exc:
        _fail(f"{type(exc).__name__}: {exc}", 1)
    return status
