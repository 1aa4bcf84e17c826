"""The deploy pass: trained model -> Lava stock-Process Var values (no Lava run here; the
Lava runs are in tests/deploy/test_lava_stock.py)."""

import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from lavalab.compile.rules import DesignRuleError
from lavalab.deploy.lava_stock import simulate_stock
from lavalab.deploy.stock import StockLIF, lower_to_stock
from lavalab.dynamics.adaptive_lif import AdaptiveLIFParams
from lavalab.engine import infer, make_net
from lavalab.networks.snn import build, lower_network


def exact_spec(kind, n=6, m=16, present=40, rest=10, **kw):
    """A network the stock LIF expresses exactly: no refractory period, reset to 0."""
    exc = AdaptiveLIFParams(v_th=1.0, v_reset=0.0, tau_u_ms=0.0, tau_v_ms=100.0,
                            theta_plus=0.05, tau_theta_ms=1e7, t_ref_ms=0.0)
    inh = AdaptiveLIFParams(v_th=2.0, v_reset=0.0, tau_u_ms=0.0, tau_v_ms=10.0,
                            theta_plus=0.0, tau_theta_ms=math.inf, t_ref_ms=0.0)
    extra = dict(inh=inh) if kind == "diehl-cook" else {}
    return build(kind, n, m, exc=exc, present_steps=present, rest_steps=rest, **extra, **kw)


def data(n=6, m=16, samples=8, seed=0):
    rng = np.random.default_rng(seed)
    return rng.integers(0, 256, (n, m)), rng.integers(0, 256, (samples, m)).astype(np.uint8)


@pytest.mark.parametrize("kind", ["diehl-cook", "tinysnn"])
def test_exact_lowering_equals_engine(kind):
    """theta = 0, no refractory, reset 0: the stock network (simulated with Lava's
    arithmetic) spikes exactly as the engine, sample by sample."""
    s = exact_spec(kind)
    f = lower_network(s)
    w, imgs = data()
    low = lower_to_stock(s, f, w, np.zeros(6, np.int64), exact=True)
    assert low.exact and low.approximations == ()
    counts, events = infer(make_net(s, "fixed", w, None, seed=3, fixed=f), imgs)
    r = simulate_stock(low, imgs, 3, s.max_rate_hz, s.dt_ms)
    assert counts.sum() > 10  # the test exercises spikes and inhibition
    np.testing.assert_array_equal(r["counts"], counts)
    np.testing.assert_array_equal(r["events"][:, :5], events[:, :5])


def test_default_network_lists_its_approximations_or_refuses():
    s = build("diehl-cook", 4, 9)
    f = lower_network(s)
    w = np.full((4, 9), 100)
    theta = np.array([0, 64 * 10, 0, 5], np.int64)
    low = lower_to_stock(s, f, w, theta)
    names = {a.split(":")[0] for a in low.approximations}
    assert names == {"theta_folded_into_weights", "refractory_dropped", "reset_to_zero"}
    assert low.metadata["approximations"] == list(low.approximations)
    with pytest.raises(DesignRuleError, match="stock_theta_exact"):
        lower_to_stock(s, f, w, theta, exact=True)
    with pytest.raises(DesignRuleError, match="stock_lif_no_refractory"):
        lower_to_stock(s, f, w, np.zeros(4, np.int64), exact=True)
    # stock LIF registers: du = decay_u - 1, dv = decay_v, same vth mantissa
    assert (low.exc.du, low.exc.dv, low.exc.vth) == (f.exc.decay_u - 1, f.exc.decay_v,
                                                     f.exc.vth)


def test_one_spike_at_inference_is_dropped_or_refused():
    from dataclasses import replace

    s = exact_spec("diehl-cook")
    s = replace(s, exc=replace(s.exc, one_spike_infer=True))
    f = lower_network(s)
    w, _ = data()
    low = lower_to_stock(s, f, w, np.zeros(6, np.int64))
    assert [a.split(":")[0] for a in low.approximations] == ["one_spike_infer_dropped"]
    with pytest.raises(DesignRuleError, match="one_spike_not_on_chip"):
        lower_to_stock(s, f, w, np.zeros(6, np.int64), exact=True)


