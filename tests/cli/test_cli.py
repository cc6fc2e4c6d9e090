"""The `websession` command: keygen, inspect, purge, bench (the demo has its own browser test)."""

from __future__ import annotations

import base64
import os
import subprocess
import sys
import time

import pytest

import websession
from tests.support.interop import vector
from websession import CookieStore, FilesystemStore
from websession.cli import main

SECRET = "cli test secret, long enough to be a real one"
OLD_SECRET = "the secret before the rotation, also long"


def run(*args: str, cwd: str | None = None) -> subprocess.CompletedProcess[str]:
    """The real command line: a new Python process, as users run it."""
    return subprocess.run(
        [sys.executable, "-m", "websession", *args],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=cwd,
        env={k: v for k, v in os.environ.items() if k != "WEBSESSION_SECRET"},
    )


def cookie_value(set_cookie: str) -> str:
    return set_cookie.split(";", 1)[0].split("=", 1)[1]


def values_of(out: str) -> dict[str, str]:
    """The printed values: {repr(key): repr(value)} from the lines after "values"."""
    lines = out.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("values"))
    pairs = (line.strip().split(" : ", 1) for line in lines[start + 1 :] if " : " in line)
    return {k.strip(): v.strip() for k, v in pairs}


# -- keygen ------------------------------------------------------------------------------------
def test_keygen_prints_32_random_bytes_base64url():
    result = run("keygen")
    assert result.returncode == 0, result.stderr
    text = result.stdout.strip()
    raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    assert len(raw) == 32
    assert run("keygen").stdout.strip() != text


def test_keygen_hex_and_bytes(capsys):
    assert main(["keygen", "--hex", "--bytes", "48"]) == 0
    assert len(bytes.fromhex(capsys.readouterr().out.strip())) == 48


def test_keygen_gorilla_pair_is_usable(capsys):
    assert main(["keygen", "--gorilla"]) == 0
    lines = dict(line.split(":", 1) for line in capsys.readouterr().out.strip().splitlines())
    hash_key, block_key = bytes.fromhex(lines["hash key"]), bytes.fromhex(lines["block key"])
    assert (len(hash_key), len(block_key)) == (64, 32)
    websession.SecureCookie(hash_key, block_key)  # accepted as they are


def test_keygen_refuses_short_keys(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["keygen", "--bytes", "8"])
    assert exc.value.code == 2
    assert "at least 16" in capsys.readouterr().err


# -- inspect -----------------------------------------------------------------------------------
def test_inspect_a_cookie_store_cookie():
    store = CookieStore(SECRET)
    session = store.new("session", None)
    session["user"] = "ann"
    session[42] = 43
    session.add_flash("hello")
    before = int(time.time())
    header = store.save(session)

    result = run("inspect", header, "--secret", SECRET)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "status      valid" in out
    # keys are shown with repr, so an int key is told apart from a string
    assert values_of(out) == {"'user'": "'ann'", "42": "43", "'_flash'": "['hello']"}
    assert "#0 (the newest" in out
    assert "stale" not in out
    assert "attributes  Path=/" in out  # a whole Set-Cookie line is understood
    issued = next(line for line in out.splitlines() if line.startswith("issued"))
    stamp = issued.split()[1]
    assert abs(time.mktime(time.strptime(stamp, "%Y-%m-%dT%H:%M:%SZ")) - time.timezone - before) < 5
    assert "ago)" in issued


def test_inspect_name_from_cookie_header_and_old_key_is_stale(capsys):
    old = CookieStore(OLD_SECRET)
    session = old.new("prefs", None)
    session["theme"] = "dark"
    value = cookie_value(old.save(session))

    status = main(
        [
            "inspect",
            f"Cookie: other=1; prefs={value}",
            "--name",
            "prefs",
            "--secret",
            SECRET,
            "--secret",
            OLD_SECRET,
        ]
    )
    out = capsys.readouterr().out
    assert status == 0
    assert "cookie      prefs" in out
    assert "#1 (an older key" in out
    assert "stale: re-sealed on next save" in out
    assert values_of(out) == {"'theme'": "'dark'"}


