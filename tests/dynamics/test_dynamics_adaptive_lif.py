"""Step functions of the adaptive LIF: hand traces, batching, float vs fixed, validation."""

import math

import numpy as np
import pytest

from lavalab.compile.lower import lower_adaptive_lif, weight_scale
from lavalab.dynamics.adaptive_lif import (
    AdaptiveLIFFixed,
    AdaptiveLIFFloat,
    AdaptiveLIFParams,
    init_state,
    step_fixed,
    step_float,
)


def test_float_hand_trace():
    p = AdaptiveLIFFloat(decay_u=0.5, decay_v=0.25, decay_theta=0.5, vth=2.0, v_reset=-1.0,
                         theta_plus=1.0, ref_steps=1)
    st = init_state((1,), "float")
    trace = []
    for a in [1.0, 1.0, 1.0, 1.0]:
        st, s = step_float(st, p, np.array([a]))
        trace.append((st.u[0], st.v[0], st.theta[0], int(s[0])))
    # t0: u=1, v=1; t1: u=1.5, v=2.25 > 2 -> spike, v=-1, theta=1;
    # t2: u=1.75, refractory (v held -1), theta=0.5; t3: u=1.875, v=-0.75+1.875=1.125, theta .25
    assert trace == [(1.0, 1.0, 0.0, 0), (1.5, -1.0, 1.0, 1), (1.75, -1.0, 0.5, 0),
                     (1.875, 1.125, 0.25, 0)]


def test_fixed_hand_trace_rounds_toward_zero():
    p = AdaptiveLIFFixed(decay_u=2048, decay_v=1000, vth=2, bias_mant=-3, bias_exp=1)
    st = init_state((2,), "fixed")
    st, s = step_fixed(st, p, np.array([1, -1]))
    assert st.u.tolist() == [64, -64] and st.v.tolist() == [58, -70]
    assert s.tolist() == [False, False]  # 58 <= 128
    st, s = step_fixed(st, p, np.array([0, 0]))
    # u: +-64*2048>>12 = +-32; v: 58*3096>>12 = 43 (43.8 toward zero), -70 -> -52 (-52.9)
    assert st.u.tolist() == [32, -32] and st.v.tolist() == [43 + 32 - 6, -52 - 32 - 6]


def test_batched_equals_looped():
    rng = np.random.default_rng(0)
    p = AdaptiveLIFFixed(decay_u=300, decay_v=100, vth=500, theta_plus=50, decay_theta=3,
                         ref_steps=3, v_reset=-100)
    a = rng.integers(0, 300, (40, 5, 7))  # (time, batch, neurons)
    stb = init_state((5, 7), "fixed")
    sb = []
    for t in range(40):
        stb, s = step_fixed(stb, p, a[t])
        sb.append(s)
    for b in range(5):
        st = init_state((7,), "fixed")
        for t in range(40):
            st, s = step_fixed(st, p, a[t, b])
            np.testing.assert_array_equal(s, sb[t][b])
        np.testing.assert_array_equal(st.theta, stb.theta[b])
    assert np.array(sb).sum() > 10


def test_float_vs_fixed_agree_within_tolerance():
    """Diehl & Cook neuron, Poisson input. Stated tolerance: per-neuron spike counts within
    max(2, 5 %) and theta within 6 % over 2000 steps; below threshold, the v traces within
    1 % (relative RMS) -- spike timing may drift by a step, so v is compared subthreshold."""
    params = AdaptiveLIFParams(theta_plus=0.5, tau_theta_ms=200.0, t_ref_ms=5.0)
    v_scale = 4096.0
    fx = lower_adaptive_lif(params, v_scale)
    fl = params.per_step()
    rng = np.random.default_rng(1)
    n_in, n, steps = 100, 20, 2000
    w_int = rng.integers(0, 60, (n, n_in))
    w_float = w_int / weight_scale(v_scale)  # exactly representable weights
    x = rng.random((steps, n_in)) < 0.05
    sf, sx = init_state((n,), "float"), init_state((n,), "fixed")
    cf, cx = np.zeros(n), np.zeros(n)
    for t in range(steps):
        sf, f = step_float(sf, fl, w_float @ x[t])
        sx, q = step_fixed(sx, fx, w_int @ x[t])
        cf += f
        cx += q
    assert cf.sum() > 200
    assert np.all(np.abs(cf - cx) <= np.maximum(2, 0.05 * cf)), (cf, cx)
    # theta decay 1-exp(-1/200) = 20.4/4096 is stored as 20/4096: 6 % tolerance
    np.testing.assert_allclose(sx.theta / v_scale, sf.theta, rtol=0.06)
    # subthreshold: no spikes in either (threshold out of reach), v compared every step
    sub_f = AdaptiveLIFFloat(fl.decay_u, fl.decay_v, 0.0, 1e6, 0.0, 0.0, 0)
    sub_x = AdaptiveLIFFixed(fx.decay_u, fx.decay_v, vth=131071)
    sf, sx, vf, vx = init_state((n,), "float"), init_state((n,), "fixed"), [], []
    for t in range(500):
        sf, _ = step_float(sf, sub_f, w_float @ x[t])
        sx, _ = step_fixed(sx, sub_x, w_int @ x[t])
        vf.append(sf.v)
        vx.append(sx.v / v_scale)
    vf, vx = np.array(vf), np.array(vx)
    assert np.abs(vf).max() > params.v_th  # a range that matters
    # decay_v 1-exp(-1/100) = 40.76/4096 is stored as 41: v within 1 % (RMS, relative)
    assert np.sqrt(np.mean(np.square(vf - vx))) < 0.01 * np.sqrt(np.mean(np.square(vf)))


