"""STDP step functions: hand traces pin the arithmetic; float vs fixed; normalisation."""


import numpy as np
import pytest

from lavalab import fixed
from lavalab.dynamics.stdp import (
    STDPFixed,
    STDPFloat,
    STDPParams,
    init_stdp_state,
    loihi_rule_string,
    normalize_fixed,
    normalize_float,
    normalize_float_kernel,
    step_stdp_fixed,
    step_stdp_float,
)
from lavalab.networks.lower import lower_stdp


def fixed_params(**kw):
    base = dict(decay_pre=0, decay_post=0, impulse_pre=10, impulse_post=10, eta_pre_mant=1,
                eta_pre_exp=-1, eta_post_mant=3, eta_post_exp=0, w_max=255, mu=0)
    base.update(kw)
    return STDPFixed(**base)


def run(step, st, p, pre, post, learn=True, seed=0):
    ws = []
    for t, (a, b) in enumerate(zip(pre, post, strict=True)):
        st = step(st, p, np.array(a), np.array(b), t, learn, seed)
        ws.append(st.w.copy())
    return st, ws


def test_stdp1_fixed_hand_trace():
    # dw = 3 * x_pre on a post spike, -x_post / 2 on a pre spike; traces include this
    # step's impulses, so the coincident spikes of t=3 both count (+60, -10)
    st = init_stdp_state(np.array([[50, 50]]))
    pre = [[1, 0], [0, 0], [0, 1], [1, 1]]
    post = [[0], [1], [0], [1]]
    st, ws = run(step_stdp_fixed, st, fixed_params(), pre, post)
    assert [w.tolist() for w in ws] == [[[50, 50]], [[80, 50]], [[80, 45]], [[130, 95]]]
    assert st.x_pre.tolist() == [20, 20] and st.x_post.tolist() == [20]


def test_stdp1_fixed_weight_dependence_clip_and_trace_saturation():
    p = fixed_params(mu=1, eta_post_exp=-4, impulse_pre=100, w_max=200)
    st = init_stdp_state(np.array([[40, 199]]))
    st, _ = run(step_stdp_fixed, st, p, [[1, 1], [1, 1]], [[0], [0]])
    assert st.x_pre.tolist() == [127, 127]  # 100 + 100 saturates at 7 bits
    st = step_stdp_fixed(st, p, np.array([0, 0]), np.array([1]), 2, True, 0)
    # pot = floor(3*127*(200-w)/32) << (-4+12): 1905<<8 and 11<<8: both reach w_max
    assert st.w.tolist() == [[200, 200]]


def test_stdp1_fixed_weight_dependent_rounding_by_hand():
    p = fixed_params(mu=1, eta_post_exp=-9, impulse_pre=127)
    st = init_stdp_state(np.array([[100]]))
    st = step_stdp_fixed(st, p, np.array([1]), np.array([1]), 5, True, 7)
    # x_pre = 127 (impulse this step); pot = floor(3*127*155/32) = 1845, << (-9+12) = 14760;
    # dep = x_post * 1 * 2**(-1+7) = 10 * 64 = 640;  acc = 12800 + 14760 - 640 = 26920
    r = int(fixed.counter_uniform(7, fixed.STREAMS["weight"], 5, 0, 7))
    assert st.w.tolist() == [[(26920 + r) >> 7]]
    assert st.w[0, 0] in (210, 211)


def test_trace_decay_exact_halving_and_stochastic_rounding():
    p = fixed_params(decay_pre=2048, impulse_pre=100)
    st = init_stdp_state(np.zeros((1, 1), np.int64))
    st = step_stdp_fixed(st, p, np.array([1]), np.array([0]), 0)
    st = step_stdp_fixed(st, p, np.array([0]), np.array([0]), 1)
    assert st.x_pre.tolist() == [50]
    st = step_stdp_fixed(st, p, np.array([0]), np.array([0]), 2)
    assert st.x_pre.tolist() == [25]
    st = step_stdp_fixed(st, p, np.array([0]), np.array([0]), 3)  # 12.5 -> 12 or 13
    r = fixed.counter_uniform(0, fixed.STREAMS["trace"], 3, 0, 12)
    assert st.x_pre.tolist() == [(25 * 2048 + int(r)) >> 12]


