"""Exact-spike-time forward/backward against hand-computed times, an independent root
finder on the SRM membrane potential, and finite differences."""

import math

import numpy as np
import pytest
from scipy.optimize import brentq

from lavalab.compile.spike_grid import SpikeTimeBudget
from lavalab.exact import model
from lavalab.exact.spec import ExactSpec


def _one_layer(n_in, theta, k=30, tau_s=0.13):
    return ExactSpec(sizes=(n_in, 1), tau_s=tau_s, thresholds=(theta,), max_spikes=(k,))


def _run(spec, W, in_times, budget):
    t = np.full((1, spec.sizes[0], 1), np.inf)
    t[0, :, 0] = in_times
    c = np.isfinite(t[:, :, 0]).astype(np.int64)
    tr = model.forward(spec, [np.asarray(W, float).reshape(1, -1)], t, c, budget)
    n = tr.fwd[0][0][0, 0]
    return tr.fwd[0][1][0, 0, :n], tr.fwd[0][2][0, 0, :n]


def _srm_reference(w, t_in, theta, tau_s, dt, duration, kmax=30):
    """Spikes of the SRM membrane (seed 003 eq. 4-6) by scanning + brentq, with each spike
    emitted and reset at grid time d(t) (dt = 0: at t)."""
    tau = 2 * tau_s
    fac = tau * tau_s / (tau - tau_s)

    def u(t, resets):
        v = 0.0
        for wi, ti in zip(w, t_in, strict=True):
            if t > ti:
                v += wi * fac * (math.exp(-(t - ti) / tau) - math.exp(-(t - ti) / tau_s))
        for tk in resets:
            if t > tk:
                v -= theta * math.exp(-(t - tk) / tau)
        return v - theta

    resets, emitted = [], []
    start = 0.0
    grid = np.linspace(0.0, duration, 40001)
    while len(emitted) < kmax:
        pts = grid[grid > start]
        vals = np.array([u(t, resets) for t in pts])
        up = np.nonzero((vals[1:] >= 0) & (vals[:-1] < 0))[0]
        if len(up) == 0:
            break
        i = up[0]
        t = brentq(lambda s: u(s, resets), pts[i], pts[i + 1], xtol=1e-14)
        td = t if dt == 0 else (math.floor(t / dt) + 1) * dt
        if td > duration:
            break
        emitted.append(td)
        resets.append(td)
        start = td
    return np.array(emitted)


def test_single_input_closed_form():
    # one input at 0 with weight w: u = tau w (z - z^2), z = exp(-t/tau); u = theta at
    # z = (1 + sqrt(1 - 4 theta / (tau w))) / 2
    tau_s, theta, w = 0.13, 0.02, 0.5
    tau = 2 * tau_s
    spec = _one_layer(1, theta, k=1, tau_s=tau_s)
    tg, tc = _run(spec, [w], [0.0], SpikeTimeBudget())
    z = (1 + math.sqrt(1 - 4 * theta / (tau * w))) / 2
    assert len(tc) == 1
    assert tc[0] == pytest.approx(-tau * math.log(z), abs=1e-12)
    assert tg[0] == tc[0]


def test_subthreshold_input_gives_no_spike():
    # peak u = tau w / 4 = 0.26 * 0.1 / 4 = 0.0065 < theta
    spec = _one_layer(1, 0.01, tau_s=0.13)
    tg, _ = _run(spec, [0.1], [0.0], SpikeTimeBudget())
    assert len(tg) == 0


@pytest.mark.parametrize("dt", [0.0, 0.003, 0.01])
def test_two_inputs_multiple_spikes_match_srm_root_finder(dt):
    w, t_in, theta, tau_s = [3.0, -1.0], [0.01, 0.05], 0.05, 0.13
    spec = _one_layer(2, theta, tau_s=tau_s)
    tg, tc = _run(spec, w, t_in, SpikeTimeBudget(dt_s=dt, duration_s=0.2, grid_input=False))
    ref = _srm_reference(w, t_in, theta, tau_s, dt, 0.2)
    assert len(ref) >= 3  # several spikes: the reset is exercised
    np.testing.assert_allclose(tg, ref, atol=1e-9)
    if dt > 0:
        assert np.all(tg >= tc) and np.all(tg - tc <= dt + 1e-12)
        np.testing.assert_allclose(np.round(tg / dt), tg / dt, atol=1e-9)


def test_spike_cap():
    spec = _one_layer(1, 0.001, k=3)
    tg, _ = _run(spec, [5.0], [0.0], SpikeTimeBudget())
    assert len(tg) == 3