def test_inspect_tampered_cookie_is_rejected_with_a_reason():
    store = CookieStore(SECRET)
    session = store.new("session", None)
    session["admin"] = False
    value = cookie_value(store.save(session))
    # flip a character in the ciphertext (not the header): still base64url, no longer authentic
    i = len(value) // 2
    tampered = value[:i] + ("A" if value[i] != "A" else "B") + value[i + 1 :]

    result = run("inspect", f"session={tampered}", "--secret", SECRET)
    assert result.returncode == 1
    assert "REJECTED: invalid_signature" in result.stdout
    assert "tampered" in result.stdout
    assert "Traceback" not in result.stderr


def test_inspect_wrong_secret_and_wrong_name_are_explained(capsys):
    store = CookieStore(SECRET)
    session = store.new("auth", None)
    session["x"] = 1
    value = cookie_value(store.save(session))

    assert main(["inspect", value, "--name", "auth", "--secret", "another secret"]) == 1
    out = capsys.readouterr().out
    assert "invalid_signature" in out
    assert "none of the given secrets has key id" in out

    assert main(["inspect", value, "--secret", SECRET]) == 1  # read as "session", not "auth"
    out = capsys.readouterr().out
    assert "check --name" in out


def test_inspect_expired_and_garbage(capsys):
    store = CookieStore(SECRET, clock=lambda: 1_000_000_000.0)
    session = store.new("session", None)
    session["x"] = 1
    value = cookie_value(store.save(session))
    assert main(["inspect", value, "--secret", SECRET]) == 1
    status = next(line for line in capsys.readouterr().out.splitlines() if "REJECTED" in line)
    # the reason once, the issue time as a date, the limit it broke
    assert status.count("expired") == 1, status
    assert "REJECTED: expired: issued 2001-09-09T01:46:40Z (" in status
    assert "1000000000" not in status
    assert "--max-age 2592000 s (30 d 0 h)" in status
    assert main(["inspect", value, "--secret", SECRET, "--max-age", "0"]) == 0
    capsys.readouterr()

    assert main(["inspect", "session=%%%not-base64", "--secret", SECRET]) == 1
    assert "REJECTED: malformed" in capsys.readouterr().out


def test_inspect_server_store_cookie_shows_the_session_id(tmp_path, capsys):
    store = FilesystemStore(tmp_path, SECRET)
    session = store.new("auth", None)
    session["user"] = "bob"
    header = store.save(session)
    assert main(["inspect", header, "--secret", SECRET]) == 0
    out = capsys.readouterr().out
    assert f"session id  {session.id}" in out
    assert "server-side store" in out


def test_inspect_store_prints_the_server_side_session(tmp_path):
    store = FilesystemStore(tmp_path, SECRET)
    session = store.new("auth", None)
    session["user"] = "bob"
    session[42] = [1, 2]
    session.owner = "user-7"
    header = store.save(session)

    result = run("inspect", header, "--secret", SECRET, "--store", tmp_path.as_uri())
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"session id  {session.id}" in result.stdout
    assert "owner       'user-7'" in result.stdout
    assert values_of(result.stdout) == {"'user'": "'bob'", "42": "[1, 2]"}

    # logged out: the id is no longer in the store, and the command says so
    session.invalidate()
    store.save(session)
    gone = run("inspect", header, "--secret", SECRET, "--store", tmp_path.as_uri())
    assert gone.returncode == 1
    assert "no session for this id (not_found)" in gone.stdout

    bad = run("inspect", header, "--secret", SECRET, "--store", "nosuch://x")
    assert bad.returncode == 2
    assert "--store" in bad.stderr


def test_inspect_gorilla_json_vector():
    v = vector("json-000")
    args = [
        "inspect",
        v["cookie"],
        "--name",
        v["name"],
        "--gorilla",
        "--hash-key",
        v["hash_key"],
        "--hash",
        v["hash"],
        "--serializer",
        "json",
    ]
    result = run(*args, "--at", str(v["timestamp"] + 60))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "gorilla/securecookie" in result.stdout
    assert values_of(result.stdout) == {"'foo'": "'bar'", "'n'": "42", "'ok'": "True"}
    assert "issued      2025-11-21T00:00:00Z (1 min 0 s ago)" in result.stdout

    # at the real time the vector is older than 30 days: rejected, with the way out
    late = run(*args)
    assert late.returncode == 1
    assert "REJECTED: expired" in late.stdout
    assert "--max-age 0" in late.stdout
    assert run(*args, "--max-age", "0").returncode == 0


