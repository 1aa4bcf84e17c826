"""The engine reproduces the Lava run bit for bit (fixed point) on real MNIST digits."""

import numpy as np
import pytest

from lavalab.backends.lava import run_lava
from lavalab.data import load_mnist
from lavalab.engine import infer, make_net, run
from lavalab.networks.snn import diehl_cook, init_weights, lower_network, tinysnn

PRESENT, REST = 60, 20


@pytest.fixture(scope="module")
def digits():
    return load_mnist("train").images[:4]


def _net(kind, n=16, **kw):
    """Short samples and a strong input (gain 1) so that small networks spike a lot; the
    plain mechanisms (uniform start, no one_spike) unless ``kw`` asks for others."""
    build = diehl_cook if kind == "diehl-cook" else tinysnn
    kw.setdefault("input_gain", 1.0)
    kw.setdefault("w_init", "uniform")
    kw.setdefault("one_spike", False)
    return build(n, present_steps=PRESENT, rest_steps=REST, **kw)


def _train_on_both(s, digits):
    """Train ``s`` in fixed point on the engine and on Lava from the same weights; assert
    that every spike, the weights, theta and the counts are identical. Returns
    ``(net, w0, events, spikes)`` of the engine run."""
    fx = lower_network(s)
    w0 = np.rint(init_weights(s, 1) * fx.q).astype(np.int64)
    net = make_net(s, "fixed", w0, seed=7, fixed=fx)
    counts, events, spikes = run(net, digits, learn=True, record=True)
    lava = run_lava(s, "fixed", w0, 0, digits, seed=7, fixed=fx, record=True)
    np.testing.assert_array_equal(spikes, lava["spikes"])  # every spike at every step
    np.testing.assert_array_equal(net.w, lava["w"])
    np.testing.assert_array_equal(net.theta, lava["theta"])
    np.testing.assert_array_equal(counts, lava["counts"])
    return net, w0, events, spikes


@pytest.mark.parametrize("kind,rule", [("diehl-cook", "stdp1"), ("tinysnn", "stdp2"),
                                       ("tinysnn", "stdp1")])
def test_fixed_training_bit_exact(kind, rule, digits):
    s = _net(kind, rule=rule) if kind == "tinysnn" else _net(kind)
    net, w0, events, spikes = _train_on_both(s, digits)
    assert spikes.sum() > 10 and np.abs(net.w - w0).sum() > 1000 and net.theta.max() > 0
    assert events[:, 1].sum() == spikes.sum() and events[:, 5].sum() > 0


def test_float_training_matches_lava_floating_pt(digits):
    """Same kernels in float64 on both sides: stated tolerance 1e-9 on weights and theta,
    identical spikes."""
    s = _net("diehl-cook")
    w0 = init_weights(s, 2)
    net = make_net(s, "float", w0, seed=3)
    counts, _, spikes = run(net, digits[:2], learn=True, record=True)
    lava = run_lava(s, "float", w0, 0.0, digits[:2], seed=3, record=True)
    np.testing.assert_array_equal(spikes, lava["spikes"])
    np.testing.assert_allclose(net.w, lava["w"], rtol=0, atol=1e-9)
    np.testing.assert_allclose(net.theta, lava["theta"], rtol=0, atol=1e-9)
    assert spikes.sum() > 5


@pytest.mark.parametrize("kind", ["diehl-cook", "tinysnn"])
def test_parallel_inference_equals_sequential_and_lava(kind, digits):
    s = _net(kind)
    fx = lower_network(s)
    w = np.rint(init_weights(s, 4) * fx.q).astype(np.int64)
    theta = np.arange(s.n_exc) * 500
    net = make_net(s, "fixed", w, theta=theta, seed=9, fixed=fx)
    par, _ = infer(net, digits)
    seq, _, _ = run(make_net(s, "fixed", w, theta=theta, seed=9, fixed=fx), digits, learn=False)
    lava = run_lava(s, "fixed", w, theta, digits, seed=9, fixed=fx, learn=False)
    np.testing.assert_array_equal(par, seq)
    np.testing.assert_array_equal(par, lava["counts"])
    assert par.sum() > 10


def test_resume_in_chunks_is_identical(digits):
    s = _net("diehl-cook")
    fx = lower_network(s)
    w0 = np.rint(init_weights(s, 5) * fx.q).astype(np.int64)
    whole = make_net(s, "fixed", w0, seed=1, fixed=fx)
    c_whole, _, _ = run(whole, digits)
    parts = make_net(s, "fixed", w0, seed=1, fixed=fx)
    c1, _, _ = run(parts, digits[:1])
    c2, _, _ = run(parts, digits[1:])
    np.testing.assert_array_equal(np.vstack([c1, c2]), c_whole)
    np.testing.assert_array_equal(parts.w, whole.w)
    assert parts.t == whole.t == 4 * (PRESENT + REST)


