"""Discrete-time CUBA LIF of a dt-trained network: Lava stock LIF + Dense bit-exact with the
numpy 'fixed' simulation; the float soft-reset variant reproduces the event-driven grid."""

import lava.proc.dense.process  # noqa: F401  (before any tqdm lock fixes the mp start method)
import numpy as np

from lavalab.compile.lower_exact import lower_exact
from lavalab.compile.spike_grid import SpikeTimeBudget
from lavalab.exact import bridge, model
from lavalab.exact.spec import ExactSpec

SPEC = ExactSpec(sizes=(16, 12, 4), thresholds=(0.1, 0.3), max_spikes=(30, 30))


def _net(seed=0):
    rng = np.random.default_rng(seed)
    W = [rng.uniform(-0.5, 1.5, (12, 16)), rng.uniform(-0.5, 1.5, (4, 12))]
    imgs = rng.integers(0, 256, (4, 4, 4)).astype(np.uint8)
    return W, imgs


def test_lava_stock_lif_dense_bit_exact_with_numpy_fixed():
    W, imgs = _net()
    low = lower_exact(SPEC, W, SpikeTimeBudget(dt_s=0.005))
    c, out = bridge.simulate(low, W, imgs[:2], SPEC.input_window, "fixed")
    lc, lout = bridge.run_lava(low, imgs[:2], SPEC.input_window)
    assert c[0].sum() > 50 and c[1].sum() > 10  # the network is active
    for a, b in zip(c, lc, strict=True):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(out, lout)  # same steps, not only the same counts


def test_float_soft_reset_reproduces_event_driven_grid_counts():
    W, imgs = _net(1)
    for dt in (0.001, 0.005):
        budget = SpikeTimeBudget(dt_s=dt)
        low = lower_exact(SPEC, W, budget)
        c, _ = bridge.simulate(low, W, imgs, SPEC.input_window, "float-soft")
        t, k = model.encode_images(imgs, SPEC.input_window)
        tr = model.forward(SPEC, W, t, k, budget)
        for li in range(2):
            np.testing.assert_array_equal(c[li], tr.fwd[li][0])


def test_hard_reset_loses_spikes():
    W, imgs = _net(1)
    low = lower_exact(SPEC, W, SpikeTimeBudget(dt_s=0.005))
    soft, _ = bridge.simulate(low, W, imgs, SPEC.input_window, "float-soft")
    hard, _ = bridge.simulate(low, W, imgs, SPEC.input_window, "float-hard")
    assert hard[0].sum() < soft[0].sum()
