"""train / evaluate / plot jobs and their files: resume, cross-backend, errors."""

import json

import numpy as np
import pytest

from lavalab import model_io
from lavalab.cli import main
from lavalab.stdp import TrainConfig, assign, evaluate, load_model, train

SMALL = dict(network="diehl-cook", neurons=12, timesteps=40, rest=10, samples=6,
             assign_samples=6, checkpoint_every=2)


def test_train_evaluate_files(tmp_path):
    rep = train(TrainConfig(**SMALL), tmp_path, progress=False)
    assert (tmp_path / "model.npz").exists() and not (tmp_path / "checkpoint.npz").exists()
    saved = json.loads((tmp_path / "train.json").read_text())
    assert saved["samples"] == 6 and saved["samples_per_s"] > 0
    assert saved["events"]["exc"]["neuron_updates"]["per_sample"] == 12 * 50
    assert rep["events"]["input"]["spikes"]["total"] > 0
    ev = evaluate(tmp_path, samples=8)
    out = json.loads((tmp_path / "eval.json").read_text())
    assert out["accuracy_pct"] == ev["accuracy_pct"] and 0 <= out["accuracy_pct"] <= 100
    assert out["samples_per_s"] > 0 and out["events"]["exc"]["spikes"]["total"] >= 0
    assert len(out["confusion"]) == 10


def test_timing_keeps_setup_apart_from_the_work(tmp_path):
    train(TrainConfig(**SMALL), tmp_path, progress=False)
    rep = json.loads((tmp_path / "train.json").read_text())
    assert rep["setup_s"] > 0 and rep["train_s"] > 0 and rep["wall_s"] == rep["train_s"]
    assert rep["setup_cpu_s"] >= 0 and rep["cpu_s"] >= 0
    assert rep["samples_per_s"] == pytest.approx(6 / rep["train_s"])
    assert rep["assignment"]["wall_s"] > 0 and rep["assignment"]["cpu_s"] >= 0
    evaluate(tmp_path, samples=4)
    out = json.loads((tmp_path / "eval.json").read_text())
    assert out["setup_s"] > 0 and out["infer_s"] > 0 and out["wall_s"] == out["infer_s"]
    assert out["samples_per_s"] == pytest.approx(4 / out["infer_s"])


def test_interrupted_training_resumes_to_the_same_model(tmp_path, monkeypatch):
    import lavalab.stdp.scoring as ex

    whole = tmp_path / "whole"
    train(TrainConfig(**SMALL), whole, progress=False)
    part = tmp_path / "part"
    real_run, calls = ex.run, {"n": 0}

    def flaky_run(*a, **k):
        calls["n"] += 1
        if calls["n"] == 2:
            raise KeyboardInterrupt
        return real_run(*a, **k)

    monkeypatch.setattr(ex, "run", flaky_run)
    with pytest.raises(KeyboardInterrupt):
        train(TrainConfig(**SMALL), part, progress=False)
    meta, _ = model_io.load_npz(part / "checkpoint.npz", model_io.CHECKPOINT_FORMAT)
    assert meta["samples_done"] == 2
    monkeypatch.setattr(ex, "run", real_run)
    train(TrainConfig(**SMALL), part, progress=False)
    a, b = load_model(whole), load_model(part)
    np.testing.assert_array_equal(a.w, b.w)
    np.testing.assert_array_equal(a.theta, b.theta)
    np.testing.assert_array_equal(a.assignments, b.assignments)


def test_checkpoint_of_another_configuration_is_refused(tmp_path, monkeypatch):
    import lavalab.stdp.scoring as ex

    def stop(*a, **k):
        raise KeyboardInterrupt

    real = ex.run
    calls = {"n": 0}

    def once(*a, **k):
        calls["n"] += 1
        if calls["n"] > 1:
            stop()
        return real(*a, **k)

    monkeypatch.setattr(ex, "run", once)
    with pytest.raises(KeyboardInterrupt):
        train(TrainConfig(**SMALL), tmp_path, progress=False)
    monkeypatch.setattr(ex, "run", real)
    with pytest.raises(ValueError, match="belongs to another configuration"):
        train(TrainConfig(**{**SMALL, "seed": 3}), tmp_path, progress=False)