def test_lowering_values():
    fx = lower_adaptive_lif(AdaptiveLIFParams(), v_scale=4096)
    assert fx.vth == 832  # 13 mV * 4096 / 64
    assert fx.decay_u == round((1 - math.exp(-1)) * 4096)
    assert fx.decay_v == round((1 - math.exp(-1 / 100)) * 4096)
    assert fx.theta_plus == 205 and fx.ref_steps == 5
    # tau_theta = 1e7 steps: 1e-7 per step needs 28 fraction bits (27 / 2**28)
    assert (fx.decay_theta, fx.theta_decay_bits) == (27, 28)
    with pytest.raises(ValueError, match="outside the 17-bit mantissa range"):
        lower_adaptive_lif(AdaptiveLIFParams(), v_scale=2**20)


@pytest.mark.parametrize("kwargs,match", [
    (dict(decay_u=0, decay_v=0, vth=1), "decay_u=0 is outside the allowed range 1..4096"),
    (dict(decay_u=1, decay_v=4096, vth=1), "decay_v=4096 is outside the allowed range 0..4095"),
    (dict(decay_u=1, decay_v=0, vth=131072), "vth=131072 is outside"),
    (dict(decay_u=1, decay_v=0, vth=1, bias_mant=5000), "bias_mant=5000 is outside"),
    (dict(decay_u=1, decay_v=0, vth=1, bias_exp=8), "bias_exp=8 is outside"),
    (dict(decay_u=1, decay_v=0, vth=1, ref_steps=65), "ref_steps=65 is outside"),
    (dict(decay_u=1, decay_v=0, vth=1, theta_bits=8, theta_plus=256), "theta_plus=256"),
    (dict(decay_u=1, decay_v=0, vth=1, v_reset=65), "v_reset=65 is outside"),
])
def test_fixed_validation(kwargs, match):
    with pytest.raises(ValueError, match=match):
        AdaptiveLIFFixed(**kwargs)


@pytest.mark.parametrize("kwargs,match", [
    (dict(tau_v_ms=-1.0), "tau_v_ms=-1.0 is outside"),
    (dict(v_th=0.0), "v_th=0.0 is outside"),
    (dict(dt_ms=0.0), "dt_ms=0.0 is outside"),
    (dict(theta_plus=-0.1), "theta_plus=-0.1"),
    (dict(t_ref_ms=100.0), "t_ref_ms=100.0 is 100 steps"),
    (dict(v_reset=20.0), "v_reset=20.0 is outside"),
    (dict(tau_u_ms=float("nan")), "tau_u_ms=nan"),
])
def test_physical_validation(kwargs, match):
    with pytest.raises(ValueError, match=match):
        AdaptiveLIFParams(**kwargs)


def test_no_unknown_keyword():
    with pytest.raises(TypeError, match="bias_mantissa"):
        AdaptiveLIFFixed(decay_u=1, decay_v=0, vth=1, bias_mantissa=3)


def test_infinite_time_constant_means_no_decay():
    c = AdaptiveLIFParams(tau_theta_ms=math.inf, tau_v_ms=math.inf).per_step()
    assert c.decay_theta == 0.0 and c.decay_v == 0.0


def test_theta_decay_is_stochastic_and_unbiased():
    """D&C's tau_theta = 1e7 steps: 27 / 2**28 per step, far below one unit of theta per
    step; stochastic rounding keeps the mean decay exact."""
    p = AdaptiveLIFFixed(decay_u=4096, decay_v=0, vth=131071, decay_theta=27,
                         theta_decay_bits=28)
    n, steps = 20000, 200
    st = init_state((n,), "fixed")._replace(theta=np.full(n, 10**6, np.int64))
    for t in range(steps):
        st, _ = step_fixed(st, p, np.zeros(n, np.int64), True, False, t, 3)
    expected = 10**6 * (1 - (1 - 27 / 2**28) ** steps)  # 20.1
    assert abs((10**6 - st.theta.mean()) - expected) < 0.5
    assert len(np.unique(st.theta)) > 5  # really stochastic, not a truncation
