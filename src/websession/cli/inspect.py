"""``websession inspect``: decode a cookie, say whether it is valid and why not."""

from __future__ import annotations

import argparse
import base64
import binascii
import datetime as dt
import sys
import time
from collections.abc import Callable, Sequence
from typing import Any, TextIO

from .._defaults import BROWSER_COOKIE_LIMIT, MAX_AGE
from ..codecs.base import Codec, Decoded, decode_details_multi
from ..codecs.keys import InsecureSecret
from ..codecs.sealed import SealedCookie
from ..codecs.securecookie import SecureCookie
from ..cookies import parse_cookie_header
from ..errors import DecodeError, Expired, InvalidSignature, TooLong, TooNew
from ..serializers import GobSerializer, JSONSerializer, MsgpackSerializer
from ..serializers.base import Serializer
from ..stores.base import unpack_values
from ._common import SECRET_ENV, UsageError, _secrets

_DEFAULT_MAX_AGE = MAX_AGE
_SET_COOKIE_ATTRIBUTES = {
    "path",
    "domain",
    "expires",
    "max-age",
    "httponly",
    "secure",
    "samesite",
    "partitioned",
}


def _split_cookie(text: str, name: str | None) -> tuple[str, str, list[str]]:
    """Return (cookie name, value, Set-Cookie attributes) from what the user pasted.

    Accepts a bare value, ``name=value``, a ``Set-Cookie`` header (with or without the
    ``Set-Cookie:`` prefix) or a ``Cookie`` header holding several cookies.
    """
    text = text.strip()
    head, sep, rest = text.partition(":")
    kind = head.strip().lower() if sep else ""
    if kind in ("set-cookie", "cookie"):
        text = rest.strip()
    first, _, after = text.partition("=")
    looks_like_pair = kind != "" or ";" in text or (after.strip("=") != "" and first.strip() != "")
    if not looks_like_pair:  # a bare value (gorilla's padded base64 ends with "=")
        return name or "session", text, []
    parts = [p.strip() for p in text.split(";") if p.strip()]
    attributes = [
        p for p in parts[1:] if p.split("=", 1)[0].strip().lower() in _SET_COOKIE_ATTRIBUTES
    ]
    if kind == "set-cookie" or attributes:
        cookie_name, _, value = parts[0].partition("=")
        cookie_name = cookie_name.strip()
        if name is not None and name != cookie_name:
            raise UsageError(f"the Set-Cookie line is for {cookie_name!r}, not --name {name!r}")
        return cookie_name, value.strip().strip('"'), attributes
    cookies = parse_cookie_header(text)
    if not cookies:
        raise UsageError("no cookie found in the input")
    if name is None:
        if len(cookies) > 1:
            names = ", ".join(cookies)
            raise UsageError(
                f"the Cookie header holds several cookies ({names}): pick one with --name"
            )
        name = next(iter(cookies))
    if name not in cookies:
        raise UsageError(f"no cookie named {name!r} in the input (found: {', '.join(cookies)})")
    return name, cookies[name][0], []


def _key_bytes(value: str, what: str) -> bytes:
    if value.startswith("raw:"):
        return value[4:].encode("utf-8")
    try:
        return bytes.fromhex(value)
    except ValueError:
        raise UsageError(
            f"{what} must be hex (as `websession keygen --hex` prints), or raw:TEXT for a key "
            "that is the bytes of a text"
        ) from None


def _serializer(name: str) -> Serializer:
    serializers: dict[str, Callable[[], Serializer]] = {
        "gob": GobSerializer,
        "json": JSONSerializer,
        "msgpack": MsgpackSerializer,
    }
    return serializers[name]()


def _b64_any(text: str) -> bytes | None:
    try:
        raw = text.encode("ascii")
        return base64.urlsafe_b64decode(raw + b"=" * (-len(raw) % 4))
    except (UnicodeEncodeError, binascii.Error, ValueError):
        return None


def _looks_gorilla(value: str) -> bool:
    raw = _b64_any(value)
    if raw is None:
        return False
    ts, sep, _ = raw.partition(b"|")
    return bool(sep) and ts.isdigit()