def test_theta_fold_scales_rows_by_vth_over_vth_plus_theta():
    """Hand-computed: V = vth << 6; neuron 1 with theta = V gets half its weights."""
    s = build("tinysnn", 2, 3)
    f = lower_network(s)
    v = f.exc.vth << 6
    w = np.array([[200, 101, 0], [200, 101, 0]])
    low = lower_to_stock(s, f, w, np.array([0, v], np.int64))
    np.testing.assert_array_equal(low.w_in, [[200, 101, 0], [100, 50, 0]])  # 50.5 -> 50
    assert low.w_lat[0, 1] == -f.w_lat and low.w_lat[1, 0] == -round(f.w_lat / 2)
    assert low.w_lat[0, 0] == low.w_lat[1, 1] == 0
    none = lower_to_stock(s, f, w, np.array([0, v], np.int64), theta_fold="none")
    np.testing.assert_array_equal(none.w_in, w)
    assert none.approximations[0].startswith("theta_dropped")


def test_theta_fold_preserves_spike_times_of_an_isolated_neuron():
    """Independent check of the fold: one neuron, no leak on u, constant drive. With
    threshold V + theta it first spikes at the same step as the folded neuron with
    threshold V and weights scaled by V / (V + theta) (exact scaling chosen)."""
    s = exact_spec("tinysnn", n=1, m=4, present=60, rest=5, w_lateral=0.0)
    f = lower_network(s)
    v = f.exc.vth << 6
    w = np.array([[200, 200, 200, 200]])
    theta = np.array([v], np.int64)  # doubles the threshold: weights halve exactly
    img = np.full((3, 4), 255, np.uint8)
    counts, _ = infer(make_net(s, "fixed", w, theta, seed=1, fixed=f), img)
    low = lower_to_stock(s, f, w, theta)
    r = simulate_stock(low, img, 1, s.max_rate_hz, s.dt_ms)
    assert counts.sum() > 0
    np.testing.assert_array_equal(r["counts"], counts)


def test_refuses_float_models_and_bad_arguments():
    s = build("tinysnn", 2, 3)
    f = lower_network(s)
    with pytest.raises(ValueError, match="theta_fold"):
        lower_to_stock(s, f, np.zeros((2, 3), int), None, theta_fold="split")
    with pytest.raises(ValueError, match="fixed-point"):
        lower_to_stock(s, None, np.zeros((2, 3), int), None)
    with pytest.raises(ValueError, match="integers"):
        lower_to_stock(s, f, np.zeros((2, 3)), None)
    with pytest.raises(ValueError, match="do not match"):
        lower_to_stock(s, f, np.zeros((3, 3), int), None)
    with pytest.raises(ValueError, match="vth"):
        StockLIF(n=1, du=0, dv=0, vth=2**17, bias_mant=np.zeros(1, int), bias_exp=0)


def test_quantized_neuron_state_is_refused():
    from dataclasses import replace

    s = build("tinysnn", 2, 3)
    f = lower_network(s)
    f = replace(f, exc=replace(f.exc, v_lsb=6, v_bits=18, theta_bits=18))
    with pytest.raises(DesignRuleError, match="neuron_state_fits"):
        lower_to_stock(s, f, np.zeros((2, 3), int), None)


def test_deploy_imports_without_lava():
    """The lowering (and the package) import no Lava: Lava is imported when a network is
    built or run."""
    code = ("import sys, lavalab.deploy; "
            "assert not [m for m in sys.modules if m.split('.')[0] == 'lava'], 'lava imported'")
    subprocess.run([sys.executable, "-c", code], check=True,
                   cwd=Path(__file__).resolve().parents[2])
