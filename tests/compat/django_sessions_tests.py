"""Django's SessionTestsMixin and SessionMiddlewareTests, run on ``websession.django``.

The construction lines of Django's own per-backend classes (``backend = FileSession`` and so
on): the store behind the engine comes from the settings (see the conftest).
"""

from django.test import SimpleTestCase

from websession.django import SessionStore

from . import tests as django_tests


class WebsessionSessionTests(django_tests.SessionTestsMixin, SimpleTestCase):
    backend = SessionStore


class WebsessionMiddlewareTests(django_tests.SessionMiddlewareTests):
    """SESSION_ENGINE is websession.django for every test of the run."""
