"""`websession keygen`: random keys in the forms the stores and gorilla take."""

from __future__ import annotations

import base64

import pytest

import websession
from tests.support.cli import run
from websession.cli import main


def test_keygen_prints_32_random_bytes_base64url():
    result = run("keygen")
    assert result.returncode == 0, result.stderr
    text = result.stdout.strip()
    raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    assert len(raw) == 32
    assert run("keygen").stdout.strip() != text

def test_keygen_hex_and_bytes(capsys):
    assert main(["keygen", "--hex", "--bytes", "48"]) == 0
    assert len(bytes.fromhex(capsys.readouterr().out.strip())) == 48

def test_keygen_gorilla_pair_is_usable(capsys):
    assert main(["keygen", "--gorilla"]) == 0
    lines = dict(line.split(":", 1) for line in capsys.readouterr().out.strip().splitlines())
    hash_key, block_key = bytes.fromhex(lines["hash key"]), bytes.fromhex(lines["block key"])
    assert (len(hash_key), len(block_key)) == (64, 32)
    websession.SecureCookie(hash_key, block_key)  # accepted as they are

def test_keygen_refuses_short_keys(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["keygen", "--bytes", "8"])
    assert exc.value.code == 2
    assert "at least 16" in capsys.readouterr().err
