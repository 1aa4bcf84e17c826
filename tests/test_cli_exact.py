"""CLI of the exact-spike-time networks: bad input exits 2 with one line; a tiny run works."""

import json

import pytest

from lavalab.cli import main


@pytest.mark.parametrize("argv, needle", [
    (["study", "dt", "--dts", "0,abc", "--out", "x"], "--dts"),
    (["study", "dt", "--dts", "-1", "--out", "x"], "--dts"),
    (["exact", "train", "--dt", "nan", "--out", "x"], "--dt"),
    (["exact", "train", "--max-spikes", "0", "--out", "x"], "--max-spikes"),
    (["exact", "lava", "--model", "m.npz", "--dt", "0", "--out", "x"], "--dt"),
])
def test_bad_flags_exit_2(argv, needle, capsys):
    with pytest.raises(SystemExit) as e:
        main(argv)
    assert e.value.code == 2
    assert needle in capsys.readouterr().err


def test_value_errors_exit_2_with_one_line(tmp_path, capsys):
    rc = main(["exact", "train", "--dataset", "digits", "--train-samples", "99999",
               "--out", str(tmp_path)])
    err = capsys.readouterr().err
    assert rc == 2 and "--train-samples=99999" in err and len(err.strip().splitlines()) == 1
    rc = main(["exact", "train", "--dataset", "digits", "--hidden", "8",
               "--thresholds", "0.1", "--train-samples", "20", "--out", str(tmp_path)])
    assert rc == 2 and "--thresholds" in capsys.readouterr().err
    rc = main(["exact", "lava", "--model", str(tmp_path / "none.npz"), "--dt", "0.001",
               "--out", str(tmp_path)])
    assert rc == 2 and "no such file" in capsys.readouterr().err


def test_train_then_lava_bridge_tiny(tmp_path, capsys):
    out = tmp_path / "run"
    rc = main(["exact", "train", "--dataset", "digits", "--hidden", "20", "--thresholds",
               "0.05,0.3", "--train-samples", "40", "--test-samples", "20", "--batch-size",
               "20", "--dt", "0.005", "--test-dts", "0.005,0", "--quiet", "--out", str(out)])
    assert rc == 0
    rows = json.loads((out / "results.json").read_text())["rows"]
    assert sorted(r["test_dt"] for r in rows) == [0.0, 0.005]
    rc = main(["exact", "lava", "--model", str(out / "network.npz"), "--dt", "0.005",
               "--dataset", "digits", "--samples", "10", "--lava-samples", "0", "--quiet",
               "--out", str(tmp_path / "br")])
    assert rc == 0
    res = json.loads((tmp_path / "br" / "bridge.json").read_text())
    assert res["samples"] == 10 and res["energy"]["energy_uj"] > 0
    assert "fixed" in capsys.readouterr().out
