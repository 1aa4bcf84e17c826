"""A study rerun into its ``--out`` with another grid (timesteps, bits, seeds, methods, dt, ...)
keeps the grids apart, never merges them: ``rows`` of ``results.json``, ``results.csv`` and
the summary hold exactly the new grid's rows (each equal to a fresh run of that grid), rows
of the old grid move to ``other_rows`` (or stay in ``runs``) and a rerun of the old grid
gets them back without computing anything. One test per study kind, each on a tiny setup."""

import csv
import json

import pytest

from lavalab.study import StudySetup, precision_study, timestep_study
from lavalab.study import precision as prec_mod
from lavalab.study import timesteps as ts_mod

TINY = StudySetup(network="tinysnn", neurons=5, train_samples=30, test_samples=20,
                  assign_samples=20, dataset="digits")


def _doc(out):
    return json.loads((out / "results.json").read_text())


def _csv_keys(out):
    with (out / "results.csv").open(newline="") as fh:
        return [r["key"] for r in csv.DictReader(fh)]


def _apart(out, keys, old_keys):
    """``out`` holds exactly the rows ``keys`` (json, csv); ``old_keys`` are kept apart."""
    doc = _doc(out)
    assert [r["key"] for r in doc["rows"]] == keys
    assert _csv_keys(out) == keys
    kept = {r["key"] for r in doc.get("other_rows", [])} | {r["key"] for r in
                                                           doc.get("runs", [])}
    assert set(old_keys) <= kept
    assert not set(keys) & {r["key"] for r in doc.get("other_rows", [])}
    return doc


def _boom(*a, **k):
    raise AssertionError("a finished run was computed again")


def test_timesteps_study_keeps_grids_apart(tmp_path, monkeypatch):
    out, fresh = tmp_path / "ts", tmp_path / "fresh"
    kw = dict(workers=1, progress=False)
    a = timestep_study(TINY, out, timesteps=[20, 10], enhancements=["none", "linear"], **kw)
    assert a["rows"] == ["T20-none", "T10-none", "T10-linear"]
    b = timestep_study(TINY, out, timesteps=[20, 5], enhancements=["linear"], seeds=[0, 1],
                       **kw)
    assert b["rows"] == ["T20-none", "T5-linear"] and b["seeds"] == [0, 1]
    doc = _apart(out, ["T20-none", "T5-linear"], ["T10-none", "T10-linear"])
    assert doc["grid"]["timesteps"] == [20, 5] and doc["grid"]["seeds"] == [0, 1]
    assert all(r["seeds"] == [0, 1] for r in doc["rows"])  # every row over B's seeds
    timestep_study(TINY, fresh, timesteps=[20, 5], enhancements=["linear"], seeds=[0, 1], **kw)
    ref = {r["key"]: r for r in _doc(fresh)["rows"]}
    for r in doc["rows"]:
        for col in ("accuracy", "accuracy_seeds", "energy_infer_uJ", "S", "accuracy_delta"):
            assert r[col] == ref[r["key"]][col], (r["key"], col)
    monkeypatch.setattr(ts_mod, "train_and_score", _boom)
    monkeypatch.setattr(ts_mod, "score", _boom)
    again = timestep_study(TINY, out, timesteps=[20, 10], enhancements=["none", "linear"], **kw)
    assert again["rows"] == a["rows"] and again["chosen"] == a["chosen"]
    _apart(out, a["rows"], ["T5-linear"])


def test_precision_study_keeps_grids_apart(tmp_path, monkeypatch):
    out = tmp_path / "pr"
    kw = dict(schemes=["ptq"], roundings=["nearest"], params=["w"], timesteps=20, workers=1,
              progress=False)
    precision_study(TINY, out, bits=[32, 8, 4], **kw)
    b = precision_study(TINY, out, bits=[32, 6], **kw)
    keys = ["fp32", "ptq-6b-nearest-qW"]
    assert b["rows"] == keys
    _apart(out, keys, ["ptq-8b-nearest-qW", "ptq-4b-nearest-qW"])
    assert set(b["pareto"]) <= set(keys)
    monkeypatch.setattr(prec_mod, "_fp32_task", _boom)
    monkeypatch.setattr(prec_mod, "_precision_task", _boom)
    precision_study(TINY, out, bits=[32, 4], **kw)
    _apart(out, ["fp32", "ptq-4b-nearest-qW"], ["ptq-6b-nearest-qW"])


