"""Settings for Django's own sessions_tests on websession's engine (the compat run's conftest).

What Django's runtests.py would set for these tests, plus the one change under test:
``SESSION_ENGINE = "websession.django"`` with ``WEBSESSION["STORE"]`` from the environment.
"""

from __future__ import annotations

import os
import secrets

import django
import pytest
from django.conf import settings

settings.configure(
    SECRET_KEY=secrets.token_urlsafe(32),
    INSTALLED_APPS=[
        "django.contrib.contenttypes",
        "django.contrib.auth",
        "django.contrib.sessions",
        "sessions_tests",  # its models.py: the custom session model its module imports
    ],
    DATABASES={"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}},
    USE_TZ=True,
    SESSION_ENGINE="websession.django",
    # JSON, as Django's default SESSION_SERIALIZER: the values Django apps expect.
    WEBSESSION={"STORE": os.environ["WEBSESSION_COMPAT_STORE"], "SERIALIZER": "json"},
)
django.setup()


@pytest.fixture(scope="session", autouse=True)
def _django_test_environment():
    from django.test.utils import (
        setup_databases,
        setup_test_environment,
        teardown_databases,
        teardown_test_environment,
    )

    setup_test_environment()
    databases = setup_databases(verbosity=0, interactive=False)
    yield
    teardown_databases(databases, verbosity=0)
    teardown_test_environment()
