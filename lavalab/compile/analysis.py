"""Analysis of a trained configuration: core mapping, design rules, memory, and energy /
latency per sample for training and for inference, from the event counts of a run.

A study row needs a few numbers; :func:`analyse` computes them with the passes of
:mod:`lavalab.compile` (:func:`~lavalab.compile.ir.layer_graph`,
:func:`~lavalab.compile.mapping.map_to_cores`, :func:`~lavalab.compile.rules.check_rules`,
:func:`~lavalab.compile.energy.estimate`, :func:`~lavalab.compile.energy.memory_footprint`).
Energy and latency are per sample of ``spec.sample_steps`` steps (presentation + rest: a
Loihi run executes every step, although the engine skips quiescent rest steps in inference).
"""

from __future__ import annotations

from lavalab.compile.energy import estimate, memory_footprint
from lavalab.compile.ir import FLOAT_BITS, layer_graph
from lavalab.compile.mapping import map_to_cores
from lavalab.compile.rules import DesignRuleError, check_rules
from lavalab.engine.core import EVENT_NAMES

__all__ = ["analyse"]


def analyse(spec, fixed, target: str, table: str, weight_bits: int, neuron_bits: int,
            train_events, test_events) -> dict:
    """Flat dict of a configuration's figures (per sample unless named otherwise).

    ``fixed``: the Loihi integers the configuration ran with (``None`` for float: the
    design rules then see the default 8-bit lowering of ``spec`` with 32-bit weights, which
    ``weights_fit_bits`` refuses). ``weight_bits`` / ``neuron_bits`` are the stored widths
    (32 = float). Inference is priced without learning; training with it
    (``train_events=None``: no training figures).
    """
    from lavalab.networks.snn import lower_network

    inh_bits = FLOAT_BITS if weight_bits == FLOAT_BITS else 8
    graph = layer_graph(spec, weight_bits=weight_bits, neuron_bits=neuron_bits,
                        inhibition_bits=inh_bits)
    cmap = map_to_cores(graph, target)
    e_tr = (None if train_events is None else
            estimate(graph, cmap, train_events, spec.sample_steps, table, learning=True))
    e_te = estimate(graph, cmap, test_events, spec.sample_steps, table, learning=False)
    fp = memory_footprint(graph)
    try:
        check_rules(graph, fixed if fixed is not None else lower_network(spec), cmap, target,
                    learning=False)
        ok, rule = True, ""
    except DesignRuleError as err:
        ok, rule = False, str(err)
    nb = e_te.neurobench
    i_upd = EVENT_NAMES.index("weight_updates")
    trained = e_tr is not None
    return dict(
        energy_train_uJ=e_tr.energy_uj if trained else None, energy_infer_uJ=e_te.energy_uj,
        latency_train_us=e_tr.latency_sample_us if trained else None,
        latency_infer_us=e_te.latency_sample_us,
        synops_infer=nb.synaptic_acs, activation_sparsity_infer=nb.activation_sparsity,
        weight_updates_train=float(train_events[:, i_upd].mean()) if trained else None,
        cores=cmap.cores_used, tiles=cmap.tiles_used,
        memory_bits=fp.bits, memory_kB=fp.bytes / 1024, loihi_ok=ok, loihi_rule=rule,
    )
