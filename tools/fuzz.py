"""Fuzz every cookie codec and every serializer: hostile input raises DecodeError, nothing else.

``make fuzz`` runs 1,000,000 inputs per target (``tools/fuzz.py --per-target N`` for another
count; ``tests/fuzz/test_fuzz.py`` runs 50,000 as part of ``make test``). The targets:

- cookies: ``SealedCookie`` (msgpack) and gorilla ``SecureCookie`` signed only (msgpack) and
  encrypted with msgpack, JSON, gob and nop serializers. Inputs are valid cookies mutated (bit
  flips, changed, inserted, deleted, swapped and duplicated characters, truncations) and, one
  in three, random text shaped like each format. A mutated cookie may only decode if its
  base64 still reads as the very same bytes (a change in the unused low bits of the last
  character, or a CR/LF that Go's decoder skips): anything else that decodes is a *forgery*.
- raw: ``MsgpackSerializer``, ``JSONSerializer`` and ``GobSerializer`` on bytes with no MAC in
  front, as a server-side store or a leaked key would hand them over: valid payloads mutated at
  the byte level (with length fields inflated and valid pieces spliced in) and random bytes.

Every decode must return or raise a ``DecodeError``: any other exception is an *escape*. The
report gives, per target, inputs, escapes, forgeries, how many mutated inputs still decoded,
and the slowest single decode (in CPU time of the thread, so that a busy machine's
scheduling pauses do not count, with the garbage collector held off while it runs, so that a
collection of the whole process's objects that a decode happens to trigger does not count).
Exit status 1 if any escape or forgery was found.
"""

from __future__ import annotations

import argparse
import base64
import datetime as dt
import decimal
import gc
import os
import random
import re
import string
import sys
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from websession import (
    Codec,
    DecodeError,
    GobSerializer,
    JSONSerializer,
    MsgpackSerializer,
    NopSerializer,
    SealedCookie,
    SecureCookie,
)

NAME = "session"
DEFAULT_SEED = 20261129
ALPHABET = string.ascii_letters + string.digits + "-_"
NOISE = ALPHABET + "=+/ |.!\r\n\t\x00é€"
# Keys made once per run (random, so hardening's weak-secret check is satisfied).
_HASH_KEY = os.urandom(32)
_BLOCK_KEY = os.urandom(32)
_SEALED_KEYS = [base64.urlsafe_b64encode(os.urandom(32)).decode() for _ in range(2)]

_PADDED = re.compile(r"(?:[A-Za-z0-9_-]{4})*(?:[A-Za-z0-9_-]{2}==|[A-Za-z0-9_-]{3}=)?")
_UNPADDED = re.compile(r"(?:[A-Za-z0-9_-]{4})*(?:[A-Za-z0-9_-]{2,3})?")


def raw_securecookie(text: str) -> bytes | None:
    """The bytes Go's decoder reads from ``text`` (it skips CR and LF), or None if invalid."""
    text = text.replace("\r", "").replace("\n", "")
    if not _PADDED.fullmatch(text):
        return None
    return base64.urlsafe_b64decode(text)


def raw_sealed(text: str) -> bytes | None:
    if not _UNPADDED.fullmatch(text):
        return None
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


# -- valid values ------------------------------------------------------------------------------


def session(
    rng: random.Random, *, rich: bool = False, str_keys: bool = True, binary: bool = True
) -> dict[Any, Any]:
    """A typical session; ``rich`` adds what msgpack keeps (tuples, sets, dates, ...)."""
    value: dict[Any, Any] = {
        "user_id": rng.randrange(10**9),
        "csrf": "".join(rng.choices(ALPHABET, k=32)),
        "roles": rng.sample(["admin", "editor", "viewer", "owner"], k=rng.randrange(4)),
        "_flash": ["x" * rng.randrange(50)],
        "score": rng.random() * 100,
        "prefs": {"theme": rng.choice(["dark", "light"]), "n": [1, 2, [3, None]]},
        "ok": rng.random() < 0.5,
    }
    if binary:
        value["blob"] = rng.randbytes(rng.randrange(8))
    if not str_keys:
        value[rng.randrange(100)] = "int key"
    if rich:
        value["t"] = (1, "two", (3.0, None))
        value["s"] = {rng.randrange(50) for _ in range(4)}
        value["f"] = frozenset({"a", "b"})
        value["at"] = dt.datetime(2026, 11, 29, 12, rng.randrange(60), tzinfo=dt.timezone.utc)
        value["d"] = dt.date(2026, 1, 1)
        value["td"] = dt.timedelta(seconds=rng.randrange(10**6))
        value["u"] = uuid.UUID(int=rng.getrandbits(128))
        value["price"] = decimal.Decimal("19.99")
        value[(1, 2)] = "tuple key"
    return value


