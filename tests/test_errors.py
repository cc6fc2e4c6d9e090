"""websession.errors: what callers catch and what logs and metrics read from an error."""

from __future__ import annotations

import pytest

import websession
from websession import errors


def test_every_public_error_is_a_websession_error_and_exported() -> None:
    for name in errors.__all__:
        error = getattr(errors, name)
        assert issubclass(error, errors.WebsessionError), name
        assert getattr(websession, name) is error, f"websession.{name}"


@pytest.mark.parametrize("error", [errors.DecodeError, errors.EncodeError])
def test_bad_values_are_value_errors_too(error: type[Exception]) -> None:
    # code that already catches ValueError around a decode keeps working
    assert issubclass(error, ValueError)


@pytest.mark.parametrize(
    ("error", "reason"),
    [
        (errors.InvalidSignature, "invalid_signature"),
        (errors.Expired, "expired"),
        (errors.IdleTimeout, "idle_timeout"),  # its own reason, though an Expired
        (errors.AbsoluteTimeout, "absolute_timeout"),
        (errors.TooNew, "too_new"),
        (errors.TooLong, "too_long"),
        (errors.Malformed, "malformed"),
        (errors.SessionNotFound, "not_found"),
        (errors.Revoked, "revoked"),
        (errors.DecodeError, "decode_error"),
    ],
)
def test_each_decode_error_has_its_reason(error: type[errors.DecodeError], reason: str) -> None:
    assert error().reason == reason


def test_the_default_message_is_gorillas_so_logs_read_the_same_in_go() -> None:
    assert str(errors.InvalidSignature()) == "securecookie: the value is not valid"
    assert str(errors.InvalidSignature("mine")) == "mine"


def test_a_decode_error_carries_each_codecs_own_error() -> None:
    first, second = errors.Expired(), errors.InvalidSignature()
    combined = errors.InvalidSignature(errors=[first, second])
    assert combined.errors == (first, second)


def test_save_error_names_the_failed_sessions_and_keeps_the_saved_cookies() -> None:
    failure = errors.StoreUnavailable("redis down")
    error = errors.SaveError({"cart": failure}, ["session=abc; Path=/"])
    assert "'cart'" in str(error)
    assert "redis down" in str(error)
    assert error.errors == {"cart": failure}
    assert error.headers == ["session=abc; Path=/"]
