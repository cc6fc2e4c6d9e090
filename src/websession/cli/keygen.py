"""``websession keygen``: a new random secret."""

from __future__ import annotations

import argparse
import base64

from ..codecs.keys import generate_random_key
from ._common import UsageError


def cmd_keygen(args: argparse.Namespace) -> int:
    if args.bytes < 16:
        raise UsageError("--bytes must be at least 16 (32 or more is advised)")
    if args.gorilla:
        # gorilla/securecookie's README: a 64-byte hash key (HMAC-SHA256) and a 32-byte block key
        # (AES-256), both hex so that Go's hex.DecodeString and --hash-key/--block-key take them.
        print(f"hash key:  {generate_random_key(64).hex()}")
        print(f"block key: {generate_random_key(32).hex()}")
        return 0
    key = generate_random_key(args.bytes)
    if args.hex:
        print(key.hex())
    else:
        print(base64.urlsafe_b64encode(key).decode("ascii").rstrip("="))
    return 0


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the command to the ``websession`` parser's subcommands."""
    keygen = sub.add_parser(
        "keygen",
        help="print a new random secret",
        description="Print a new random secret from the OS's CSPRNG: base64url (unpadded) of "
        "32 bytes by default. Pass it as secret_keys=... (newest first when rotating).",
    )
    keygen.add_argument(
        "--bytes", type=int, default=32, metavar="N", help="random bytes (default 32)"
    )
    keygen.add_argument("--hex", action="store_true", help="print hex instead of base64url")
    keygen.add_argument(
        "--gorilla",
        action="store_true",
        help="print a gorilla/securecookie key pair in hex: a 64-byte hash key and a 32-byte "
        "block key (AES-256)",
    )
    keygen.set_defaults(func=cmd_keygen)
