"""The lavalab command line: info, the demo job, studies, compile."""

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


def test_demo_runs_study_and_confirms_on_lava(capsys, tmp_path):
    out = tmp_path / "demo"
    assert cli.main(["demo", "--neurons", "10", "--train-samples", "60", "--test-samples",
                     "30", "--lava-samples", "2", "--timesteps", "40,20", "--quiet",
                     "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert "T20-proportional" in text and "chosen by S" in text
    assert "spike counts identical to the engine: True; event counts identical: True" in text
    for f in ("results.json", "results.csv", "timesteps.png", "lava_check.json"):
        assert (out / f).exists()


def test_study_commands(capsys, tmp_path):
    common = ["--neurons", "10", "--train-samples", "40", "--test-samples", "20",
              "--assign-samples", "20", "--quiet"]
    assert cli.main(["study", "timesteps", *common, "--timesteps", "30,15",
                     "--enhancement", "linear", "--tau", "2", "--eps", "0",
                     "--out", str(tmp_path / "t")]) == 0
    text = capsys.readouterr().out
    assert "T15-linear" in text and "S = A - (2 Ln + 0 En)" in text
    model = tmp_path / "t" / "models" / "seed0" / "T15-linear.npz"
    assert cli.main(["compile", "--model", str(model), "--samples", "3"]) == 0
    text = capsys.readouterr().out
    assert "tinysnn-10" in text and "T=15" in text and "the trained model" in text
    assert cli.main(["study", "precision", *common, "--bits", "32,6", "--schemes", "itq",
                     "--roundings", "truncate", "--params", "w", "--timesteps", "30",
                     "--out", str(tmp_path / "p")]) == 0
    text = capsys.readouterr().out
    assert "itq-6b-truncate-qW" in text and "Pareto front" in text
    with pytest.raises(SystemExit):
        cli.main(["study", "precision", "--bits", "32,20", "--out", str(tmp_path / "x")])
    assert "--bits values [20] are outside 2..16 or 32" in capsys.readouterr().err


def test_compile_prints_mapping_or_names_the_violated_rule(capsys):
    assert cli.main(["compile", "--network", "diehl-cook", "--neurons", "100",
                     "--weight-bits", "8", "--target", "loihi1", "--samples", "2"]) == 0
    text = capsys.readouterr().out
    assert "core mapping: 2 cores on 1 tiles" in text
    assert "memory footprint M" in text and "inference energy per sample" in text
    assert "inh->exc" in text
    assert cli.main(["compile", "--network", "diehl-cook", "--neurons", "100",
                     "--weight-bits", "16", "--target", "loihi1"]) == 3
    assert ("weights_fit_bits: input->exc weight_bits=16 exceeds loihi1's limit of 8 bits"
            in capsys.readouterr().err)
    assert cli.main(["compile", "--network", "tinysnn", "--neurons", "2000",
                     "--neurons-per-core", "2000", "--target", "loihi1"]) == 3
    assert "neurons_fit_core" in capsys.readouterr().err


def test_bad_argument_is_named(capsys):
    with pytest.raises(SystemExit) as e:
        cli.main(["demo", "--lava-samples", "0"])
    assert e.value.code == 2
    assert "--lava-samples=0 is outside 1..10000" in capsys.readouterr().err