def test_lava_backend_trains_the_same_model_as_the_engine(tmp_path):
    cfg = dict(SMALL, samples=3, assign_samples=3, checkpoint_every=2, neurons=8)
    train(TrainConfig(**cfg), tmp_path / "e", progress=False)
    train(TrainConfig(**cfg, backend="lava"), tmp_path / "l", progress=False)
    e, lv = load_model(tmp_path / "e"), load_model(tmp_path / "l")
    np.testing.assert_array_equal(e.w, lv.w)
    np.testing.assert_array_equal(e.theta, lv.theta)
    np.testing.assert_array_equal(e.assignments, lv.assignments)
    re = evaluate(tmp_path / "e", samples=4, out=tmp_path / "re")
    rl = evaluate(tmp_path / "e", samples=4, backend="lava", out=tmp_path / "rl")
    assert re["confusion"] == rl["confusion"]
    assert re["events"]["exc"]["spikes"] == rl["events"]["exc"]["spikes"]


def test_cli_train_evaluate_plot(tmp_path, capsys):
    out = tmp_path / "m"
    assert main(["train", "--network", "tinysnn", "--neurons", "9", "--timesteps", "30",
                 "--rest", "5", "--samples", "4", "--assign-samples", "4", "--quiet",
                 "--out", str(out)]) == 0
    assert main(["evaluate", str(out), "--samples", "5", "--out", str(tmp_path / "ev")]) == 0
    text = capsys.readouterr().out
    assert "accuracy" in text and (tmp_path / "ev" / "eval.json").exists()
    assert (tmp_path / "ev" / "receptive_fields.png").stat().st_size > 1000
    assert (tmp_path / "ev" / "raster.png").stat().st_size > 1000