def _sealed_header(value: str) -> tuple[str, int] | None:
    """The key id and issue time a sealed value claims (not verified), if it looks sealed."""
    raw = _b64_any(value)
    if raw is None or len(raw) < 38 or raw[0] not in (1, 2):
        return None
    return raw[1:5].hex(), int.from_bytes(raw[5:10], "big")


def _when(ts: float, now: float) -> str:
    stamp = dt.datetime.fromtimestamp(ts, dt.timezone.utc).isoformat().replace("+00:00", "Z")
    delta = now - ts
    return (
        f"{stamp} ({_duration(delta)} ago)" if delta >= 0 else f"{stamp} (in {_duration(-delta)})"
    )


def _duration(seconds: float) -> str:
    s = int(seconds)
    if s < 60:
        return f"{s} s"
    if s < 3600:
        return f"{s // 60} min {s % 60} s"
    if s < 86400:
        return f"{s // 3600} h {s % 3600 // 60} min"
    return f"{s // 86400} d {s % 86400 // 3600} h"


def _print_values(values: Any, out: TextIO) -> None:
    if not isinstance(values, dict):
        print(f"  {values!r}", file=out)
        return
    if not values:
        print("  (empty)", file=out)
        return
    keys = [repr(k) for k in values]
    width = min(max(len(k) for k in keys), 32)
    for key, value in zip(keys, values.values()):
        print(f"  {key:<{width}} : {value!r}", file=out)


def _key_line(found: Decoded, codecs: Sequence[Codec], gorilla: bool) -> str:
    index = found.key_index
    label = "the newest" if index == 0 else "an older key"
    key_id = ""
    if not gorilla and isinstance(codecs[0], SealedCookie):
        key_id = f", id {codecs[0].key_id(index)}"
    line = f"#{index} ({label}{key_id})"
    if found.stale:
        line += ": stale: re-sealed on next save"
    return line


def _explain(
    exc: DecodeError, value: str, args: argparse.Namespace, codecs: Sequence[Codec], now: float
) -> list[str]:
    """Hints that say what to check, beyond the decoder's own message."""
    hints: list[str] = []
    if args.gorilla:
        if isinstance(exc, InvalidSignature):
            hints.append(
                "check the cookie name (--name; it is signed with the value), --hash-key and --hash"
            )
        if isinstance(exc, Expired):
            hints.append("older than --max-age; --max-age 0 skips the check (or --at TIME)")
        return hints
    header = _sealed_header(value)
    if header is None:
        if _looks_gorilla(value):
            hints.append(
                "this looks like a gorilla/securecookie value: use --gorilla --hash-key HEX "
                "[--block-key HEX] --serializer gob|json"
            )
        return hints
    key_id, issued = header
    hints.append(f"the cookie claims key id {key_id}, issued {_when(issued, now)} (unverified)")
    if isinstance(exc, InvalidSignature):
        known = [
            c.key_id(i) for c in codecs if isinstance(c, SealedCookie) for i in range(c.key_count)
        ]
        if key_id not in known:
            hints.append(
                f"none of the given secrets has key id {key_id} (yours: {', '.join(known)}): "
                "a wrong secret, or one rotated out"
            )
        else:
            hints.append(
                "the key matches, so the value was tampered with or belongs to another cookie "
                "name (the name is authenticated: check --name)"
            )
    if isinstance(exc, Expired):
        hints.append("--max-age 0 skips the check (or --at TIME)")
    if isinstance(exc, TooLong):
        hints.append(f"longer than the {BROWSER_COOKIE_LIMIT} characters a cookie may hold")
    return hints