def test_stdp2_hand_trace():
    # window 3, N_th 2: neuron 0 spikes 3x, neuron 1 once -> maxN 3, k = 2 at t = 2
    p = fixed_params(rule="stdp2", window_steps=3, n_th=2)
    st = init_stdp_state(np.array([[100], [100]]))
    pre = [[1], [0], [0], [0], [0], [0]]
    post = [[1, 0], [1, 1], [1, 0], [0, 0], [0, 0], [0, 0]]
    st, ws = run(step_stdp_fixed, st, p, pre, post)
    # t=2: x_pre = 10; pot = k * 3 * 10 = 60; x_post (after t=2 impulses) = [30, 10];
    # dep (pre fired in window) = x_post / 2 = [15, 5]
    assert [w[:, 0].tolist() for w in ws[:3]] == [[100, 100], [100, 100], [145, 155]]
    assert ws[5][:, 0].tolist() == [145, 155]  # second window: nobody fired, no change
    assert st.count.tolist() == [3, 1]


def test_stdp2_count_resets_each_sample():
    p = fixed_params(rule="stdp2", window_steps=2, n_th=1, sample_steps=4)
    st = init_stdp_state(np.array([[0]]))
    st, _ = run(step_stdp_fixed, st, p, [[0]] * 5, [[1]] * 5)
    assert st.count.tolist() == [1]  # reset at t = 4


def test_stdp1_float_hand_trace_mu1():
    p = STDPFloat(decay_pre=0.5, decay_post=0.0, eta_pre=0.1, eta_post=0.5, w_max=1.0, mu=1.0)
    st = init_stdp_state(np.array([[0.5]]))
    st, ws = run(step_stdp_float, st, p, [[1], [0], [1]], [[0], [1], [0]])
    # t0: pre spike, x_post = 0: no change; t1: x_pre = 0.5 -> dw = 0.5 * 0.5 * 0.5 = 0.125;
    # t2: x_pre = 0.25 + 1; dep = 0.1 * x_post (1.0)
    assert np.allclose([w[0, 0] for w in ws], [0.5, 0.625, 0.525])


def test_learn_off_freezes_weights_but_traces_move():
    st = init_stdp_state(np.array([[50, 50]]))
    st, ws = run(step_stdp_fixed, st, fixed_params(), [[1, 1]] * 3, [[1]] * 3, learn=False)
    assert ws[-1].tolist() == [[50, 50]] and st.x_pre.tolist() == [30, 30]


def test_batched_equals_single():
    rng = np.random.default_rng(0)
    p = fixed_params(decay_pre=300, decay_post=300, mu=1, eta_post_exp=-6)
    w0 = rng.integers(0, 256, (3, 5))
    pre = rng.random((40, 4, 5)) < 0.3
    post = rng.random((40, 4, 3)) < 0.2
    stb = init_stdp_state(w0, batch_shape=(4,))
    for t in range(40):
        stb = step_stdp_fixed(stb, p, pre[t], post[t], t, True, 9)
    for b in range(4):
        st = init_stdp_state(w0)
        for t in range(40):
            st = step_stdp_fixed(st, p, pre[t, b], post[t, b], t, True, 9)
        np.testing.assert_array_equal(st.w, stb.w[b])


@pytest.mark.parametrize("mu", [0, 1])
def test_float_vs_fixed_weights_agree(mu):
    """Stated tolerance: after 600 steps of random spikes, fixed weights / q match the float
    weights within 3 % of w_max (mean) and 10 % (max). Rates are exactly representable."""
    q = 255.0
    eta_post = (5 * 2.0**-10) * 127 / q ** (1 - mu)
    eta_pre = (6 * 2.0**-9) * 127 / q
    fl = STDPParams(eta_pre=eta_pre, eta_post=eta_post, mu=float(mu), tau_pre_ms=20,
                    tau_post_ms=20)
    fx = lower_stdp(fl, q)
    assert (fx.eta_post_mant, fx.eta_post_exp, fx.eta_pre_mant, fx.eta_pre_exp) == (5, -10, 6, -9)
    rng = np.random.default_rng(2)
    w0 = rng.integers(60, 200, (6, 30))
    sf, sx = init_stdp_state(w0 / q), init_stdp_state(w0)
    pf = fl.per_step()
    for t in range(600):
        pre, post = rng.random(30) < 0.08, rng.random(6) < 0.06
        sf = step_stdp_float(sf, pf, pre, post, t)
        sx = step_stdp_fixed(sx, fx, pre, post, t, True, 1)
    diff = np.abs(sx.w / q - sf.w)
    assert np.abs(sf.w - w0 / q).mean() > 0.05  # the weights really moved
    assert diff.mean() < 0.03 and diff.max() < 0.10, (diff.mean(), diff.max())


