"""Analysis of a trained configuration: design rules, memory, and energy / latency per
sample for training and for inference, from the event counts of a run.

A study row needs a few numbers; :func:`analyse` computes them from a
:class:`~lavalab.compile.pipeline.CompiledNetwork` (its layer graph and core map) with
:func:`~lavalab.compile.rules.check_rules`, :func:`~lavalab.compile.energy.estimate` and
:func:`~lavalab.compile.energy.memory_footprint`.
Energy and latency are per sample of ``spec.sample_steps`` steps (presentation + rest: a
Loihi run executes every step, although the engine skips quiescent rest steps in inference).
"""

from __future__ import annotations

import numpy as np

from lavalab.compile.energy import estimate, memory_footprint
from lavalab.compile.pipeline import CompiledNetwork
from lavalab.compile.rules import DesignRuleError, check_rules
from lavalab.engine.core import EVENT_NAMES

__all__ = ["analyse"]


def analyse(c: CompiledNetwork, table: str, train_events, test_events,
            inference: CompiledNetwork | None = None) -> dict:
    """Flat dict of a compiled configuration's figures (per sample unless named otherwise):
    energy and latency of training (``train_events``; ``None``: no training figures,
    priced with learning) and inference (``test_events``, without learning), cores, memory,
    and whether the design rules accept it for inference (``loihi_ok``, ``loihi_rule``).
    Also the share of neuron updates priced active, the static energy of one inference
    (chip static power x latency; None where unpublished) and the dynamic energy per
    population and connection (``energy_*_layers_uJ``, uJ per sample).

    ``inference``: the network the test ran on when it differs from the training network
    ``c`` (another step size, one spike per step: ``lavalab.study.setup.compiled_for_inference``);
    the inference figures, memory and design rules are then its own."""
    ci = c if inference is None else inference
    e_tr = (None if train_events is None else
            estimate(c.graph, c.core_map, train_events, c.spec.sample_steps, table,
                     learning=True, input_steps=c.spec.present_steps))
    e_te = estimate(ci.graph, ci.core_map, test_events, ci.spec.sample_steps, table,
                    learning=False, input_steps=ci.spec.present_steps)
    fp = memory_footprint(ci.graph)
    try:
        check_rules(ci.graph, ci.fixed, ci.core_map, ci.target, learning=False)
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
        weight_updates_train=float(np.asarray(train_events)[:, i_upd].mean()) if trained
        else None,
        cores=ci.core_map.cores_used, tiles=ci.core_map.tiles_used,
        memory_bits=fp.bits, memory_kB=fp.bytes / 1024, loihi_ok=ok, loihi_rule=rule,
        active_update_fraction_infer=_active_fraction(e_te),
        static_energy_infer_uJ=e_te.static_energy_uj,
        energy_infer_layers_uJ=e_te.energy_by_layer_uj(),
        energy_train_layers_uJ=e_tr.energy_by_layer_uj() if trained else None,
    )


def _active_fraction(rep) -> float:
    """Share of the on-chip neuron updates priced active (spiking included)."""
    upd = sum(r.neuron_updates for r in rep.rows)
    return sum(r.active_updates for r in rep.rows) / upd if upd else 0.0
