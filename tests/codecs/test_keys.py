"""Secret rules: weak secrets are refused unless wrapped in InsecureSecret (issue 9).

One captured cookie carries its key id in clear, so a weak secret can be found offline by
trying a word list against it, and then any session forged. These tests show that attack on a
deliberately insecure store, and that the same secrets are refused everywhere else.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import itertools
import logging
import time
import warnings
from pathlib import Path
from typing import Any

import pytest

import websession
from websession import (
    CookieStore,
    FilesystemStore,
    InsecureSecret,
    MemoryStore,
    SealedCookie,
    SecureCookie,
    codecs_from_pairs,
    open_store,
)
from websession.codecs import WeakSecretWarning, framework_secret, weak_secret_reason
from websession.codecs.keys import derive_key

STRONG = "Umf-yG9Uo0c8BTBJvF29CrK34JWDVm74rwcSQg-ixmY"
WEAK = ["a", "changeme", b"\x00", "k" * 32, b"x" * 32, "changeme" * 4, "0123" * 10, "secret"]


def _cookie_value(header: str) -> str:
    return header.split(";", 1)[0].split("=", 1)[1]


@pytest.mark.parametrize("secret", WEAK, ids=repr)
@pytest.mark.parametrize(
    "make",
    [
        CookieStore,
        SealedCookie,
        MemoryStore,
        lambda s: open_store("memory://", s),
        lambda s: CookieStore([STRONG, s]),  # an old secret in a rotation list too
    ],
    ids=["CookieStore", "SealedCookie", "MemoryStore", "open_store", "rotation"],
)
def test_weak_secrets_are_refused_naming_keygen(make: Any, secret: str | bytes) -> None:
    with pytest.raises(ValueError, match="websession keygen") as info:
        make(secret)
    assert "InsecureSecret" in str(info.value)
    assert repr(secret) not in str(info.value)  # the message never repeats the secret


def test_weak_secrets_are_refused_by_the_filesystem_store(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="websession keygen"):
        FilesystemStore(tmp_path / "s", "changeme")


@pytest.mark.parametrize("secret", WEAK, ids=repr)
def test_insecure_secret_lets_a_weak_secret_through(secret: str | bytes) -> None:
    store = CookieStore(InsecureSecret(secret))
    session = store.new("s", None)
    session["n"] = 1
    again = store.new("s", _cookie_value(store.save(session)))
    assert again["n"] == 1
    assert str(secret) not in repr(InsecureSecret(secret)) or len(str(secret)) < 3


def test_insecure_secret_is_the_same_key_as_the_plain_secret() -> None:
    """Wrapping changes nothing but the check: cookies open across the two."""
    sealed = CookieStore(InsecureSecret(STRONG))
    session = sealed.new("s", None)
    session["n"] = 2
    assert CookieStore(STRONG).new("s", _cookie_value(sealed.save(session)))["n"] == 2


def test_strong_secrets_pass() -> None:
    for secret in [
        STRONG,
        websession.generate_random_key(),
        websession.generate_random_key(32).hex(),
        "a long passphrase of several words, 32+ bytes",
    ]:
        assert weak_secret_reason(secret) is None
        CookieStore(secret)


@pytest.mark.parametrize("value", [123, 1.5, object(), {"k": STRONG}])
def test_a_secret_of_the_wrong_type_says_what_it_takes(value: Any) -> None:
    with pytest.raises(TypeError, match="str or bytes"):
        CookieStore(value)


def test_a_list_with_a_wrong_item_names_it() -> None:
    with pytest.raises(TypeError, match=r"secret_keys\[1\] is int"):
        CookieStore([STRONG, 123])


def test_gorilla_hash_keys_under_32_bytes_warn() -> None:
    with pytest.warns(WeakSecretWarning, match="gorilla recommends 32 or 64"):
        SecureCookie(b"short-hash-key")
    with pytest.warns(WeakSecretWarning):
        codecs_from_pairs(b"h" * 32, websession.generate_random_key())
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        SecureCookie(websession.generate_random_key(32))
        SecureCookie(websession.generate_random_key(64), websession.generate_random_key(32))
        SecureCookie(InsecureSecret(b"12345"))  # deliberate: no warning


def test_framework_secret_warns_and_wraps_a_weak_one(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="websession"):
        got = framework_secret("dev", "Flask's app.secret_key")
    assert isinstance(got, InsecureSecret)
    assert got == b"dev"
    CookieStore(got)  # accepted: the drop-in keeps the application working
    [record] = caplog.records
    assert record.levelno == logging.WARNING
    assert "Flask's app.secret_key is weak" in record.getMessage()
    assert "websession keygen" in record.getMessage()
    assert "'dev'" not in record.getMessage()


def test_framework_secret_keeps_a_strong_one_quietly(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.DEBUG, logger="websession"):
        got = framework_secret(STRONG, "Starlette's secret_key")
    assert got == STRONG.encode()
    assert not isinstance(got, InsecureSecret)
    assert not caplog.records
    with pytest.raises(TypeError):
        framework_secret(42, "x")  # type: ignore[arg-type]


def _words(count: int) -> list[str]:
    """A word list the size of the one in the review (50k), with common secrets at the end."""
    syllables = ["ka", "lo", "mi", "ne", "ru", "sa", "ti", "vo", "be", "da", "fe", "gu", "ho"]
    made = ("".join(p) for n in (2, 3, 4, 5) for p in itertools.product(syllables, repeat=n))
    common = ["secret", "changeme", "password", "admin", "development", "flask-secret"]
    return [*itertools.islice(made, count - len(common)), *common]


def test_a_word_list_finds_a_weak_secret_and_forges_a_session_so_it_is_refused() -> None:
    """The review's attack: one cookie + 50k words -> the secret -> an admin session."""
    words = _words(50_000)
    assert len(words) == 50_000
    victim = CookieStore(InsecureSecret("changeme"))  # only possible when asked for explicitly
    session = victim.new("session", None)
    session["user"] = "alice"
    captured = _cookie_value(victim.save(session))

    # The key id is in clear (bytes 1..4 of the envelope): each guess costs one HKDF.
    envelope = base64.urlsafe_b64decode(captured + "=" * (-len(captured) % 4))
    started = time.perf_counter()
    found = next(
        w
        for w in words
        if derive_key(w.encode(), "sealed-cookie aes-256-gcm-siv v1", 36)[32:] == envelope[1:5]
    )
    assert found == "changeme"
    assert time.perf_counter() - started < 30  # seconds: the review measured 0.17 s

    attacker = CookieStore(InsecureSecret(found))
    forged = attacker.new("session", None)
    forged["user"], forged["admin"] = "mallory", True
    opened = victim.new("session", _cookie_value(attacker.save(forged)))
    assert opened["admin"] is True  # the attack works on a weak secret...

    for word in words:  # ...and none of these secrets is accepted without InsecureSecret
        with pytest.raises(ValueError, match="websession keygen"):
            CookieStore(word)


