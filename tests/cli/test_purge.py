"""`websession purge URL`: remove a store's expired sessions, with progress, no password shown."""

from __future__ import annotations

import time

import pytest

from tests.support.cli import SECRET, run
from websession import FilesystemStore


def test_purge_a_file_store_removes_the_expired_sessions(tmp_path):
    store = FilesystemStore(tmp_path, SECRET, ttl=1)
    for i in range(3):  # browser-session cookies: the record lives ttl=1 s
        session = store.new("s", None)
        session.options.max_age = 0
        session["i"] = i
        store.save(session)
    keep = store.new("s", None)  # a persistent one: lives its max_age (30 days)
    keep["keep"] = True
    store.save(keep)
    time.sleep(1.1)

    result = run("purge", f"file://{tmp_path}", "--secret", SECRET)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "3"
    assert "removed 3 expired sessions" in result.stderr
    again = run("purge", f"file://{tmp_path}")  # no secret needed to purge
    assert again.returncode == 0, again.stderr
    assert again.stdout.strip() == "0"

def test_purge_bad_url_is_a_clear_error():
    result = run("purge", "nosuch://x")
    assert result.returncode == 2
    assert "cannot open nosuch://x" in result.stderr
    assert "Traceback" not in result.stderr

def test_purge_never_prints_the_password_of_a_store_url():
    result = run("purge", "postgresql://app:hunter2@127.0.0.1:1/db?no_such_option=1")
    assert result.returncode == 2
    assert "cannot open postgresql://app:***@127.0.0.1:1/db" in result.stderr
    assert "unknown postgresql:// option 'no_such_option'" in result.stderr
    assert "hunter2" not in result.stderr + result.stdout

@pytest.mark.parametrize(
    "url",
    ["file://{tmp}/typo", "sqlite:///typo.db", "sqlite:///{tmp}/typo.db", "lmdb://{tmp}/typo"],
)
def test_purge_of_a_store_that_does_not_exist_creates_nothing(tmp_path, url):
    """A typo in the path used to create an empty store, print 0 and exit 0 (issue 9)."""
    url = url.format(tmp=tmp_path)
    result = run("purge", url, cwd=str(tmp_path))
    assert result.returncode == 2
    assert "does not exist" in result.stderr
    assert "Traceback" not in result.stderr
    assert list(tmp_path.iterdir()) == []

def test_purge_of_an_in_memory_sqlite_database_says_there_is_nothing():
    result = run("purge", "sqlite://")
    assert result.returncode == 2
    assert "in-memory" in result.stderr

def test_purge_names_an_unknown_url_option(tmp_path):
    result = run("purge", f"file://{tmp_path}?tll=5")
    assert result.returncode == 2
    assert "unknown file:// option 'tll' (did you mean 'ttl'?)" in result.stderr

def test_purge_progress_is_a_bar_on_a_terminal_and_plain_lines_otherwise():
    import io

    from websession.cli.purge import _Progress

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    screen = Terminal()
    with _Progress("purging x", screen) as shown:
        shown.update(1500, 0.5)
        time.sleep(0.35)  # redrawn every 0.1 s
    drawn = screen.getvalue()
    assert "[##########..........]" in drawn
    assert " 50% 1,500 removed" in drawn
    assert drawn.endswith("\r\x1b[K")  # the line is cleared for the final message

    log = io.StringIO()
    progress = _Progress("purging x", log)
    progress.LINE_EVERY = 0.0
    with progress as shown:
        shown.update(1000, None)  # a store that cannot tell how far it is
        shown.update(3000, 0.75)
    lines = log.getvalue().splitlines()
    assert lines[0] == "purging x ..."
    assert lines[1].startswith("1,000 removed ")
    assert lines[2].startswith(" 75% 3,000 removed ")
    assert "\r" not in log.getvalue()

def test_purge_command_purges_a_big_sqlite_store_through_its_progress_display(tmp_path):
    import sqlite3

    path = tmp_path / "s.db"
    from websession.backends.sqlite import SQLiteBackend

    SQLiteBackend(str(path)).create_schema()
    conn = sqlite3.connect(path, isolation_level=None)
    conn.executemany(
        'INSERT INTO "websession_sessions" VALUES (?, ?, ?, 1)',
        ((f"k{i:06d}", b"x" * 100, time.time() - 10) for i in range(20_000)),
    )
    conn.close()
    result = run("purge", f"sqlite:///{path}")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "20000"
    assert "removed 20000 expired sessions" in result.stderr
