"""The lavalab command line: info and the demo job."""

import subprocess
import sys

import pytest

from lavalab import cli


def test_info_lists_versions_and_backends(capsys):
    assert cli.main(["info"]) == 0
    out = capsys.readouterr().out
    for name in ("python", "lava-nc", "lava-dl", "torch", "numpy", "lava-cpu", "loihi"):
        assert name in out
    assert "INRC" in out or "lava-loihi found" in out


def test_console_script_help():
    r = subprocess.run([sys.executable, "-m", "lavalab.cli", "--help"], capture_output=True,
                       text=True)
    assert r.returncode == 0 and "info" in r.stdout and "demo" in r.stdout


def test_demo_prints_real_counts(capsys):
    assert cli.main(["demo", "--samples", "3", "--timesteps", "60", "--rest", "20"]) == 0
    out = capsys.readouterr().out
    rows = [ln for ln in out.splitlines() if ln.count("|") == 2 and ln.strip()[0].isdigit()]
    assert len(rows) == 3
    counts = [[int(c) for c in r.split("|")[1].split()] for r in rows]
    assert all(len(c) == 10 for c in counts) and sum(map(sum, counts)) > 0
    assert "Lava steps" in out


def test_bad_argument_is_named(capsys):
    with pytest.raises(SystemExit) as e:
        cli.main(["demo", "--samples", "0"])
    assert e.value.code == 2
    assert "--samples=0 is outside 1..10000" in capsys.readouterr().err