def test_make_net_does_not_alias_and_validates():
    s = _net("tinysnn")
    w = np.zeros((s.n_exc, s.n_input), np.int64)
    net = make_net(s, "fixed", w)
    assert not np.shares_memory(net.w, w)
    with pytest.raises(ValueError, match="weights has shape"):
        make_net(s, "fixed", np.zeros((3, 3)))
    with pytest.raises(ValueError, match="precision='half'"):
        make_net(s, "half", w)


def test_lava_in_chunks_equals_engine_in_one_run(digits):
    """Lava runs continued with t_offset (state carried: weights, theta) equal one long run,
    since every sample starts from reset neurons, traces and empty buffers."""
    s = _net("diehl-cook")
    fx = lower_network(s)
    w0 = np.rint(init_weights(s, 6) * fx.q).astype(np.int64)
    net = make_net(s, "fixed", w0, seed=2, fixed=fx)
    counts, _, _ = run(net, digits[:3])
    a = run_lava(s, "fixed", w0, 0, digits[:2], seed=2, fixed=fx)
    b = run_lava(s, "fixed", a["w"], a["theta"], digits[2:3], seed=2, fixed=fx,
                 t_offset=2 * (PRESENT + REST))
    np.testing.assert_array_equal(np.vstack([a["counts"], b["counts"]]), counts)
    np.testing.assert_array_equal(b["w"], net.w)
    np.testing.assert_array_equal(b["theta"], net.theta)


def test_run_many_equals_separate_runs(digits):
    from lavalab.engine import run_many

    s = _net("tinysnn")
    fx = lower_network(s)
    w0 = np.rint(init_weights(s, 8) * fx.q).astype(np.int64)
    nets = [make_net(s, "fixed", w0, seed=k, fixed=fx) for k in range(3)]
    res = run_many(nets, digits[:2])
    for k in range(3):
        alone = make_net(s, "fixed", w0, seed=k, fixed=fx)
        counts, _, _ = run(alone, digits[:2])
        np.testing.assert_array_equal(res[k][0], counts)
        np.testing.assert_array_equal(nets[k].w, alone.w)
    assert not np.array_equal(nets[0].w, nets[1].w)  # the seeds differ


def test_inhibition_that_does_not_fit_is_refused_by_name():
    with pytest.raises(ValueError, match="does not fit 8 bits << 7"):
        lower_network(diehl_cook(10, w_inh_exc=200.0))
    lower_network(diehl_cook(10, w_lateral=200.0))  # unused by D&C: not checked


def test_network_kinds_pick_their_rules():
    from lavalab.networks.snn import build
    from lavalab.stdp import TrainConfig

    assert build("tinysnn", 10).stdp.rule == "stdp1"  # the size defaults (DEFAULTS)
    assert build("diehl-cook", 10).stdp.rule == "stdp1"
    assert build("tinysnn", 10, rule="stdp2").stdp.rule == "stdp2"
    assert TrainConfig(network="tinysnn").spec(784).stdp.rule == "stdp1"
    assert TrainConfig(network="tinysnn", rule="stdp2").spec(784).stdp.rule == "stdp2"
    with pytest.raises(ValueError, match="rule='stdp3'"):
        build("tinysnn", 10, rule="stdp3")


def test_inference_fast_forward_is_exact_with_slow_current(digits):
    """Inference skips the rest of a sample once nothing can spike; with a decaying
    synaptic current (tau_u = 3 ms) spikes continue after the input stops, and the skip must
    wait for them. Compared with Lava, which simulates every step."""
    from lavalab.dynamics.adaptive_lif import AdaptiveLIFParams

    exc = AdaptiveLIFParams(v_th=13.0, v_reset=5.0, tau_u_ms=3.0, tau_v_ms=100.0,
                            theta_plus=0.05, t_ref_ms=1.0)
    s = _net("diehl-cook", exc=exc)
    fx = lower_network(s)
    w = np.rint(init_weights(s, 3) * fx.q).astype(np.int64)
    net = make_net(s, "fixed", w, seed=4, fixed=fx)
    counts, _, spikes = run(net, digits, learn=False, record=True)
    lava = run_lava(s, "fixed", w, 0, digits, seed=4, fixed=fx, learn=False, record=True)
    np.testing.assert_array_equal(spikes, lava["spikes"])
    late = spikes.reshape(len(digits), PRESENT + REST, -1)[:, PRESENT:].sum()
    assert late > 0  # spikes after the input stopped: the skip had to wait


