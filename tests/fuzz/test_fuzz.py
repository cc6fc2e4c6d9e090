"""Fuzz the codecs and serializers: hostile input raises DecodeError and nothing else.

Runs ``tools/fuzz.py`` (``make fuzz``: 1,000,000 inputs per target) with 50,000 inputs per
target: every cookie codec (sealed; gorilla securecookie signed, and encrypted with msgpack,
JSON, gob and nop) and the msgpack, JSON and gob decoders on raw bytes. No escape (an exception
other than DecodeError) and no forgery (a changed cookie that decodes) may be found.
"""

from __future__ import annotations

import importlib.util
import os
import sys
import time
from pathlib import Path
from types import ModuleType

import pytest

from websession import SealedCookie, SecureCookie, generate_random_key

PER_TARGET = int(os.environ.get("WEBSESSION_FUZZ_PER_TARGET", "50000"))
NAME = "session"


def _load_fuzz() -> ModuleType:
    path = Path(__file__).resolve().parents[2] / "tools" / "fuzz.py"
    spec = importlib.util.spec_from_file_location("websession_fuzz_tool", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


fuzz = _load_fuzz()


@pytest.mark.slow
@pytest.mark.parametrize("target", fuzz.TARGETS)
def test_fuzz(target: str) -> None:
    seed = int(os.environ.get("WEBSESSION_FUZZ_SEED", fuzz.DEFAULT_SEED))
    start = time.perf_counter()
    (result,) = fuzz.run(PER_TARGET, seed, [target])
    print("\n" + fuzz.report([result], time.perf_counter() - start, seed))
    assert result.inputs == PER_TARGET
    assert not result.escapes, result.escapes[:3]
    assert not result.forgeries, result.forgeries[:3]
    # The oracle saw both outcomes: most mutations are refused, some inputs decode.
    assert 0 < result.decoded_mutations < PER_TARGET // 2
    # No input is costly: the slowest decode (CPU time) stays far under the 10 ms budget.
    assert result.slowest < 0.010


def test_raw_helpers_agree_with_the_codecs() -> None:
    """The fuzz oracle itself: valid cookies read back as their bytes, junk as None."""
    secure = SecureCookie(generate_random_key()).encode(NAME, {"a": 1})
    sealed = SealedCookie(generate_random_key()).encode(NAME, {"a": 1})
    raw = fuzz.raw_securecookie(secure)
    assert raw is not None
    assert raw.startswith(str(int(time.time()))[:5].encode())
    assert fuzz.raw_securecookie(secure[:-1]) is None
    assert fuzz.raw_securecookie(secure[:10] + "\r\n" + secure[10:]) == raw
    assert fuzz.raw_sealed(sealed) is not None
    assert fuzz.raw_sealed(sealed + "=") is None
    assert fuzz.raw_sealed(sealed + "A") is None or len(sealed) % 4 in (1, 2)