# -- mutations ---------------------------------------------------------------------------------


def text_mutations(rng: random.Random) -> list[Callable[[str], str]]:
    def flip_bit(c: str) -> str:
        i = rng.randrange(len(c))
        return c[:i] + chr(ord(c[i]) ^ (1 << rng.randrange(7))) + c[i + 1 :]

    def change_char(c: str) -> str:
        i = rng.randrange(len(c))
        return c[:i] + rng.choice(ALPHABET.replace(c[i], "")) + c[i + 1 :]

    def insert(c: str) -> str:
        i = rng.randrange(len(c) + 1)
        return c[:i] + "".join(rng.choices(NOISE, k=rng.randrange(1, 4))) + c[i:]

    def delete(c: str) -> str:
        i = rng.randrange(len(c))
        return c[:i] + c[i + rng.randrange(1, 4) :]

    def truncate(c: str) -> str:
        return c[: rng.randrange(len(c))] if rng.random() < 0.7 else c[rng.randrange(1, len(c)) :]

    def swap(c: str) -> str:
        i, j = sorted(rng.sample(range(len(c)), 2))
        return c[:i] + c[j] + c[i + 1 : j] + c[i] + c[j + 1 :]

    def duplicate(c: str) -> str:
        i = rng.randrange(len(c))
        j = rng.randrange(i, min(len(c), i + 12) + 1)
        return c[:j] + c[i:j] + c[j:]

    def several(c: str) -> str:
        for _ in range(rng.randrange(2, 5)):
            c = change_char(c)
        return c

    return [flip_bit, change_char, change_char, insert, delete, truncate, swap, duplicate, several]


# Bytes that mean something to one of the formats: msgpack headers, gob's length bytes, JSON.
_INTERESTING = (
    bytes(
        (0x00, 0x01, 0x7F, 0x80, 0x8F, 0x90, 0x9F, 0xC0, 0xC1, 0xC7, 0xC9, 0xCA, 0xCB, 0xCF, 0xD3)
    )
    + bytes((0xD4, 0xD8, 0xD9, 0xDB, 0xDC, 0xDD, 0xDE, 0xDF, 0xF8, 0xFE, 0xFF))
    + b'[]{}",:0-.e'
)


def byte_mutations(rng: random.Random, seeds: list[bytes]) -> list[Callable[[bytes], bytes]]:
    def flip_bit(b: bytes) -> bytes:
        i = rng.randrange(len(b))
        return b[:i] + bytes((b[i] ^ (1 << rng.randrange(8)),)) + b[i + 1 :]

    def set_byte(b: bytes) -> bytes:
        i = rng.randrange(len(b))
        return b[:i] + bytes((rng.choice(_INTERESTING),)) + b[i + 1 :]

    def random_byte(b: bytes) -> bytes:
        i = rng.randrange(len(b))
        return b[:i] + bytes((rng.randrange(256),)) + b[i + 1 :]

    def insert(b: bytes) -> bytes:
        i = rng.randrange(len(b) + 1)
        return b[:i] + bytes(rng.choices(_INTERESTING, k=rng.randrange(1, 5))) + b[i:]

    def delete(b: bytes) -> bytes:
        i = rng.randrange(len(b))
        return b[:i] + b[i + rng.randrange(1, 5) :]

    def truncate(b: bytes) -> bytes:
        return b[: rng.randrange(len(b))]

    def inflate(b: bytes) -> bytes:  # a length or count field made huge
        i = rng.randrange(len(b))
        big = rng.choice([b"\xff\xff", b"\xff\xff\xff\xff", b"\xfb\xff\xff\xff", b"\x7f"])
        return b[:i] + big + b[i + len(big) :]

    def duplicate(b: bytes) -> bytes:
        i = rng.randrange(len(b))
        j = rng.randrange(i, min(len(b), i + 24) + 1)
        return b[:j] + b[i:j] * rng.randrange(1, 4) + b[j:]

    def splice(b: bytes) -> bytes:
        other = rng.choice(seeds)
        i, j = rng.randrange(len(b) + 1), rng.randrange(len(other) + 1)
        return b[:i] + other[j:]

    def several(b: bytes) -> bytes:
        for _ in range(rng.randrange(2, 5)):
            b = set_byte(b) if b else b
        return b

    return [
        flip_bit,
        set_byte,
        set_byte,
        random_byte,
        insert,
        delete,
        truncate,
        inflate,
        duplicate,
        splice,
        several,
    ]


