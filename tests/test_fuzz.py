"""Fuzz the codecs: hostile cookies raise DecodeError and nothing else, and no forgery opens.

Well over 100,000 inputs in total go to SecureCookie (signed only, and encrypted with msgpack
and with JSON) and to SealedCookie: random bytes and strings, base64 of random data, values
shaped like each format around random MACs and ciphertexts, and valid cookies that are
mutated (bit flips, changed, inserted, deleted and swapped characters, truncations,
duplicated slices). Every decode either succeeds or raises a DecodeError subclass; a mutated
cookie may only decode if its base64 still decodes to the very same bytes (a change in the
unused low bits of the last base64 character, or a CR/LF that Go's decoder skips).
"""

from __future__ import annotations

import base64
import os
import random
import re
import string
import time
from collections.abc import Callable
from typing import Any

import pytest

from websession import (
    Codec,
    DecodeError,
    JSONSerializer,
    MsgpackSerializer,
    SealedCookie,
    SecureCookie,
)

PER_CODEC = 30_000
NAME = "session"
NEWEST_SECRET = "Z6cVZF0PSzSE_MQ8HJyk2KLE4UFAkvHVAfTosa9SR7w"
OLDER_SECRET = "uSPlfF3kBNLtiiZcD_Lduq545IzSAmx9ZLDvnzvhR5Y"
SEED = int(os.environ.get("WEBSESSION_FUZZ_SEED", "20261122"))
ALPHABET = string.ascii_letters + string.digits + "-_"
NOISE = ALPHABET + "=+/ |.!\r\n\t\x00é€"

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


def _session(rng: random.Random) -> dict[str, Any]:
    return {
        "user_id": rng.randrange(10**9),
        "csrf": "".join(rng.choices(ALPHABET, k=32)),
        "roles": rng.sample(["admin", "editor", "viewer", "owner"], k=rng.randrange(4)),
        "_flash": ["x" * rng.randrange(50)],
    }


# -- inputs ----------------------------------------------------------------------------------


def _mutations(rng: random.Random) -> list[Callable[[str], str]]:
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


def _random_inputs(rng: random.Random, securecookie: bool) -> list[Callable[[], str]]:
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


# -- the fuzz loop ---------------------------------------------------------------------------


def _codecs() -> dict[str, tuple[Codec, Callable[[str], bytes | None], bool]]:
    hash_key = bytes.fromhex("93e1b7c5a2f04d6e8b1c3a5f7d9e0b2c4a6e8f1d3b5c7a9e2f4d6b8c0a1e3f5d")
    block_key = bytes.fromhex("2b7e151628aed2a6abf7158809cf4f3c762e7160f38b4da56a784d9045190cfe")
    return {
        "securecookie-signed": (
            SecureCookie(hash_key, serializer=MsgpackSerializer()),
            raw_securecookie,
            True,
        ),
        "securecookie-aes-msgpack": (SecureCookie(hash_key, block_key), raw_securecookie, True),
        "securecookie-aes-json": (
            SecureCookie(hash_key, block_key, serializer=JSONSerializer()),
            raw_securecookie,
            True,
        ),
        "sealed": (SealedCookie([NEWEST_SECRET, OLDER_SECRET]), raw_sealed, False),
    }


def _fuzz_one(
    label: str,
    codec: Codec,
    raw_of: Callable[[str], bytes | None],
    securecookie: bool,
    rng: random.Random,
) -> tuple[int, int]:
    """Return (inputs fed, mutated cookies that had to fail and did)."""
    valid = [codec.encode(NAME, _session(rng)) for _ in range(50)]
    if label == "sealed":  # some cookies sealed with the older key, and some compressed ones
        older = SealedCookie(OLDER_SECRET)
        valid += [older.encode(NAME, _session(rng)) for _ in range(10)]
        valid += [codec.encode(NAME, {"big": ["same text"] * 200}) for _ in range(5)]
    raws = [raw_of(c) for c in valid]
    mutations = _mutations(rng)
    randoms = _random_inputs(rng, securecookie)

    fed = rejected_mutations = 0
    for n in range(PER_CODEC):
        mutated_from: int | None = None
        if n % 3:
            mutated_from = rng.randrange(len(valid))
            text = rng.choice(mutations)(valid[mutated_from])
        else:
            text = rng.choice(randoms)()
        fed += 1
        try:
            codec.decode(NAME, text)
        except DecodeError:
            if mutated_from is not None:
                rejected_mutations += 1
            continue
        except Exception as exc:  # anything else is a bug: show the input
            raise AssertionError(f"{label}: {type(exc).__name__}: {exc} for input {text!r}")
        # It decoded: only allowed for text that reads as the same bytes as a valid cookie.
        raw = raw_of(text)
        same_bytes = mutated_from is not None and raw is not None and raw == raws[mutated_from]
        assert same_bytes, f"{label}: a forged or mutated cookie decoded: {text!r}"
    for cookie in valid:  # the fuzzing changed nothing
        codec.decode(NAME, cookie)
    return fed, rejected_mutations


@pytest.mark.slow
def test_fuzz_codecs() -> None:
    rng = random.Random(SEED)
    total = total_rejected = 0
    start = time.perf_counter()
    for label, (codec, raw_of, securecookie) in _codecs().items():
        fed, rejected = _fuzz_one(label, codec, raw_of, securecookie, rng)
        assert rejected > PER_CODEC // 2
        total += fed
        total_rejected += rejected
    elapsed = time.perf_counter() - start
    print(
        f"\nfuzz: {total} inputs ({total_rejected} mutated valid cookies rejected) "
        f"in {elapsed:.1f} s, seed {SEED}"
    )
    assert total >= 100_000


def test_raw_helpers_agree_with_the_codecs() -> None:
    """The fuzz oracle itself: valid cookies read back as their bytes, junk as None."""
    secure = SecureCookie(NEWEST_SECRET).encode(NAME, {"a": 1})
    sealed = SealedCookie(NEWEST_SECRET).encode(NAME, {"a": 1})
    raw = raw_securecookie(secure)
    assert raw is not None
    assert raw.startswith(str(int(time.time()))[:5].encode())
    assert raw_securecookie(secure[:-1]) is None
    assert raw_securecookie(secure[:10] + "\r\n" + secure[10:]) == raw
    assert raw_sealed(sealed) is not None
    assert raw_sealed(sealed + "=") is None
    assert raw_sealed(sealed + "A") is None or len(sealed) % 4 in (1, 2)
