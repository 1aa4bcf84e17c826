"""Step functions of the adaptive LIF: hand traces, batching, float vs fixed, validation."""

import math
from dataclasses import replace

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as hs

from lavalab import fixed
from lavalab.dynamics.adaptive_lif import (
    AdaptiveLIFFixed,
    AdaptiveLIFFloat,
    AdaptiveLIFParams,
    fixed_args,
    init_state,
    step_fixed,
    step_float,
)
from lavalab.networks.lower import lower_adaptive_lif, weight_scale


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


# --- neuron-state quantization (v_bits, v_lsb, v_rounding; tinySNN's qWN) ---------------

def test_default_v_register_is_loihis():
    p = AdaptiveLIFFixed(decay_u=1, decay_v=0, vth=1)
    assert (p.v_bits, p.v_lsb, p.v_rounding) == (24, 0, "truncate")
    assert p.v_max == 2**23 - 1 and p.theta_max == 2**24 - 1
    assert fixed_args(p)[-6:-2] == (2**24 - 1, 2**23 - 1, 0, 0)


def _grid_params(mode):
    # decay_u = 4096: u is this step's input only; decay_v = 2048 halves v; bias 5
    return AdaptiveLIFFixed(decay_u=4096, decay_v=2048, vth=1000, bias_mant=5, v_bits=21,
                            v_lsb=3, v_rounding=mode, theta_bits=21)


@pytest.mark.parametrize("mode,expected", [
    # t0: v = u + 5 = [69, -59, 5] = [8.625, -7.375, 0.625] grid units
    # t1: v = v/2 (toward zero) + 5
    ("truncate", [[64, -56, 0], [32, -16, 0]]),    # t1: [37, -23, 5] -> [4, -2, 0] * 8
    ("nearest", [[72, -56, 8], [40, -24, 8]]),     # t1: [41, -23, 9] -> [5, -3, 1] * 8
])
def test_v_grid_hand_trace(mode, expected):
    p = _grid_params(mode)
    st = init_state((3,), "fixed")
    got = []
    for t, a in enumerate(([1, -1, 0], [0, 0, 0])):
        st, s = step_fixed(st, p, np.array(a), True, False, t, 11)
        assert not s.any()
        got.append(st.v.tolist())
    assert got == expected


