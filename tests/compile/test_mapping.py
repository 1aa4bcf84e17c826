"""Core mapping pass: hand-checked partitions, placement and per-core loads."""

import dataclasses

import pytest

from lavalab import loihi_spec as spec
from lavalab.compile.ir import Connection, LayerGraph, Population, layer_graph
from lavalab.compile.mapping import CoreMap, map_to_cores
from lavalab.networks.snn import diehl_cook, tinysnn

MEM = spec.LOIHI1.synapse_memory_bits_per_core  # 1,048,576 bits = 128 KB


def _input_only(n_exc, n_input=784, bits=8):
    return LayerGraph(
        (Population("input", n_input, on_chip=False), Population("exc", n_exc)),
        (Connection("input->exc", "input", "exc", n_exc * n_input, fan_in=n_input,
                    fan_out=n_exc, weight_bits=bits, plastic=True, event="syn_events_input"),))


def test_input_only_400_needs_three_cores_of_at_most_167():
    # 784 inputs x 8 bits = 6272 bits per neuron; 1,048,576 // 6272 = 167 neurons per core
    m = map_to_cores(_input_only(400), "loihi1")
    assert MEM // (784 * 8) == 167
    assert dict(m.capacity) == {"exc": 167}
    assert m.cores_used == 3
    assert [c.n_neurons for c in m.cores] == [134, 133, 133]  # spread evenly
    assert [c.memory_bits for c in m.cores] == [134 * 6272, 133 * 6272, 133 * 6272]
    assert all(c.fan_in == 784 for c in m.cores)
    assert all(c.fan_out == 0 for c in m.cores)  # no outgoing connection


