"""The ``websession`` command: keygen, inspect, purge, demo, bench (also ``python -m websession``).

Every command reports problems as one clear line on stderr and a non-zero exit status, never a
traceback: ``inspect`` exits 1 when the cookie is rejected (and says why), 2 for usage errors.
"""

from __future__ import annotations

import argparse
import base64
import binascii
import datetime as dt
import itertools
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, NoReturn, TextIO

from . import __version__
from ._defaults import BROWSER_COOKIE_LIMIT, MAX_AGE
from .codecs.base import Codec, Decoded, decode_details_multi
from .codecs.keys import InsecureSecret, generate_random_key
from .codecs.sealed import SealedCookie
from .codecs.securecookie import SecureCookie
from .cookies import parse_cookie_header
from .errors import DecodeError, Expired, InvalidSignature, TooLong, TooNew, WebsessionError
from .serializers import GobSerializer, JSONSerializer, MsgpackSerializer
from .serializers.base import Serializer
from .stores.base import unpack_values

__all__ = ["main"]

SECRET_ENV = "WEBSESSION_SECRET"  # noqa: S105 - the variable's name, not a secret
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


class UsageError(Exception):
    """A problem with the command line or its inputs: printed as one line, exit status 2."""


# -- keygen ------------------------------------------------------------------------------------
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


# -- inspect -----------------------------------------------------------------------------------
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


def _secrets(args: argparse.Namespace, *, required: bool) -> list[str | bytes]:
    """The secrets given, each wrapped in InsecureSecret.

    inspect and purge only read what an application made: refusing its weak secret here would
    protect nothing and hide what the application's cookies hold (the store refuses it).
    """
    secrets: list[str] = list(args.secret or [])
    if not secrets and os.environ.get(SECRET_ENV):
        secrets = [os.environ[SECRET_ENV]]
    if required and not secrets:
        raise UsageError(
            f"give the secret with --secret (or the {SECRET_ENV} environment variable)"
        )
    if any(not s for s in secrets):
        raise UsageError("an empty --secret protects nothing")
    return [InsecureSecret(s) for s in secrets]


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
    from .urls import open_store

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


# -- purge -------------------------------------------------------------------------------------
def _open_store(url: str, secrets: list[str | bytes]) -> Any:
    from .urls import open_store

    return open_store(url, secrets)


class _Spinner:
    """A one-line spinner with the elapsed time on a terminal; plain lines otherwise."""

    def __init__(self, label: str, stream: TextIO) -> None:
        self.label = label
        self.stream = stream
        self.tty = stream.isatty()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.started = time.monotonic()

    def __enter__(self) -> _Spinner:
        self.started = time.monotonic()
        if self.tty:
            self._thread = threading.Thread(target=self._spin, daemon=True)
            self._thread.start()
        else:
            print(f"{self.label} ...", file=self.stream, flush=True)
        return self

    def _spin(self) -> None:
        frames = itertools.cycle("|/-\\")
        width = 20
        for tick in itertools.count():
            if self._stop.wait(0.1):
                break
            pos = tick % (2 * width - 2)
            pos = pos if pos < width else 2 * width - 2 - pos
            bar = "".join("#" if i == pos else "." for i in range(width))
            elapsed = time.monotonic() - self.started
            self.stream.write(f"\r{next(frames)} {self.label} [{bar}] {elapsed:5.1f} s")
            self.stream.flush()

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
            self.stream.write("\r\x1b[K")
            self.stream.flush()

    @property
    def elapsed(self) -> float:
        return time.monotonic() - self.started


def _purge_once(store: Any, url: str) -> int:
    label = f"purging expired sessions from {_redact(url)}"
    with _Spinner(label, sys.stderr) as spinner:
        removed: int = store.purge()
    noun = "session" if removed == 1 else "sessions"
    print(f"removed {removed} expired {noun} in {spinner.elapsed:.2f} s", file=sys.stderr)
    return removed


def _redact(url: str) -> str:
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(url)
    if parts.password:
        netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
        return urlunsplit(parts._replace(netloc=netloc))
    return url


def _local_store_path(url: str) -> str | None:
    """The file or directory a local store URL names (None for other stores).

    Opening a local store creates it, so ``purge`` checks it exists first: a typo in the
    path would otherwise make an empty store, purge nothing and report success.
    """
    scheme = url.partition("://")[0].lower()
    if scheme in ("file", "lmdb"):
        from .stores import default_directory
        from .urls import _local_path

        path = _local_path(url)[0]
        return path if path is not None else (default_directory() if scheme == "file" else None)
    if scheme == "sqlite":
        from .backends.sqlite import SQLiteBackend

        try:
            return SQLiteBackend.url_path(url)
        except ValueError as exc:
            raise UsageError(str(exc)) from None
    return None