def cmd_inspect(args: argparse.Namespace) -> int:
    out = sys.stdout
    name, value, attributes = _split_cookie(args.cookie, args.name)
    if not value:
        raise UsageError(f"the cookie {name!r} is empty (a deletion cookie?)")
    now = float(args.at) if args.at is not None else time.time()

    def clock() -> float:
        return now

    codecs: list[Codec]
    if args.gorilla:
        if not args.hash_key:
            raise UsageError("--gorilla needs --hash-key HEX (one per key pair, newest first)")
        blocks = list(args.block_key or [])
        if len(blocks) > len(args.hash_key):
            raise UsageError("more --block-key than --hash-key options")
        codecs = []
        for i, hash_key in enumerate(args.hash_key):
            block = _key_bytes(blocks[i], "--block-key") if i < len(blocks) else None
            try:
                codecs.append(
                    SecureCookie(  # the application's key, weak or not: see _secrets
                        InsecureSecret(_key_bytes(hash_key, "--hash-key")),
                        block,
                        hash=args.hash,
                        serializer=_serializer(args.serializer),
                        max_age=args.max_age,
                        max_length=0,
                        clock=clock,
                    )
                )
            except ValueError as exc:
                raise UsageError(str(exc)) from None
        mode = "AES-CTR + HMAC" if blocks else "HMAC, not encrypted"
        fmt = f"gorilla/securecookie ({args.hash}, {mode}, {args.serializer})"
    else:
        secrets = _secrets(args, required=True)
        serializer = _serializer(args.serializer) if args.serializer else None
        codecs = [
            SealedCookie(
                secrets, serializer=serializer, max_age=args.max_age, max_length=0, clock=clock
            )
        ]
        fmt = "sealed (AES-256-GCM-SIV)"
    print(f"cookie      {name}", file=out)
    print(f"format      {fmt}", file=out)
    print(f"length      {len(value)} characters", file=out)
    if attributes:
        print(f"attributes  {'; '.join(attributes)}", file=out)
    try:
        found = decode_details_multi(name, value, codecs)
    except DecodeError as exc:
        print(f"status      REJECTED: {_rejection(exc, value, args, now)}", file=out)
        for hint in _explain(exc, value, args, codecs, now):
            print(f"  hint      {hint}", file=out)
        return 1
    print("status      valid", file=out)
    print(f"issued      {_when(found.issued_at, now)}", file=out)
    if args.max_age:
        print(
            f"valid until {_when(found.issued_at + args.max_age, now)} (--max-age {args.max_age})",
            file=out,
        )
    print(f"key         {_key_line(found, codecs, args.gorilla)}", file=out)
    if isinstance(found.value, str):
        print(f"session id  {found.value}", file=out)
        if not args.store:
            print(
                "            (a server-side store's cookie: its values are in the store; "
                "--store URL reads them)",
                file=out,
            )
            return 0
        return _inspect_in_store(args, name, value, codecs, now, out)
    values: Any = found.value
    try:
        values, meta = unpack_values(values)
    except DecodeError:
        meta = {}  # not a session's payload: shown as it is
    if isinstance(meta.get("created_at"), int):
        print(f"created     {_when(meta['created_at'], now)}", file=out)
    if "owner" in meta:
        print(f"owner       {meta['owner']!r}", file=out)
    if "max_age" in meta:
        print(f"max_age     {meta['max_age']} (the session's own)", file=out)
    count = len(values) if isinstance(values, dict) else 1
    print(f"values      {count} item{'s' if count != 1 else ''}", file=out)
    _print_values(values, out)
    return 0


def _claimed_issue_time(value: str) -> int | None:
    """The issue time a sealed or gorilla value carries (unverified), if it has one."""
    header = _sealed_header(value)
    if header is not None:
        return header[1]
    raw = _b64_any(value)
    if raw is not None and _looks_gorilla(value):
        return int(raw.partition(b"|")[0])
    return None


def _rejection(exc: DecodeError, value: str, args: argparse.Namespace, now: float) -> str:
    """``reason: detail``, the reason written once and times as dates, not Unix seconds."""
    issued = _claimed_issue_time(value)
    if isinstance(exc, Expired) and issued is not None:
        limit = f"--max-age {args.max_age} s ({_duration(args.max_age)})"
        return f"{exc.reason}: issued {_when(issued, now)}, longer ago than {limit}"
    if isinstance(exc, TooNew) and issued is not None:
        return f"{exc.reason}: issued {_when(issued, now)}, sooner than its minimum age"
    detail = str(exc)
    for prefix in (exc.reason, exc.reason.replace("_", " ")):
        if detail.lower().startswith(prefix + ":"):
            detail = detail[len(prefix) + 1 :].strip()
    return f"{exc.reason}: {detail}" if detail and detail != exc.reason else exc.reason


