"""The `websession` command itself: help, and every command listed (one module per command)."""

from __future__ import annotations

from tests.support.cli import run
from websession.cli import main


def test_no_command_prints_the_help(capsys):
    assert main([]) == 2
    assert "keygen" in capsys.readouterr().out

def test_help_lists_every_command():
    result = run("--help")
    assert result.returncode == 0
    for command in ("keygen", "inspect", "purge", "demo", "bench"):
        assert command in result.stdout
    demo_help = run("demo", "--help")
    assert "--port" in demo_help.stdout
    assert "--store" in demo_help.stdout
