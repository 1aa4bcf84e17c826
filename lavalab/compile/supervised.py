"""Lowering of a trained supervised (lava-dl SLAYER) network to Loihi integers and the
shared IR, its design rules, and its energy / latency / memory analysis.

requires
    a :class:`~lavalab.supervised.model.SupervisedNet` (trained; any spec).
ensures
    :func:`lower_supervised` returns a frozen :class:`SupervisedFixed`: per layer the
    exported integers (8-bit weight grid as netx reads it, 12-bit decays, threshold
    mantissa) and the :class:`~lavalab.compile.ir.LayerGraph` ``input -> h0 -> ... -> out``
    (dense connections, 8-bit weights, neuron state u and v of 24 bits each, input off
    chip). Nothing is modified. :func:`check_supervised_rules` raises the first
    :class:`~lavalab.compile.rules.DesignRuleError`; :func:`analyse_supervised` prices
    per-sample event counts with :func:`lavalab.compile.energy.estimate` (same tables,
    same message / hop / barrier model as the STDP networks).

Counters of this family (:func:`event_names`): ``input_spikes`` (input messages: non-zero
input entries over the T steps; with direct encoding each is one graded spike),
``<layer>_spikes`` for h0.. and ``out`` (the readout never fires: 0), one
``syn_events_<src>_<dst>`` per connection (source messages x fan-out, every one priced
as a synaptic op), ``weight_updates`` (0: no on-chip learning).

Sample schedule: a sample occupies ``T + L`` steps on Loihi (L layers; one step of
synaptic delay per layer, the reset interval netx runs with), so neuron updates and
latency count ``T + L`` steps per sample.

Design rules (named; each raises :class:`DesignRuleError` naming value and limit)

- ``sl_weights_fit_bits``: exported weights in netx's signed 8-bit-plus-exponent range
  (even integers -256..254 on SLAYER's grid).
- ``sl_decays_fit_bits``: iDecay, vDecay in 0..4096.
- ``sl_threshold_fits_bits``: vThMant <= 131071 (17 bits).
- ``graded_input_supported``: a graded (direct-encoded) input needs Loihi 2's graded
  spikes (Loihi 1 sends binary spikes only); payload bits <= 24.
- ``mrf_folds_into_weights``: the MRF is a fixed linear map of the synaptic input; it is
  deployable when the folded matrix ``G @ W`` is what is stored (the model's weight hook
  folds it; checked: exported weights equal the folded, quantised ones).
- ``projection_is_stock_neuron``: a sine projection of the input current (Omega) is not
  a stock Loihi CUBA neuron (nor a netx layer): refused.
- the resource rules of :mod:`lavalab.compile.rules` (neurons, synapse memory, fan-in,
  fan-out per core, cores per chip) on the core map.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from lavalab import loihi_spec as spec
from lavalab.compile import rules as R
from lavalab.compile.energy import EnergyReport, estimate, memory_footprint
from lavalab.compile.ir import Connection, LayerGraph, Population
from lavalab.compile.mapping import CoreMap, map_to_cores, resolve_target
from lavalab.compile.rules import DesignRuleError
from lavalab.networks.mrf import mrf_matrix

__all__ = ["LayerFixed", "SupervisedFixed", "lower_supervised", "event_names",
           "events_from_counts", "check_supervised_rules", "SUPERVISED_RULES",
           "analyse_supervised", "sl_weights_fit_bits", "sl_decays_fit_bits",
           "sl_threshold_fits_bits", "graded_input_supported", "mrf_folds_into_weights",
           "projection_is_stock_neuron", "STATE_BITS", "WEIGHT_INT_MIN", "WEIGHT_INT_MAX",
           "GRADED_SPIKE_BITS_MAX"]

#: Stored neuron state of a CUBA compartment: current u and voltage v, 24 bits each.
STATE_BITS = (("u", spec.UV_BITS), ("v", spec.UV_BITS))
#: netx's weight range (``optimize_weight_bits``): SLAYER's 8-bit grid in units of
#: ``1 / w_scale``, stored as an 8-bit mantissa with a weight exponent.
WEIGHT_INT_MIN, WEIGHT_INT_MAX = -256, 254
#: Largest graded-spike payload on Loihi 2 (Orchard et al. 2021: up to 24-bit payloads).
GRADED_SPIKE_BITS_MAX = 24


@dataclass(frozen=True)
class LayerFixed:
    """One layer's exported integers: weights (n_out, n_in) int64, i_decay / v_decay
    (12-bit, netx ``iDecay`` / ``vDecay``), vth_mant (netx ``vThMant``)."""

    name: str
    weights: np.ndarray
    i_decay: int
    v_decay: int
    vth_mant: int


@dataclass(frozen=True)
class SupervisedFixed:
    """A lowered supervised network: spec, layers, IR graph, sample steps, the MRF check
    (max |exported - folded| weight, 0 when it folds) and the graph's counter names."""

    spec: object
    layers: tuple[LayerFixed, ...]
    graph: LayerGraph
    sample_steps: int
    mrf_fold_error: float

    @property
    def event_names(self) -> tuple[str, ...]:
        return event_names(self.graph)


