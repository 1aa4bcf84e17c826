"""Energy / latency analysis: reported figures equal counts x table, computed by hand."""

import json

import numpy as np
import pytest

from lavalab import loihi_spec as spec
from lavalab.compile.energy import EnergyReport, estimate, mean_events, memory_footprint
from lavalab.compile.ir import layer_graph
from lavalab.compile.mapping import map_to_cores
from lavalab.engine.core import EVENT_NAMES
from lavalab.networks.snn import diehl_cook, tinysnn

TABLES = [spec.DAVIES2018, spec.SANAFE]
REL = 1e-12

# D&C with n_exc = 2, n_input = 3: exc on core 0, inh on core 1, both on tile 0
TINY_EV = {"input_spikes": 10, "exc_spikes": 3, "inh_spikes": 2,
           "syn_events_input": 10 * 2, "syn_events_inhibition": 3 * 1 + 2 * 1,
           "weight_updates": 7}
STEPS = 5


def _tiny():
    g = layer_graph(diehl_cook(2, n_input=3))
    return g, map_to_cores(g, "loihi1")


def _row(rep, name):
    return next(r for r in rep.rows if r.name == name)


@pytest.mark.parametrize("t", TABLES, ids=lambda t: t.name)
def test_tiny_energy_by_hand(t):
    g, m = _tiny()
    assert [(c.population, c.tile) for c in m.cores] == [("exc", 0), ("inh", 0)]
    rep = estimate(g, m, TINY_EV, STEPS, t, learning=True)
    syn = (20 + 3 + 2) * t.syn_op_pj
    # exc: 2 neurons x 5 steps, 3 spiking, all with input (10 dense input spikes reach
    # both neurons in up to 5 steps); inh: 10 updates, input only from 3 E->I events
    # (1:1): 2 spiking, 1 active, 7 inactive
    neuron = ((3 + 2) * t.neuron_spiking_pj + (7 + 1) * t.neuron_active_pj
              + 7 * t.neuron_inactive_pj)
    learn = 7 * t.syn_update_pj
    # one message per spike, all within tile 0; input enters off-chip (no spike_out)
    spike = 10 * t.spike_tile_pj + (3 + 2) * (t.spike_out_pj + t.spike_tile_pj)
    assert rep.energy_pj == pytest.approx(syn + neuron + learn + spike, rel=REL)
    assert rep.energy_uj == pytest.approx((syn + neuron + learn + spike) / 1e6, rel=REL)
    cat = rep.energy_by_category_pj()
    for k, v in (("syn", syn), ("neuron", neuron), ("learn", learn), ("spike", spike)):
        assert cat[k] == pytest.approx(v, rel=REL)
    r = _row(rep, "input->exc")
    assert (r.syn_ops, r.spike_messages, r.learning_updates) == (20, 10, 7)
    assert r.e_learn_pj == pytest.approx(learn, rel=REL)
    r = _row(rep, "inh->exc")
    assert (r.syn_ops, r.spike_messages) == (2, 2)
    assert r.e_spike_pj == pytest.approx(2 * (t.spike_out_pj + t.spike_tile_pj), rel=REL)
    r = _row(rep, "exc")
    assert (r.neuron_updates, r.active_updates, r.spikes) == (10, 10, 3)
    assert r.e_neuron_pj == pytest.approx(3 * t.neuron_spiking_pj + 7 * t.neuron_active_pj,
                                          rel=REL)
    assert _row(rep, "inh").active_updates == 3
    assert rep.energy_by_layer_uj()["inh"] == pytest.approx(_row(rep, "inh").energy_uj)


