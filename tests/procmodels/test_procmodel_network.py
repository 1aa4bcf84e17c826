"""STDPDense, PoissonEncoder, SpikeCounter and inhibition wiring inside Lava networks.

The fixed-point Lava run is compared exactly with the same step functions composed in a
plain loop (the schedule Lava's pipeline imposes: a synapse's output reaches the neuron
one step later).
"""

import numpy as np
import pytest
from lava.magma.core.run_conditions import RunSteps
from lava.proc.io.source import RingBuffer
from lava.proc.monitor.process import Monitor

from lavalab.backends.run_configs import Loihi2SimCfg
from lavalab.dynamics.adaptive_lif import (
    AdaptiveLIFFixed,
    AdaptiveLIFParams,
    init_state,
    step_fixed,
    step_float,
)
from lavalab.dynamics.encoding import poisson_raster
from lavalab.dynamics.stdp import (
    STDPFixed,
    STDPParams,
    init_stdp_state,
    step_stdp_fixed,
    step_stdp_float,
    synapse_output_fixed,
    synapse_output_float,
)
from lavalab.networks.wiring import connect_dense, dc_inhibition_weights
from lavalab.processes.adaptive_lif import AdaptiveLIF
from lavalab.processes.poisson_encoder import PoissonEncoder
from lavalab.processes.spike_counter import SpikeCounter
from lavalab.processes.stdp_dense import STDPDense

N_IN, N, PRESENT, REST = 16, 4, 30, 10


def _images(seed=0, samples=3):
    return np.random.default_rng(seed).random((samples, N_IN))


def _stdp_fixed(rule):
    return STDPFixed(decay_pre=200, decay_post=200, impulse_pre=127, impulse_post=127,
                     eta_pre_mant=4, eta_pre_exp=-8, eta_post_mant=5, eta_post_exp=-9,
                     w_max=255, mu=1, rule=rule, window_steps=5, n_th=2,
                     sample_steps=PRESENT + REST, norm_total=N_IN * 100)


LIF_FIXED = AdaptiveLIFFixed(decay_u=4096, decay_v=200, vth=300, theta_plus=200,
                             decay_theta=1, ref_steps=2)


def _build(lif_params, stdp_params, w0, images, seed=3):
    enc = PoissonEncoder(intensities=images, max_rate_hz=200.0, present_steps=PRESENT,
                         rest_steps=REST, seed=seed)
    syn = STDPDense(weights=w0, params=stdp_params, seed=seed)
    exc = AdaptiveLIF(shape=(N,), params=lif_params, sample_steps=PRESENT + REST, seed=seed + 2)
    counter = SpikeCounter(n=N, sample_steps=PRESENT + REST, num_samples=len(images))
    enc.s_out.connect(syn.s_in)
    syn.a_out.connect(exc.a_in)
    exc.s_out.connect(syn.s_post)
    exc.s_out.connect(counter.a_in)
    return enc, syn, exc, counter


def _reference(step_lif, step_syn, output, lif_p, syn_p, w0, raster, seed, precision):
    lif = init_state((N,), precision)
    syn = init_stdp_state(w0)
    a_buff = np.zeros(N)
    spikes = []
    for t, s_pre in enumerate(raster):
        lif, s_post = step_lif(lif, lif_p, a_buff, True, t % (PRESENT + REST) == 0, t, seed + 2)
        a_buff = output(syn.w, s_pre)
        syn = step_syn(syn, syn_p, s_pre, s_post, t, True, seed)
        spikes.append(s_post)
    return np.array(spikes), syn, lif


@pytest.mark.parametrize("rule", ["stdp1", "stdp2"])
def test_fixed_network_on_lava_equals_step_functions(rule):
    images, steps = _images(), 3 * (PRESENT + REST)
    w0 = np.random.default_rng(1).integers(50, 150, (N, N_IN))
    p = _stdp_fixed(rule)
    enc, syn, exc, counter = _build(LIF_FIXED, p, w0, images)
    mon = Monitor()
    mon.probe(exc.s_out, steps)
    try:
        exc.run(condition=RunSteps(num_steps=steps), run_cfg=Loihi2SimCfg(select_tag="fixed_pt"))
        lava_s = mon.get_data()[exc.name]["s_out"].astype(bool)
        lava_w, lava_theta = syn.weights.get(), exc.theta.get()
        lava_counts = counter.counts.get()
    finally:
        exc.stop()
    raster = poisson_raster(images, 200.0, 1.0, PRESENT, REST, seed=3)
    ref_s, ref_syn, ref_lif = _reference(
        step_fixed, step_stdp_fixed, synapse_output_fixed, LIF_FIXED, p, w0, raster, 3, "fixed")
    np.testing.assert_array_equal(lava_s, ref_s)
    np.testing.assert_array_equal(lava_w, ref_syn.w)
    np.testing.assert_array_equal(lava_theta, ref_lif.theta)
    per_sample = ref_s.reshape(3, PRESENT + REST, N).sum(1)
    np.testing.assert_array_equal(lava_counts, per_sample)
    assert ref_s.sum() > 10 and np.any(lava_w != w0)


