"""``lavalab --help`` and argument errors start fast: importing the command line, building
its parser, ``--help`` and a bad argument import none of the simulators (numba, torch,
Lava, dask, matplotlib); the commands import them when they run."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

HEAVY = ("torch", "lava", "dask", "distributed", "matplotlib", "numba")

_PROBE = """
import contextlib, io, json, sys
import lavalab.cli
from lavalab.cli import build_parser, main
build_parser()
for argv in {argvs!r}:
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        try:
            main(argv)
        except SystemExit:
            pass
print(json.dumps(sorted({{m.split(".")[0] for m in sys.modules}} & set({heavy!r}))))
"""


def _heavy_after(argvs) -> list[str]:
    root = Path(__file__).resolve().parents[1]
    r = subprocess.run([sys.executable, "-c", _PROBE.format(argvs=argvs, heavy=HEAVY)],
                       capture_output=True, text=True, cwd=root,
                       env={**__import__("os").environ, "PYTHONPATH": str(root)})
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout.strip().splitlines()[-1])


def test_help_and_argument_errors_import_no_simulator():
    assert _heavy_after([["--help"], ["study", "--help"], ["dl", "--help"],
                         ["exact", "--help"]]) == []


@pytest.mark.parametrize("argv", [
    ["train", "--neurons", "0", "--out", "x"],           # a bad value
    ["study", "timesteps"],                              # a missing --out
    ["study", "precision", "--bits", "32,20", "--out", "x"],
    ["compile", "--weight-bits", "x"],
    ["dl", "train", "--hidden", "0", "--out", "m.npz"],
    ["exact", "train", "--dt", "nan", "--out", "x"],
    ["nosuchcommand"],
])
def test_argument_error_imports_no_simulator(argv):
    assert _heavy_after([argv]) == []


def test_subcommand_help_lists_lazy_choices(capsys):
    """A subcommand's full help still names the choices whose home imports numba."""
    from lavalab.cli import main

    with pytest.raises(SystemExit):
        main(["train", "--help"])
    out = capsys.readouterr().out
    assert "{diehl-cook,tinysnn}" in out and "{stdp1,stdp2,triplet}" in out
