"""studies/scaling.py on a Dask LocalCluster gives the rows of the default (sequential) run."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
WALL = ("train_wall_s", "train_samples_per_s", "train_wall_s_mean")


def _run(out, *extra):
    env = dict(os.environ, PYTHONPATH=str(ROOT), OMP_NUM_THREADS="1", NUMBA_NUM_THREADS="1")
    cmd = [sys.executable, str(ROOT / "studies" / "scaling.py"), "--networks", "tinysnn",
           "--neurons", "10", "--seeds", "0,1", "--epochs", "0.001", "--test-samples", "40",
           "--quiet", "--out", str(out), *extra]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=900, env=env)


def _strip(rows):
    return [{k: v for k, v in r.items() if k not in WALL} for r in rows]


@pytest.mark.slow
def test_scaling_on_dask_equals_local(tmp_path):
    pytest.importorskip("distributed")
    local = _run(tmp_path / "local")
    assert local.returncode == 0, local.stderr
    remote = _run(tmp_path / "dask", "--executor", "dask", "--workers", "2")
    assert remote.returncode == 0, remote.stderr
    a = json.loads((tmp_path / "local" / "scaling.json").read_text())
    b = json.loads((tmp_path / "dask" / "scaling.json").read_text())
    assert len(a["rows"]) == 2
    assert _strip(b["rows"]) == _strip(a["rows"])
    assert _strip(b["summary"]) == _strip(a["summary"])
    for run in (tmp_path / "dask" / "runs").iterdir():  # written by the client from bytes
        assert sorted(p.name for p in run.iterdir()) == ["eval.json", "model.npz",
                                                         "train.json"]
    # a rerun trains nothing (every eval.json exists) and reports the same rows
    again = _run(tmp_path / "dask", "--executor", "dask", "--workers", "1")
    assert again.returncode == 0 and "samples: accuracy" not in again.stdout
    # bad executor flags: one line, exit 2
    bad = _run(tmp_path / "x", "--scheduler", "tcp://127.0.0.1:1")
    assert bad.returncode == 2
    assert bad.stderr.strip() == ("scaling.py: error: --scheduler tcp://127.0.0.1:1 needs "
                                  "--executor dask (executor is 'threads')")


def _scaling_module():
    import importlib.util

    spec = importlib.util.spec_from_file_location("scaling", ROOT / "studies" / "scaling.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_mechanism_strings_and_labels():
    sc = _scaling_module()
    assert sc._mech("default") == (None, None, None, None)
    assert sc._mech("stdp1+one_spike+uniform+dt1") == ("stdp1", True, "uniform", 1.0)
    assert sc._mech("triplet+dt0.5") == ("triplet", None, None, 0.5)
    for bad in ("stdp1+dt", "stdp1+dtx", "stdp1+dt0.5+one_spike", "stdp1+bogus"):
        with pytest.raises(SystemExit, match="is not 'default' or"):
            sc._mech(bad)
    used = {"rule": "stdp1", "one_spike": True, "w_init": "uniform"}
    assert sc._label("diehl-cook", 1600, "x", used) == "stdp1+one_spike"  # older train.json
    assert sc._label("diehl-cook", 1600, "x", {**used, "inference_dt_ms": 0.5}) == \
        "stdp1+one_spike+dt0.5"
    assert sc._label("tinysnn", 100, "x", {**used, "w_init": "samples",
                                            "inference_dt_ms": 1.0}) == "stdp1+one_spike+samples"
