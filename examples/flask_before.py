"""The Flask example as it ran before websession: Flask's own signed-cookie sessions.

The same routes and views as ``flask_app.py``; only ``flask.session`` is Flask's default
(``SecureCookieSessionInterface``, signed with ``FLASK_SECRET_KEY``). It shows the switch::

    FLASK_SECRET_KEY=... WEBSESSION_SECURE=0 gunicorn flask_before:app   # log in
    FLASK_SECRET_KEY=... WEBSESSION_SECURE=0 gunicorn flask_app:app      # still logged in

``flask_app.py`` reads the cookie Flask signed (``websession.legacy.FlaskCookie``) once and
answers with websession's sealed cookie.
"""

from __future__ import annotations

import os

from flask.sessions import SecureCookieSession, SecureCookieSessionInterface
from flask_app import app


class _FlaskSession(SecureCookieSession):
    """Flask's cookie session, with the two calls the example's views make on websession's."""

    def regenerate_id(self) -> None:
        """Flask's cookie sessions have no id to change (the weakness websession fixes)."""

    def invalidate(self) -> None:
        self.clear()


class _FlaskSessions(SecureCookieSessionInterface):
    session_class = _FlaskSession


app.secret_key = os.environ["FLASK_SECRET_KEY"]
app.session_interface = _FlaskSessions()
