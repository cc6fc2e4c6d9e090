"""`websession inspect`: open a cookie (or a store's session) and say what it holds or why not."""

from __future__ import annotations

import time

import pytest

from tests.support.cli import OLD_SECRET, SECRET, cookie_value, run, values_of
from tests.support.interop import vector
from websession import CookieStore, FilesystemStore
from websession.cli import main


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

def test_inspect_secret_from_environment(monkeypatch, capsys):
    store = CookieStore(SECRET)
    session = store.new("session", None)
    session["k"] = "v"
    value = cookie_value(store.save(session))
    monkeypatch.setenv("WEBSESSION_SECRET", SECRET)
    assert main(["inspect", value]) == 0
    assert values_of(capsys.readouterr().out) == {"'k'": "'v'"}
