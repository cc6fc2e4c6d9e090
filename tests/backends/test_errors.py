"""The one error translation every backend uses (websession.backends._errors)."""

from __future__ import annotations

import pytest

from websession import StoreUnavailable
from websession.backends._errors import translate, unavailable


def test_an_outage_becomes_store_unavailable_naming_the_service_and_the_cause() -> None:
    with (
        pytest.raises(StoreUnavailable) as exc,
        translate("Redis", (ConnectionError, TimeoutError)),
    ):
        raise TimeoutError("timed out after 1.0 s")
    assert str(exc.value) == "Redis is unavailable: TimeoutError: timed out after 1.0 s"
    assert isinstance(exc.value.__cause__, TimeoutError)


def test_an_error_without_a_message_still_names_its_type() -> None:
    assert str(unavailable("memcached a:11211", ConnectionResetError())) == (
        "memcached a:11211 is unavailable: ConnectionResetError"
    )


def test_other_errors_pass_through_unchanged() -> None:
    with pytest.raises(KeyError), translate("MongoDB", (ConnectionError,)):
        raise KeyError("a bug, not an outage")


def test_when_keeps_the_errors_it_refuses() -> None:
    """DynamoDB's ClientError is an outage only for some codes: the others are the caller's."""

    def outage(exc: BaseException) -> bool:
        return "Throttl" in str(exc)

    with pytest.raises(StoreUnavailable), translate("DynamoDB", (RuntimeError,), outage):
        raise RuntimeError("ThrottlingException")
    with (
        pytest.raises(RuntimeError, match="ValidationException"),
        translate("DynamoDB", (RuntimeError,), outage),
    ):
        raise RuntimeError("ValidationException")


def test_nothing_raised_nothing_translated() -> None:
    with translate("Redis", (ConnectionError,)):
        value = 1
    assert value == 1
