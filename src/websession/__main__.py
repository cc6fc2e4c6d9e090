"""``python -m websession``: the same as the ``websession`` command."""

from .cli import main

raise SystemExit(main())