def _pop_names(n_hidden: int) -> tuple[str, ...]:
    return (*(f"h{i}" for i in range(n_hidden)), "out")


def event_names(graph: LayerGraph) -> tuple[str, ...]:
    """This family's counters for ``graph`` (module doc), in a fixed order."""
    return (*(f"{p.name}_spikes" for p in graph.populations),
            *(c.event for c in graph.connections), "weight_updates")


def lower_supervised(net) -> SupervisedFixed:
    """Exported integers and the :class:`LayerGraph` of a trained SupervisedNet."""
    import torch

    s = net.spec
    names = ("input", *_pop_names(len(s.hidden)))
    ws = net.quantized_weights()
    layers, fold_err = [], 0.0
    for i, b in enumerate(net.blocks):
        dp = b.neuron.device_params
        layers.append(LayerFixed(names[i + 1], ws[i], int(dp["iDecay"]), int(dp["vDecay"]),
                                 int(dp["vThMant"])))
        if s.mrf is not None and i < len(s.hidden):
            with torch.no_grad():
                w = b.synapse.weight.reshape(ws[i].shape).double().numpy()
                g = mrf_matrix(ws[i].shape[0], s.mrf)
                q = b.neuron.quantize_8bit(torch.tensor(g @ w, dtype=torch.float32),
                                           descale=True).numpy()
            fold_err = max(fold_err, float(np.abs(q - ws[i]).max()))
    pops = [Population("input", s.n_input, on_chip=False)]
    pops += [Population(n, size, state_bits=STATE_BITS)
             for n, size in zip(names[1:], s.sizes[1:], strict=True)]
    conns = []
    for i in range(len(names) - 1):
        a, b = names[i], names[i + 1]
        na, nb = s.sizes[i], s.sizes[i + 1]
        conns.append(Connection(f"{a}->{b}", a, b, na * nb, fan_in=na, fan_out=nb,
                                weight_bits=spec.WEIGHT_BITS, event=f"syn_events_{a}_{b}"))
    graph = LayerGraph(tuple(pops), tuple(conns))
    return SupervisedFixed(s, tuple(layers), graph, s.timesteps + len(layers), fold_err)


def events_from_counts(fixed_net: SupervisedFixed, counts) -> np.ndarray:
    """Per-sample counter rows (S, len(event_names)) from an evaluation's
    ``events`` array (S, 1 + layers): input messages then each layer's spikes."""
    c = np.asarray(counts, np.float64)
    g = fixed_net.graph
    if c.ndim != 2 or c.shape[1] != len(g.populations):
        raise ValueError(f"counts of shape {c.shape} are not (S, {len(g.populations)})")
    syn = [c[:, k] * conn.fan_out for k, conn in enumerate(g.connections)]
    return np.column_stack([c, *syn, np.zeros(len(c))])


# --- design rules --------------------------------------------------------------------------

@dataclass(frozen=True)
class _Design:
    fixed: SupervisedFixed
    core_map: CoreMap
    target: spec.CoreResources


def sl_weights_fit_bits(d: _Design) -> None:
    """Exported weights within netx's -256..254 (8-bit mantissa + exponent)."""
    for L in d.fixed.layers:
        lo, hi = int(L.weights.min()), int(L.weights.max())
        if lo < WEIGHT_INT_MIN or hi > WEIGHT_INT_MAX:
            v = lo if lo < WEIGHT_INT_MIN else hi
            raise DesignRuleError("sl_weights_fit_bits", v, (WEIGHT_INT_MIN, WEIGHT_INT_MAX),
                                  f"{L.name} weight={v} is outside {WEIGHT_INT_MIN}.."
                                  f"{WEIGHT_INT_MAX} ({spec.WEIGHT_BITS}-bit mantissa)")


def sl_decays_fit_bits(d: _Design) -> None:
    """iDecay and vDecay in 0..4096 (12-bit decays)."""
    for L in d.fixed.layers:
        for what, v in (("i_decay", L.i_decay), ("v_decay", L.v_decay)):
            R._in_range("sl_decays_fit_bits", f"{L.name}.{what}", v, 0, spec.DECAY_UNITY)


