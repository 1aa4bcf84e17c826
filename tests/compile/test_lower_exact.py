import math

import numpy as np
import pytest

from lavalab.compile.lower_exact import lower_exact
from lavalab.compile.spike_grid import SpikeTimeBudget
from lavalab.exact.spec import ExactSpec

SPEC = ExactSpec(sizes=(4, 3, 2), tau_s=0.13, thresholds=(0.2, 1.3), max_spikes=(30, 30))


def _w():
    return [np.array([[1.0, -0.5, 0.25, 0.0]] * 3), np.array([[2.0, -2.0, 1.0]] * 2)]


def test_decay_registers_and_threshold_by_hand():
    low = lower_exact(SPEC, _w(), SpikeTimeBudget(dt_s=0.001))
    lay = low.layers[0]
    alpha, beta = math.exp(-0.001 / 0.13), math.exp(-0.001 / 0.26)
    assert lay.du == round(4096 * (1 - alpha)) - 1 == 30  # Lava adds ds_offset 1
    assert lay.dv == round(4096 * (1 - beta)) == 16
    gamma = 0.26 * (beta - alpha)
    assert lay.gamma == pytest.approx(gamma)
    # q = 127 / max|w| = 127; Lava keeps m << 1; vth = theta q 2 / gamma
    assert lay.w_scale == 127.0
    assert lay.vth == round(0.2 * 127 * 2 / gamma)
    np.testing.assert_array_equal(lay.weights[0], [254, -128, 64, 0])  # -63.5 -> -64
    assert low.steps == 200


def test_weight_exp_keeps_threshold_in_17_bits():
    low = lower_exact(SPEC, _w(), SpikeTimeBudget(dt_s=0.0002))
    for lay in low.layers:
        assert lay.vth <= 2**17 - 1
    assert low.layers[1].weight_exp < 0


def test_input_steps_follow_the_grid():
    low = lower_exact(SPEC, _w(), SpikeTimeBudget(dt_s=0.01))
    np.testing.assert_array_equal(low.input_steps([0.0, 0.005, 0.01, np.inf, 0.5]),
                                  [1, 1, 2, -1, -1])


def test_refuses_continuous_and_bad_bits():
    with pytest.raises(ValueError, match="dt_s=0"):
        lower_exact(SPEC, _w(), SpikeTimeBudget())
    with pytest.raises(ValueError, match="weight_bits"):
        lower_exact(SPEC, _w(), SpikeTimeBudget(dt_s=0.001), weight_bits=9)


def test_layer_graph_sizes():
    g = lower_exact(SPEC, _w(), SpikeTimeBudget(dt_s=0.001)).layer_graph()
    assert [p.size for p in g.populations] == [4, 3, 2]
    assert [c.n_synapses for c in g.connections] == [12, 6]
