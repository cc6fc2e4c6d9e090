"""Coverage-guided fuzzing of the msgpack, JSON and gob decoders with atheris (libFuzzer).

    pip install atheris
    mkdir -p corpus/msgpack
    python tools/atheris_decoders.py msgpack corpus/msgpack -runs=2000000 -max_len=4096

The corpus directory (libFuzzer's first argument) gets a few valid values as seeds.
Any exception other than ``DecodeError`` is a finding (libFuzzer stops and writes the input
to ``crash-*``), as is a decode slower than ``-timeout`` seconds. ``tools/fuzz.py`` (``make
fuzz``) is the mutation fuzzer that needs nothing installed; this one follows the decoders'
branches. The serializers run with their default limits.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import decimal
import os
import sys
import uuid
from typing import Any

import atheris

with atheris.instrument_imports():
    from websession import DecodeError, GobSerializer, JSONSerializer, MsgpackSerializer

DECODERS: dict[str, Any] = {
    "msgpack": MsgpackSerializer(),
    "json": JSONSerializer(),
    "gob": GobSerializer(),
}

# Seeds: a valid value of each kind, so that mutations start from the formats' structure.
_DATE = dt.datetime(2026, 11, 29, 12, 30, tzinfo=dt.timezone.utc)
SEED_VALUES: dict[str, list[Any]] = {
    "msgpack": [
        {"a": [1, 2.5, None, True], "t": (1, "x", (2,)), "s": {1, 2}, 7: b"\x00"},
        {"at": _DATE, "d": _DATE.date(), "td": dt.timedelta(3), "f": frozenset({(1, 2)})},
        {"u": uuid.UUID(int=7), "p": decimal.Decimal("9.99"), "n": {"k": [[], {}]}},
    ],
    "json": [{"a": [1, 2.5, None, True], "b": {"c": "d<&>"}}, [1, "x", {"y": []}]],
    "gob": [{"a": [1, 2.5, None, True], "b": {"c": "d"}, 7: b"\x00"}, ["x", 1], "text"],
}


def main() -> None:
    name = sys.argv.pop(1) if len(sys.argv) > 1 and sys.argv[1] in DECODERS else "msgpack"
    decoder = DECODERS[name]
    corpus = [arg for arg in sys.argv[1:] if not arg.startswith("-")]
    if corpus and os.path.isdir(corpus[0]):
        for i, value in enumerate(SEED_VALUES[name]):
            with open(os.path.join(corpus[0], f"seed-{i}"), "wb") as f:
                f.write(decoder.serialize(value))

    def test_one_input(data: bytes) -> None:
        with contextlib.suppress(DecodeError):  # anything else is a finding
            decoder.deserialize(data)

    atheris.Setup(sys.argv, test_one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
