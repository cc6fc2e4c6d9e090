"""`websession bench`: runs the checkout's benchmark script, or says why it cannot."""

from __future__ import annotations

import subprocess
import sys

from websession.cli import main


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