def _inspect_in_store(
    args: argparse.Namespace,
    name: str,
    value: str,
    codecs: Sequence[Codec],
    now: float,
    out: TextIO,
) -> int:
    """Load the session an id cookie names from the store at ``--store`` and print it."""
    from ..urls import open_store

    options: dict[str, Any] = {"codecs": list(codecs)} if args.gorilla else {}
    secrets = None if args.gorilla else _secrets(args, required=True)
    try:
        store = open_store(args.store, secrets, **options)
    except (ValueError, ImportError) as exc:
        raise UsageError(f"--store: {exc}") from None
    try:
        session = store.new(name, value)
    finally:
        store.close()
    if session.is_new:
        why = session.reason or "not_found"
        print(f"store       {args.store}: no session for this id ({why})", file=out)
        return 1
    print(f"store       {args.store}", file=out)
    created = session.created_at
    if created is not None:
        print(f"created     {_when(created, now)}", file=out)
    if session.owner is not None:
        print(f"owner       {session.owner!r}", file=out)
    count = len(session)
    print(f"values      {count} item{'s' if count != 1 else ''}", file=out)
    _print_values(dict(session), out)
    return 0


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the command to the ``websession`` parser's subcommands."""
    inspect = sub.add_parser(
        "inspect",
        help="decode a cookie and say whether it is valid",
        description="Decode a session cookie: its values, when it was issued, which key opened "
        "it, or why it is rejected (exit status 1). COOKIE is the value, name=value, or a whole "
        "Set-Cookie or Cookie header line (the name is taken from it).",
        epilog="Examples:\n"
        "  websession inspect 'session=AQx...' --secret \"$SECRET\"\n"
        "  websession inspect 'Set-Cookie: auth=AQx...; Path=/' --secret NEW --secret OLD\n"
        "  websession inspect 'MTc2...==' --gorilla --hash-key 00f1... --serializer json",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    inspect.add_argument("cookie", metavar="COOKIE", help="the cookie value or header line")
    inspect.add_argument(
        "--secret",
        action="append",
        metavar="S",
        help=f"a secret, repeat for older ones (newest first); default ${SECRET_ENV}",
    )
    inspect.add_argument("--name", help="the cookie name (default: from COOKIE, else 'session')")
    inspect.add_argument(
        "--max-age",
        type=int,
        default=_DEFAULT_MAX_AGE,
        metavar="N",
        help="reject values issued more than N seconds ago (default 30 days; 0: no limit)",
    )
    inspect.add_argument(
        "--at", type=float, metavar="UNIX_TIME", help="decode as if it were this time"
    )
    inspect.add_argument(
        "--store",
        metavar="URL",
        help="for a server-side store's id cookie: the store (as for websession.open_store, "
        "e.g. file:///var/lib/app/sessions, redis://host/0), whose session is printed",
    )
    gorilla = inspect.add_argument_group("gorilla/securecookie (Go) cookies")
    gorilla.add_argument(
        "--gorilla", action="store_true", help="the cookie is gorilla/securecookie's format"
    )
    gorilla.add_argument(
        "--hash-key",
        action="append",
        metavar="HEX",
        help="the HMAC key in hex (raw:TEXT for a text key); repeat for older pairs",
    )
    gorilla.add_argument(
        "--block-key",
        action="append",
        metavar="HEX",
        help="the AES key in hex, paired with --hash-key",
    )
    gorilla.add_argument("--hash", default="sha256", help="the HMAC hash (default sha256)")
    gorilla.add_argument(
        "--serializer",
        choices=("gob", "json", "msgpack"),
        help="how the values are encoded (default: gob with --gorilla, msgpack otherwise)",
    )
    inspect.set_defaults(func=cmd_inspect)
