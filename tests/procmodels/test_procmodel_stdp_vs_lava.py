"""STDP1 fixed point against Lava's own LearningDense running the equivalent rule string.

Lava 0.10's fixed LearningDense (``PyLearningDenseModelBitApproximate``) draws its
stochastic rounding from numpy streams (one number per step shared by all synapses), ours
from the counter-based stream, so the two agree bit for bit exactly where no rounding is
random: integer rule constants (Lava exponents >= 0), traces that live one step
(Lava ``tau = 0``, ours ``decay = 4096``) and no saturation of the 16-bit accumulator
(saturation leaves a fraction that both round stochastically). Elsewhere they agree
statistically.
"""

import numpy as np
import pytest
from lava.magma.core.learning.learning_rule import Loihi2FLearningRule
from lava.magma.core.run_conditions import RunSteps
from lava.magma.core.run_configs import Loihi2SimCfg as LavaSimCfg
from lava.proc.dense.process import LearningDense
from lava.proc.io.source import RingBuffer
from lava.proc.monitor.process import Monitor
from lava.utils.weightutils import SignMode

from lavalab.backends.run_configs import Loihi2SimCfg
from lavalab.dynamics.stdp import STDPFixed, loihi_rule_string
from lavalab.processes.stdp_dense import STDPDense


def _spikes(n, steps, p, seed):
    return (np.random.default_rng(seed).random((n, steps)) < p).astype(np.int32)


def run_lava(pre, post, w0, rule, x_imp, x_tau, y_imp, y_tau):
    steps = pre.shape[1]
    lr = Loihi2FLearningRule(dw=rule, x1_impulse=x_imp, x1_tau=x_tau, y1_impulse=y_imp,
                             y1_tau=y_tau, t_epoch=1, rng_seed=0)
    src_pre, src_post = RingBuffer(data=pre), RingBuffer(data=post)
    dense = LearningDense(weights=w0.astype(float), learning_rule=lr,
                          sign_mode=SignMode.EXCITATORY)
    src_pre.s_out.connect(dense.s_in)
    src_post.s_out.connect(dense.s_in_bap)
    mon = Monitor()
    mon.probe(dense.weights, steps)
    try:
        dense.run(condition=RunSteps(num_steps=steps),
                  run_cfg=LavaSimCfg(select_tag="fixed_pt"))
        w = mon.get_data()[dense.name]["weights"]
    finally:
        dense.stop()
    return np.rint(np.asarray(w)).astype(np.int64).reshape(steps, *w0.shape)


def run_ours(pre, post, w0, p):
    steps = pre.shape[1]
    src_pre, src_post = RingBuffer(data=pre), RingBuffer(data=post)
    syn = STDPDense(weights=w0, params=p)
    src_pre.s_out.connect(syn.s_in)
    src_post.s_out.connect(syn.s_post)
    mon = Monitor()
    mon.probe(syn.weights, steps)
    try:
        syn.run(condition=RunSteps(num_steps=steps), run_cfg=Loihi2SimCfg(select_tag="fixed_pt"))
        w = mon.get_data()[syn.name]["weights"]
    finally:
        syn.stop()
    return np.asarray(w).astype(np.int64).reshape(steps, *w0.shape)


@pytest.mark.parametrize("mu,x_imp,rule", [
    (1, 20, "1*2^0*y0*x1*(255-w) - 2*2^0*x0*y1"),  # pot < 255 - w: never saturates
    (0, 4, "1*2^0*y0*x1 - 2*2^0*x0*y1"),           # depression wins: weights drift to 0
])
def test_bit_exact_with_learning_dense_when_deterministic(mu, x_imp, rule):
    n_pre, n_post, steps = 6, 4, 60
    pre, post = _spikes(n_pre, steps, 0.4, 1), _spikes(n_post, steps, 0.4, 2)
    w0 = np.random.default_rng(3).integers(20, 235, (n_post, n_pre))
    # ours: eta_post = 1 * 2**-5 with the w factor (Lava C1 = 1 * 2**0), eta_pre = 2 * 2**0
    p = STDPFixed(decay_pre=4096, decay_post=4096, impulse_pre=x_imp, impulse_post=9,
                  eta_pre_mant=2, eta_pre_exp=0, eta_post_mant=1,
                  eta_post_exp=-5 if mu else 0, w_max=255, mu=mu)
    assert loihi_rule_string(p) == rule
    lava = run_lava(pre, post, w0, rule, x_imp, 0, 9, 0)
    ours = run_ours(pre, post, w0, p)
    np.testing.assert_array_equal(ours, lava)
    assert np.abs(lava[-1] - w0).sum() > 100  # the weights really moved
    if not mu:
        assert lava.min() == 0  # and the clip at 0 was exercised


def test_statistical_agreement_with_learning_dense():
    """Decaying traces, fractional rates: both stochastic. Stated tolerance: the mean weight
    change over all synapses agrees within 15 %, and 90 % of the weights end within 6 units."""
    n_pre, n_post, steps = 20, 8, 300
    pre, post = _spikes(n_pre, steps, 0.1, 4), _spikes(n_post, steps, 0.1, 5)
    w0 = np.random.default_rng(6).integers(60, 200, (n_post, n_pre))
    p = STDPFixed(decay_pre=800, decay_post=800, impulse_pre=64, impulse_post=64,
                  eta_pre_mant=5, eta_pre_exp=-6, eta_post_mant=7, eta_post_exp=-12, mu=1)
    lava = run_lava(pre, post, w0, loihi_rule_string(p), 64, 4.6, 64, 4.6)[-1]
    ours = run_ours(pre, post, w0, p)[-1]
    d_lava, d_ours = (lava - w0).mean(), (ours - w0).mean()
    assert abs(d_lava) > 2  # the weights moved
    assert abs(d_ours - d_lava) < 0.15 * abs(d_lava), (d_ours, d_lava)
    assert np.mean(np.abs(ours - lava) <= 6) >= 0.9
