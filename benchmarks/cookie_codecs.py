"""Cookie codec benchmark: websession against the cookie pipelines Python web apps use today.

Run with ``make bench`` (or ``.venv/bin/python benchmarks/cookie_codecs.py``). Every pipeline
encodes and decodes the same typical session (an 8-key dict) in one process; the libraries take
turns within each repeat so that a noisy machine slows them alike, and the best repeat counts.
The run prints
a table (µs per encode + decode round trip, cookie length), the ratios the project promises, and
PASS/FAIL for each; it exits 1 if any target fails unless ``--no-fail`` is given.

The third-party pipelines are driven the way each library drives them per request (see the
docstring of each ``make_*`` function); they are not re-implementations.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from reference_gorilla import ReferenceSecureCookie

import websession

NAME = "session"

#: A typical session: an int id, a name, roles, a CSRF token, two short strings, an int key and
#: one flash message.
TYPICAL: dict[Any, Any] = {
    "user_id": 1234567,
    "name": "Ann Example",
    "roles": ["admin", "editor"],
    "csrf_token": "9f86d081884c7d659a2feaa0c55ad015",
    "theme": "dark",
    "lang": "en-GB",
    7: "seven",
    "_flash": ["Welcome back!"],
}
#: The same session for the pipelines that only take JSON objects (string keys).
TYPICAL_STR: dict[str, Any] = {str(k): v for k, v in TYPICAL.items()}

SECRET = "a long random secret key, 32+ bytes of it, really"


@dataclass
class Pipeline:
    label: str
    encode: Callable[[], str]
    decode: Callable[[str], Any]
    expected: Any
    best: float = float("inf")  # seconds per round trip

    def round_trip(self) -> Any:
        return self.decode(self.encode())


# -- websession ------------------------------------------------------------------------------


def make_sealed() -> Pipeline:
    """websession's default cookie: SealedCookie (AES-256-GCM-SIV) with msgpack."""
    codec = websession.SealedCookie(SECRET)
    value = TYPICAL
    return Pipeline(
        "websession SealedCookie (msgpack)",
        lambda: codec.encode(NAME, value),
        lambda text: codec.decode(NAME, text),
        value,
    )


def make_securecookie_json() -> Pipeline:
    """websession SecureCookie, gorilla-compatible: JSON, AES-256-CTR + HMAC-SHA256."""
    codec = websession.SecureCookie(
        os.urandom(32), os.urandom(32), serializer=websession.JSONSerializer()
    )
    value = TYPICAL_STR
    return Pipeline(
        "websession SecureCookie (JSON, AES-256)",
        lambda: codec.encode(NAME, value),
        lambda text: codec.decode(NAME, text),
        value,
    )


def make_securecookie_msgpack() -> Pipeline:
    """websession SecureCookie with msgpack and no block key (signed only), for information."""
    codec = websession.SecureCookie(os.urandom(32))
    value = TYPICAL
    return Pipeline(
        "websession SecureCookie (msgpack, signed)",
        lambda: codec.encode(NAME, value),
        lambda text: codec.decode(NAME, text),
        value,
    )


# -- the straightforward gorilla port --------------------------------------------------------


def make_reference() -> Pipeline:
    """gorilla's algorithm written the obvious way (benchmarks/reference_gorilla.py)."""
    codec = ReferenceSecureCookie(os.urandom(32), os.urandom(32))
    value = TYPICAL_STR
    return Pipeline(
        "straightforward gorilla port (JSON, AES-256)",
        lambda: codec.encode(NAME, value),
        lambda text: codec.decode(NAME, text),
        value,
    )


# -- other libraries, as shipped -------------------------------------------------------------


def make_starlette() -> Pipeline:
    """Starlette's SessionMiddleware: TimestampSigner(secret) over standard base64 of json.dumps.

    The same calls as ``starlette/middleware/sessions.py``: ``signer.sign(b64encode(json.dumps(
    session).encode()))`` on save, ``json.loads(b64decode(signer.unsign(data, max_age=...)))`` on
    load.
    """
    import itsdangerous

    signer = itsdangerous.TimestampSigner(str(SECRET))
    max_age = 14 * 24 * 60 * 60
    value = TYPICAL_STR

    def encode() -> str:
        data = base64.b64encode(json.dumps(value).encode("utf-8"))
        return signer.sign(data).decode("utf-8")

    def decode(text: str) -> Any:
        data = signer.unsign(text.encode("utf-8"), max_age=max_age)
        return json.loads(base64.b64decode(data))

    return Pipeline("Starlette SessionMiddleware (itsdangerous)", encode, decode, value)


def make_flask() -> Pipeline:
    """Flask's SecureCookieSessionInterface, as shipped.

    Like ``save_session`` and ``open_session``: a new signing serializer per save and per open,
    ``dumps(dict(session))`` and ``loads(value, max_age=permanent_session_lifetime)``.
    """
    import flask

    app = flask.Flask("bench")
    app.secret_key = SECRET
    interface = flask.sessions.SecureCookieSessionInterface()
    max_age = int(app.permanent_session_lifetime.total_seconds())
    value = TYPICAL_STR

    def encode() -> str:
        return interface.get_signing_serializer(app).dumps(dict(value))  # type: ignore[union-attr]

    def decode(text: str) -> Any:
        return interface.get_signing_serializer(app).loads(text, max_age=max_age)  # type: ignore[union-attr]

    return Pipeline("Flask cookie session (itsdangerous)", encode, decode, value)