def sl_threshold_fits_bits(d: _Design) -> None:
    """vThMant in 0..131071 (17 bits)."""
    for L in d.fixed.layers:
        R._in_range("sl_threshold_fits_bits", f"{L.name}.vth_mant", L.vth_mant, 0,
                    spec.VTH_MAX, f" ({spec.VTH_BITS} bits)")


def graded_input_supported(d: _Design) -> None:
    """Direct (graded) input needs Loihi 2 graded spikes of <= 24 bits."""
    bits = d.fixed.spec.input_message_bits
    if bits == 0:
        return
    if d.target.name != "loihi2":
        raise DesignRuleError("graded_input_supported", d.target.name, "loihi2",
                              f"encoding='direct' sends {bits}-bit graded input spikes; "
                              f"{d.target.name} sends binary spikes only (limit: loihi2)")
    if bits > GRADED_SPIKE_BITS_MAX:
        raise DesignRuleError("graded_input_supported", bits, GRADED_SPIKE_BITS_MAX,
                              f"input payload of {bits} bits exceeds the "
                              f"{GRADED_SPIKE_BITS_MAX}-bit graded spike limit")


def mrf_folds_into_weights(d: _Design) -> None:
    """An MRF grouping is deployable when the stored weights are the folded ``G @ W``."""
    if d.fixed.spec.mrf is None:
        return
    if d.fixed.mrf_fold_error > 0:
        raise DesignRuleError("mrf_folds_into_weights", d.fixed.mrf_fold_error, 0,
                              f"exported weights differ from the folded MRF weights by "
                              f"{d.fixed.mrf_fold_error} (limit 0): the grouping is not in "
                              "the stored weights")


def projection_is_stock_neuron(spec_or_design) -> None:
    """Omega (a sine of the input current) is not a stock Loihi neuron: refused."""
    s = getattr(getattr(spec_or_design, "fixed", None), "spec", spec_or_design)
    if s.omega_theta is not None:
        raise DesignRuleError("projection_is_stock_neuron", s.omega_theta, None,
                              f"omega_theta={s.omega_theta}: the sine projection "
                              "Omega(m) = (V/theta) sin(theta m / V) of the input current is "
                              "not a stock Loihi CUBA neuron (limit: no projection; evaluate "
                              "or export the deployable variant without it)")


#: This family's rules in the order :func:`check_supervised_rules` runs them.
SUPERVISED_RULES = {f.__name__: f for f in (
    sl_weights_fit_bits, sl_decays_fit_bits, sl_threshold_fits_bits, graded_input_supported,
    mrf_folds_into_weights, projection_is_stock_neuron, R.neurons_fit_core,
    R.synapses_fit_core_memory, R.fan_in_within_limit, R.fan_out_within_limit,
    R.cores_fit_chip,
)}


def check_supervised_rules(fixed_net: SupervisedFixed, core_map: CoreMap,
                           target="loihi2") -> None:
    """Run :data:`SUPERVISED_RULES`; raise the first :class:`DesignRuleError`."""
    d = _Design(fixed_net, core_map, resolve_target(target))
    if core_map.target != d.target.name:
        raise ValueError(f"core_map was made for {core_map.target!r}, not for "
                         f"target={d.target.name!r}")
    for rule in SUPERVISED_RULES.values():
        rule(d)


def analyse_supervised(fixed_net: SupervisedFixed, counts, table: str = "davies2018",
                       target: str = "loihi2") -> tuple[dict, EnergyReport]:
    """Core map, design rules, memory and the energy / latency of one inference from an
    evaluation's per-sample ``counts`` (S, 1 + layers). Returns a flat dict and the
    :class:`~lavalab.compile.energy.EnergyReport`."""
    cmap = map_to_cores(fixed_net.graph, target)
    try:
        check_supervised_rules(fixed_net, cmap, target)
        ok, rule = True, ""
    except DesignRuleError as err:
        ok, rule = False, str(err)
    ev = events_from_counts(fixed_net, counts)
    rep = estimate(fixed_net.graph, cmap, ev, fixed_net.sample_steps, table,
                   learning=False, event_names=fixed_net.event_names)
    fp = memory_footprint(fixed_net.graph)
    return dict(energy_infer_uJ=rep.energy_uj, latency_infer_us=rep.latency_sample_us,
                sample_steps=fixed_net.sample_steps,
                synops_infer=rep.neurobench.synaptic_acs,
                activation_sparsity_infer=rep.neurobench.activation_sparsity,
                cores=cmap.cores_used, tiles=cmap.tiles_used, memory_bits=fp.bits,
                memory_kB=fp.bytes / 1024, loihi_ok=ok, loihi_rule=rule,
                energy_table=table, target=target), rep