def test_the_starlette_drop_in_keeps_a_weak_secret_with_a_warning(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Starlette accepted any secret_key: the drop-in warns instead of breaking the app."""
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import PlainTextResponse
    from starlette.routing import Route
    from starlette.testclient import TestClient

    from websession.starlette import SessionMiddleware

    async def count(request: Request) -> PlainTextResponse:
        request.session["n"] = request.session.get("n", 0) + 1
        return PlainTextResponse(str(request.session["n"]))

    app = Starlette(routes=[Route("/", count)])
    with caplog.at_level(logging.WARNING, logger="websession"):
        wrapped = SessionMiddleware(app, secret_key="dev-secret")
    assert any("secret_key is weak" in r.getMessage() for r in caplog.records)
    assert all("dev-secret" not in r.getMessage() for r in caplog.records)
    with TestClient(wrapped) as client:
        assert [client.get("/").text for _ in range(2)] == ["1", "2"]


# -- what the key rules and helpers refuse, and the HMAC they precompute -----------------------
def test_a_repeated_piece_is_weak_however_many_distinct_bytes_it_has() -> None:
    with pytest.raises(ValueError, match=r"one 20-byte piece repeated"):
        websession.SealedCookie(bytes(range(20)) * 2)


def test_insecure_secret_takes_only_text_or_bytes() -> None:
    with pytest.raises(TypeError, match="not int"):
        InsecureSecret(123)  # type: ignore[arg-type]


def test_generate_random_key_refuses_a_negative_length() -> None:
    with pytest.raises(ValueError, match="negative"):
        websession.generate_random_key(-1)
    assert websession.generate_random_key(0) == b""


@pytest.mark.parametrize("digest", ["sha1", "sha256", hashlib.sha512])
@pytest.mark.parametrize("key_length", [16, 64, 200])  # shorter, equal to, longer than a block
def test_keyed_hash_is_the_standard_hmac(digest: Any, key_length: int) -> None:
    from websession.codecs.keys import KeyedHash

    key = bytes(range(256))[:key_length]
    for message in (b"", b"1700000000|payload", bytes(1000)):
        assert KeyedHash(key, digest)(message) == hmac.new(key, message, digest).digest()
