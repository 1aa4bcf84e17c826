"""``lavalab assign --stock``: the network of Loihi's stock Processes (no refractory period,
reset to rest, no one spike per step). Deployed, theta's fold into the weights is the one
approximation left; without theta, the stock arithmetic equals the engine digit for digit."""

from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pytest

from lavalab.cli import main
from lavalab.data import load_dataset
from lavalab.deploy.lava_stock import simulate_stock
from lavalab.deploy.stock import lower_model
from lavalab.engine import infer, make_net
from lavalab.stdp import TrainConfig, assign, load_model, train


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    root = tmp_path_factory.mktemp("stock_inference")
    models = {}
    for network in ("diehl-cook", "tinysnn"):
        train(TrainConfig(network=network, neurons=12, timesteps=40, rest=10, samples=20,
                          assign_samples=20, checkpoint_every=20, dataset="digits",
                          input_gain=4.0),
              root / network, progress=False)
        models[network] = root / network
    return root, models


@pytest.mark.parametrize("network", ["diehl-cook", "tinysnn"])
def test_stock_model_is_what_the_stock_processes_compute(trained, network):
    root, models = trained
    src = load_model(models[network])
    assert src.theta.any() and src.spec.exc.t_ref_ms > 0  # something to fold and drop
    out = root / f"{network}-stock"
    rep = assign(models[network], out, stock=True)
    m = load_model(out)
    assert rep["stock"] and not rep["one_spike_infer"]
    np.testing.assert_array_equal(m.w, src.w)
    np.testing.assert_array_equal(m.theta, src.theta)
    for p in (m.spec.exc, m.spec.inh) if m.spec.inh is not None else (m.spec.exc,):
        assert (p.t_ref_ms, p.v_reset, p.one_spike_infer) == (0.0, 0.0, False)
    assert m.fixed.exc.ref_steps == 0 and m.fixed.exc.v_reset == 0
    # deployed, theta's fold is the one approximation left ...
    low = lower_model(m)
    assert [a.split(":")[0] for a in low.approximations] == ["theta_folded_into_weights"]
    # ... and without theta the stock arithmetic (what Lava's stock models compute, tested
    # against Lava in test_lava_stock.py) gives the engine's counts on every digit
    m0 = replace(m, theta=np.zeros_like(m.theta))
    low0 = lower_model(m0, exact=True)
    test = load_dataset("digits", "test").subset(12)
    seed = 11
    e_counts, _ = infer(make_net(m.spec, "fixed", m.w, m0.theta, seed=seed, fixed=m.fixed),
                        test.images, t0=0)
    ref = simulate_stock(low0, test.images, seed, m.spec.max_rate_hz, m.spec.dt_ms)
    np.testing.assert_array_equal(ref["counts"], e_counts)
    assert e_counts.sum() > 0  # the comparison saw spikes


def test_stock_bundle_names_only_the_fold(trained):
    from lavalab.deploy.bundle import write_bundle

    root, models = trained
    out = root / "dc-stock-cli"
    assert main(["assign", str(models["diehl-cook"]), "--stock", "--out", str(out)]) == 0
    write_bundle(out, root / "bundle", samples=6)
    exp = json.loads((root / "bundle" / "expected.json").read_text())
    assert not exp["exact_lowering"]
    assert [a.split(":")[0] for a in exp["approximations"]] == ["theta_folded_into_weights"]


def test_stock_network_at_finer_steps(trained):
    """Without a refractory period the stock network runs at 1/16 of the training step,
    where the trained network's 5 ms refractory period (80 steps) exceeds Loihi's 64."""
    root, models = trained
    with pytest.raises(ValueError, match="t_ref_ms"):
        assign(models["diehl-cook"], root / "fine", inference_dt_ms=1 / 16)
    rep = assign(models["diehl-cook"], root / "fine-stock", inference_dt_ms=1 / 16, stock=True)
    m = load_model(root / "fine-stock")
    assert rep["stock"] and m.spec.dt_ms == 1 / 16 and m.spec.present_steps == 40 * 16
    assert m.fixed.exc.ref_steps == 0 and m.meta["train_spec"]["exc"]["t_ref_ms"] == 5.0


def test_stock_refusals(trained, capsys):
    root, models = trained
    capsys.readouterr()
    assert main(["assign", str(models["tinysnn"]), "--stock", "--one-spike-infer",
                 "--out", str(root / "x")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--stock" in err and "--one-spike-infer" in err


def test_stock_evaluation_report_is_in_percent(trained, capsys):
    """``evaluate --backend lava-stock`` writes percent like every other result file
    (``*_pct``, differences in points), consistent with the printed line."""
    root, models = trained
    out = root / "eval-stock"
    assert main(["evaluate", str(models["tinysnn"]), "--backend", "lava-stock", "--samples",
                 "12", "--out", str(out)]) == 0
    said = capsys.readouterr().out
    rep = json.loads((out / "eval_lava-stock.json").read_text())
    assert not any(k in rep for k in ("accuracy", "engine_accuracy", "prediction_agreement"))
    for k in ("accuracy_pct", "engine_accuracy_pct", "prediction_agreement_pct",
              "identical_spike_counts_pct"):
        assert 0 <= rep[k] <= 100 and (rep[k] * 12 / 100) == pytest.approx(
            round(rep[k] * 12 / 100)), k  # a whole number of the 12 digits
    assert rep["accuracy_difference_points"] == pytest.approx(
        rep["accuracy_pct"] - rep["engine_accuracy_pct"])
    assert f"accuracy {rep['accuracy_pct']:.2f} %" in said
