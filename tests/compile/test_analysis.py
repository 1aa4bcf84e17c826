import numpy as np
import pytest

from lavalab.compile.analysis import analyse
from lavalab.compile.energy import estimate, memory_footprint
from lavalab.compile.ir import PrecisionBudget, layer_graph
from lavalab.compile.mapping import map_to_cores
from lavalab.compile.pipeline import compile_network
from lavalab.engine import EVENT_NAMES
from lavalab.networks.snn import build


def _events(n_exc, learn):
    ev = np.zeros((3, len(EVENT_NAMES)), np.int64)
    ev[:, 0] = [2000, 2100, 1900]  # input spikes
    ev[:, 1] = [10, 12, 8]  # exc spikes
    ev[:, 3] = ev[:, 0] * n_exc
    ev[:, 4] = ev[:, 1] * (n_exc - 1)  # tinySNN lateral inhibition
    ev[:, 5] = [500, 400, 300] if learn else 0
    return ev


def test_analyse_is_the_estimate_of_the_graph_and_map():
    s = build("tinysnn", 30)
    tr, te = _events(30, True), _events(30, False)
    row = analyse(compile_network(s, check=False), "sana-fe", tr, te)
    g = layer_graph(s, weight_bits=8, neuron_bits=24)
    cm = map_to_cores(g, "loihi1")
    # input spikes only during the presentation: active updates are bounded by it
    ps = s.present_steps
    trn = estimate(g, cm, tr, s.sample_steps, "sana-fe", learning=True, input_steps=ps)
    assert row["energy_train_uJ"] == pytest.approx(trn.energy_uj, rel=1e-12)
    inf = estimate(g, cm, te, s.sample_steps, "sana-fe", learning=False, input_steps=ps)
    assert row["energy_infer_uJ"] == pytest.approx(inf.energy_uj, rel=1e-12)
    assert row["latency_infer_us"] == pytest.approx(inf.latency_sample_us, rel=1e-12)
    assert row["memory_bits"] == memory_footprint(g).bits
    assert row["weight_updates_train"] == 400.0 and row["loihi_ok"] and row["cores"] == 1
    # 2000 input spikes reach all 30 neurons in each of the 350 presentation steps; the
    # 150 rest steps have input only from the few lateral-inhibition events
    assert row["active_update_fraction_infer"] == pytest.approx(
        (30 * 350 + 10 * 29) / (30 * 500), rel=0.05)
    assert row["energy_infer_layers_uJ"] == pytest.approx(inf.energy_by_layer_uj())
    assert sum(row["energy_train_layers_uJ"].values()) == pytest.approx(trn.energy_uj)
    assert row["static_energy_infer_uJ"] == pytest.approx(
        3.34 / 32 * inf.latency_sample_us)


def test_float_configurations_are_not_loihi():
    s = build("tinysnn", 30)
    c = compile_network(s, precision=PrecisionBudget(weight_bits=32, neuron_bits=32),
                        target="loihi2", check=False)
    row = analyse(c, "davies2018", _events(30, True),
                  _events(30, False))
    assert not row["loihi_ok"] and row["loihi_rule"].startswith("weights_fit_bits")
    assert row["memory_bits"] == 30 * 784 * 32 + 30 * 29 * 32 + 30 * 3 * 32
