"""The backends' sync operations, generated from ``_async/`` by ``tools/unasync.py``: do not edit.

Change the async source in ``_async/<name>.py`` and run ``make generate``.
"""