def test_normalize_float_and_fixed():
    w = np.array([[0.1, 0.3, 0.0], [0.0, 0.0, 0.0]])
    np.testing.assert_allclose(normalize_float(w, 2.0), [[0.5, 1.5, 0.0], [0, 0, 0]])
    # clipped to w_max like the integer one, in the function and in the learning kernels
    np.testing.assert_allclose(normalize_float(w, 2.0, 1.0), [[0.5, 1.0, 0.0], [0, 0, 0]])
    wk = w.copy()
    normalize_float_kernel(wk, 2.0, 1.0)
    np.testing.assert_allclose(wk, [[0.5, 1.0, 0.0], [0, 0, 0]])
    wi = np.array([[1, 2, 3], [0, 0, 0], [1, 1, 1]])
    assert normalize_fixed(wi, 12, 255).tolist() == [[2, 4, 6], [0, 0, 0], [4, 4, 4]]
    assert normalize_fixed(np.array([[1, 1, 1]]), 10, 255, "nearest").tolist() == [[3, 3, 3]]
    assert normalize_fixed(np.array([[1, 1, 1]]), 11, 255, "truncate").tolist() == [[3, 3, 3]]
    assert normalize_fixed(np.array([[1, 1, 1]]), 11, 255, "nearest").tolist() == [[4, 4, 4]]
    assert normalize_fixed(np.array([[1, 0]]), 1000, 255).tolist() == [[255, 0]]  # clipped
    rand = np.random.default_rng(0).random((20000, 3))
    st = normalize_fixed(np.ones((20000, 3), np.int64), 10, 255, "stochastic", rand)
    assert abs(st.mean() - 10 / 3) < 0.01


def test_normalisation_applied_at_sample_start():
    p = fixed_params(sample_steps=3, norm_total=30)
    st = init_stdp_state(np.array([[1, 2]]))
    st = step_stdp_fixed(st, p, np.array([0, 0]), np.array([0]), 0)
    assert st.w.tolist() == [[10, 20]]
    st = step_stdp_fixed(st, p, np.array([0, 0]), np.array([1]), 1)  # x_pre = 0: no change
    assert st.w.tolist() == [[10, 20]]
    pf = STDPFloat(0.0, 0.0, 0.0, 0.0, 1.0, sample_steps=3, norm_total=0.9)
    sf = step_stdp_float(init_stdp_state(np.array([[0.1, 0.2]])), pf, np.zeros(2), np.zeros(1), 3)
    np.testing.assert_allclose(sf.w, [[0.3, 0.6]])


def test_loihi_rule_string():
    p = fixed_params(mu=1, eta_post_mant=5, eta_post_exp=-10, eta_pre_mant=6, eta_pre_exp=-9,
                     w_max=255)
    assert loihi_rule_string(p) == "5*2^-5*y0*x1*(255-w) - 6*2^-9*x0*y1"
    with pytest.raises(ValueError, match="STDP2's k"):
        loihi_rule_string(fixed_params(rule="stdp2"))


@pytest.mark.parametrize("kwargs,match", [
    (dict(decay_pre=4097), "decay_pre=4097 is outside the allowed range 0..4096"),
    (dict(impulse_pre=0), "impulse_pre=0 is outside"),
    (dict(impulse_post=128), "impulse_post=128 is outside"),
    (dict(eta_post_mant=8), "eta_post_mant=8 is outside"),
    (dict(w_max=65536), "w_max=65536 is outside"),
    (dict(w_rounding="floor"), "w_rounding='floor' is not one of"),
    (dict(mu=2), "mu=2 is outside"),
    (dict(rule="stdp3"), "rule='stdp3' is not one of"),
    (dict(window_steps=0), "window_steps=0 is outside"),
])
def test_fixed_validation(kwargs, match):
    with pytest.raises(ValueError, match=match):
        fixed_params(**kwargs)


@pytest.mark.parametrize("kwargs,match", [
    (dict(tau_pre_ms=-1.0), "tau_pre_ms=-1.0"),
    (dict(eta_post=-1.0), "eta_post=-1.0"),
    (dict(w_max=0.0), "w_max=0.0"),
    (dict(trace_impulse=2.0), "trace_impulse=2.0"),
    (dict(norm_total=-5.0), "norm_total=-5.0"),
    (dict(n_th=0, rule="stdp2"), "n_th=0"),
])
def test_physical_validation(kwargs, match):
    with pytest.raises(ValueError, match=match):
        STDPParams(**kwargs)


# --- weight precision and rounding (tinySNN) --------------------------------------------