@pytest.mark.parametrize("argv,msg", [
    (["train", "--samples", "0", "--out", "x"], "--samples=0 is outside"),
    (["train", "--rest", "1", "--samples", "2", "--out", "x"], "--rest=1 is outside 2..100000"),
    (["train", "--backend", "loihi", "--samples", "2", "--out", "x"], "lava-loihi"),
    (["evaluate", "/nonexistent/model"], "no such file"),
    (["train", "--init", "bogus", "--out", "x"], "argument --init: invalid choice: 'bogus'"),
    (["train", "--inference-dt", "0.3", "--out", "x"],
     "--inference-dt=0.3 does not divide the 1 ms training step"),
    (["train", "--inference-dt", "2", "--out", "x"], "--inference-dt=2.0 is outside"),
])
def test_cli_errors_are_clear(argv, msg, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    try:
        code = main(argv)
    except SystemExit as e:
        code = e.code
    assert code == 2
    assert msg in capsys.readouterr().err


def test_model_file_errors(tmp_path):
    p = model_io.save_npz(tmp_path / "c.npz", model_io.CHECKPOINT_FORMAT, {}, {"a": [1]})
    with pytest.raises(model_io.ModelFileError, match="format 'lavalab-checkpoint'"):
        model_io.load_npz(p, model_io.MODEL_FORMAT)
    (tmp_path / "bad.npz").write_bytes(b"nope")
    with pytest.raises(model_io.ModelFileError, match="not a readable .npz"):
        model_io.load_npz(tmp_path / "bad.npz", model_io.MODEL_FORMAT)
    np.savez(tmp_path / "old.npz", meta=np.asarray(json.dumps(
        {"format": model_io.MODEL_FORMAT, "version": 0})))
    with pytest.raises(model_io.ModelFileError, match="version 0"):
        model_io.load_npz(tmp_path / "old.npz", model_io.MODEL_FORMAT)


def test_silent_network_is_reported(tmp_path, capsys):
    assert main(["train", "--dataset", "digits", "--neurons", "5", "--samples", "20",
                 "--timesteps", "20", "--rest", "5", "--quiet", "--out", str(tmp_path)]) == 0
    assert "no excitatory neuron fired during training" in capsys.readouterr().err
    saved = json.loads((tmp_path / "train.json").read_text())
    assert saved["warnings"] and saved["events"]["exc"]["spikes"]["total"] == 0


def test_samples_beyond_the_training_set_cycle_through_it_in_order(tmp_path, monkeypatch):
    """samples > len(train set) trains several epochs: sample k is image k % len(set)."""
    import lavalab.stdp.scoring as ex
    from lavalab.data import load_dataset

    data = load_dataset("digits", "train")
    seen = []
    real_run = ex.run

    def spy(net, images, learn=True, record=False):
        seen.append(np.array(images))
        return real_run(net, images, learn, record)

    monkeypatch.setattr(ex, "run", spy)
    n = len(data) + 5
    cfg = TrainConfig(**{**SMALL, "neurons": 3, "timesteps": 2, "rest": 2, "samples": n,
                         "dataset": "digits", "checkpoint_every": 10**6, "assign_samples": 7})
    train(cfg, tmp_path, progress=False)
    images = np.concatenate(seen)
    assert len(images) == n
    np.testing.assert_array_equal(images[len(data):], data.images[:5])
    np.testing.assert_array_equal(images[:len(data)], data.images)


def test_train_warns_when_many_neurons_are_unassigned(tmp_path, capsys):
    """Silent neurons (more than 10 %) are reported on stderr and in train.json."""
    rc = main(["train", "--network", "tinysnn", "--neurons", "12", "--timesteps", "100",
               "--rest", "2", "--samples", "4", "--assign-samples", "4", "--quiet",
               "--out", str(tmp_path)])
    assert rc == 0
    rep = json.loads((tmp_path / "train.json").read_text())
    assert rep["assignment"]["neurons_unassigned"] > 0.1 * 12
    err = capsys.readouterr().err
    assert any("more than 10%" in w for w in rep["warnings"])
    assert "warning" in err and "not assigned a class" in err


def test_train_records_the_mechanisms_the_defaults_resolved_to(tmp_path):
    """train.json names rule, one_spike and the initial weights actually used; --init
    overrides the size default (samples below 400 neurons)."""
    train(TrainConfig(**SMALL), tmp_path / "a", progress=False)
    train(TrainConfig(**SMALL, w_init="uniform", rule="stdp2", one_spike=False),
          tmp_path / "b", progress=False)
    a = json.loads((tmp_path / "a" / "train.json").read_text())["mechanisms"]
    b = json.loads((tmp_path / "b" / "train.json").read_text())["mechanisms"]
    assert a == {"rule": "stdp1", "one_spike": True, "w_init": "samples",
                 "inference_dt_ms": 1.0, "one_spike_infer": False}
    assert b == {"rule": "stdp2", "one_spike": False, "w_init": "uniform",
                 "inference_dt_ms": 1.0, "one_spike_infer": False}
    assert load_model(tmp_path / "a" / "model.npz").spec.w_init == "samples"


def test_train_warns_when_one_class_takes_most_neurons(tmp_path, monkeypatch):
    """A model whose neurons all answer to one class is reported (stderr and train.json)."""
    import lavalab.stdp.scoring as ex

    real = ex.assign_labels

    def fake(classes):
        def assign(counts, labels, *a, **k):
            asg, prop, rest = real(counts, labels, *a, **k)
            return classes(np.arange(len(asg))), prop, rest
        return assign

    monkeypatch.setattr(ex, "assign_labels", fake(np.zeros_like))  # all on class 0
    train(TrainConfig(**SMALL), tmp_path, progress=False)
    rep = json.loads((tmp_path / "train.json").read_text())
    assert any("12 of 12 assigned neurons" in w and "class 0" in w for w in rep["warnings"])
    monkeypatch.setattr(ex, "assign_labels", fake(lambda k: k % 10))  # 2 at most per class
    train(TrainConfig(**SMALL), tmp_path / "b", progress=False)
    rep = json.loads((tmp_path / "b" / "train.json").read_text())
    assert not any("assigned neurons" in w for w in rep["warnings"])


def test_inference_step_is_the_model_network_and_lava_runs_it_bit_exact(tmp_path):
    """--inference-dt: training is unchanged (same weights and theta as a 1 ms model), the
    model file holds the network at the finer step (twice the steps, same physical time)
    with the training network beside it, labels are assigned with it, and Lava's fixed_pt
    models run it spike for spike like the engine."""
    cfg = dict(SMALL, samples=3, assign_samples=3, neurons=8)
    train(TrainConfig(**cfg), tmp_path / "a", progress=False)
    train(TrainConfig(**cfg, inference_dt_ms=0.5), tmp_path / "b", progress=False)
    a, b = load_model(tmp_path / "a"), load_model(tmp_path / "b")
    np.testing.assert_array_equal(a.w, b.w)
    np.testing.assert_array_equal(a.theta, b.theta)
    assert (a.spec.dt_ms, a.spec.present_steps, a.spec.rest_steps) == (1.0, 40, 10)
    assert (b.spec.dt_ms, b.spec.present_steps, b.spec.rest_steps) == (0.5, 80, 20)
    assert b.spec.exc.t_ref_ms == a.spec.exc.t_ref_ms  # same physical refractory period
    assert b.fixed.exc.ref_steps == 2 * a.fixed.exc.ref_steps
    assert b.fixed.exc.decay_v < a.fixed.exc.decay_v  # half the leak per step
    assert b.meta["train_spec"]["dt_ms"] == 1.0 and "train_spec" not in a.meta
    tr = json.loads((tmp_path / "b" / "train.json").read_text())
    assert tr["mechanisms"]["inference_dt_ms"] == 0.5
    assert tr["events"]["exc"]["neuron_updates"]["per_sample"] == 8 * 50  # trained at 1 ms
    re = evaluate(tmp_path / "b", samples=3, out=tmp_path / "re")
    assert re["events"]["exc"]["neuron_updates"]["per_sample"] == 8 * 100
    rl = evaluate(tmp_path / "b", samples=3, backend="lava", out=tmp_path / "rl")
    assert re["confusion"] == rl["confusion"]
    assert re["events"]["exc"]["spikes"] == rl["events"]["exc"]["spikes"]
    assert re["events"]["exc"]["spikes"]["total"] > 0


def test_inference_dt_must_divide_the_training_step():
    for bad in (0.3, 2.0, 0.0, 1 / 17):
        with pytest.raises(ValueError, match="inference_dt_ms"):
            TrainConfig(inference_dt_ms=bad)
    assert TrainConfig(inference_dt_ms=0.25).inference_dt_ms == 0.25
    assert TrainConfig(neurons=1600).inference() == (0.5, True)  # the size defaults
    assert TrainConfig(neurons=400).inference() == (1.0, False)
    assert TrainConfig(neurons=1600, one_spike_infer=False).inference() == (0.5, False)
    with pytest.raises(ValueError, match="one_spike_infer='yes'"):
        TrainConfig(one_spike_infer="yes")


def test_assign_rederives_inference_and_reproduces_train(tmp_path, capsys):
    """lavalab assign: the same weights at another inference step / with one spike per
    step; assigning a model again as it is reproduces train's own labels exactly."""
    cfg = dict(SMALL, samples=6, assign_samples=6, neurons=10)
    train(TrainConfig(**cfg), tmp_path / "m", progress=False)
    m = load_model(tmp_path / "m")
    rep = assign(tmp_path / "m", tmp_path / "same")
    same = load_model(tmp_path / "same")
    np.testing.assert_array_equal(same.assignments, m.assignments)
    np.testing.assert_array_equal(same.proportions, m.proportions)
    assert same.spec == m.spec and rep["samples"] == 6 and rep["first_sample"] == 0
    assert main(["assign", str(tmp_path / "m"), "--inference-dt", "0.5", "--one-spike-infer",
                 "--out", str(tmp_path / "wta")]) == 0
    wta = load_model(tmp_path / "wta")
    assert (wta.spec.dt_ms, wta.spec.present_steps, wta.spec.exc.one_spike_infer) == \
        (0.5, 80, True)
    np.testing.assert_array_equal(wta.w, m.w)
    assert wta.meta["train_spec"] == json.loads(json.dumps(
        load_model(tmp_path / "m").meta["spec"]))  # the training network, unchanged
    ev = evaluate(tmp_path / "wta", samples=4, out=tmp_path / "ev")
    assert ev["events"]["exc"]["neuron_updates"]["per_sample"] == 10 * 100
    # and back: the 1 ms plain network from the re-derived model equals the original
    assign(tmp_path / "wta", tmp_path / "back", inference_dt_ms=1.0, one_spike_infer=False)
    back = load_model(tmp_path / "back")
    assert back.spec == m.spec and "train_spec" not in back.meta
    np.testing.assert_array_equal(back.assignments, m.assignments)
    # a finished model is not replaced without --force; errors are one line
    capsys.readouterr()
    assert main(["assign", str(tmp_path / "m"), "--out", str(tmp_path / "wta")]) == 2
    assert "holds a finished model; use --force" in capsys.readouterr().err
    assert main(["assign", str(tmp_path / "nope"), "--out", str(tmp_path / "x")]) == 2
    assert "no such file" in capsys.readouterr().err
    assert main(["assign", str(tmp_path / "m"), "--assign-samples", "7",
                 "--out", str(tmp_path / "x")]) == 2
    assert "assign_samples=7 is outside" in capsys.readouterr().err


@pytest.mark.parametrize("net", [dict(network="diehl-cook"),
                                 dict(network="tinysnn", rule="stdp2")])
def test_continued_training_equals_one_straight_run(tmp_path, capsys, net):
    """--init-from: N samples, then N more from that model (and N more from that one), is
    bit for bit the model of one run of 2N (3N) samples: weights, theta, labels, and the
    labels of lavalab assign on the continued model."""
    base = {k: v for k, v in SMALL.items() if k != "samples"}
    base.update(neurons=10, assign_samples=20, checkpoint_every=15, **net)
    train(TrainConfig(**base, samples=60), tmp_path / "straight", progress=False)
    train(TrainConfig(**base, samples=20), tmp_path / "a", progress=False)
    r = train(TrainConfig(**base, samples=20, init_from=str(tmp_path / "a")),
              tmp_path / "b", progress=False)
    assert r["init_from"]["samples"] == 20 and r["samples_total"] == 40
    assert main(["train", "--network", net["network"], "--neurons", "10", "--samples", "20",
                 "--assign-samples", "20", "--checkpoint-every", "15", "--timesteps", "40",
                 "--rest", "10", *(["--rule", net["rule"]] if "rule" in net else []),
                 "--init-from", str(tmp_path / "b" / "model.npz"), "--quiet",
                 "--out", str(tmp_path / "c")]) == 0
    assert "after the 40 of" in capsys.readouterr().out
    a, c = load_model(tmp_path / "straight"), load_model(tmp_path / "c")
    for k in ("w", "theta", "assignments", "proportions"):
        np.testing.assert_array_equal(getattr(a, k), getattr(c, k))
    assert json.loads((tmp_path / "c" / "train.json").read_text())["samples_total"] == 60
    # assign on a continued model takes the end of the whole stream, as train did
    rep = assign(tmp_path / "c", tmp_path / "again")
    assert rep["first_sample"] == 40
    np.testing.assert_array_equal(load_model(tmp_path / "again").assignments, a.assignments)


def test_continued_training_refuses_another_network(tmp_path, capsys):
    base = dict(SMALL, neurons=10, assign_samples=5, samples=5)
    train(TrainConfig(**base), tmp_path / "a", progress=False)
    short = ["--timesteps", "40", "--rest", "10"]
    src = str(tmp_path / "a")
    for argv, msg in ((["--neurons", "12"], "trained as another network (n_exc"),
                      (["--neurons", "10", "--seed", "1"], "its seed is 0, this run's 1"),
                      (["--neurons", "10", "--precision", "float"], "its precision is 'fixed'"),
                      (["--neurons", "10", "--no-one-spike"], "trained as another network")):
        capsys.readouterr()
        assert main(["train", *argv, *short, "--samples", "5", "--init-from", src, "--quiet",
                     "--out", str(tmp_path / "x")]) == 2
        err = capsys.readouterr().err
        assert msg in err and len(err.strip().splitlines()) == 1, err
    assert main(["train", "--samples", "5", "--init-from", str(tmp_path / "nope"),
                 "--out", str(tmp_path / "x")]) == 2
    assert "no such file" in capsys.readouterr().err
    # a hand-edited count of earlier samples is refused naming the file
    meta, arrays = model_io.load_npz(tmp_path / "a" / "model.npz", model_io.MODEL_FORMAT)
    meta["continued"] = {"model": "x", "samples_before": "many"}
    model_io.save_npz(tmp_path / "e" / "model.npz", model_io.MODEL_FORMAT, meta, arrays)
    assert main(["train", "--neurons", "10", *short, "--samples", "5", "--init-from",
                 str(tmp_path / "e"), "--quiet", "--out", str(tmp_path / "x")]) == 2
    err = capsys.readouterr().err
    assert "are not counts" in err and str(tmp_path / "e") in err
    assert len(err.strip().splitlines()) == 1
