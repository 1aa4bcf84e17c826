"""The step loop's fast paths give the plain loop's results bit for bit: the skip of a quiet
rest (training and inference), and the loop's profile counters change nothing."""

import numpy as np
import pytest

from lavalab.data import load_mnist
from lavalab.engine import PROFILE_SECTIONS, infer, make_net, run
from lavalab.networks.snn import build, init_weights, lower_network

PRESENT, REST = 100, 60


@pytest.fixture(scope="module")
def digits():
    return load_mnist("train").images[:5]


def _factory(kind, precision, rule=None, n=30, seed=3):
    spec = build(kind, n, rule=rule, present_steps=PRESENT, rest_steps=REST, input_gain=1.0,
                 w_init="uniform")
    fx = lower_network(spec) if precision == "fixed" else None
    w = init_weights(spec, seed)
    w = np.rint(w * fx.q).astype(np.int64) if fx is not None else w
    return (lambda: make_net(spec, precision, w, seed=seed, fixed=fx)), w


def _assert_same_state(a, b):
    assert a.t == b.t
    for k in a.arrays:
        np.testing.assert_array_equal(a.arrays[k], b.arrays[k], err_msg=k)


@pytest.mark.parametrize("kind,rule,precision", [("diehl-cook", "stdp1", "fixed"),
                                                 ("diehl-cook", "triplet", "fixed"),
                                                 ("tinysnn", "stdp1", "fixed"),
                                                 ("diehl-cook", "stdp1", "float")])
def test_training_skip_of_a_quiet_rest_is_exact(kind, rule, precision, digits):
    new, w0 = _factory(kind, precision, rule)
    fast, plain = new(), new()
    cf, ef, rf = run(fast, digits, record=True)
    cp, ep, rp = run(plain, digits, record=True, skip_quiet=False)
    assert fast.skipped_steps > 0 and plain.skipped_steps == 0  # the fast path ran
    assert rp.sum() > 10 and np.abs(plain.w - w0).sum() > 0  # spikes, and learning
    np.testing.assert_array_equal(cf, cp)
    np.testing.assert_array_equal(ef, ep)
    np.testing.assert_array_equal(rf, rp)
    _assert_same_state(fast, plain)  # the last sample of a call is never cut short
    # theta decays in the skipped steps too (D&C's exc neurons: tau_theta = 1e7 steps)
    assert precision == "float" or kind == "tinysnn" or plain.theta.max() > 0
    c2f, _, _ = run(fast, digits[:2])
    c2p, _, _ = run(plain, digits[:2], skip_quiet=False)
    np.testing.assert_array_equal(c2f, c2p)
    _assert_same_state(fast, plain)


def test_training_with_an_update_window_is_never_skipped(digits):
    """STDP2's window flags outlive the input, so its training simulates every step."""
    new, _ = _factory("tinysnn", "fixed", "stdp2")
    fast, plain = new(), new()
    cf, ef, _ = run(fast, digits[:3])
    cp, ep, _ = run(plain, digits[:3], skip_quiet=False)
    assert fast.skipped_steps == 0
    np.testing.assert_array_equal(cf, cp)
    np.testing.assert_array_equal(ef, ep)
    _assert_same_state(fast, plain)


def test_inference_skip_is_exact(digits):
    new, _ = _factory("diehl-cook", "fixed", "stdp1")
    fast, plain = new(), new()
    cf, ef, rf = run(fast, digits, learn=False, record=True)
    cp, ep, rp = run(plain, digits, learn=False, record=True, skip_quiet=False)
    assert fast.skipped_steps > 0 and rp.sum() > 10
    np.testing.assert_array_equal(cf, cp)
    np.testing.assert_array_equal(ef, ep)
    np.testing.assert_array_equal(rf, rp)
    np.testing.assert_array_equal(fast.w, plain.w)
    np.testing.assert_array_equal(fast.theta, plain.theta)
    ci, ei = infer(new(), digits, threads=2)
    np.testing.assert_array_equal(ci, cp)
    np.testing.assert_array_equal(ei, ep)


def test_profile_counts_every_section_and_changes_nothing(digits):
    new, _ = _factory("diehl-cook", "fixed", "stdp1")
    a, b = new(), new()
    prof = np.zeros(len(PROFILE_SECTIONS), np.int64)
    ca, ea, _ = run(a, digits[:2], profile=prof)
    cb, eb, _ = run(b, digits[:2])
    np.testing.assert_array_equal(ca, cb)
    np.testing.assert_array_equal(ea, eb)
    _assert_same_state(a, b)
    sec = dict(zip(PROFILE_SECTIONS, prof, strict=True))
    assert min(prof) >= 0
    for s in ("encode", "exc_neurons", "inh_neurons", "input_synapses", "learning",
              "learning_sample_start"):
        assert sec[s] > 0, s
    with pytest.raises(ValueError, match="profile must be an int64 array"):
        run(a, digits[:1], profile=np.zeros(3, np.int64))


def test_weights_out_of_range_are_refused_before_the_loop(digits):
    new, _ = _factory("diehl-cook", "fixed", "stdp1")
    net = new()
    net.w[0, 0] = 10**6
    with pytest.raises(ValueError, match="net.w spans"):
        run(net, digits[:1])