def test_default_weight_rounding_and_accumulator_are_loihis():
    from lavalab.dynamics.stdp import fixed_args
    p = fixed_params()
    assert p.w_rounding == "stochastic" and p.acc_bits == 16
    assert fixed_args(p)[-4:-2] == (2**15 - 1, 2)
    assert fixed_params(frac_bits=10).acc_bits == 19
    assert fixed_params(w_max=4095).acc_bits == 20 and fixed_params(w_max=65535).acc_bits == 24


@pytest.mark.parametrize("mode,expected", [
    # t0: pot = 3 * 10 << (-5+7) = 120, dep = 10 << (-3+7) = 160 on synapse 0:
    #     acc = 6400 + 120 - 160 = 6360 = 49.6875 weight units
    # t1: post silent, pre 1 spikes: acc = 6400 - 160 = 6240 = 48.75
    ("truncate", [[[49, 50]], [[49, 48]]]),
    ("nearest", [[[50, 50]], [[50, 49]]]),
])
def test_weight_rounding_truncate_nearest_by_hand(mode, expected):
    p = fixed_params(eta_post_exp=-5, eta_pre_exp=-3, w_rounding=mode)
    st = init_stdp_state(np.array([[50, 50]]))
    st, ws = run(step_stdp_fixed, st, p, [[1, 0], [0, 1]], [[1], [0]])
    assert [w.tolist() for w in ws] == expected


def test_weight_rounding_stochastic_by_hand():
    p = fixed_params(eta_post_exp=-5, eta_pre_exp=-3)
    st = init_stdp_state(np.array([[50, 50]]))
    st, ws = run(step_stdp_fixed, st, p, [[1, 0], [0, 1]], [[1], [0]], seed=4)
    r0 = int(fixed.counter_uniform(4, fixed.STREAMS["weight"], 0, 0, 7))
    r1 = int(fixed.counter_uniform(4, fixed.STREAMS["weight"], 1, 1, 7))
    assert ws[0].tolist() == [[(6360 + r0) >> 7, 50]]
    assert ws[1][0, 1] == (6240 + r1) >> 7


def test_12_bit_weights_use_the_wider_accumulator():
    # pot = 3 * 10 << 7 = 30 weight units, dep = 10 << 6 = 5: exact in every mode
    for mode in ("truncate", "nearest", "stochastic"):
        p = fixed_params(w_max=4095, w_rounding=mode)
        st = init_stdp_state(np.array([[4000, 1000, 4060]]))
        st = step_stdp_fixed(st, p, np.array([1, 1, 1]), np.array([1]), 0, True, 0)
        assert st.w.tolist() == [[4025, 1025, 4085]]  # a 16-bit acc would saturate at 255


def test_12_bit_run_keeps_weights_in_range():
    rng = np.random.default_rng(2)
    p = fixed_params(w_max=4095, decay_pre=400, decay_post=400, eta_pre_exp=2, mu=1,
                     eta_post_exp=-2, norm_total=40000, sample_steps=50)
    w0 = rng.integers(0, 4096, (6, 20))
    st = init_stdp_state(w0)
    pre = rng.random((300, 20)) < 0.2
    post = rng.random((300, 6)) < 0.1
    for t in range(300):
        st = step_stdp_fixed(st, p, pre[t], post[t], t, True, 1)
        assert st.w.min() >= 0 and st.w.max() <= 4095
    assert np.abs(st.w - w0).sum() > 0
    assert np.all(st.w.sum(axis=1) > 1000)


