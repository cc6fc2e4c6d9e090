"""The frameworks' own session tests that tests/compat runs: each pinned sdist and how it is set up.

One place for the pins, read by the suites (``test_*_suite.py``) and by ``fetch.py``, which
downloads the sdists before the tests run without a network (``make test``). A suite's
``shims`` are files of this directory copied into the unpacked sdist; its ``edits`` change the
sdist's own files (the one construction line that puts websession in, and what is not about
sessions but stops the tests from running here).
"""

from __future__ import annotations

from tests.compat.harness import Edit, Suite

FLASK = Suite(
    name="flask",
    dist="flask",
    version="3.1.3",
    edits=[
        # Not about sessions: Flask 3.1.3's conftest predates pytest 9, which renamed
        # _pytest.monkeypatch.notset to NOTSET.
        Edit("tests/conftest.py", "monkeypatch.notset", "monkeypatch.NOTSET", count=6),
        # The one construction line: the app fixture of Flask's conftest.
        Edit(
            "tests/conftest.py",
            '        SECRET_KEY="test key",\n    )\n    return app\n',
            '        SECRET_KEY="test key",\n    )\n'
            "    from websession.flask import SessionInterface\n\n"
            "    app.session_interface = SessionInterface()\n"
            "    return app\n",
        ),
    ],
)


STARLETTE = Suite(
    name="starlette",
    dist="starlette",
    version="1.10.0",
    edits=[
        # Not about sessions: the venv has httpx, which Starlette's test client still accepts
        # (with a deprecation warning its own configuration ignores); its typing helper
        # imports the httpx2 fork by name.
        Edit("tests/types.py", "import httpx2 as httpx", "import httpx"),
        # The construction lines: the middleware's import...
        Edit(
            "tests/middleware/test_session.py",
            "from starlette.middleware.sessions import Session, SessionMiddleware",
            "from websession import Session\nfrom websession.starlette import SessionMiddleware",
        ),
        # ...and the sessions test_session_tracks_modification makes from a dict of values.
        Edit(
            "tests/middleware/test_session.py",
            "= Session(",
            '= Session("session", values=',
            count=7,
        ),
    ],
)


AIOHTTP_SESSION = Suite(
    name="aiohttp-session",
    dist="aiohttp-session",
    version="2.12.1",
    remove=["tests/conftest.py"],
    shims={
        "aiohttp_session_conftest.py": "tests/conftest.py",
        "aiohttp_session_shim.py": "aiohttp_session/__init__.py",
    },
)


DJANGO = Suite(
    name="django",
    dist="django",
    version="5.2.19",
    shims={
        "django_conftest.py": "tests/conftest.py",
        "django_sessions_tests.py": "tests/sessions_tests/test_websession.py",
    },
)