def test_active_updates_follow_activity_by_hand():
    """Input only during the first 2 of 5 steps: exc gets input in at most 2 x 2 + 2
    (I->E events) neuron-steps; fewer spikes, less energy at the same number of steps."""
    t = spec.DAVIES2018
    g, m = _tiny()
    rep = estimate(g, m, TINY_EV, STEPS, t, learning=True, input_steps=2)
    r = _row(rep, "exc")
    assert r.active_updates == 2 * 2 + 2
    assert r.e_neuron_pj == pytest.approx(3 * t.neuron_spiking_pj + 3 * t.neuron_active_pj
                                          + 4 * t.neuron_inactive_pj, rel=REL)
    quiet = dict(TINY_EV, input_spikes=1, syn_events_input=2, exc_spikes=1, inh_spikes=0,
                 syn_events_inhibition=1)
    r = _row(estimate(g, m, quiet, STEPS, t, learning=True), "exc")
    assert (r.active_updates, r.spikes) == (2, 1)  # one input spike reaches 2 neurons
    assert r.e_neuron_pj == pytest.approx(1 * t.neuron_spiking_pj + 1 * t.neuron_active_pj
                                          + 8 * t.neuron_inactive_pj, rel=REL)
    with pytest.raises(ValueError, match="input_steps=6 is outside 1..5"):
        estimate(g, m, TINY_EV, STEPS, t, learning=True, input_steps=6)


def test_static_energy_is_chip_power_times_latency():
    g, m = _tiny()
    rep = estimate(g, m, TINY_EV, STEPS, spec.DAVIES2018, learning=True)
    assert rep.static_power_w == pytest.approx(3.34 / 32)  # Frady et al. 2020, per chip
    assert rep.static_energy_uj == pytest.approx(3.34 / 32 * rep.latency_sample_us)
    assert rep.to_dict()["static_energy_uj"] == rep.static_energy_uj
    m2 = map_to_cores(g, "loihi2")
    assert estimate(g, m2, TINY_EV, STEPS, spec.DAVIES2018,
                    learning=True).static_energy_uj is None  # no published figure


@pytest.mark.parametrize("t", TABLES, ids=lambda t: t.name)
def test_tiny_latency_by_hand(t):
    g, m = _tiny()
    rep = estimate(g, m, TINY_EV, STEPS, t, learning=True)
    exc = (3 * t.neuron_spiking_ns + 7 * t.neuron_active_ns
           + (20 + 2) * t.syn_op_ns + 7 * t.syn_update_ns + 3 * t.spike_out_ns) / STEPS
    inh = (2 * t.neuron_spiking_ns + 1 * t.neuron_active_ns + 7 * t.neuron_inactive_ns
           + 3 * t.syn_op_ns + 2 * t.spike_out_ns) / STEPS
    assert rep.core_step_ns == pytest.approx((exc, inh), rel=REL)
    assert rep.barrier_ns == t.barrier_min_ns  # one tile
    assert rep.latency_step_ns == pytest.approx(max(exc, inh) + t.barrier_min_ns, rel=REL)
    assert rep.latency_sample_us == pytest.approx(
        (max(exc, inh) + t.barrier_min_ns) * STEPS / 1e3, rel=REL)
    assert rep.critical_core == int(np.argmax([exc, inh]))


@pytest.mark.parametrize("t", TABLES, ids=lambda t: t.name)
def test_hops_by_hand(t):
    # n_exc = 3, one neuron per core: exc cores 0,1,2 and inh core 3 on tile 0, inh cores
    # 4, 5 on tile 1 (one E-W hop away)
    g = layer_graph(diehl_cook(3, n_input=2))
    m = map_to_cores(g, "loihi1", neurons_per_core=1)
    ev = {"input_spikes": 4, "exc_spikes": 3, "inh_spikes": 3, "syn_events_input": 12,
          "syn_events_inhibition": 3 * 1 + 3 * 2, "weight_updates": 0}
    rep = estimate(g, m, ev, 7, t)
    # input: 4 spikes x 3 exc cores, entering at tile 0
    assert _row(rep, "input->exc").e_spike_pj == pytest.approx(12 * t.spike_tile_pj, rel=REL)
    # E->I: exc 0 -> inh core 3 (same tile), exc 1, 2 -> tile 1 (1 hop); 1 spike each
    assert _row(rep, "exc->inh").e_spike_pj == pytest.approx(
        3 * t.spike_out_pj + 1 * t.spike_tile_pj + 2 * t.hop_ew_pj, rel=REL)
    # I->E: inh 0 (tile 0) -> exc cores 1, 2 in tile; inh 1, 2 (tile 1) -> 2 cores, 1 hop each
    assert _row(rep, "inh->exc").e_spike_pj == pytest.approx(
        6 * t.spike_out_pj + 2 * t.spike_tile_pj + 4 * t.hop_ew_pj, rel=REL)
    assert _row(rep, "inh->exc").spike_messages == pytest.approx(6, rel=REL)
    lo, hi = t.barrier_min_ns, t.barrier_max_ns
    assert rep.barrier_ns == pytest.approx(lo + (hi - lo) * (2 - 1) / (32 - 1), rel=REL)