def cmd_purge(args: argparse.Namespace) -> int:
    path = _local_store_path(args.store_url)
    if path == ":memory:":
        raise UsageError(f"{args.store_url}: an in-memory database holds nothing to purge")
    if path is not None and not os.path.exists(path):
        raise UsageError(
            f"{_redact(args.store_url)}: {path} does not exist (a typo?); purge creates nothing"
        )
    secrets = _secrets(args, required=False)
    if not secrets:
        # Purging reads expiry times only; no cookie is sealed or opened, so any key will do.
        secrets = [base64.urlsafe_b64encode(generate_random_key(32)).decode("ascii")]
    try:
        store = _open_store(args.store_url, secrets)
    except (ValueError, ImportError, WebsessionError) as exc:
        raise UsageError(f"cannot open {_redact(args.store_url)}: {exc}") from None
    if not callable(getattr(store, "purge", None)):
        print(
            f"nothing to purge: {type(store).__name__} keeps sessions in the browser's cookies",
            file=sys.stderr,
        )
        return 0
    try:
        while True:
            removed = _purge_once(store, args.store_url)
            print(removed)
            sys.stdout.flush()
            if not args.every:
                return 0
            time.sleep(args.every)
    except KeyboardInterrupt:
        return 130
    finally:
        close = getattr(store, "close", None)
        if callable(close):
            close()


# -- demo and bench ----------------------------------------------------------------------------
def cmd_demo(args: argparse.Namespace) -> int:
    from .demo import serve

    return serve(
        host=args.host,
        port=args.port,
        store_dir=args.dir,
        secret=args.secret[0] if args.secret else None,
        store_url=args.store,
    )


def benchmark_script() -> Path | None:
    """benchmarks/cookie_codecs.py of the source checkout this package runs from, if any."""
    here = Path(__file__).resolve().parent  # src/websession
    candidate = here.parent.parent / "benchmarks" / "cookie_codecs.py"
    return candidate if candidate.is_file() else None


def cmd_bench(argv: Sequence[str]) -> int:
    script = benchmark_script()
    if script is None:
        print(
            "websession bench: the benchmarks are not installed with the package. Run it from a "
            "source checkout (git clone, then `make bench` or `websession bench` with an "
            "editable install).",
            file=sys.stderr,
        )
        return 2
    try:
        return subprocess.call([sys.executable, str(script), *argv])
    except KeyboardInterrupt:
        return 130


# -- the parser --------------------------------------------------------------------------------
def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="websession",
        description="HTTP sessions for Python web applications: tools for secrets, cookies, "
        "stores, and a demo app.",
        epilog="Run `websession COMMAND --help` for a command's options.",
    )
    parser.add_argument("--version", action="version", version=f"websession {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

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

    purge = sub.add_parser(
        "purge",
        help="delete expired sessions from a server-side store",
        description="Delete expired sessions from the store at STORE_URL (file:///path, "
        "sqlite:///path, postgresql://..., ...) and print how many. Stores whose database "
        "expires records itself (Redis, Memcached, MongoDB, DynamoDB) report 0.",
    )
    purge.add_argument(
        "store_url", metavar="STORE_URL", help="the store, as for websession.open_store"
    )
    purge.add_argument(
        "--secret",
        action="append",
        metavar="S",
        help="the store's secret (not needed to purge: expiry times are not sealed)",
    )
    purge.add_argument(
        "--every", type=float, metavar="SECONDS", help="keep purging every SECONDS until Ctrl-C"
    )
    purge.set_defaults(func=cmd_purge)

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

    sub.add_parser(
        "bench",
        help="run the codec benchmark (from a source checkout)",
        description="Run benchmarks/cookie_codecs.py with this Python; every argument is passed "
        "on (`websession bench --help` shows the benchmark's options).",
        add_help=False,
    )
    return parser


def _fail(message: str, status: int) -> NoReturn:
    print(f"websession: {message}", file=sys.stderr)
    raise SystemExit(status)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit status."""
    args_list = list(sys.argv[1:] if argv is None else argv)
    if args_list and args_list[0] == "bench":
        return cmd_bench(args_list[1:])
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
