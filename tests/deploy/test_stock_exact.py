"""``lavalab assign --stock``: the network Loihi's stock Processes run exactly. Its engine
counts equal the stock arithmetic's digit by digit (so its engine accuracy is the deployable
accuracy), and its deploy bundle has no approximation left."""

from __future__ import annotations

import json

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
    root = tmp_path_factory.mktemp("stock_exact")
    models = {}
    for network in ("diehl-cook", "tinysnn"):
        train(TrainConfig(network=network, neurons=12, timesteps=40, rest=10, samples=20,
                          assign_samples=20, checkpoint_every=20, dataset="digits",
                          input_gain=4.0),
              root / network, progress=False)
        models[network] = root / network
    return root, models


@pytest.mark.parametrize("network", ["diehl-cook", "tinysnn"])
def test_stock_exact_model_is_what_the_stock_processes_compute(trained, network):
    root, models = trained
    src = load_model(models[network])
    assert src.theta.any() and src.spec.exc.t_ref_ms > 0  # something to fold and drop
    out = root / f"{network}-stock"
    rep = assign(models[network], out, stock=True)
    m = load_model(out)
    assert rep["stock_exact"] and not rep["one_spike_infer"]
    # theta folded into the input weights by hand: w * V / (V + theta), rounded, 8 bits
    v = src.fixed.exc.vth << 6
    want = np.clip(np.rint(src.w * (v / (v + src.theta.astype(float)))[:, None]), 0, 255)
    np.testing.assert_array_equal(m.w, want.astype(np.int64))
    assert not m.theta.any()
    for p in (m.spec.exc, m.spec.inh) if m.spec.inh is not None else (m.spec.exc,):
        assert (p.t_ref_ms, p.v_reset, p.one_spike_infer) == (0.0, 0.0, False)
    assert m.meta["stock_exact"]["theta_folded_into_input_weights"]
    # the stock lowering needs no approximation ...
    low = lower_model(m, exact=True)
    assert low.exact
    # ... and the stock arithmetic (what Lava's stock models compute, tested against Lava in
    # test_lava_stock.py) gives the engine's counts on every digit
    test = load_dataset("digits", "test").subset(12)
    seed = 11
    e_counts, _ = infer(make_net(m.spec, "fixed", m.w, m.theta, seed=seed, fixed=m.fixed),
                        test.images, t0=0)
    s = m.spec
    ref = simulate_stock(low, test.images, seed, s.max_rate_hz, s.dt_ms)
    np.testing.assert_array_equal(ref["counts"], e_counts)
    assert e_counts.sum() > 0  # the comparison saw spikes


def test_stock_exact_bundle_has_no_approximation(trained):
    from lavalab.deploy.bundle import write_bundle

    root, models = trained
    out = root / "dc-stock-cli"
    assert main(["assign", str(models["diehl-cook"]), "--stock", "--out", str(out)]) == 0
    write_bundle(out, root / "bundle", samples=6)
    exp = json.loads((root / "bundle" / "expected.json").read_text())
    assert exp["exact_lowering"] and exp["approximations"] == []
    assert exp["stock_reference_agreement_with_engine"] == 1.0
    assert exp["stock_reference_identical_counts"] == 1.0


def test_stock_exact_refusals(trained, capsys):
    root, models = trained
    capsys.readouterr()
    assert main(["assign", str(models["tinysnn"]), "--stock", "--one-spike-infer",
                 "--out", str(root / "x")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--stock" in err and "--one-spike-infer" in err
    assign(models["tinysnn"], root / "ts-stock", stock=True)
    assert main(["assign", str(root / "ts-stock"), "--out", str(root / "y")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "already the stock-exact network" in err
