"""studies/scaling.py on a Dask LocalCluster gives the rows of the default (sequential) run."""

import json
import os
import re
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
    assert sc._mech("default") == (None, None, None, None, None)
    assert sc._mech("stdp1+one_spike+uniform+dt1") == ("stdp1", True, "uniform", 1.0, None)
    assert sc._mech("triplet+dt0.5+one_spike_infer") == ("triplet", None, None, 0.5, True)
    for bad in ("stdp1+dt", "stdp1+dtx", "stdp1+dt0.5+one_spike", "stdp1+bogus",
                "stdp1+one_spike_infer+dt0.5"):
        with pytest.raises(SystemExit, match="is not 'default' or"):
            sc._mech(bad)
    assert sc._variant("dt0.5+one_spike_infer") == (0.5, True, None, False)
    assert sc._variant("dt1") == (1.0, False, None, False)
    assert sc._variant("dt1+assign60000") == (1.0, False, 60000, False)
    assert sc._variant("dt0.5+one_spike_infer+assign5") == (0.5, True, 5, False)
    for bad in ("wta", "dt1+assign", "dt1+assign0", "dt1+assignx", "dt1+assign5+one_spike_infer",
                "dt1+one_spike_infer+one_spike_infer"):
        with pytest.raises(SystemExit, match=re.escape(f"--inference value '{bad}' is not")):
            sc._variant(bad)
    assert sc._label("diehl-cook", 1600, "x", {"rule": "stdp1", "one_spike": True,
                                                "w_init": "uniform",
                                                "assign_samples": 60000}) == \
        "stdp1+one_spike+assign60000"
    used = {"rule": "stdp1", "one_spike": True, "w_init": "uniform"}
    assert sc._label("diehl-cook", 1600, "x", used) == "stdp1+one_spike"  # older train.json
    assert sc._label("diehl-cook", 1600, "x", {**used, "inference_dt_ms": 0.5,
                                                "one_spike_infer": True}) == \
        "stdp1+one_spike+dt0.5+one_spike_infer"
    assert sc._label("tinysnn", 100, "x", {**used, "w_init": "samples",
                                            "inference_dt_ms": 1.0}) == "stdp1+one_spike+samples"


def test_inference_variants_reuse_the_trained_run(tmp_path):
    """--inference: every trained run is re-assigned and evaluated per variant without
    training again; the rows name the variant's inference network."""
    r = _run(tmp_path / "v", "--seeds", "0", "--inference",
             "dt1,dt0.5+one_spike_infer,dt1+assign30")
    assert r.returncode == 0, r.stderr
    rows = json.loads((tmp_path / "v" / "scaling.json").read_text())["rows"]
    # dt1 is the run's own network (the same model re-assigned): one row, not two
    assert [x["mechanism"] for x in rows] == ["stdp1+one_spike+samples",
                                              "stdp1+one_spike+samples+dt0.5+one_spike_infer",
                                              "stdp1+one_spike+samples+assign30"]
    a30 = json.loads((tmp_path / "v" / "runs" / "tinysnn-10-default@dt1+assign30-s0-60" /
                      "assign.json").read_text())
    assert (a30["samples"], a30["first_sample"]) == (30, 30)
    same = json.loads((tmp_path / "v" / "runs" / "tinysnn-10-default@dt1-s0-60" /
                       "eval.json").read_text())
    assert same["accuracy_pct"] == rows[0]["accuracy"]
    runs = sorted(p.name for p in (tmp_path / "v" / "runs").iterdir())
    assert runs == ["tinysnn-10-default-s0-60", "tinysnn-10-default@dt0.5+one_spike_infer-s0-60",
                    "tinysnn-10-default@dt1+assign30-s0-60", "tinysnn-10-default@dt1-s0-60"]
    assert not (tmp_path / "v" / "runs" / runs[1] / "checkpoint.npz").exists()
    bad = _run(tmp_path / "b", "--inference", "wta")
    assert bad.returncode == 1 and "--inference value 'wta' is not" in bad.stderr


