"""Where the test servers are: URLs exported by ``tools/testenv.py run``.

A test that needs a server calls :func:`server_url`. Without the server it is skipped when
running locally, and FAILS under ``CI=true``: CI must never pass by skipping.
"""

from __future__ import annotations

import os

import pytest

#: name -> environment variable that ``tools/testenv.py`` exports
SERVERS = {
    "redis": "WEBSESSION_TEST_REDIS_URL",  # redis://127.0.0.1:PORT/0
    "redis-cluster": "WEBSESSION_TEST_REDIS_CLUSTER_URL",  # redis://127.0.0.1:PORT (any node)
    # redis+sentinel://127.0.0.1:S1,127.0.0.1:S2,127.0.0.1:S3/mymaster/0 (primary + 1 replica)
    "redis-sentinel": "WEBSESSION_TEST_REDIS_SENTINEL_URL",
    "memcached": "WEBSESSION_TEST_MEMCACHED",  # 127.0.0.1:PORT
    "postgresql": "WEBSESSION_TEST_POSTGRES_URL",  # postgresql://postgres@127.0.0.1:PORT/sessions
    "mysql": "WEBSESSION_TEST_MYSQL_URL",  # mysql://sess:sess@127.0.0.1:PORT/sessions
    # mysql://sess:sess@127.0.0.1:P1,127.0.0.1:P2,127.0.0.1:P3/sessions (MariaDB Galera, 3 nodes)
    "galera": "WEBSESSION_TEST_GALERA_URL",
    "mongodb": "WEBSESSION_TEST_MONGODB_URL",  # mongodb://127.0.0.1:PORT/?directConnection=true
    "dynamodb": "WEBSESSION_TEST_DYNAMODB_URL",  # http://127.0.0.1:PORT (DynamoDB Local)
    # the Google clients read these themselves (host:port of the emulators)
    "datastore": "DATASTORE_EMULATOR_HOST",  # 127.0.0.1:PORT (Cloud Datastore emulator)
    "firestore": "FIRESTORE_EMULATOR_HOST",  # 127.0.0.1:PORT (Cloud Firestore emulator)
    "chromium": "WEBSESSION_TEST_CHROMIUM",  # /usr/bin/chromium
}


def in_ci() -> bool:
    """Under CI a missing server fails the test, except in a server-less run (see below)."""
    if os.environ.get("WEBSESSION_TEST_SERVERLESS") == "1":
        # tools/pythons.py: the other Python versions run only what needs no server, while
        # the same `make test` runs every test with its servers on the main version
        return False
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


def server_url(name: str) -> str:
    """The URL of test server ``name``; skip (locally) or fail (CI) when it is not running."""
    var = SERVERS[name]
    value = os.environ.get(var)
    if value:
        return value
    message = f"{name} is not available: {var} is not set (run the tests with `make test`)"
    if in_ci():
        pytest.fail(message)
    pytest.skip(message)


def require(available: bool, message: str) -> None:
    """Skip (locally) or fail (under CI) when something a test needs is missing."""
    if available:
        return
    if in_ci():
        pytest.fail(message)
    pytest.skip(message)