def _with_one_spike(s):
    from dataclasses import replace

    return replace(s, exc=replace(s.exc, one_spike=True))


@pytest.mark.parametrize("kind,rule,one_spike", [("diehl-cook", "triplet", False),
                                                 ("diehl-cook", "stdp1", True),
                                                 ("diehl-cook", "triplet", True),
                                                 ("tinysnn", "stdp2", True)])
def test_learning_mechanisms_bit_exact(kind, rule, one_spike, digits):
    """Issue 9's mechanisms (D&C's triplet rule, one spike per step) run the same kernels on
    both backends: every spike, weight and theta identical in fixed point."""
    s = _net(kind, rule=rule)
    s = _with_one_spike(s) if one_spike else s
    net, w0, _, spikes = _train_on_both(s, digits[:3])
    assert spikes.sum() > 5 and np.abs(net.w - w0).sum() > 100
    if one_spike:
        assert spikes.sum(axis=1).max() == 1  # never two excitatory spikes in one step
    if rule == "triplet":
        assert net.x_post2.max() > 0


def test_float_mechanisms_match_lava_floating_pt(digits):
    s = _with_one_spike(_net("diehl-cook", rule="triplet"))
    w0 = init_weights(s, 2)
    net = make_net(s, "float", w0, seed=3)
    _, _, spikes = run(net, digits[:2], learn=True, record=True)
    lava = run_lava(s, "float", w0, 0.0, digits[:2], seed=3, record=True)
    np.testing.assert_array_equal(spikes, lava["spikes"])
    np.testing.assert_allclose(net.w, lava["w"], rtol=0, atol=1e-9)
    assert spikes.sum() > 5 and spikes.sum(axis=1).max() == 1


def test_one_spike_acts_only_while_learning(digits):
    """Inference of a one_spike network equals inference of the same network without it
    (engine, parallel and sequential, and Lava)."""
    s1 = _with_one_spike(_net("diehl-cook"))
    s0 = _net("diehl-cook")
    fx1, fx0 = lower_network(s1), lower_network(s0)
    w = np.rint(init_weights(s0, 4) * fx0.q).astype(np.int64)
    c1, _ = infer(make_net(s1, "fixed", w, seed=9, fixed=fx1), digits)
    c0, _ = infer(make_net(s0, "fixed", w, seed=9, fixed=fx0), digits)
    lava = run_lava(s1, "fixed", w, 0, digits[:2], seed=9, fixed=fx1, learn=False)
    np.testing.assert_array_equal(c1, c0)
    np.testing.assert_array_equal(c1[:2], lava["counts"])
    assert c1.sum() > 10


def test_one_spike_at_inference_bit_exact(digits):
    """one_spike_infer: at inference at most one excitatory spike per step, the same on the
    engine (parallel and sequential) and on Lava; it does not act while learning."""
    from dataclasses import replace

    s0 = _net("diehl-cook")
    s1 = replace(s0, exc=replace(s0.exc, one_spike_infer=True))
    fx1, fx0 = lower_network(s1), lower_network(s0)
    w = np.rint(init_weights(s0, 4) * fx0.q * 3).clip(0, 255).astype(np.int64)
    c0, _ = infer(make_net(s0, "fixed", w, seed=9, fixed=fx0), digits)
    c1, _ = infer(make_net(s1, "fixed", w, seed=9, fixed=fx1), digits)
    _, _, spikes = run(make_net(s1, "fixed", w, seed=9, fixed=fx1), digits[:2], learn=False,
                       record=True)
    lava = run_lava(s1, "fixed", w, 0, digits[:2], seed=9, fixed=fx1, learn=False,
                    record=True)
    np.testing.assert_array_equal(spikes, lava["spikes"])
    np.testing.assert_array_equal(c1[:2], lava["counts"])
    assert spikes.sum(axis=1).max() == 1 and c1.sum() > 10
    assert (c0.sum(axis=1) > c1.sum(axis=1)).any()  # the plain network has same-step ties
    # while learning it is the plain network's (one_spike is off here)
    n0, n1 = (make_net(s, "fixed", w, seed=9, fixed=f) for s, f in ((s0, fx0), (s1, fx1)))
    _, _, r0 = run(n0, digits[:2], learn=True, record=True)
    _, _, r1 = run(n1, digits[:2], learn=True, record=True)
    np.testing.assert_array_equal(r0, r1)