def test_float_network_on_lava_matches_step_functions():
    images, steps = _images(), 2 * (PRESENT + REST)
    lif_p = AdaptiveLIFParams(v_th=5.0, tau_u_ms=2.0, tau_v_ms=20.0, theta_plus=0.5,
                              t_ref_ms=2.0)
    stdp_p = STDPParams(mu=1.0, eta_post=0.05, eta_pre=0.01, sample_steps=PRESENT + REST,
                        norm_total=8.0)
    w0 = np.random.default_rng(1).random((N, N_IN)) * 0.8
    enc, syn, exc, counter = _build(lif_p, stdp_p, w0, images[:2])
    try:
        exc.run(condition=RunSteps(num_steps=steps),
                run_cfg=Loihi2SimCfg(select_tag="floating_pt"))
        lava_w = syn.weights.get()
        lava_counts = counter.counts.get()
    finally:
        exc.stop()
    raster = poisson_raster(images[:2], 200.0, 1.0, PRESENT, REST, seed=3)
    ref_s, ref_syn, _ = _reference(step_float, step_stdp_float, synapse_output_float,
                                   lif_p.per_step(), stdp_p.per_step(), w0, raster, 3, "float")
    np.testing.assert_allclose(lava_w, ref_syn.w, rtol=1e-12, atol=1e-12)
    np.testing.assert_array_equal(lava_counts, ref_s.reshape(2, -1, N).sum(1))
    assert ref_s.sum() > 5


@pytest.mark.parametrize("tag", ["fixed_pt", "floating_pt"])
def test_poisson_encoder_raster_is_identical_across_tags(tag):
    images = _images(seed=5, samples=2)
    steps = 2 * (PRESENT + REST)
    enc = PoissonEncoder(intensities=images, max_rate_hz=500.0, present_steps=PRESENT,
                         rest_steps=REST, seed=11)
    mon = Monitor()
    mon.probe(enc.s_out, steps)
    try:
        enc.run(condition=RunSteps(num_steps=steps), run_cfg=Loihi2SimCfg(select_tag=tag))
        got = mon.get_data()[enc.name]["s_out"].astype(bool)
    finally:
        enc.stop()
    ref = poisson_raster(images, 500.0, 1.0, PRESENT, REST, seed=11)
    np.testing.assert_array_equal(got, ref)
    assert not got[PRESENT:PRESENT + REST].any()  # rest is silent


def test_poisson_rates():
    x = np.linspace(0, 1, 11)
    r = poisson_raster(x[None, :], 100.0, 1.0, 20000, 0, seed=0)
    np.testing.assert_allclose(r.mean(0), x * 0.1, atol=0.006)


def test_encoder_validation():
    with pytest.raises(ValueError, match="allowed range is 0..1 \\(max_rate_hz <= 1000\\)"):
        PoissonEncoder(intensities=np.ones(3), max_rate_hz=2000.0, present_steps=5)
    with pytest.raises(ValueError, match="outside the allowed range \\[0, 1\\]"):
        PoissonEncoder(intensities=np.full(3, 255.0), max_rate_hz=60.0, present_steps=5)
    with pytest.raises(ValueError, match="present_steps=0"):
        PoissonEncoder(intensities=np.ones(3), max_rate_hz=60.0, present_steps=0)


@pytest.mark.parametrize("tag", ["fixed_pt", "floating_pt"])
def test_spike_counter_resets_per_sample(tag):
    rng = np.random.default_rng(0)
    data = (rng.random((3, 20)) < 0.4).astype(np.int32)
    src = RingBuffer(data=data)
    counter = SpikeCounter(n=3, sample_steps=7, num_samples=2)
    src.s_out.connect(counter.a_in)
    try:
        counter.run(condition=RunSteps(num_steps=20), run_cfg=Loihi2SimCfg(select_tag=tag))
        counts, current = counter.counts.get(), counter.count.get()
    finally:
        counter.stop()
    np.testing.assert_array_equal(counts, [data[:, :7].sum(1), data[:, 7:14].sum(1)])
    np.testing.assert_array_equal(current, data[:, 14:20].sum(1))


def test_inhibition_weights():
    w_ei, w_ie = dc_inhibition_weights(3, 100, 20)
    assert w_ei.tolist() == [[100, 0, 0], [0, 100, 0], [0, 0, 100]]
    assert w_ie.tolist() == [[0, -20, -20], [-20, 0, -20], [-20, -20, 0]]
    from lavalab.networks.wiring import lateral_inhibition_weights

    assert lateral_inhibition_weights(2, 5).tolist() == [[0, -5], [-5, 0]]
    with pytest.raises(ValueError, match="w_inh=-5 is a magnitude"):
        lateral_inhibition_weights(2, -5)


@pytest.mark.parametrize("kind", ["dc", "lateral"])
def test_inhibition_reduces_coactivity_on_lava(kind):
    """Same input to all neurons: without inhibition all fire together; with D&C's inhibitory
    population or tinySNN's lateral inhibition, fewer spikes (fixed point, Lava Dense)."""
    from lavalab.networks.wiring import lateral_inhibition_weights

    steps = 60

    def total_spikes(inhibit):
        src = RingBuffer(data=np.ones((1, steps), np.int32))
        p = AdaptiveLIFFixed(decay_u=4096, decay_v=0, vth=200)
        exc = AdaptiveLIF(shape=(N,), params=p)
        connect_dense(src.s_out, exc.a_in, np.array([[100], [90], [80], [70]]))
        if inhibit and kind == "dc":
            inh = AdaptiveLIF(shape=(N,), params=AdaptiveLIFFixed(decay_u=4096, decay_v=0,
                                                                  vth=10))
            w_ei, w_ie = dc_inhibition_weights(N, 120, 250)
            connect_dense(exc.s_out, inh.a_in, w_ei)
            connect_dense(inh.s_out, exc.a_in, w_ie)
        elif inhibit:
            connect_dense(exc.s_out, exc.a_in, lateral_inhibition_weights(N, 250))
        mon = Monitor()
        mon.probe(exc.s_out, steps)
        try:
            exc.run(condition=RunSteps(num_steps=steps),
                    run_cfg=Loihi2SimCfg(select_tag="fixed_pt"))
            return mon.get_data()[exc.name]["s_out"].sum()
        finally:
            exc.stop()

    free, inhibited = total_spikes(False), total_spikes(True)
    assert free > 0 and inhibited < free
