"""A Django project switches from Django's own session engines to websession, no one logged out.

The project (tests/support/apps/legacy_django.py) runs under gunicorn on one of Django's engines
(``signed_cookies``, ``db``, ``cache``, ``cached_db``, ``file``); a user logs in; the project
restarts on ``websession.django`` with the matching reader (``DjangoSignedCookie`` or
``DjangoSessions``): the user's values are there (through Django's sync and async session
APIs), the response re-issues ``sessionid`` as a sealed websession cookie that websession's
store opens alone. A tampered cookie, a reader past ``until=`` and a pickle-serialized session
give a fresh session with the reason, never a 500.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.support.live import Browser, gunicorn, set_cookies

SECRET = "the django project's SECRET_KEY, 9fQ2mZ7xKp4LwT8v"
VALUES = {"user": "alice", "roles": ["admin", "staff"], "visits": 3}
NOBODY = {"user": None, "roles": None, "visits": None}
PICKLE = "tests.support.apps.legacy_django.PickleSerializer"


@contextmanager
def project(directory: Path, engine: str, *, switched: bool, **env: str) -> Iterator[str]:
    environment = {
        "DJANGO_SETTINGS_MODULE": "tests.support.apps.legacy_django",
        "LEGACY_ENGINE": engine,
        "LEGACY_DIR": str(directory),
        "LEGACY_SECRET": SECRET,
        "LEGACY_SWITCHED": "1" if switched else "0",
        **env,
    }
    with gunicorn("tests.support.apps.legacy_django:application", environment) as url:
        yield url


def opens_in_websession(directory: Path, value: str) -> dict:
    """What websession's store holds for the re-issued cookie, read with no reader at all."""
    from websession import FilesystemStore

    session = FilesystemStore(directory / "websession", SECRET).new("sessionid", value)
    assert not session.is_new, session.reason
    return dict(session)


def tampered(value: str) -> str:
    middle = len(value) // 2
    return value[:middle] + ("a" if value[middle] != "a" else "b") + value[middle + 1 :]


@pytest.mark.slow  # serves a Django project for each step (about 3 s each)
@pytest.mark.parametrize("engine", ["signed_cookies", "db", "cache", "cached_db", "file"])
def test_switching_keeps_the_user_logged_in(tmp_path: Path, engine: str) -> None:
    with project(tmp_path, engine, switched=False) as url:
        browser = Browser(url)
        browser.post("/login")
        before = browser.get("/me").json()
        assert before["values"] == VALUES
        assert before["engine"] == f"django.contrib.sessions.backends.{engine}"
        old = browser.cookies["sessionid"]

    with project(tmp_path, engine, switched=True) as url:
        browser = Browser(url, cookies={"sessionid": old})
        response = browser.get("/me")
        assert response.status_code == 200
        assert response.json() == {"values": VALUES, "engine": "websession.django", "reason": None}
        sealed = set_cookies(response)["sessionid"]
        assert sealed.value != old
        assert not sealed.deletes
        # the sealed cookie opens in websession's store alone: no reader needed any more
        assert opens_in_websession(tmp_path, sealed.value) == VALUES
        assert browser.get("/me").json()["values"] == VALUES
        assert "sessionid" not in set_cookies(browser.get("/me"))  # nothing left to re-seal

        # a tampered old cookie: a fresh session and the reason, not an error
        reason = "invalid_signature" if engine == "signed_cookies" else "not_found"
        response = Browser(url, cookies={"sessionid": tampered(old)}).get("/me")
        assert response.status_code == 200
        assert response.json()["values"] == NOBODY
        assert response.json()["reason"] == reason

        # Django's async session API adopts the same way (the reader's async path)
        response = Browser(url, cookies={"sessionid": old}).get("/ame")
        assert response.json() == {"values": VALUES, "engine": "websession.django", "reason": None}
        assert opens_in_websession(tmp_path, set_cookies(response)["sessionid"].value) == VALUES

    with project(tmp_path, engine, switched=True, LEGACY_UNTIL="2020-01-01") as url:
        response = Browser(url, cookies={"sessionid": old}).get("/me")
        assert response.status_code == 200
        assert response.json()["values"] == NOBODY
        assert response.json()["reason"] == "expired"


@pytest.mark.slow  # serves a Django project for each step (about 3 s each)
@pytest.mark.parametrize("engine", ["signed_cookies", "db"])
def test_a_pickle_serialized_session_is_refused(tmp_path: Path, engine: str) -> None:
    with project(tmp_path, engine, switched=False, LEGACY_SERIALIZER=PICKLE) as url:
        browser = Browser(url)
        browser.post("/login")
        assert browser.get("/me").json()["values"] == VALUES  # Django itself reads it
        old = browser.cookies["sessionid"]
    # The project keeps its settings (SESSION_SERIALIZER too) and switches: websession refuses
    # what only pickle can read, and logs it.
    with project(tmp_path, engine, switched=True, LEGACY_SERIALIZER=PICKLE) as url:
        response = Browser(url, cookies={"sessionid": old}).get("/me")
        assert response.status_code == 200
        assert response.json()["values"] == NOBODY
        assert response.json()["reason"] == "malformed"
