"""The quantize pass (lavalab.compile.quantize): formats, PTQ rounding, ITQ and qWN runs."""

import warnings

import numpy as np
import pytest

from lavalab import fixed
from lavalab.compile.ir import PrecisionBudget
from lavalab.compile.quantize import (
    QuantizationWarning,
    default_v_range_mv,
    neuron_format,
    quantize_network,
    quantize_theta,
    quantize_weights,
    theta_frozen,
    weight_format,
)
from lavalab.data import load_digits
from lavalab.dynamics.stdp import STDPParams
from lavalab.engine import make_net, run
from lavalab.networks.snn import diehl_cook, init_weights, lower_network, tinysnn


def small_tinysnn():
    """tinySNN-10 on 8x8 digits, short samples (fast); row sums 20 (0.1 * 64 is too weak
    to make 64 inputs fire a neuron)."""
    return tinysnn(10, 64, present_steps=60, rest_steps=4, max_rate_hz=200.0,
                   stdp=STDPParams(rule="stdp2", window_steps=10, n_th=3, norm_total=20.0),
                   one_spike=False, w_init="uniform")


@pytest.mark.parametrize("bits,q,exp_in,v_scale", [
    (4, 15, 4, 15360.0), (6, 63, 2, 16128.0), (8, 255, 0, 16320.0),
    (12, 4095, -4, 16380.0), (16, 65535, -8, 16383.75),
])
def test_weight_format(bits, q, exp_in, v_scale):
    assert weight_format(PrecisionBudget(weight_bits=bits)) == (q, exp_in)
    fx = quantize_network(small_tinysnn(), PrecisionBudget(weight_bits=bits))
    assert fx.v_scale == v_scale and fx.stdp.w_max == q and fx.exp_in == exp_in
    assert fx.exc.vth == round(13.0 / 0.5 * v_scale / 64)  # same neuron resolution


def test_float_budget_is_refused():
    with pytest.raises(ValueError, match="float engine"):
        quantize_network(small_tinysnn(), PrecisionBudget(weight_bits=32))
    with pytest.raises(ValueError, match="float engine"):
        weight_format(PrecisionBudget(weight_bits=32, neuron_bits=32))


def test_neuron_format():
    qwn = PrecisionBudget(neuron_bits=8, quantize_neurons=True)
    assert neuron_format(PrecisionBudget(), 10**6) == (24, 0)  # qW: Loihi's register
    assert neuron_format(qwn, 1000) == (8, 3)  # 10 bits + sign = 11: lsb 3, top 127*8 = 1016
    assert neuron_format(qwn, 1020) == (8, 4)  # 1016 < 1020: one more bit
    assert neuron_format(qwn, 100) == (8, 0)
    assert neuron_format(PrecisionBudget(neuron_bits=24, quantize_neurons=True),
                         2**23 - 1) == (24, 0)
    with pytest.raises(ValueError, match="needs 25 bits"):
        neuron_format(PrecisionBudget(neuron_bits=24, quantize_neurons=True), 2**23)
    with pytest.raises(ValueError, match="neuron_bits=32"):
        neuron_format(PrecisionBudget(neuron_bits=32, quantize_neurons=True), 100)


def test_default_loihi_budget_is_todays_lowering():
    for s in (small_tinysnn(), tinysnn(20), diehl_cook(10)):
        assert quantize_network(s, PrecisionBudget()) == lower_network(s)
    fx = quantize_network(small_tinysnn(), PrecisionBudget(rounding="truncate"))
    assert fx.stdp.w_rounding == "truncate"


def test_qwn_parameters_on_the_grid_and_theta_plus_kept_as_a_constant():
    s = small_tinysnn()
    b = PrecisionBudget(neuron_bits=12, rounding="nearest", quantize_neurons=True)
    fx = quantize_network(s, b, v_range=40.0)
    # 40 mV / 0.5 * 16320 = 1305600: 21 bits + sign = 22 -> lsb 10
    assert (fx.exc.v_bits, fx.exc.v_lsb, fx.exc.theta_bits) == (12, 10, 12)
    assert fx.exc.v_rounding == "nearest"
    # theta_plus is a constant at full resolution: theta + theta_plus is rounded per spike
    assert (fx.exc.vth << 6) % 1024 == 0 and fx.exc.theta_plus == 1632
    ref = lower_network(s)
    assert fx.exc.vth << 6 == round((ref.exc.vth << 6) / 1024) * 1024
    assert fx.exc.v_reset == round(ref.exc.v_reset / 1024) * 1024
    with pytest.warns(QuantizationWarning, match="theta_plus=1632 v units is below what "
                      "truncate rounding keeps"):
        lo = quantize_network(s, PrecisionBudget(neuron_bits=8, rounding="truncate",
                                                 quantize_neurons=True))
    assert lo.exc.v_lsb == 14  # default range: 60 mV inhibition
    assert theta_frozen(1632, 14, "truncate") and theta_frozen(1632, 14, "nearest")
    assert not theta_frozen(1632, 14, "stochastic") and not theta_frozen(1632, 10, "nearest")
    assert theta_frozen(511, 10, "nearest") and not theta_frozen(512, 10, "nearest")
    assert default_v_range_mv(s) == 60.0
    d = quantize_network(diehl_cook(10), b, v_range=40.0)
    assert d.inh.v_lsb == 10 and (d.inh.vth << 6) % 1024 == 0


