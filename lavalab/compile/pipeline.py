"""The compile pipeline: physical network + time budget + precision budget + target ->
:class:`CompiledNetwork` (Loihi integers, layer graph, core map), checked by the design
rules.

Passes, in order (each its own module):

1. :func:`~lavalab.compile.discretize.discretize_time` — ms -> steps and 12-bit decays;
2. :func:`~lavalab.compile.enhance.enhance` — TopSpark's parameter enhancement for
   ``T < T0`` (policy ``"none"`` leaves the parameters alone);
3. :func:`~lavalab.compile.quantize.quantize_network` — weight / neuron bit widths and
   rounding, lowered to Loihi integers (:mod:`lavalab.networks.lower`);
4. :func:`~lavalab.compile.ir.layer_graph` + :func:`~lavalab.compile.mapping.map_to_cores`;
5. :func:`~lavalab.compile.rules.check_rules` — raises
   :class:`~lavalab.compile.rules.DesignRuleError` naming the rule, value and limit.
"""

from __future__ import annotations

from dataclasses import dataclass

from lavalab.compile.discretize import DiscreteTime, discretize_time
from lavalab.compile.enhance import enhance, policy_from_name
from lavalab.compile.ir import FLOAT_BITS, LayerGraph, PrecisionBudget, TimeBudget, layer_graph
from lavalab.compile.mapping import CoreMap, map_to_cores
from lavalab.compile.rules import check_rules
from lavalab.networks.snn import FixedNetwork, NetworkSpec, lower_network

__all__ = ["CompiledNetwork", "compile_network"]


@dataclass(frozen=True)
class CompiledNetwork:
    """A network compiled for one target.

    spec : the network at the budgeted time step (enhanced if asked)
    time : the time discretisation (decays, refractory steps, schedule)
    precision : the precision budget
    enhancement : name of the enhancement policy applied
    fixed : Loihi integers (weights per ``precision``)
    graph, core_map : layer graph and its placement on cores
    target : ``loihi1`` / ``loihi2``; learning : on-chip learning was checked
    """

    spec: NetworkSpec
    time: DiscreteTime
    precision: PrecisionBudget
    enhancement: str
    fixed: FixedNetwork
    graph: LayerGraph
    core_map: CoreMap
    target: str
    learning: bool


def compile_network(spec: NetworkSpec, time: TimeBudget | None = None,
                    precision: PrecisionBudget | None = None, target: str = "loihi1",
                    enhancement: str = "none", learning: bool = False,
                    neurons_per_core: int | None = None, v_range_mv: float | None = None,
                    check: bool = True, seed: int = 0) -> CompiledNetwork:
    """Run the passes (module docstring) and, with ``check``, the design rules.

    ``time`` defaults to the network's own schedule (its baseline T0, for the
    enhancement, to the network's presentation steps); ``precision`` to Loihi's (8-bit
    weights, stochastic rounding, 24-bit neurons). A float budget (32-bit weights) is
    lowered with the default 8-bit format for the rules, which then refuse its 32-bit
    weights by name (``weights_fit_bits``).
    """
    from lavalab.compile.quantize import quantize_network

    time = time or TimeBudget(spec.present_steps, spec.dt_ms, spec.rest_steps)
    precision = precision or PrecisionBudget()
    d = discretize_time(spec, time)
    # T0 defaults to the network's own presentation (never below T: a longer T than the
    # network's is a plain time budget, nothing to enhance)
    t0 = time.baseline_timesteps or max(spec.present_steps, time.timesteps)
    s = enhance(d.spec, t0, policy_from_name(enhancement))
    if precision.is_float:
        fixed = lower_network(s)
    else:
        fixed = quantize_network(s, precision, v_range=v_range_mv, seed=seed)
    nbits = precision.neuron_bits if precision.quantize_neurons else (
        FLOAT_BITS if precision.is_float else 24)
    graph = layer_graph(s, weight_bits=precision.weight_bits, neuron_bits=nbits,
                        inhibition_bits=FLOAT_BITS if precision.is_float else 8)
    cmap = map_to_cores(graph, target, neurons_per_core)
    if check:
        check_rules(graph, fixed, cmap, target, learning)
    return CompiledNetwork(s, d, precision, enhancement, fixed, graph, cmap, target, learning)
