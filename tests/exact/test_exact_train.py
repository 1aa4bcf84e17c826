"""Training: loss decreases, checkpoints resume to the same weights, the dt study resumes."""

import json

import numpy as np
import pytest

from lavalab.compile.spike_grid import SpikeTimeBudget
from lavalab.data import load_digits
from lavalab.exact import train
from lavalab.exact.spec import ExactSpec
from lavalab.study import dt as study

SPEC = ExactSpec(sizes=(64, 40, 10), thresholds=(0.05, 0.3), max_spikes=(30, 30))


@pytest.fixture(scope="module")
def digits():
    return load_digits("train"), load_digits("test")


def test_a_few_steps_reduce_the_loss(digits):
    tr, _ = digits
    x, y = tr.images[:200], tr.labels[:200]
    b = SpikeTimeBudget()
    w0 = train.evaluate(SPEC, train.model.init_weights(SPEC, 0), x, y, b)["loss"]
    cfg = train.TrainConfig(epochs=2, train_samples=200, batch_size=20, seed=0)
    W, hist = train.train(SPEC, cfg, tr.images, tr.labels, progress=False)
    w1 = train.evaluate(SPEC, W, x, y, b)["loss"]
    assert w1 < 0.9 * w0
    assert hist[-1]["train_accuracy"] > hist[0]["train_accuracy"]


def test_resume_mid_epoch_gives_the_same_weights(digits, tmp_path, monkeypatch):
    tr, _ = digits
    cfg = train.TrainConfig(epochs=2, train_samples=120, batch_size=20, seed=3,
                            checkpoint_every=2, budget=SpikeTimeBudget(dt_s=0.002))
    ref, ref_hist = train.train(SPEC, cfg, tr.images, tr.labels, progress=False)

    real_step, calls = train._step, {"n": 0}

    def dying_step(*a, **k):
        calls["n"] += 1
        if calls["n"] == 10:  # epoch 2, batch 4: last checkpoint after batch 2 of epoch 2
            raise KeyboardInterrupt
        return real_step(*a, **k)

    ck = tmp_path / "ck.npz"
    monkeypatch.setattr(train, "_step", dying_step)
    with pytest.raises(KeyboardInterrupt):
        train.train(SPEC, cfg, tr.images, tr.labels, checkpoint=ck, progress=False)
    monkeypatch.setattr(train, "_step", real_step)
    W, hist = train.train(SPEC, cfg, tr.images, tr.labels, checkpoint=ck, progress=False)
    for a, b in zip(W, ref, strict=True):
        np.testing.assert_array_equal(a, b)
    assert [h["train_accuracy"] for h in hist] == [h["train_accuracy"] for h in ref_hist]
    with pytest.raises(ValueError, match="another run"):
        train.train(SPEC, train.TrainConfig(epochs=2, train_samples=120, batch_size=20,
                                             seed=4), tr.images, tr.labels, checkpoint=ck,
                    progress=False)


def test_train_run_times_setup_apart_from_training(digits, tmp_path):
    from lavalab.model_io import load_npz

    tr, te = digits
    rows = study.train_run(SPEC, tr, te, tmp_path, dt=0.005, seed=0, epochs=1,
                           train_samples=40, test_samples=10, batch_size=20, progress=False)
    meta, _ = load_npz(tmp_path / "network.npz", train.NETWORK_FORMAT)
    t = meta["timing"]
    assert t["setup_s"] > 0 and t["train_s"] > 0 and t["cpu_s"] >= 0
    assert t["samples_per_s"] == pytest.approx(40 / t["train_s"])
    assert rows[0]["setup_s"] == t["setup_s"] and rows[0]["train_cpu_s"] >= 0


def test_dt_study_resumes_after_interruption(digits, tmp_path, monkeypatch):
    tr, te = digits
    kw = dict(dts=[0.0, 0.005], seeds=[0], epochs=1, train_samples=60, test_samples=40,
              batch_size=20, progress=False)
    calls = []
    real = study.train

    def counting(*a, **k):
        calls.append(k["desc"])
        if len(calls) == 2:
            raise KeyboardInterrupt
        return real(*a, **k)

    monkeypatch.setattr(study, "train", counting)
    with pytest.raises(KeyboardInterrupt):
        study.dt_study(SPEC, tr, te, tmp_path, **kw)
    rows = json.loads((tmp_path / "results.json").read_text())["rows"]
    assert [r["key"] for r in rows] == ["dt=0,seed=0"]
    calls.clear()
    summary = study.dt_study(SPEC, tr, te, tmp_path, **kw)
    assert calls == ["dt=0.005 seed=0"]  # the finished run is not recomputed
    assert [d["dt"] for d in summary["per_dt"]] == [0.0, 0.005]
    for name in ("accuracy_vs_dt.png", "sparsity_vs_dt.png", "pareto.png", "confidence.png",
                 "results.csv"):
        assert (tmp_path / name).exists()
    with pytest.raises(ValueError, match="another setup"):
        study.dt_study(SPEC, tr, te, tmp_path, **{**kw, "train_samples": 80})


def test_evaluate_metrics_are_consistent(digits):
    tr, _ = digits
    W = train.model.init_weights(SPEC, 1)
    r = train.evaluate(SPEC, W, tr.images[:50], tr.labels[:50], SpikeTimeBudget(dt_s=0.001))
    assert r["samples"] == 50 and len(r["spikes_per_neuron"]) == 2
    assert r["output_counts"].sum() / (50 * 10) == pytest.approx(r["spikes_per_neuron"][1])
    conf = np.asarray(r["confidence"])
    assert np.all(np.diff(conf) >= 0)  # cumulative over time
    lab = r["output_counts"][np.arange(50), tr.labels[:50]].sum() / (50 * SPEC.target_true)
    assert conf[-1] == pytest.approx(lab)