def test_inspect_gorilla_gob_vector_with_block_key_and_int_keys(capsys):
    v = vector("gob-00-32")
    status = main(
        [
            "inspect",
            v["cookie"],
            "--name",
            v["name"],
            "--gorilla",
            "--hash-key",
            v["hash_key"],
            "--block-key",
            v["block_key"],
            "--max-age",
            "0",
        ]
    )
    out = capsys.readouterr().out
    assert status == 0, out
    assert values_of(out) == {"'foo'": "'bar'", "42": "43"}
    assert "AES-CTR" in out


def test_inspect_gorilla_rotation_reports_the_old_pair(capsys):
    v = vector("rotation-old-pair")
    pairs = v["key_pairs"]
    args = [
        "inspect",
        v["cookie"],
        "--name",
        v["name"],
        "--gorilla",
        "--serializer",
        "json",
        "--max-age",
        "0",
    ]
    for i in range(0, len(pairs), 2):
        args += ["--hash-key", pairs[i], "--block-key", pairs[i + 1]]
    assert main(args) == 0
    assert "stale: re-sealed on next save" in capsys.readouterr().out


def test_inspect_suggests_gorilla_for_a_gorilla_cookie(capsys):
    v = vector("json-000")
    assert main(["inspect", v["cookie"], "--secret", SECRET]) == 1
    assert "--gorilla" in capsys.readouterr().out


def test_inspect_usage_errors_are_one_line(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["inspect", "abc"])
    assert exc.value.code == 2
    assert "--secret" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exc:
        main(["inspect", "a=1; b=2", "--secret", "s"])
    assert "pick one with --name" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["inspect", "x", "--gorilla", "--hash-key", "not hex"])
    assert "hex" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["inspect", "Set-Cookie: auth=AQx; Path=/", "--name", "session"], "is for 'auth'"),
        (["inspect", "a=1; b=2", "--name", "c"], "no cookie named 'c' in the input (found: a, b)"),
        (["inspect", "Set-Cookie: session=; Max-Age=0", "--secret", SECRET], "is empty"),
        (["inspect", "AQx", "--secret", ""], "an empty --secret protects nothing"),
        (["inspect", "MTc2", "--gorilla"], "--gorilla needs --hash-key"),
        (
            [
                "inspect",
                "MTc2",
                "--gorilla",
                "--hash-key",
                "00",
                "--block-key",
                "00",
                "--block-key",
                "11",
            ],
            "more --block-key than --hash-key",
        ),
    ],
)
def test_inspect_input_mistakes_say_what_to_fix(capsys, argv, message):
    with pytest.raises(SystemExit) as exc:
        main(argv)
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert message in err
    assert err.count("\n") == 1  # one line, no traceback


def test_no_command_prints_the_help(capsys):
    assert main([]) == 2
    assert "keygen" in capsys.readouterr().out


def test_inspect_secret_from_environment(monkeypatch, capsys):
    store = CookieStore(SECRET)
    session = store.new("session", None)
    session["k"] = "v"
    value = cookie_value(store.save(session))
    monkeypatch.setenv("WEBSESSION_SECRET", SECRET)
    assert main(["inspect", value]) == 0
    assert values_of(capsys.readouterr().out) == {"'k'": "'v'"}


# -- purge -------------------------------------------------------------------------------------
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


# -- bench, help -------------------------------------------------------------------------------
def test_bench_finds_the_script_of_the_checkout(monkeypatch):
    from websession.cli import bench

    script = bench.benchmark_script()
    assert script is not None
    assert script.name == "cookie_codecs.py"
    assert script.parent.name == "benchmarks"

    calls = []
    monkeypatch.setattr(subprocess, "call", lambda argv: calls.append(argv) or 0)
    assert main(["bench", "--no-fail", "-x"]) == 0
    assert calls == [[sys.executable, str(script), "--no-fail", "-x"]]


def test_bench_without_a_checkout(monkeypatch, capsys):
    from websession.cli import bench

    monkeypatch.setattr(bench, "benchmark_script", lambda: None)
    assert main(["bench"]) == 2
    assert "source checkout" in capsys.readouterr().err


def test_help_lists_every_command():
    result = run("--help")
    assert result.returncode == 0
    for command in ("keygen", "inspect", "purge", "demo", "bench"):
        assert command in result.stdout
    demo_help = run("demo", "--help")
    assert "--port" in demo_help.stdout
    assert "--store" in demo_help.stdout


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