def make_django() -> Pipeline:
    """Django's signed_cookies session backend: ``signing.dumps(compress=True)`` and ``loads``."""
    from django.conf import settings

    if not settings.configured:
        settings.configure(SECRET_KEY=SECRET)
    from django.core import signing

    salt = "django.contrib.sessions.backends.signed_cookies"
    serializer = signing.JSONSerializer
    max_age = settings.SESSION_COOKIE_AGE
    value = TYPICAL_STR

    def encode() -> str:
        return signing.dumps(value, compress=True, salt=salt, serializer=serializer)

    def decode(text: str) -> Any:
        return signing.loads(text, serializer=serializer, max_age=max_age, salt=salt)

    return Pipeline("Django signed_cookies (signing, zlib)", encode, decode, value)


def make_fernet() -> Pipeline:
    """aiohttp-session's EncryptedCookieStorage: json.dumps -> Fernet.encrypt; decrypt(ttl=...).

    The stored document is ``{"created": ..., "session": {...}}`` as aiohttp-session writes it.
    """
    from cryptography.fernet import Fernet

    fernet = Fernet(Fernet.generate_key())
    max_age = 30 * 24 * 60 * 60
    session = TYPICAL_STR

    def encode() -> str:
        data = json.dumps({"created": int(time.time()), "session": session}).encode("utf-8")
        return fernet.encrypt(data).decode("utf-8")

    def decode(text: str) -> Any:
        return json.loads(fernet.decrypt(text.encode("utf-8"), ttl=max_age).decode("utf-8"))[
            "session"
        ]

    return Pipeline("aiohttp-session EncryptedCookieStorage (Fernet)", encode, decode, session)


# -- measuring -------------------------------------------------------------------------------


def time_once(pipeline: Pipeline, number: int) -> float:
    encode, decode = pipeline.encode, pipeline.decode
    loop = range(number)
    start = time.perf_counter()
    for _ in loop:
        decode(encode())
    return (time.perf_counter() - start) / number


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-n", "--number", type=int, default=10000, help="round trips per repeat")
    parser.add_argument("-r", "--repeat", type=int, default=7, help="repeats (the best counts)")
    parser.add_argument(
        "--chunk", type=int, default=500, help="round trips per turn when interleaving"
    )
    parser.add_argument("--no-fail", action="store_true", help="report only; always exit 0")
    args = parser.parse_args(argv)

    pipelines = {
        "sealed": make_sealed(),
        "secure_json": make_securecookie_json(),
        "secure_msgpack": make_securecookie_msgpack(),
        "reference": make_reference(),
        "starlette": make_starlette(),
        "flask": make_flask(),
        "django": make_django(),
        "fernet": make_fernet(),
    }
    for key, p in pipelines.items():
        got = p.round_trip()
        if got != p.expected:
            raise SystemExit(f"{key}: round trip changed the value: {got!r}")
        time_once(p, max(args.number // 10, 100))  # warm up

    # Interleave finely: each repeat runs every pipeline in turns of a few hundred round trips,
    # taking turns in a rotating order, so a burst of load from elsewhere on the machine hits
    # them alike instead of whichever happened to be running. The fastest turn counts (as with
    # timeit, the minimum is the estimate least disturbed by everything else on the machine).
    order = list(pipelines.values())
    chunk = max(1, min(args.chunk, args.number))
    for r in range(args.repeat):
        for c in range(max(1, args.number // chunk)):
            shift = (r + c) % len(order)
            for p in order[shift:] + order[:shift]:
                p.best = min(p.best, time_once(p, chunk))

    sealed = pipelines["sealed"]
    print(
        f"Python {sys.version.split()[0]}, websession {websession.__version__}: {args.repeat} x "
        f"{args.number} round trips (encode + decode) of a typical 8-key session per pipeline, "
        f"in interleaved turns of {chunk}; the fastest turn counts"
    )
    print()
    print(f"| {'pipeline':<48} | {'µs/round trip':>13} | {'vs sealed':>9} | {'cookie chars':>12} |")
    print(f"|{'-' * 50}|{'-' * 14}:|{'-' * 10}:|{'-' * 13}:|")
    for p in sorted(pipelines.values(), key=lambda p: p.best):
        length = len(p.encode())
        print(
            f"| {p.label:<48} | {p.best * 1e6:>13.1f} | {p.best / sealed.best:>8.2f}x "
            f"| {length:>12} |"
        )
    print()

    def ratio_time(a: str, b: str) -> float:
        return pipelines[a].best / pipelines[b].best

    def ratio_len(a: str, b: str) -> float:
        return len(pipelines[a].encode()) / len(pipelines[b].encode())

    targets = [
        ("SealedCookie round trip vs Starlette", ratio_time("sealed", "starlette"), 0.5),
        ("SealedCookie round trip vs Flask (as shipped)", ratio_time("sealed", "flask"), 0.2),
        (
            "SecureCookie (JSON, AES-256) vs straightforward port",
            ratio_time("secure_json", "reference"),
            0.8,
        ),
        (
            "sealed cookie length vs SecureCookie (JSON, AES-256)",
            ratio_len("sealed", "secure_json"),
            0.7,
        ),
    ]
    failed = 0
    print("| target | measured | limit | result |")
    print("|---|---:|---:|---|")
    for label, measured, limit in targets:
        ok = measured <= limit
        failed += not ok
        print(f"| {label} | {measured:.2f}x | <= {limit:.2f}x | {'PASS' if ok else 'FAIL'} |")
    print()
    if failed:
        print(f"{failed} target(s) FAILED")
        return 0 if args.no_fail else 1
    print("all targets PASS")
    return 0


if __name__ == "__main__":
    sys.exit(main())