def random_texts(rng: random.Random, securecookie: bool) -> list[Callable[[], str]]:
    def random_text() -> str:
        return "".join(rng.choices(NOISE, k=rng.randrange(0, 300)))

    def random_latin1() -> str:
        return rng.randbytes(rng.randrange(0, 300)).decode("latin-1")

    def random_alphabet() -> str:
        return "".join(rng.choices(ALPHABET, k=rng.randrange(0, 400)))

    def b64_of_random() -> str:
        text = base64.urlsafe_b64encode(rng.randbytes(rng.randrange(0, 300))).decode()
        return text if rng.random() < 0.5 else text.rstrip("=")

    def shaped_like_securecookie() -> str:
        ts = str(int(time.time()) - rng.randrange(-100, 10**6)).encode()
        value = base64.urlsafe_b64encode(rng.randbytes(rng.randrange(0, 200)))
        mac = rng.randbytes(rng.choice([0, 20, 31, 32, 33, 64]))
        return base64.urlsafe_b64encode(ts + b"|" + value + b"|" + mac).decode()

    def shaped_like_sealed() -> str:
        header = bytes([rng.choice([1, 2, 3])]) + rng.randbytes(4) + rng.randbytes(5)
        body = rng.randbytes(rng.randrange(0, 200))
        return base64.urlsafe_b64encode(header + body).decode().rstrip("=")

    shaped = shaped_like_securecookie if securecookie else shaped_like_sealed
    return [random_text, random_latin1, random_alphabet, b64_of_random, shaped, shaped]


# -- targets -----------------------------------------------------------------------------------


@dataclass
class Result:
    target: str
    inputs: int = 0
    escapes: list[str] = field(default_factory=list)
    forgeries: list[str] = field(default_factory=list)
    decoded_mutations: int = 0
    slowest: float = 0.0


def cookie_codecs() -> dict[str, tuple[Codec, Callable[[str], bytes | None], bool, bool]]:
    """label -> (codec, raw bytes of a cookie text, is gorilla's format, takes rich values)."""
    return {
        "sealed": (SealedCookie(_SEALED_KEYS), raw_sealed, False, True),
        "securecookie-signed-msgpack": (SecureCookie(_HASH_KEY), raw_securecookie, True, True),
        "securecookie-aes-msgpack": (
            SecureCookie(_HASH_KEY, _BLOCK_KEY),
            raw_securecookie,
            True,
            True,
        ),
        "securecookie-aes-json": (
            SecureCookie(_HASH_KEY, _BLOCK_KEY, serializer=JSONSerializer()),
            raw_securecookie,
            True,
            False,
        ),
        "securecookie-aes-gob": (
            SecureCookie(_HASH_KEY, _BLOCK_KEY, serializer=GobSerializer()),
            raw_securecookie,
            True,
            False,
        ),
        "securecookie-aes-nop": (
            SecureCookie(_HASH_KEY, _BLOCK_KEY, serializer=NopSerializer()),
            raw_securecookie,
            True,
            False,
        ),
    }


def fuzz_cookies(label: str, count: int, rng: random.Random) -> Result:
    codec, raw_of, securecookie, rich = cookie_codecs()[label]
    values: list[Any]
    if label.endswith("-nop"):
        values = [rng.randbytes(rng.randrange(1, 200)) for _ in range(50)]
    else:
        json = label.endswith("-json")
        values = [session(rng, rich=rich, str_keys=not rich, binary=not json) for _ in range(50)]
    valid = [codec.encode(NAME, v) for v in values]
    if label == "sealed":  # cookies sealed with the older key, and compressed ones
        older = SealedCookie(_SEALED_KEYS[1])
        valid += [older.encode(NAME, session(rng)) for _ in range(10)]
        valid += [codec.encode(NAME, {"big": ["same text"] * 200}) for _ in range(5)]
    raws = [raw_of(c) for c in valid]
    mutations = text_mutations(rng)
    randoms = random_texts(rng, securecookie)
    result = Result(label)
    decode = codec.decode
    clock = time.thread_time  # CPU time: the scheduler's pauses on a busy machine do not count
    for n in range(count):
        mutated_from: int | None = None
        if n % 3:
            mutated_from = rng.randrange(len(valid))
            text = rng.choice(mutations)(valid[mutated_from])
        else:
            text = rng.choice(randoms)()
        result.inputs += 1
        gc.disable()
        start = clock()
        try:
            decode(NAME, text)
        except DecodeError:
            continue
        except Exception as exc:  # anything else is a bug: keep the input
            result.escapes.append(f"{type(exc).__name__}: {exc} for {text!r}")
            continue
        finally:
            result.slowest = max(result.slowest, clock() - start)
            gc.enable()
        # It decoded: only allowed for text that reads as the same bytes as a valid cookie.
        raw = raw_of(text)
        if mutated_from is not None and raw is not None and raw == raws[mutated_from]:
            result.decoded_mutations += 1
        else:
            result.forgeries.append(text)
    for cookie, value in zip(valid, values, strict=False):  # the fuzzing changed nothing
        if codec.decode(NAME, cookie) != value:
            result.escapes.append(f"a valid cookie no longer decodes to its value: {cookie}")
    return result


