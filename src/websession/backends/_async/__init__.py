"""The backends' operations written once, as async code: the source of ``_sync/``.

Each ``<name>.py`` here is turned into ``../_sync/<name>.py`` by ``tools/unasync.py``; edit the
async code here, never the generated sync code (``make lint`` fails when that is stale).
"""