def test_more_epochs_continue_the_finished_run(tmp_path):
    """--epochs after a run of fewer epochs trains only the difference (lavalab train
    --init-from) and gives the model of a run from scratch; walls add up."""
    out = tmp_path / "c"
    assert _run(out, "--seeds", "0").returncode == 0
    r = _run(out, "--seeds", "0", "--epochs", "0.002")
    assert r.returncode == 0, r.stderr
    run = out / "runs" / "tinysnn-10-default-s0-120"
    tr = json.loads((run / "train.json").read_text())
    assert tr["init_from"]["samples"] == 60 and tr["samples_this_run"] == 60
    scratch = _run(tmp_path / "s", "--seeds", "0", "--epochs", "0.002")
    assert scratch.returncode == 0, scratch.stderr
    ev = [json.loads((d / "runs" / "tinysnn-10-default-s0-120" / "eval.json").read_text())
          for d in (out, tmp_path / "s")]
    assert ev[0]["accuracy_pct"] == ev[1]["accuracy_pct"]
    assert ev[0]["confusion"] == ev[1]["confusion"]
    rows = {x["samples"]: x for x in json.loads((out / "scaling.json").read_text())["rows"]}
    first = json.loads((out / "runs" / "tinysnn-10-default-s0-60" / "train.json").read_text())
    assert rows[120]["train_wall_s"] == pytest.approx(tr["wall_s"] + first["wall_s"])


def test_headline_picks_the_size_defaults_and_their_deployable_inference(tmp_path):
    sc = _scaling_module()
    assert sc.default_label("diehl-cook", 100) == "stdp1+one_spike+samples"
    assert sc.default_label("diehl-cook", 400) == "stdp1+one_spike"
    assert sc.default_label("tinysnn", 1600) == \
        "stdp1+one_spike+samples+dt0.5+one_spike_infer"

    def row(n, mech, ep, acc):
        return {"network": "diehl-cook", "neurons": n, "mechanism": mech, "epochs": ep,
                "accuracy_mean": acc, "accuracy_std": 0.5}
    summary = [row(400, "stdp1+one_spike", 1, 90.0), row(400, "triplet+one_spike", 1, 89.0),
               row(1600, "stdp1+one_spike", 1, 80.0),
               row(1600, "stdp1+one_spike+samples+dt0.5", 3, 85.0),
               row(1600, "stdp1+one_spike+samples+dt0.5+one_spike_infer", 1, 88.0),
               row(1600, "stdp1+one_spike+samples+dt0.5+one_spike_infer", 3, 91.5),
               row(1600, "stdp1+one_spike+dt0.5+one_spike_infer", 5, 90.0)]
    got = [(r["neurons"], r["line"], r["accuracy_mean"]) for r in sc.headline(summary)]
    # deployable: the best row without one spike per step at test (any training)
    assert got == [(400, "default", 90.0), (400, "deployable", 90.0),
                   (1600, "default", 91.5), (1600, "deployable", 85.0)]
    summary.append(row(1600, "stdp1+one_spike+dt0.5", 3, 86.0))
    assert [(r["line"], r["mechanism"]) for r in sc.headline(summary)][-1] == \
        ("deployable", "stdp1+one_spike+dt0.5")
    # the stock network (lavalab assign --stock): its own line, among deployable rows
    summary.append(row(1600, "stdp1+one_spike+dt0.5+stock", 3, 84.0))
    assert [(r["line"], r["mechanism"]) for r in sc.headline(summary)][-2:] == [
        ("deployable", "stdp1+one_spike+dt0.5"), ("stock", "stdp1+one_spike+dt0.5+stock")]
    assert sc._variant("dt0.5+stock") == (0.5, False, None, True)
    assert sc._variant("dt1+one_spike_infer+assign100") == (1.0, True, 100, False)
    with pytest.raises(SystemExit, match="one_spike_infer|stock"):
        sc._variant("dt1+stock+one_spike_infer")
    sc.plot_headline(sc.headline(summary), tmp_path / "h.png", "t")
    assert (tmp_path / "h.png").stat().st_size > 1000
