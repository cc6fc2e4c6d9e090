"""What several commands share: the usage error, the secret option and URL redaction."""

from __future__ import annotations

import argparse
import os

from ..codecs.keys import InsecureSecret

SECRET_ENV = "WEBSESSION_SECRET"  # noqa: S105 - the variable's name, not a secret


class UsageError(Exception):
    """A problem with the command line or its inputs: printed as one line, exit status 2."""


def _secrets(args: argparse.Namespace, *, required: bool) -> list[str | bytes]:
    """The secrets given, each wrapped in InsecureSecret.

    inspect and purge only read what an application made: refusing its weak secret here would
    protect nothing and hide what the application's cookies hold (the store refuses it).
    """
    secrets: list[str] = list(args.secret or [])
    if not secrets and os.environ.get(SECRET_ENV):
        secrets = [os.environ[SECRET_ENV]]
    if required and not secrets:
        raise UsageError(
            f"give the secret with --secret (or the {SECRET_ENV} environment variable)"
        )
    if any(not s for s in secrets):
        raise UsageError("an empty --secret protects nothing")
    return [InsecureSecret(s) for s in secrets]


def _redact(url: str) -> str:
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(url)
    if parts.password:
        netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
        return urlunsplit(parts._replace(netloc=netloc))
    return url