def test_normalisation_of_16_bit_weights():
    w = np.array([[65535, 1000, 0], [3, 5, 8]])
    out = normalize_fixed(w, 20000, 65535)
    ref = np.array([[(2 * x * 20000 + s) // (2 * s) for x in row]
                    for row, s in zip(w.tolist(), w.sum(1).tolist(), strict=True)])
    np.testing.assert_array_equal(out, ref)
    assert fixed_params(w_max=65535, norm_total=2**40 - 1).norm_total == 2**40 - 1


def test_triplet_fixed_hand_trace():
    """D&C's rule: a post spike potentiates by eta * x_pre * y2 read before its own impulse,
    so the first post spike potentiates nothing and the second does; depression on pre
    spikes by x_post as STDP1. No decay (d = 0): y2 = 10 after the first post spike."""
    p = fixed_params(rule="triplet", eta_post_exp=3, decay_post2=0)  # pot: 3 x_pre y2 2**3
    st = init_stdp_state(np.array([[50, 50]]))
    pre = [[1, 0], [0, 0], [0, 0]]
    post = [[0], [1], [1]]
    st, ws = run(step_stdp_fixed, st, p, pre, post)
    # t1: first post spike, y2- = 0: no change; t2: y2- = 10, x_pre = [10, 0]:
    # pot = 3 * 10 * 10 * 2**3 = 2400 (in 1/128 weight units) -> +18.75, stochastic round
    assert ws[0].tolist() == [[50, 50]] and ws[1].tolist() == [[50, 50]]
    assert ws[2][0, 0] in (68, 69) and ws[2][0, 1] == 50
    assert st.x_post2.tolist() == [20]
    # with truncation the 0.75 is dropped
    _, ws = run(step_stdp_fixed, init_stdp_state(np.array([[50, 50]])),
                fixed_params(rule="triplet", eta_post_exp=3, decay_post2=0,
                             w_rounding="truncate"), pre, post)
    assert ws[2].tolist() == [[68, 50]]


def test_triplet_float_hand_trace_and_stdp1_unchanged():
    pf = STDPFloat(decay_pre=0.5, decay_post=0.5, eta_pre=0.1, eta_post=0.5, w_max=1.0,
                   rule="triplet", decay_post2=0.25)
    st = init_stdp_state(np.array([[0.5]]))
    # t0 pre spike (x_pre 1); t1 post (x_pre .5, y2- 0: none); t2 post (x_pre .25,
    # y2- = 0.75): dw = 0.5 * 0.25 * 0.75
    st, ws = run(step_stdp_float, st, pf, [[1], [0], [0]], [[0], [1], [1]])
    np.testing.assert_allclose([w[0, 0] for w in ws], [0.5, 0.5, 0.5 + 0.5 * 0.25 * 0.75])
    np.testing.assert_allclose(st.x_post2, [1.0])  # 0.75 * 0.75 + 1 saturates at 1
    # the same spikes under STDP1 potentiate on both post spikes and keep y2 at zero
    s1, _ = run(step_stdp_float, init_stdp_state(np.array([[0.5]])),
                STDPFloat(0.5, 0.5, 0.1, 0.5, 1.0), [[1], [0], [0]], [[0], [1], [1]])
    np.testing.assert_allclose(s1.w, [[0.5 + 0.5 * 0.5 + 0.5 * 0.25]])
    assert s1.x_post2.tolist() == [0.0]


def test_triplet_float_and_fixed_agree_statistically():
    rng = np.random.default_rng(3)
    sp = STDPParams(rule="triplet", eta_post=0.05, eta_pre=0.01)
    pf, px = sp.per_step(), lower_stdp(sp, 255.0, frac_bits="exact", w_rounding="nearest")
    w0 = rng.random((4, 30)) * 0.5
    sf = init_stdp_state(w0)
    sx = init_stdp_state(np.rint(w0 * 255).astype(np.int64))
    for t in range(300):
        pre, post = rng.random(30) < 0.1, rng.random(4) < 0.15
        sf = step_stdp_float(sf, pf, pre, post, t)
        sx = step_stdp_fixed(sx, px, pre, post, t, seed=1)
    assert np.abs(sx.w / 255 - sf.w).max() < 0.08
    assert np.abs(sf.w - w0).max() > 0.2  # it learned


def test_triplet_is_not_a_loihi_rule():
    with pytest.raises(ValueError, match="triplet"):
        loihi_rule_string(fixed_params(rule="triplet"))


def test_normalize_kernel_is_exact_without_a_division_per_weight():
    """The kernel (float reciprocal and one integer correction each way) equals the exact
    integer normalisation for any row-major or transposed layout, over the whole range of
    weights (to 65535) and totals (to 2**40 - 1), including exact halves and zero rows."""
    from lavalab.dynamics.stdp import NORM_TOTAL_MAX, normalize_fixed_kernel

    rng = np.random.default_rng(11)
    for trial in range(200):
        n, m = int(rng.integers(1, 40)), int(rng.integers(1, 50))
        w_max = int(rng.choice([1, 3, 255, 65535]))
        total = int(rng.choice([1, 2, 19992, NORM_TOTAL_MAX, rng.integers(1, NORM_TOTAL_MAX)]))
        w = rng.integers(0, w_max + 1, (n, m))
        w[rng.random((n, m)) < 0.3] = 0
        w[0] = 0 if trial % 5 == 0 else w[0]
        if trial % 7 == 0:  # rows of equal weights: quotients at exact halves
            w[-1] = w_max
        want = normalize_fixed(w, total, w_max, "nearest")
        got = w.copy()
        normalize_fixed_kernel(got, total, w_max)
        np.testing.assert_array_equal(got, want)
        got_t = np.ascontiguousarray(w.T).astype(np.int32)  # the engine's layout
        normalize_fixed_kernel(got_t.T, total, w_max)
        np.testing.assert_array_equal(got_t.T, want)
