"""Add ``python_hex`` to each gob vector of go-vectors.json: GobSerializer's re-encoding of it.

Run between ``govectors gen`` and ``govectors check`` (see README.md):
``python tools/govectors/python_hex.py < go-vectors.json > with-python.json``.
"""

from __future__ import annotations

import json
import sys

from websession import GobSerializer


def main() -> None:
    doc = json.load(sys.stdin)
    gob = GobSerializer()
    for vector in doc["gob"]:
        value = gob.deserialize(bytes.fromhex(vector["hex"]))
        vector["python_hex"] = gob.serialize(value).hex()
    json.dump(doc, sys.stdout, indent=1, ensure_ascii=False)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
