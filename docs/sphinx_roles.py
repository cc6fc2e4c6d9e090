"""A griffe extension for the docs build: Sphinx roles in docstrings become code spans.

The docstrings are written for both Sphinx and mkdocstrings; Markdown has no ``:class:`X```
role, so ``:class:`~websession.Session``` is shown as ``Session`` (``~`` keeps the last part,
as in Sphinx), and RST's double-backtick literals as Markdown code.
"""

from __future__ import annotations

import re
from typing import Any

import griffe

_ROLE = re.compile(r":(?:py:)?(?:class|func|meth|attr|exc|mod|data|obj|const):`(~?)([^`]+)`")
_LITERAL = re.compile(r"``([^`]+)``")


def _role(match: re.Match[str]) -> str:
    tilde, target = match.groups()
    return f"`{target.rsplit('.', 1)[-1] if tilde else target}`"


class SphinxRoles(griffe.Extension):
    """Rewrites each docstring once, as its object is loaded."""

    def on_instance(self, *, obj: griffe.Object, **kwargs: Any) -> None:
        if obj.docstring is not None:
            text = _ROLE.sub(_role, obj.docstring.value)
            obj.docstring.value = _LITERAL.sub(r"`\1`", text)
