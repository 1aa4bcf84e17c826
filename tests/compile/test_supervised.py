"""Lowering of supervised networks, their design rules, and energy = counts x table."""

import numpy as np
import pytest

from lavalab.compile.energy import estimate
from lavalab.compile.mapping import map_to_cores
from lavalab.compile.rules import DesignRuleError
from lavalab.compile.supervised import (
    analyse_supervised,
    check_supervised_rules,
    events_from_counts,
    lower_supervised,
)
from lavalab.loihi_spec import DAVIES2018
from lavalab.networks.supervised import MRFSpec, SupervisedSpec
from lavalab.supervised.model import SupervisedNet


@pytest.fixture
def net():
    import torch

    torch.manual_seed(0)
    return SupervisedNet(SupervisedSpec(n_input=20, hidden=(6, 4), n_output=3, timesteps=2))


def test_lower_graph_and_integers(net):
    fx = lower_supervised(net)
    g = fx.graph
    assert [p.name for p in g.populations] == ["input", "h0", "h1", "out"]
    assert [(c.src, c.dst, c.n_synapses, c.fan_in, c.fan_out) for c in g.connections] == [
        ("input", "h0", 120, 20, 6), ("h0", "h1", 24, 6, 4), ("h1", "out", 12, 4, 3)]
    assert fx.sample_steps == 2 + 3
    assert fx.layers[0].vth_mant == 16 * 64  # direct input: threshold x 2**4, x 64
    assert fx.layers[0].i_decay == round((1 - np.exp(-1)) * 4096)
    for L, w in zip(fx.layers, net.quantized_weights(), strict=True):
        np.testing.assert_array_equal(L.weights, w)
    assert fx.event_names == ("input_spikes", "h0_spikes", "h1_spikes", "out_spikes",
                              "syn_events_input_h0", "syn_events_h0_h1", "syn_events_h1_out",
                              "weight_updates")


def test_energy_is_counts_times_table_by_hand(net):
    fx = lower_supervised(net)
    counts = np.array([[30, 5, 2, 0], [10, 3, 0, 0]])  # input msgs, h0, h1, out per sample
    cmap = map_to_cores(fx.graph, "loihi2")
    assert cmap.cores_used == 3 and cmap.tiles_used == 1
    rep = estimate(fx.graph, cmap, events_from_counts(fx, counts), fx.sample_steps,
                   DAVIES2018, event_names=fx.event_names)
    t = DAVIES2018
    inp, h0, h1 = 20.0, 4.0, 1.0  # mean per sample
    syn = inp * 6 + h0 * 4 + h1 * 3
    upd = (6 + 4 + 3) * 5
    spikes_on = h0 + h1
    # messages: every source neuron reaches the one core of its destination, same tile
    msgs = inp + h0 + h1
    # updates with input (dense: size x min(source spikes, steps)): h0 6 x 5, h1 4 x 4,
    # out 3 x 1; the others are inactive
    active = 6 * 5 + 4 * 4 + 3 * 1
    want_pj = (syn * t.syn_op_pj + spikes_on * t.neuron_spiking_pj
               + (active - spikes_on) * t.neuron_active_pj
               + (upd - active) * t.neuron_inactive_pj + msgs * t.spike_tile_pj)
    assert rep.energy_pj == pytest.approx(want_pj)
    assert rep.neurobench.synaptic_acs == pytest.approx(syn)
    # latency: busiest core per step (h0's: its updates, spikes and input syn ops) + barrier
    h0_ns = (h0 * t.neuron_spiking_ns + (6 * 5 - h0) * t.neuron_active_ns
             + inp * 6 * t.syn_op_ns + h0 * 1 * t.spike_out_ns)
    assert max(rep.core_step_ns) == pytest.approx(h0_ns / 5)
    assert rep.latency_sample_us == pytest.approx((h0_ns / 5 + t.barrier_ns(1)) * 5 / 1e3)


def test_rules_accept_plain_and_refuse_omega_loihi1(net):
    fx = lower_supervised(net)
    check_supervised_rules(fx, map_to_cores(fx.graph, "loihi2"), "loihi2")
    with pytest.raises(DesignRuleError, match="graded_input_supported"):
        check_supervised_rules(fx, map_to_cores(fx.graph, "loihi1"), "loihi1")
    om = lower_supervised(SupervisedNet(SupervisedSpec(n_input=20, hidden=(6,), n_output=3,
                                                       omega_theta=0.3)))
    with pytest.raises(DesignRuleError, match="projection_is_stock_neuron"):
        check_supervised_rules(om, map_to_cores(om.graph, "loihi2"), "loihi2")
    row, _ = analyse_supervised(om, np.array([[3, 1, 0]]))
    assert row["loihi_ok"] is False and "projection_is_stock_neuron" in row["loihi_rule"]


def test_mrf_folds_into_weights_rule():
    import torch

    torch.manual_seed(1)
    m = SupervisedNet(SupervisedSpec(n_input=20, hidden=(6,), n_output=3,
                                     mrf=MRFSpec(dilations=(1, 2))))
    fx = lower_supervised(m)
    assert fx.mrf_fold_error == 0
    check_supervised_rules(fx, map_to_cores(fx.graph, "loihi2"), "loihi2")
    # a synapse that lost its folding hook stores the unfolded W: the rule names it
    m.blocks[0].synapse.pre_hook_fx = m.blocks[0].neuron.quantize_8bit
    bad = lower_supervised(m)
    assert bad.mrf_fold_error > 0
    with pytest.raises(DesignRuleError, match="mrf_folds_into_weights"):
        check_supervised_rules(bad, map_to_cores(bad.graph, "loihi2"), "loihi2")


def test_weights_and_threshold_rules():
    import torch

    from lavalab.networks.supervised import CubaParams

    torch.manual_seed(0)
    m = SupervisedNet(SupervisedSpec(n_input=20, hidden=(6,), n_output=3,
                                     neuron=CubaParams(threshold=200.0)))
    fx = lower_supervised(m)  # first layer: 200 x 16 x 64 > 131071
    with pytest.raises(DesignRuleError, match="sl_threshold_fits_bits"):
        check_supervised_rules(fx, map_to_cores(fx.graph, "loihi2"), "loihi2")