def test_diehl_cook_400_counts_inhibitory_synapses_too():
    # an exc neuron stores 784 input + 399 I->E synapses: (784 + 399) * 8 = 9464 bits
    m = map_to_cores(layer_graph(diehl_cook(400), weight_bits=8), "loihi1")
    assert dict(m.capacity) == {"exc": MEM // 9464, "inh": 400}
    assert MEM // 9464 == 110
    exc, inh = m.cores_of("exc"), m.cores_of("inh")
    assert [c.n_neurons for c in exc] == [100] * 4 and [c.n_neurons for c in inh] == [400]
    assert m.cores_used == 5 and m.tiles_used == 2
    assert [c.tile for c in m.cores] == [0, 0, 0, 0, 1]
    for c in exc:
        assert c.synapses == 100 * 1183 and c.memory_bits == 100 * 9464
        assert c.fan_in == 784 + 400  # every inh neuron feeds a 100-neuron block
        assert c.fan_out == 100  # each exc neuron -> the one core holding its inh partner
    assert inh[0].synapses == 400 and inh[0].fan_in == 400
    assert inh[0].fan_out == 400 * 4  # each inh neuron -> all 4 exc cores


def test_tiny_forced_one_neuron_per_core_by_hand():
    g = layer_graph(diehl_cook(3, n_input=2))
    m = map_to_cores(g, "loihi1", neurons_per_core=1)
    assert m.cores_used == 6 and m.tiles_used == 2
    assert [(c.population, c.start, c.stop, c.tile) for c in m.cores] == [
        ("exc", 0, 1, 0), ("exc", 1, 2, 0), ("exc", 2, 3, 0),
        ("inh", 0, 1, 0), ("inh", 1, 2, 1), ("inh", 2, 3, 1)]
    for c in m.cores_of("exc"):
        assert (c.synapses, c.memory_bits, c.fan_in, c.fan_out) == (2 + 2, 32, 2 + 2, 1)
    for c in m.cores_of("inh"):
        assert (c.synapses, c.memory_bits, c.fan_in, c.fan_out) == (1, 8, 1, 2)
    assert m.tile_xy(1) == (1, 0) and m.tile_xy(spec.LOIHI1_TILES.mesh_width) == (0, 1)


def test_tinysnn_lateral_all_but_self():
    g = layer_graph(tinysnn(4, n_input=3))
    assert g.connections[1].pattern == "all_but_self"
    m = map_to_cores(g, "loihi1", neurons_per_core=2)
    # block of 2 of 4: 2 * 3 input + 2 * 3 lateral synapses; fan-in 3 input + all 4 exc
    for c in m.cores:
        assert (c.synapses, c.fan_in, c.fan_out) == (12, 3 + 4, 2 * 2)


def test_fan_in_limits_a_one_to_one_block_on_loihi2():
    n = 5000
    g = LayerGraph((Population("a", n), Population("b", n)),
                   (Connection("a->b", "a", "b", n, fan_in=1, fan_out=1, weight_bits=8,
                               pattern="one_to_one"),))
    m = map_to_cores(g, "loihi2")
    assert dict(m.capacity)["b"] == spec.LOIHI2.fan_in_per_core
    assert [c.n_neurons for c in m.cores_of("b")] == [2500, 2500]
    # one core of all 5000 "a" neurons would send 5000 axons (> 4096): the search splits it
    assert sum(c.fan_out for c in m.cores_of("a")) == n
    assert all(c.fan_out <= spec.LOIHI2.fan_out_per_core for c in m.cores_of("a"))
    assert m.search and m.search[0].startswith("a: block size 5000 ->")


def test_forced_partition_is_not_refused_here():
    g = layer_graph(diehl_cook(100))
    m = map_to_cores(g, spec.LOIHI1, neurons_per_core=2000)  # rules name the problem
    assert [c.n_neurons for c in m.cores] == [100, 100]
    m = map_to_cores(g, "loihi1", neurons_per_core=30)
    assert [c.n_neurons for c in m.cores_of("exc")] == [30, 30, 30, 10]


def test_unsatisfiable_fan_in_is_left_to_the_rules():
    g = layer_graph(diehl_cook(10, n_input=5000))
    m = map_to_cores(g, "loihi1")
    assert m.cores_used == 2 and m.cores[0].fan_in == 5010


def test_empty_connection_of_a_single_neuron():
    m = map_to_cores(layer_graph(diehl_cook(1, n_input=2)), "loihi1")
    assert [(c.population, c.synapses, c.fan_in, c.fan_out) for c in m.cores] == [
        ("exc", 2, 2, 1), ("inh", 1, 1, 0)]


def test_record_is_frozen_and_input_untouched():
    g = layer_graph(diehl_cook(20))
    before = dataclasses.replace(g)
    m = map_to_cores(g, "loihi1")
    assert g == before and isinstance(m, CoreMap)
    with pytest.raises(dataclasses.FrozenInstanceError):
        m.cores = ()
    rows = m.table()
    assert [r["core"] for r in rows] == [0, 1] and rows[0]["neurons"] == "0..19"
    assert set(rows[0]) == {"core", "tile", "population", "neurons", "n_neurons", "synapses",
                            "memory_bits", "fan_in", "fan_out"}


def test_bad_arguments():
    g = layer_graph(diehl_cook(5))
    with pytest.raises(ValueError, match="target="):
        map_to_cores(g, "loihi3")
    with pytest.raises(ValueError, match="neurons_per_core=0"):
        map_to_cores(g, "loihi1", neurons_per_core=0)
    with pytest.raises(ValueError, match="a->b: n_synapses=5, .* do not match its pattern "
                       r"dense \(expected \(16, 4, 4\)\)"):
        LayerGraph((Population("a", 4), Population("b", 4)),
                   (Connection("a->b", "a", "b", 5, fan_in=2, fan_out=2, weight_bits=8),))
    with pytest.raises(ValueError, match="pattern one_to_one needs equal populations"):
        LayerGraph((Population("a", 4), Population("b", 3)),
                   (Connection("a->b", "a", "b", 3, fan_in=1, fan_out=1, weight_bits=8,
                               pattern="one_to_one"),))
    with pytest.raises(ValueError, match="pattern='ring' is not one of"):
        Connection("a->b", "a", "b", 3, fan_in=1, fan_out=1, weight_bits=8, pattern="ring")


def test_default_mapping_searches_a_valid_partition_for_dc1600():
    """D&C-1600: packing the inhibitory population by memory and fan-in alone gives a core
    of 1600 inh neurons each reaching every exc core (fan-out 32000 > 4096); the search
    shrinks the inh blocks until every rule passes, on loihi2 and loihi1."""
    from lavalab.compile.pipeline import compile_network
    from lavalab.networks.snn import build

    for target in ("loihi2", "loihi1"):
        c = compile_network(build("diehl-cook", 1600, 784), target=target)  # rules pass
        assert max(core.fan_out for core in c.core_map.cores) <= 4096
        assert any(n.startswith("inh: block size") for n in c.core_map.search)