def test_v_grid_hand_trace_stochastic():
    p = _grid_params("stochastic")
    st = init_state((3,), "fixed")
    v = np.zeros(3, np.int64)
    for t, a in enumerate(([1, -1, 0], [0, 0, 0])):
        st, _ = step_fixed(st, p, np.array(a), True, False, t, 11)
        pre = fixed.decay(v, 2048) + 64 * np.array(a) + 5
        r = fixed.counter_uniform(11, fixed.STREAMS["quantize"], t, np.arange(3), 3)
        v = ((pre + r) >> 3) << 3  # floor((x + r) / 8) * 8
        assert st.v.tolist() == v.tolist()
        assert np.all((v == (pre // 8) * 8) | (v == (pre // 8 + 1) * 8))


def test_v_saturates_at_v_bits():
    # v_bits 8, v_lsb 6: v in +-127 * 64 = +-8128; vth << 6 = 8128 (v can sit at the top)
    p = AdaptiveLIFFixed(decay_u=4096, decay_v=0, vth=127, v_bits=8, v_lsb=6, theta_bits=8)
    assert p.v_max == 8128
    st = init_state((2,), "fixed")
    st, s = step_fixed(st, p, np.array([200, -200]))
    assert st.v.tolist() == [8128, -8128] and not s.any()
    st, s = step_fixed(st, p, np.array([1, -1]))
    assert st.v.tolist() == [8128, -8128]


def test_theta_on_grid_saturates_and_decays_unbiased():
    p = AdaptiveLIFFixed(decay_u=4096, decay_v=0, vth=1, theta_plus=3 * 16, v_lsb=4,
                         theta_bits=3, v_bits=20)
    assert p.theta_max == 7 * 16
    st = init_state((1,), "fixed")
    for t in range(4):  # spikes every step (v = 64 * 10 > 64 + theta) until theta saturates
        st, s = step_fixed(st, p, np.array([10]), True, False, t, 0)
        st = st._replace(ref=np.zeros(1, np.int64))
    assert st.theta.tolist() == [112]
    # decay in grid units: mean theta loss as in the ungridded test, 16 v units per grid unit
    q = AdaptiveLIFFixed(decay_u=4096, decay_v=0, vth=131071 >> 4 << 4, decay_theta=27,
                         theta_decay_bits=28, v_lsb=4, v_bits=20, theta_bits=20)
    n, steps = 20000, 200
    st = init_state((n,), "fixed")._replace(theta=np.full(n, 10**6, np.int64))
    for t in range(steps):
        st, _ = step_fixed(st, q, np.zeros(n, np.int64), True, False, t, 3)
    assert np.all(st.theta % 16 == 0)
    expected = 10**6 * (1 - (1 - 27 / 2**28) ** steps)  # 20.1 v units = 1.26 grid units
    assert abs((10**6 - st.theta.mean()) - expected) < 0.6  # ~4.7 standard errors


@pytest.mark.parametrize("mode,after_one,after_two", [
    ("truncate", 0, 0),  # 6 on a grid of 16: 0; theta never grows
    ("nearest", 0, 0),  # 6 < 8: 0
])
def test_theta_increment_rounds_onto_the_grid(mode, after_one, after_two):
    p = AdaptiveLIFFixed(decay_u=4096, decay_v=0, vth=1, theta_plus=6, v_lsb=4, v_bits=20,
                         theta_bits=20, v_rounding=mode)
    st = init_state((1,), "fixed")
    out = []
    for t in range(2):
        st, s = step_fixed(st, p, np.array([10]), True, False, t, 0)
        assert s.all()
        out.append(int(st.theta[0]))
        st = st._replace(ref=np.zeros(1, np.int64))
    assert out == [after_one, after_two]
    q = AdaptiveLIFFixed(decay_u=4096, decay_v=0, vth=1, theta_plus=10, v_lsb=4, v_bits=20,
                         theta_bits=20, v_rounding="nearest")  # 10 >= 8: one grid step
    st, _ = step_fixed(init_state((1,), "fixed"), q, np.array([10]), True, False, 0, 0)
    assert st.theta.tolist() == [16]


def test_stochastic_theta_increment_keeps_the_mean_growth():
    """theta_plus = 6 on a grid of 16: each spike adds 16 with probability 6/16."""
    n = 50000
    p = AdaptiveLIFFixed(decay_u=4096, decay_v=0, vth=1, theta_plus=6, v_lsb=4, v_bits=20,
                         theta_bits=20, v_rounding="stochastic")
    st, _ = step_fixed(init_state((n,), "fixed"), p, np.full(n, 10), True, False, 0, 9)
    assert set(np.unique(st.theta)) == {0, 16}
    assert abs(st.theta.mean() - 6.0) < 0.2  # std of the mean 7.75 / sqrt(n) = 0.035


def test_stochastic_v_rounding_is_unbiased():
    """v = bias = 3 each step (reset every step), grid 8: truncate and nearest give 0,
    stochastic gives 8 with probability 3/8. Tolerance: 0.03 v units (~5 standard errors
    over 400k draws; one draw has std 3.87)."""
    n, steps = 20000, 20
    means = {}
    for mode in ("truncate", "nearest", "stochastic"):
        p = AdaptiveLIFFixed(decay_u=4096, decay_v=0, vth=1000, bias_mant=3, v_lsb=3,
                             v_bits=21, theta_bits=21, v_rounding=mode)
        st, tot = init_state((n,), "fixed"), 0
        for t in range(steps):
            st, _ = step_fixed(st, p, np.zeros(n, np.int64), False, True, t, 5)
            assert set(np.unique(st.v)) <= {0, 8}
            tot += st.v.sum()
        means[mode] = tot / (n * steps)
    assert means["truncate"] == 0 and means["nearest"] == 0
    assert abs(means["stochastic"] - 3.0) < 0.03


@pytest.mark.parametrize("kwargs,match", [
    (dict(v_lsb=3, v_bits=22), "v_bits=22 is outside the allowed range 2..21"),
    (dict(v_lsb=3, v_bits=8), "theta_bits=24 is outside the allowed range 1..21"),
    (dict(v_lsb=7, v_bits=8, theta_bits=8, vth=3), "vth << 6=192 is not on the v grid"),
    (dict(v_lsb=3, v_bits=8, theta_bits=8, v_reset=-4), "v_reset=-4 is not on the v grid"),
    (dict(v_bits=8, theta_bits=8, vth=2), "vth << 6=128 is outside the allowed range 0..127"),
    (dict(v_rounding="floor"), "rounding mode='floor' is not one of"),
])
def test_v_register_validation(kwargs, match):
    base = dict(decay_u=1, decay_v=0, vth=1)
    with pytest.raises(ValueError, match=match):
        AdaptiveLIFFixed(**{**base, **kwargs})


def _ref_round(x: int, n: int, mode: str, r: int) -> int:
    """Python big-int reference of rounding x / 2**n (lavalab.fixed's definitions)."""
    from fractions import Fraction
    q = Fraction(x, 2**n)
    if mode == "truncate":
        return math.trunc(q)
    if mode == "nearest":
        return int(math.copysign(math.floor(abs(q) + Fraction(1, 2)), x))
    return math.floor(Fraction(x + r, 2**n))


@settings(max_examples=300, deadline=None)
@given(x=hs.integers(-2**40, 2**40), n=hs.integers(0, 22),
       mode=hs.sampled_from(["truncate", "nearest", "stochastic"]),
       r=hs.integers(0, 2**22 - 1))
def test_round_shift_s_matches_big_int_reference(x, n, mode, r):
    r = r % (1 << n)
    want = _ref_round(x, n, mode, r)
    code = fixed.rounding_code(mode)
    assert fixed.round_shift_s(np.int64(x), np.int64(n), code, np.int64(r)) == want
    assert int(fixed.round_shift(x, n, mode, r)) == want


@settings(max_examples=150, deadline=None)
@given(a=hs.integers(-2000, 2000), bias=hs.integers(-4096, 4095), v_lsb=hs.integers(1, 12),
       mode=hs.sampled_from(["truncate", "nearest", "stochastic"]),
       seed=hs.integers(0, 1000), t=hs.integers(0, 10**6))
def test_v_grid_step_matches_big_int_reference(a, bias, v_lsb, mode, seed, t):
    """One step from rest: v = clip(round_to_grid(64 a + bias)); theta keeps the threshold
    (0 + theta_max) out of v's reach."""
    v_bits = 12
    p = AdaptiveLIFFixed(decay_u=4096, decay_v=0, vth=0, bias_mant=bias, v_bits=v_bits,
                         v_lsb=v_lsb, theta_bits=v_bits, v_rounding=mode)
    st = init_state((1,), "fixed")._replace(theta=np.array([p.theta_max]))
    st, s = step_fixed(st, p, np.array([a]), False, True, t, seed)
    r = int(fixed.counter_uniform(seed, fixed.STREAMS["quantize"], t, 0, v_lsb))
    lim = (2 ** (v_bits - 1) - 1) * 2**v_lsb
    want = max(-lim, min(lim, _ref_round(64 * a + bias, v_lsb, mode, r) * 2**v_lsb))
    assert not s[0] and st.v[0] == want and want % 2**v_lsb == 0


@pytest.mark.parametrize("precision", ["float", "fixed"])
def test_one_spike_keeps_one_crosser_and_resets_all(precision):
    """BindsNET's one_spike: every crosser is reset, made refractory and raises theta; one,
    drawn by the counter stream, emits; the draw depends on the step."""
    if precision == "float":
        p = AdaptiveLIFFloat(decay_u=1.0, decay_v=0.0, decay_theta=0.0, vth=1.0, v_reset=0.0,
                             theta_plus=0.5, ref_steps=2, one_spike=True)
        step, a = step_float, np.array([2.0, 0.5, 3.0, 2.0])
    else:
        p = AdaptiveLIFFixed(decay_u=4096, decay_v=0, vth=1, theta_plus=32, ref_steps=2,
                             one_spike=True)
        step, a = step_fixed, np.array([2, 0, 3, 2])
    picks = set()
    for t in range(40):
        st, s = step(init_state((4,), precision), p, a, t=t, seed=5)
        assert s.sum() == 1 and not s[1]  # one of the three crossers emits
        assert st.ref.tolist() == [2, 0, 2, 2]  # all three crossers are refractory
        assert (st.theta[[0, 2, 3]] > 0).all() and st.theta[1] == 0
        picks.add(int(np.flatnonzero(s)[0]))
    assert picks == {0, 2, 3}  # each crosser wins sometimes
    off = replace(p, one_spike=False)
    _, s = step(init_state((4,), precision), off, a)
    assert s.tolist() == [True, False, True, True]
    _, s = step(init_state((4,), precision), p, a, learn=False)  # inference: no choice
    assert s.tolist() == [True, False, True, True]


def test_one_spike_is_validated_and_lowered():
    with pytest.raises(ValueError, match="one_spike='no'"):
        AdaptiveLIFParams(one_spike="no")
    fx = lower_adaptive_lif(AdaptiveLIFParams(one_spike=True), 64.0 * 255)
    assert fx.one_spike and fixed_args(fx)[-2:] == (True, False)


@pytest.mark.parametrize("v_lsb,v_rounding,learn", [(0, "truncate", True),
                                                     (0, "truncate", False),
                                                     (3, "stochastic", True),
                                                     (2, "nearest", True)])
def test_live_kernel_equals_the_full_kernel_on_a_mostly_resting_population(v_lsb, v_rounding,
                                                                           learn):
    """Stepping only the elements not at rest (the engine's inhibitory population) gives
    the full kernel's states and spikes, element for element (same random streams)."""
    from lavalab.dynamics.adaptive_lif import lif_fixed_kernel, lif_fixed_live_kernel, live_args

    p = AdaptiveLIFFixed(decay_u=3000, decay_v=1500, vth=160, v_reset=-(16 << v_lsb),
                         theta_plus=40 << v_lsb, ref_steps=2, v_lsb=v_lsb,
                         v_bits=24 - v_lsb, theta_bits=20 - v_lsb, v_rounding=v_rounding)
    n, rng = 200, np.random.default_rng(5)
    full = [np.zeros(n, np.int64) for _ in range(4)]
    full[2][:] = rng.integers(0, 50, n) << v_lsb  # theta (constant while it does not decay)
    part = [x.copy() for x in full]
    s_full, s_part = np.zeros(n, bool), np.zeros(n, bool)
    live, n_live = np.zeros(n + 1, np.int64), 0
    spikes = 0
    for t in range(300):
        a = np.zeros(n, np.int64)
        if t % 3 == 0:
            hit = rng.choice(n, 4, replace=False)
            a[hit] = rng.integers(-50, 400, 4)
        lif_fixed_kernel(*full, a, s_full, t == 0, learn, t, 9, *fixed_args(p))
        if t == 0:
            lif_fixed_kernel(*part, a, s_part, True, learn, t, 9, *fixed_args(p))
            n_live = 0
            for k in range(n):
                if full[0][k] or full[1][k] or full[3][k] or s_full[k]:
                    live[n_live] = k
                    n_live += 1
        else:
            for k in np.flatnonzero(a):
                if k not in live[:n_live]:
                    live[n_live] = k
                    n_live += 1
            n_live = lif_fixed_live_kernel(live, n_live, *part, a, s_part, learn, t, 9,
                                           *live_args(p))
        assert n_live < n  # some elements stay at rest (and are not stepped)
        spikes += s_full.sum()
        np.testing.assert_array_equal(s_part, s_full)
        for x, y in zip(part, full, strict=True):
            np.testing.assert_array_equal(x, y)
    assert spikes > 20