@pytest.mark.parametrize("mode,expected", [
    ("truncate", [0, 1, 7, 14, 15, 15, 0]),
    ("nearest", [0, 2, 8, 15, 15, 15, 0]),
])
def test_ptq_weights_by_hand(mode, expected):
    w = np.array([0.0, 0.1, 0.5, 0.99, 1.0, 1.2, -0.1])  # x 15 = 0, 1.5, 7.5, 14.85, ...
    got = quantize_weights(w, PrecisionBudget(weight_bits=4, rounding=mode), seed=0)
    assert got.dtype == np.int64 and got.tolist() == expected


def test_ptq_stochastic_weights_unbiased():
    """0.37 x 255 = 94.35: 95 with probability 0.35. Tolerance 0.008 (~5 standard errors
    over 1e5 weights)."""
    b = PrecisionBudget(weight_bits=8, rounding="stochastic")
    w = quantize_weights(np.full((200, 500), 0.37), b, seed=3)
    assert set(np.unique(w)) == {94, 95} and w.shape == (200, 500)
    assert abs(w.mean() - 94.35) < 0.008
    np.testing.assert_array_equal(w, quantize_weights(np.full((200, 500), 0.37), b, seed=3))
    assert not np.array_equal(w, quantize_weights(np.full((200, 500), 0.37), b, seed=4))


def test_ptq_theta_on_grid_and_saturating():
    s = small_tinysnn()
    b = PrecisionBudget(rounding="nearest")
    fx = quantize_network(s, b)
    assert quantize_theta([0.1, 0.25, 0.0], fx, b).tolist() == [1632, 4080, 0]
    bn = PrecisionBudget(neuron_bits=12, rounding="truncate", quantize_neurons=True)
    fn = quantize_network(s, bn, v_range=40.0)
    th = quantize_theta([0.1, 0.25, 1e6, -1.0], fn, bn)
    assert th.tolist() == [1024, 4096 - 1024, fn.exc.theta_max, 0]  # 1632 -> 1, 4080 -> 3


@pytest.mark.parametrize("bits", [4, 16])
def test_itq_tinysnn_trains_at_low_and_high_precision(bits):
    s = small_tinysnn()
    b = PrecisionBudget(weight_bits=bits, rounding="stochastic", scheme="itq")
    fx = quantize_network(s, b)
    w0 = quantize_weights(init_weights(s, 0), b, seed=0)
    net = make_net(s, "fixed", w0, seed=0, fixed=fx)
    imgs = load_digits("train").images[:12]
    counts, events, _ = run(net, imgs, learn=True)
    assert counts.sum() > 0 and events[:, -1].sum() > 0  # spikes and weight updates
    assert net.w.min() >= 0 and net.w.max() <= 2**bits - 1
    assert not np.array_equal(net.w, w0)


def test_qwn_network_keeps_v_and_theta_on_the_grid():
    s = small_tinysnn()
    b = PrecisionBudget(weight_bits=8, neuron_bits=12, rounding="stochastic",
                        quantize_neurons=True)
    fx = quantize_network(s, b, v_range=40.0, seed=1)
    p = fx.exc
    net = make_net(s, "fixed", quantize_weights(init_weights(s, 1), b, 1), seed=1, fixed=fx)
    total = 0
    for img in load_digits("train").images[:8]:
        counts, _, _ = run(net, img[None], learn=True)
        total += counts.sum()
        for x in (net.v, net.theta):
            assert np.all(x % 2**p.v_lsb == 0)
        assert np.abs(net.v).max() <= p.v_max and net.theta.max() <= p.theta_max
    assert total > 0 and net.theta.max() > 0


def test_ptq_float_train_then_fixed_inference():
    s = small_tinysnn()
    imgs = load_digits("train").images[:6]
    fl = make_net(s, "float", init_weights(s, 2), seed=2)
    run(fl, imgs, learn=True)
    b = PrecisionBudget(weight_bits=6, rounding="nearest", scheme="ptq")
    fx = quantize_network(s, b)
    w, th = quantize_weights(fl.w, b, 2), quantize_theta(fl.theta, fx, b, 2)
    np.testing.assert_array_equal(w, np.clip(fixed.quantize(fl.w * 63, 0, "nearest"), 0, 63))
    net = make_net(s, "fixed", w, th, seed=2, fixed=fx, t=fl.t)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        counts, _, _ = run(net, imgs, learn=False)
    assert counts.shape == (6, 10) and counts.sum() > 0
    np.testing.assert_array_equal(net.w, w)