def test_encode_images():
    img = np.array([[[0, 255], [51, 255]]], np.uint8)
    t, c = model.encode_images(img, 0.1)
    np.testing.assert_allclose(t[0, :, 0], [np.inf, 0.0, 0.08, 0.0])
    np.testing.assert_array_equal(c[0], [0, 1, 1, 1])
    with pytest.raises(ValueError, match="uint8"):
        model.encode_images(img.astype(float), 0.1)


def _net_loss(spec, W, t, c, r, budget):
    tr = model.forward(spec, W, t, c, budget)
    n_out = tr.fwd[-1][0]
    tc = tr.continuous_times(spec.n_layers - 1)
    tg = tr.fwd[-1][1]
    mask = np.isfinite(tc)
    # loss on continuous output roots (what the STE differentiates)
    return float((np.where(mask, tc, 0.0) * r).sum()), n_out, tr, tg


def test_gradients_match_finite_differences():
    rng = np.random.default_rng(3)
    spec = ExactSpec(sizes=(6, 5, 3), tau_s=0.13, thresholds=(0.05, 0.1), max_spikes=(4, 4),
                     weight_init=1.0)
    W = [rng.uniform(0.2, 1.2, (5, 6)), rng.uniform(0.0, 1.0, (3, 5))]
    B = 2
    t = rng.uniform(0.0, 0.05, (B, 6, 1))
    c = np.ones((B, 6), np.int64)
    budget = SpikeTimeBudget(duration_s=0.3)
    r = rng.normal(size=(B, 3, 4))
    L0, n0, tr, _ = _net_loss(spec, W, t, c, r, budget)
    assert n0.sum() > 3 and tr.fwd[0][0].sum() > 5
    g = np.where(np.isfinite(tr.fwd[-1][2]), r, 0.0)
    grads = model.backward(spec, W, tr, g)
    eps = 1e-6
    checked = 0
    for layer in range(2):
        for idx in np.ndindex(W[layer].shape):
            Wp = [w.copy() for w in W]
            Wm = [w.copy() for w in W]
            Wp[layer][idx] += eps
            Wm[layer][idx] -= eps
            Lp, np_, trp, _ = _net_loss(spec, Wp, t, c, r, budget)
            Lm, nm, trm, _ = _net_loss(spec, Wm, t, c, r, budget)
            same = all(np.array_equal(a.fwd[i][0], tr.fwd[i][0])
                       for a in (trp, trm) for i in range(2))
            if not same:
                continue
            fd = (Lp - Lm) / (2 * eps) / B  # backward returns the batch mean
            assert grads[layer][idx] == pytest.approx(fd, rel=1e-4, abs=1e-6), (layer, idx)
            checked += 1
    assert checked > 30


def test_straight_through_gradient_is_the_continuous_formula_at_grid_inputs():
    # with dt > 0 and one spike per neuron (no reset term, which the STE passes through the
    # grid delay on purpose) the backward pass is the exact gradient of the continuous
    # roots given the grid-delayed inputs the forward pass used
    rng = np.random.default_rng(5)
    spec = ExactSpec(sizes=(4, 2), tau_s=0.13, thresholds=(0.05,), max_spikes=(1,))
    W = [rng.uniform(0.3, 1.0, (2, 4))]
    t = rng.uniform(0.0, 0.05, (1, 4, 1))
    c = np.ones((1, 4), np.int64)
    budget = SpikeTimeBudget(dt_s=0.001, duration_s=0.3, grid_input=True)
    r = rng.normal(size=(1, 2, 1))
    L0, n0, tr, _ = _net_loss(spec, W, t, c, r, budget)
    g = np.where(np.isfinite(tr.fwd[-1][2]), r, 0.0)
    grads = model.backward(spec, W, tr, g)
    eps = 1e-7
    checked = 0
    assert n0.sum() == 2
    for idx in np.ndindex(W[0].shape):
        Wp = [W[0].copy()]
        Wm = [W[0].copy()]
        Wp[0][idx] += eps
        Wm[0][idx] -= eps
        Lp, _, trp, tgp = _net_loss(spec, Wp, t, c, r, budget)
        Lm, _, trm, tgm = _net_loss(spec, Wm, t, c, r, budget)
        if not (np.array_equal(tgp, tr.fwd[0][1]) and np.array_equal(tgm, tr.fwd[0][1])):
            continue  # a grid time moved: the continuous derivative does not apply
        assert grads[0][idx] == pytest.approx((Lp - Lm) / (2 * eps), rel=1e-4, abs=1e-6)
        checked += 1
    assert checked >= 6


def test_count_loss_and_errors():
    spec = ExactSpec(sizes=(2, 3), thresholds=(1.0,), max_spikes=(30,))
    loss, g = model.count_loss(spec, np.array([[15, 3, 0]]), np.array([0]))
    assert loss[0] == pytest.approx(0.5 * 9)
    np.testing.assert_allclose(g[0], [0, 0, 3])