def test_enhancement_search_keeps_grids_apart(tmp_path):
    from lavalab.study.search import search_enhancement

    out = tmp_path / "se"
    kw = dict(baseline=20, factors=(2.0,), params=("vth",), val_samples=20, workers=1,
              progress=False)
    search_enhancement(TINY, out, timesteps=(10,), **kw)
    b = search_enhancement(TINY, out, timesteps=(5,), **kw)
    doc = _doc(out)
    keys = [r["key"] for r in doc["rows"]]
    assert "T20-none" in keys and all(k.startswith(("T5-", "T20-")) for k in keys)
    assert _csv_keys(out) == keys and list(b["per_T"]) == ["5"]
    assert any(r["key"].startswith("T10-") for r in doc["runs"])  # kept, not shown


@pytest.mark.slow
def test_latency_study_keeps_grids_apart(tmp_path):
    from lavalab.study.latency import LatencySetup, latency_study

    out = tmp_path / "lat"
    setup = LatencySetup(hidden=(8,), train_samples=64, test_samples=32, epochs=1,
                         batch_size=32)
    kw = dict(methods=("cuba",), progress=False, log=None)
    latency_study(setup, out, timesteps=(1, 2), seeds=(0,), **kw)
    s = latency_study(setup, out, timesteps=(2,), seeds=(0, 1), **kw)
    keys = ["cuba-T2-s0", "cuba-T2-s1"]
    doc = _apart(out, keys, ["cuba-T1-s0"])
    assert doc["grid"] == {"timesteps": [2], "methods": ["cuba"], "seeds": [0, 1]}
    assert [(g["timesteps"], g["seeds"]) for g in s["by_method_and_T"]] == [(2, [0, 1])]
    s = latency_study(setup, out, timesteps=(1,), seeds=(0,), **kw)  # nothing recomputed
    assert [(g["timesteps"], g["seeds"]) for g in s["by_method_and_T"]] == [(1, [0])]
    _apart(out, ["cuba-T1-s0"], keys)


@pytest.fixture(scope="module")
def digits():
    from lavalab.data import load_digits

    return load_digits("train"), load_digits("test")


@pytest.mark.slow
def test_exact_studies_keep_grids_apart(tmp_path, digits, monkeypatch):
    from lavalab.exact.spec import ExactSpec
    from lavalab.study import dt as dt_mod

    spec = ExactSpec(sizes=(64, 12, 10), thresholds=(0.05, 0.3), max_spikes=(30, 30))
    tr, te = digits
    kw = dict(epochs=1, train_samples=40, test_samples=20, batch_size=20, progress=False)
    out = tmp_path / "dt"
    dt_mod.dt_study(spec, tr, te, out, dts=[0.0, 0.005], seeds=[0], **kw)
    s = dt_mod.dt_study(spec, tr, te, out, dts=[0.0], seeds=[0, 1], **kw)
    _apart(out, ["dt=0,seed=0", "dt=0,seed=1"], ["dt=0.005,seed=0"])
    assert [(d["dt"], d["seeds"]) for d in s["per_dt"]] == [(0.0, [0, 1])]
    monkeypatch.setattr(dt_mod, "train", _boom)
    s = dt_mod.dt_study(spec, tr, te, out, dts=[0.005], seeds=[0], **kw)
    assert [(d["dt"], d["seeds"]) for d in s["per_dt"]] == [(0.005, [0])]
    monkeypatch.undo()
    # one training run tested at other steps: the rows of this run's test steps only
    run = tmp_path / "run"
    dt_mod.train_run(spec, tr, te, run, dt=0.0, seed=0, test_dts=(0.0, 0.005), **kw)
    rows = dt_mod.train_run(spec, tr, te, run, dt=0.0, seed=0, test_dts=(0.005,), **kw)
    assert [r["key"] for r in rows] == ["epoch=1,test_dt=0.005"]
    _apart(run, ["epoch=1,test_dt=0.005"], ["epoch=1,test_dt=0"])
    with pytest.raises(ValueError, match="--test-dts 0.01"):  # epoch 1 was not tested there
        dt_mod.train_run(spec, tr, te, run, dt=0.0, seed=0, test_dts=(0.01,), **kw)
