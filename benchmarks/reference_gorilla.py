"""gorilla/securecookie written the obvious way, as a yardstick for the benchmark.

This is what a Python developer would write from gorilla's ``securecookie.go`` with the standard
library and ``cryptography``: JSON with a trailing newline (Go's ``json.Encoder``), AES-CTR with a
random IV through a new ``Cipher`` per call, HMAC-SHA256 with ``hmac.new``, and
``base64.urlsafe_b64encode``/``urlsafe_b64decode`` twice. It reads and writes gorilla's cookies
for ordinary values but skips the finer points (strict base64, Go's HTML escaping, typed errors).
It is not used by the library or the tests.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import time
from typing import Any

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes


class ReferenceSecureCookie:
    def __init__(self, hash_key: bytes, block_key: bytes | None = None, max_age: int = 2592000):
        self.hash_key = hash_key
        self.block_key = block_key
        self.max_age = max_age

    def encode(self, name: str, value: Any) -> str:
        data = (json.dumps(value, separators=(",", ":"), sort_keys=True) + "\n").encode("utf-8")
        if self.block_key is not None:
            iv = os.urandom(16)
            enc = Cipher(algorithms.AES(self.block_key), modes.CTR(iv)).encryptor()
            data = iv + enc.update(data) + enc.finalize()
        b64 = base64.urlsafe_b64encode(data)
        signed = str(int(time.time())).encode() + b"|" + b64
        mac = hmac.new(self.hash_key, name.encode() + b"|" + signed, hashlib.sha256).digest()
        return base64.urlsafe_b64encode(signed + b"|" + mac).decode()

    def decode(self, name: str, value: str) -> Any:
        raw = base64.urlsafe_b64decode(value.encode())
        parts = raw.split(b"|", 2)
        if len(parts) != 3:
            raise ValueError("securecookie: the value is not valid")
        signed = raw[: len(raw) - len(parts[2]) - 1]
        mac = hmac.new(self.hash_key, name.encode() + b"|" + signed, hashlib.sha256).digest()
        if not hmac.compare_digest(mac, parts[2]):
            raise ValueError("securecookie: the value is not valid")
        if int(parts[0]) < int(time.time()) - self.max_age:
            raise ValueError("securecookie: expired timestamp")
        data = base64.urlsafe_b64decode(parts[1])
        if self.block_key is not None:
            dec = Cipher(algorithms.AES(self.block_key), modes.CTR(data[:16])).decryptor()
            data = dec.update(data[16:]) + dec.finalize()
        return json.loads(data)