def test_north_south_hops():
    # 17 exc cores (tiles 0..4) then 17 inh cores (cores 17..33, tiles 4..8); tile 8 is the
    # first tile of the mesh's second row
    t = spec.SANAFE
    n = 17
    g = layer_graph(diehl_cook(n, n_input=1))
    m = map_to_cores(g, "loihi1", neurons_per_core=1)
    ev = {"input_spikes": 0, "exc_spikes": n, "inh_spikes": 0, "syn_events_input": 0,
          "syn_events_inhibition": n, "weight_updates": 0}
    rep = estimate(g, m, ev, 10, t)
    w = spec.LOIHI1_TILES.mesh_width
    want = 0.0
    for i in range(n):  # exc i (core i) -> inh i (core n + i), 4 cores per tile
        a, b = i // 4, (n + i) // 4
        dx, dy = abs(a % w - b % w), abs(a // w - b // w)
        want += t.spike_out_pj + (t.spike_tile_pj if a == b else
                                  dx * t.hop_ew_pj + dy * t.hop_ns_pj)
    assert _row(rep, "exc->inh").e_spike_pj == pytest.approx(want, rel=REL)
    assert m.tiles_used == 9


def test_footprint_by_hand():
    g = layer_graph(diehl_cook(2, n_input=3), weight_bits=8, neuron_bits=24)
    fp = memory_footprint(g)
    assert fp.weight_bits == 3 * 2 * 8 + 2 * 8 + 2 * 8  # input->exc, exc->inh, inh->exc
    assert fp.neuron_bits == 2 * 3 * 24 + 2 * 2 * 24  # exc: v, v_th, theta; inh: v, v_th
    assert (fp.bits, fp.bytes) == (320, 40)
    g = layer_graph(tinysnn(3, n_input=2), weight_bits=4, neuron_bits=10)
    fp = memory_footprint(g)
    assert (fp.weight_bits, fp.neuron_bits) == (2 * 3 * 4 + 3 * 2 * 8, 3 * 3 * 10)
    assert fp.bytes == 21  # ceil((72 + 90) / 8)


def test_neurobench_figures_by_hand():
    g, m = _tiny()
    nb = estimate(g, m, TINY_EV, STEPS, "davies2018", learning=True).neurobench
    assert (nb.synaptic_acs, nb.synaptic_macs) == (25, 0)
    assert nb.dense_synaptic_ops == (6 + 2 + 2) * STEPS
    assert nb.activation_sparsity == pytest.approx(1 - 5 / (4 * STEPS), rel=REL)
    assert nb.membrane_updates == 4 * STEPS
    assert nb.footprint_bytes == 40
    assert nb.connection_sparsity == pytest.approx(1 - 10 / (6 + 4 + 4), rel=REL)


def test_tinysnn_lateral_events():
    g = layer_graph(tinysnn(3, n_input=2))
    m = map_to_cores(g, "loihi1")
    ev = {"input_spikes": 5, "exc_spikes": 4, "inh_spikes": 0, "syn_events_input": 15,
          "syn_events_inhibition": 4 * 2, "weight_updates": 0}
    t = spec.DAVIES2018
    rep = estimate(g, m, ev, 10, t)
    assert _row(rep, "exc->exc").syn_ops == 8
    assert rep.energy_by_category_pj()["syn"] == pytest.approx((15 + 8) * t.syn_op_pj, rel=REL)
    # a lateral spike goes back to the single exc core it came from (within the tile)
    assert _row(rep, "exc->exc").e_spike_pj == pytest.approx(
        4 * (t.spike_out_pj + t.spike_tile_pj), rel=REL)


def test_events_array_is_averaged():
    g, m = _tiny()
    base = np.array([TINY_EV[k] for k in EVENT_NAMES])
    arr = np.stack([base - 1, base + 1])  # mean = base
    arr[:, EVENT_NAMES.index("syn_events_input")] = [18, 22]
    arr[:, EVENT_NAMES.index("syn_events_inhibition")] = [3, 7]
    assert mean_events(arr) == {k: float(v) for k, v in TINY_EV.items()}
    a = estimate(g, m, arr, STEPS, "sana-fe", True)
    b = estimate(g, m, TINY_EV, STEPS, "sana-fe", True)
    assert a == b


def test_report_table_and_json():
    g, m = _tiny()
    rep = estimate(g, m, TINY_EV, STEPS, "davies2018", True)
    assert isinstance(rep, EnergyReport)
    rows = rep.table()
    assert [r["name"] for r in rows] == ["input", "exc", "inh", "input->exc", "exc->inh",
                                         "inh->exc", "total"]
    assert rows[-1]["energy_pj"] == pytest.approx(rep.energy_pj, rel=REL)
    assert rows[-1]["spikes"] == 10 + 3 + 2
    d = json.loads(json.dumps(rep.to_dict()))
    assert d["table"] == "davies2018" and d["energy_uj"] == pytest.approx(rep.energy_uj)
    assert d["neurobench"]["synaptic_acs"] == 25 and d["footprint"]["bytes"] == 40


def test_refusals():
    g, m = _tiny()
    with pytest.raises(ValueError, match="learning=False"):
        estimate(g, m, TINY_EV, STEPS, "davies2018", learning=False)
    bad = {**TINY_EV, "syn_events_inhibition": 6}
    with pytest.raises(ValueError, match="syn_events_inhibition"):
        estimate(g, m, bad, STEPS, "davies2018", learning=True)
    with pytest.raises(ValueError, match="missing"):
        estimate(g, m, {"input_spikes": 1}, STEPS, "davies2018")
    with pytest.raises(ValueError, match="table="):
        estimate(g, m, TINY_EV, STEPS, "loihi9", True)
    with pytest.raises(ValueError, match="sample_steps=0"):
        estimate(g, m, TINY_EV, 0, "davies2018", True)
    with pytest.raises(ValueError, match="exceed neurons x steps"):
        estimate(g, m, {**TINY_EV, "exc_spikes": 11, "syn_events_inhibition": 13}, STEPS,
                 "davies2018", True)
    other = map_to_cores(layer_graph(diehl_cook(3, n_input=3)), "loihi1")
    with pytest.raises(ValueError, match="core_map holds"):
        estimate(g, other, TINY_EV, STEPS, "davies2018", True)


def test_energy_tables():
    assert spec.ENERGY_TABLES == {"davies2018": spec.DAVIES2018, "sana-fe": spec.SANAFE}
    d = spec.DAVIES2018
    assert (d.syn_op_pj, d.syn_update_pj, d.neuron_active_pj, d.neuron_inactive_pj) == (
        23.6, 120.0, 81.0, 52.0)
    assert d.barrier_ns(1) == 113.0 and d.barrier_ns(32) == 465.0
    assert d.barrier_ns(16) == pytest.approx(113 + 352 * 15 / 31, rel=REL)
    s = spec.SANAFE
    assert s.barrier_ns(1) == s.barrier_ns(32) == 299.0
    assert "Davies" in s.note("syn_update_pj") and "Davies" in s.source
    assert s.note("syn_op_pj") == ""
    with pytest.raises(ValueError, match="tiles=33"):
        d.barrier_ns(33)