def serializers() -> dict[str, tuple[Any, bool]]:
    """label -> (serializer, takes rich values)."""
    return {
        "msgpack-raw": (MsgpackSerializer(), True),
        "json-raw": (JSONSerializer(), False),
        "gob-raw": (GobSerializer(), False),
    }


def fuzz_serializer(label: str, count: int, rng: random.Random) -> Result:
    serializer, rich = serializers()[label]
    json = label == "json-raw"
    seeds = [serializer.serialize(session(rng, rich=rich, binary=not json)) for _ in range(40)]
    if label == "gob-raw":
        seeds += [serializer.serialize(session(rng, str_keys=False)) for _ in range(10)]
        seeds += [serializer.serialize(["a", 1, [2.5, None]]), serializer.serialize("text")]
    mutations = byte_mutations(rng, seeds)
    result = Result(label)
    decode = serializer.deserialize
    clock = time.thread_time  # CPU time: the scheduler's pauses on a busy machine do not count
    for n in range(count):
        if n % 5:
            data = rng.choice(seeds)
            for _ in range(rng.choice((1, 1, 1, 2, 3))):
                if data:
                    data = rng.choice(mutations)(data)
        else:
            data = rng.randbytes(rng.randrange(0, 200))
        result.inputs += 1
        gc.disable()
        start = clock()
        try:
            decode(data)
            result.decoded_mutations += 1
        except DecodeError:
            pass
        except Exception as exc:
            result.escapes.append(f"{type(exc).__name__}: {exc} for {data!r}")
        finally:
            result.slowest = max(result.slowest, clock() - start)
            gc.enable()
    return result


TARGETS = [*cookie_codecs(), *serializers()]


def run(per_target: int, seed: int, targets: list[str] | None = None) -> list[Result]:
    results = []
    for label in targets or TARGETS:
        rng = random.Random(f"{seed}:{label}")
        if label in serializers():
            results.append(fuzz_serializer(label, per_target, rng))
        else:
            results.append(fuzz_cookies(label, per_target, rng))
    return results


def report(results: list[Result], elapsed: float, seed: int) -> str:
    lines = [
        "| target | inputs | escapes | forgeries | mutated inputs that decoded | slowest |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        lines.append(
            f"| {r.target} | {r.inputs:,} | {len(r.escapes)} | {len(r.forgeries)} | "
            f"{r.decoded_mutations:,} | {r.slowest * 1e3:.2f} ms |"
        )
    total = sum(r.inputs for r in results)
    escapes = sum(len(r.escapes) for r in results)
    forgeries = sum(len(r.forgeries) for r in results)
    lines.append("")
    lines.append(
        f"{total:,} inputs, {escapes} escapes, {forgeries} forgeries in {elapsed:.0f} s "
        f"(seed {seed}, Python {sys.version.split()[0]})"
    )
    for r in results:
        for problem in (r.escapes + [f"forgery: {f!r}" for f in r.forgeries])[:5]:
            lines.append(f"{r.target}: {problem[:500]}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--per-target", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=int(os.environ.get("FUZZ_SEED", DEFAULT_SEED)))
    parser.add_argument("--target", action="append", choices=TARGETS, help="repeatable")
    args = parser.parse_args(argv)
    start = time.perf_counter()
    results = run(args.per_target, args.seed, args.target)
    print(report(results, time.perf_counter() - start, args.seed))
    return 1 if any(r.escapes or r.forgeries for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
