"""Loihi design rules: named checks of a compiled design against the hardware's limits.

Each rule is a function ``rule(design) -> None`` of a :class:`Design` (layer graph, Loihi
integers, core map, target, learning on/off) that raises :class:`DesignRuleError` naming
the rule, the offending value and the limit. :func:`check_rules` runs :data:`RULES` in
order and raises the first violation. Every limit comes from :mod:`lavalab.loihi_spec`.

Number formats (any target: Loihi 1 and 2 share them)

- ``weights_fit_bits``: stored weights <= 8 bits (float weights, 32 bits, are refused);
  the Loihi mantissas of the network (inhibition weights, STDP w_max) <= 255.
- ``decays_fit_bits``: decay_u 1..4096, decay_v 0..4095, STDP trace decays 0..4096
  (12-bit registers; 4096 on a trace = the trace lives one step).
- ``theta_decay_fits_bits`` (on-chip learning only; with learning off theta is frozen):
  the adaptive threshold's decay must be a 12-bit decay (``theta_decay_bits == 12``) or
  none. Diehl & Cook's tau_theta = 1e7 steps needs 28 fraction bits: not a Loihi decay.
- ``threshold_fits_bits``: vth mantissa 0..131071 (17-bit).
- ``weight_exponent_in_range``: exp_in, exp_ei, exp_ie, exp_lat in [-8, 7].
- ``refractory_within_limit``: ref_steps <= 64.
- ``neuron_state_fits``: v is Loihi's fixed 24-bit register of unit resolution; a network
  whose neurons quantize v to fewer bits (``v_bits < 24``) or to a coarser grid
  (``v_lsb > 0``) is not Loihi (fields read with ``getattr``: records without them are
  Loihi's 24-bit v). theta's width is not checked here.
- ``one_spike_not_on_chip`` (``one_spike``: on-chip learning only, inference runs without
  it; ``one_spike_infer``: always): a population with ``one_spike`` (while learning, at
  most one spike per step, chosen among
  the neurons that cross threshold in that step) needs a population-wide choice within the
  step; a neuro core updates each neuron on its own and a spike reaches other neurons one
  step later at the earliest, so no Loihi network expresses it.
- ``learning_rule_expressible`` (on-chip learning only): the rule is STDP1 (STDP2's
  ``k = ceil(maxN / N_th)`` and window gating have no learning-engine form; the triplet
  rule needs y2 *before* this step's impulse, which Loihi's saturating trace has no
  exact form for), the
  accumulator keeps Loihi's 7 fraction bits and rounds stochastically (``w_rounding``),
  and every learning-rate exponent is within
  the engine's scaling exponent range [-7, 8]. The exponent compared is the one the rule
  string carries (:func:`lavalab.dynamics.stdp.loihi_rule_string`): with 7 fraction bits
  our ``eta_exp`` *is* Loihi's exponent (both scale ``m * 2**e`` weight units per trace
  unit; in general ``eta_exp + frac_bits - 7``), plus Lava's compensating +5 on the
  potentiation term when it has the ``(w_max - w)`` factor (``mu = 1``). Rates with a zero
  mantissa are not checked (the term is absent).
- ``delays_within_limit``: our connections have Lava Dense's fixed one-step delay
  (:data:`~lavalab.loihi_spec.DENSE_DELAY_STEPS`), within DELAY_MAX = 62.

Resources (per target, from the :class:`~lavalab.compile.mapping.CoreMap`)

- ``neurons_fit_core``, ``synapses_fit_core_memory``, ``fan_in_within_limit``,
  ``fan_out_within_limit``: per core, against the target's per-core figures.
- ``cores_fit_chip``: cores used <= cores_per_chip (a single chip).
"""

from __future__ import annotations

from dataclasses import dataclass

from lavalab import loihi_spec as spec
from lavalab.compile.ir import FLOAT_BITS, LayerGraph
from lavalab.compile.mapping import CoreMap, resolve_target
from lavalab.dynamics.stdp import W_FACTOR_SHIFT
from lavalab.networks.snn import FixedNetwork

__all__ = ["DesignRuleError", "Design", "check_rules", "check_all_rules", "RULES", "HINTS",
           "weights_fit_bits", "decays_fit_bits", "theta_decay_fits_bits",
           "threshold_fits_bits", "weight_exponent_in_range", "refractory_within_limit",
           "neuron_state_fits", "one_spike_not_on_chip", "learning_rule_expressible",
           "delays_within_limit",
           "neurons_fit_core", "synapses_fit_core_memory", "fan_in_within_limit",
           "fan_out_within_limit", "cores_fit_chip"]


class DesignRuleError(ValueError):
    """A design rule is broken: ``rule`` (its function name), ``value`` and ``limit``."""

    def __init__(self, rule: str, value, limit, detail: str):
        self.rule, self.value, self.limit = rule, value, limit
        super().__init__(f"{rule}: {detail}")

    @property
    def hint(self) -> str:
        """The parameter that would fix this violation (:data:`HINTS`)."""
        return HINTS.get(self.rule, "")


@dataclass(frozen=True)
class Design:
    """What the rules look at.

    graph : the network's :class:`LayerGraph` (weight bits per connection)
    fixed_net : its Loihi integers (:class:`~lavalab.networks.snn.FixedNetwork`)
    core_map : its placement (:func:`lavalab.compile.mapping.map_to_cores`)
    target : :class:`~lavalab.loihi_spec.CoreResources` (or its name)
    learning : on-chip learning (STDP in the learning engine, adaptive threshold)
    delay_steps : synaptic delay of the connections, steps (ours: Dense's fixed 1)
    """

    graph: LayerGraph
    fixed_net: FixedNetwork
    core_map: CoreMap
    target: spec.CoreResources
    learning: bool
    delay_steps: int = spec.DENSE_DELAY_STEPS

    def __post_init__(self):
        object.__setattr__(self, "target", resolve_target(self.target))
        for name, cls in (("graph", LayerGraph), ("fixed_net", FixedNetwork),
                          ("core_map", CoreMap)):
            if not isinstance(getattr(self, name), cls):
                raise ValueError(f"{name}={getattr(self, name)!r} must be a {cls.__name__}")
        if not isinstance(self.learning, bool):
            raise ValueError(f"learning={self.learning!r} must be a bool")
        if not isinstance(self.delay_steps, int):
            raise ValueError(f"delay_steps={self.delay_steps!r} must be an int")


def _neurons(d: Design):
    """(name, AdaptiveLIFFixed) of the network's neuron populations."""
    out = [("exc", d.fixed_net.exc)]
    if d.fixed_net.inh is not None:
        out.append(("inh", d.fixed_net.inh))
    return out


def _in_range(rule: str, what: str, value, lo, hi, unit: str = "", d: Design | None = None):
    if not lo <= value <= hi:
        tgt = f"{d.target.name}'s " if d is not None else ""
        raise DesignRuleError(rule, value, (lo, hi),
                              f"{what}={value} is outside {tgt}range {lo}..{hi}{unit}")


# --- number formats ------------------------------------------------------------------------

def weights_fit_bits(d: Design) -> None:
    """Stored weights are at most 8 bits (float refused); Loihi mantissas at most 255."""
    for c in d.graph.connections:
        if c.weight_bits > spec.WEIGHT_BITS:
            kind = " (float)" if c.weight_bits == FLOAT_BITS else ""
            raise DesignRuleError(
                "weights_fit_bits", c.weight_bits, spec.WEIGHT_BITS,
                f"{c.name} weight_bits={c.weight_bits}{kind} exceeds {d.target.name}'s limit "
                f"of {spec.WEIGHT_BITS} bits")
    f = d.fixed_net
    for name, v in (("w_ei", f.w_ei), ("w_ie", f.w_ie), ("w_lat", f.w_lat),
                    ("stdp.w_max", f.stdp.w_max)):
        if not 0 <= v <= spec.WEIGHT_MAX:
            raise DesignRuleError(
                "weights_fit_bits", v, spec.WEIGHT_MAX,
                f"{name}={v} exceeds {d.target.name}'s limit of {spec.WEIGHT_MAX} "
                f"({spec.WEIGHT_BITS} bits)")


def decays_fit_bits(d: Design) -> None:
    """12-bit decays: decay_u 1..4096, decay_v 0..4095, STDP traces 0..4096."""
    r = "decays_fit_bits"
    for name, p in _neurons(d):
        _in_range(r, f"{name}.decay_u", p.decay_u, 1, spec.DECAY_UNITY, d=d)
        _in_range(r, f"{name}.decay_v", p.decay_v, 0, spec.DECAY_MAX, d=d)
    st = d.fixed_net.stdp
    _in_range(r, "stdp.decay_pre", st.decay_pre, 0, spec.DECAY_UNITY, d=d)
    _in_range(r, "stdp.decay_post", st.decay_post, 0, spec.DECAY_UNITY, d=d)


def theta_decay_fits_bits(d: Design) -> None:
    """With on-chip learning, theta's decay is a 12-bit decay (or none)."""
    if not d.learning:
        return
    for name, p in _neurons(d):
        if p.decay_theta > 0 and p.theta_decay_bits > spec.DECAY_SHIFT:
            raise DesignRuleError(
                "theta_decay_fits_bits", p.theta_decay_bits, spec.DECAY_SHIFT,
                f"{name}.theta_decay_bits={p.theta_decay_bits} (decay_theta="
                f"{p.decay_theta}) exceeds {d.target.name}'s {spec.DECAY_SHIFT}-bit decay "
                f"limit of {spec.DECAY_SHIFT} bits")


def threshold_fits_bits(d: Design) -> None:
    """Threshold mantissa vth in 0..131071 (17 bits)."""
    for name, p in _neurons(d):
        _in_range("threshold_fits_bits", f"{name}.vth", p.vth, 0, spec.VTH_MAX,
                  f" ({spec.VTH_BITS} bits)", d)


def weight_exponent_in_range(d: Design) -> None:
    """Connection weight exponents in [-8, 7]."""
    f = d.fixed_net
    for name in ("exp_in", "exp_ei", "exp_ie", "exp_lat"):
        _in_range("weight_exponent_in_range", name, getattr(f, name), spec.WEIGHT_EXP_MIN,
                  spec.WEIGHT_EXP_MAX, d=d)


def refractory_within_limit(d: Design) -> None:
    """Refractory period at most 64 steps."""
    for name, p in _neurons(d):
        _in_range("refractory_within_limit", f"{name}.ref_steps", p.ref_steps, 0,
                  spec.REFRACTORY_MAX, " steps", d)


def neuron_state_fits(d: Design) -> None:
    """v is the fixed 24-bit register: neurons quantizing v to fewer bits are not Loihi."""
    for name, p in _neurons(d):
        v_bits = getattr(p, "v_bits", spec.UV_BITS)
        if v_bits != spec.UV_BITS:
            raise DesignRuleError(
                "neuron_state_fits", v_bits, spec.UV_BITS,
                f"{name}.v_bits={v_bits} differs from {d.target.name}'s fixed "
                f"{spec.UV_BITS}-bit v register (limit: exactly {spec.UV_BITS} bits)")
        v_lsb = getattr(p, "v_lsb", 0)
        if v_lsb != 0:
            raise DesignRuleError(
                "neuron_state_fits", v_lsb, 0,
                f"{name}.v_lsb={v_lsb} puts v on a grid of 2**{v_lsb} units; "
                f"{d.target.name}'s v register has unit resolution (limit: v_lsb 0)")


def one_spike_not_on_chip(d: Design) -> None:
    """No population may choose one spike per step across itself where the chip runs it:
    ``one_spike`` with on-chip learning (it acts only while learning), ``one_spike_infer``
    always (it acts at inference)."""
    for name, p in _neurons(d):
        if getattr(p, "one_spike_infer", False):
            raise DesignRuleError(
                "one_spike_not_on_chip", True, False,
                f"{name}.one_spike_infer=True (one spike per step at inference, chosen across "
                f"the population) has no form on {d.target.name}'s neuro cores; deploy the "
                "model assigned without it (lavalab assign --no-one-spike-infer)")
        if d.learning and getattr(p, "one_spike", False):
            raise DesignRuleError(
                "one_spike_not_on_chip", True, False,
                f"{name}.one_spike=True (one spike per step while learning, chosen across "
                f"the population) has no form on {d.target.name}'s neuro cores; train "
                "off-chip and deploy for inference, or learn with one_spike=False "
                "(--no-one-spike)")


def learning_rule_expressible(d: Design) -> None:
    """On-chip learning: STDP1, 7 accumulator fraction bits, exponents in [-7, 8]."""
    if not d.learning:
        return
    r = "learning_rule_expressible"
    st = d.fixed_net.stdp
    if st.rule != "stdp1":
        raise DesignRuleError(
            r, st.rule, "stdp1",
            f"rule={st.rule!r} is not expressible on {d.target.name}'s learning engine "
            f"(limit: 'stdp1'; STDP2's k = ceil(maxN/N_th) and window gating, and the "
            f"triplet rule's y2 before the impulse, have no form)")
    if st.frac_bits != spec.LEARN_WEIGHT_FRAC:
        raise DesignRuleError(
            r, st.frac_bits, spec.LEARN_WEIGHT_FRAC,
            f"stdp.frac_bits={st.frac_bits} differs from {d.target.name}'s accumulator "
            f"limit of {spec.LEARN_WEIGHT_FRAC} fraction bits")
    w_rounding = getattr(st, "w_rounding", "stochastic")
    if w_rounding != "stochastic":
        raise DesignRuleError(
            r, w_rounding, "stochastic",
            f"stdp.w_rounding={w_rounding!r} differs from {d.target.name}'s learning "
            "engine, whose limit is 'stochastic' rounding of the accumulator")
    shift = st.frac_bits - spec.LEARN_WEIGHT_FRAC
    terms = (("eta_post", st.eta_post_mant, st.eta_post_exp + shift
              + (W_FACTOR_SHIFT if st.mu else 0)),
             ("eta_pre", st.eta_pre_mant, st.eta_pre_exp + shift))
    for name, mant, exp in terms:
        if mant:
            _in_range(r, f"{name} Loihi exponent", exp, spec.LEARN_EXP_MIN,
                      spec.LEARN_EXP_MAX, d=d)


def delays_within_limit(d: Design) -> None:
    """Synaptic delay within 0..62 steps."""
    _in_range("delays_within_limit", "delay_steps", d.delay_steps, 0, spec.DELAY_MAX,
              " steps", d)


# --- resources -----------------------------------------------------------------------------

def _per_core(d: Design, rule: str, attr: str, limit: int, what: str) -> None:
    for c in d.core_map.cores:
        v = getattr(c, attr)
        if v > limit:
            raise DesignRuleError(
                rule, v, limit,
                f"core {c.index} ({c.population} {c.start}..{c.stop - 1}) {what}={v} "
                f"exceeds {d.target.name}'s limit of {limit}")


def neurons_fit_core(d: Design) -> None:
    """Neurons per core <= target.neurons_per_core."""
    _per_core(d, "neurons_fit_core", "n_neurons", d.target.neurons_per_core, "neurons")


def synapses_fit_core_memory(d: Design) -> None:
    """Stored synapse bits per core <= target.synapse_memory_bits_per_core."""
    _per_core(d, "synapses_fit_core_memory", "memory_bits",
              d.target.synapse_memory_bits_per_core, "synapse memory bits")


def fan_in_within_limit(d: Design) -> None:
    """Distinct input axons per core <= target.fan_in_per_core."""
    _per_core(d, "fan_in_within_limit", "fan_in", d.target.fan_in_per_core, "fan-in axons")


def fan_out_within_limit(d: Design) -> None:
    """Output axons per core <= target.fan_out_per_core."""
    try:
        _per_core(d, "fan_out_within_limit", "fan_out", d.target.fan_out_per_core,
                  "fan-out axons")
    except DesignRuleError as err:
        why = [n for n in d.core_map.search if n.startswith("no partition exists")]
        if why:
            raise DesignRuleError(err.rule, err.value, err.limit,
                                  f"{str(err).split(': ', 1)[1]}; {why[0]}") from None
        raise


def cores_fit_chip(d: Design) -> None:
    """Cores used <= target.cores_per_chip (one chip)."""
    n = d.core_map.cores_used
    if n > d.target.cores_per_chip:
        raise DesignRuleError(
            "cores_fit_chip", n, d.target.cores_per_chip,
            f"cores_used={n} exceeds {d.target.name}'s limit of {d.target.cores_per_chip} "
            "cores (one chip)")


#: The rules, in the order :func:`check_rules` runs them (formats first, then resources).
RULES = {f.__name__: f for f in (
    weights_fit_bits, decays_fit_bits, theta_decay_fits_bits, threshold_fits_bits,
    weight_exponent_in_range, refractory_within_limit, neuron_state_fits,
    one_spike_not_on_chip, learning_rule_expressible, delays_within_limit, neurons_fit_core,
    synapses_fit_core_memory, fan_in_within_limit, fan_out_within_limit, cores_fit_chip,
)}


#: For each rule, the parameter(s) that fix a violation (``lavalab compile`` flags).
HINTS = {
    "weights_fit_bits": "lower --weight-bits to 8 or fewer (or the inhibition weights)",
    "decays_fit_bits": "time constants (tau_v_ms, tau_u_ms, STDP traces) or --dt",
    "theta_decay_fits_bits": "--tau-theta: a decay a 12-bit register holds (a few "
                             "hundred steps, e.g. 200 ms at dt 1 ms) or inf (no decay)",
    "threshold_fits_bits": "the threshold v_th (or input_gain) of the neurons",
    "weight_exponent_in_range": "the inhibition weights (w_exc_inh, w_inh_exc, w_lateral)",
    "refractory_within_limit": "t_ref_ms (at most 64 steps of --dt)",
    "neuron_state_fits": "omit --neuron-bits (Loihi's v is 24 bits of unit resolution)",
    "one_spike_not_on_chip": "--no-one-spike (one spike per step needs off-chip training); "
                             "for one_spike_infer: lavalab assign --no-one-spike-infer",
    "learning_rule_expressible": "--rule stdp1 (STDP2 and the triplet rule have no "
                                 "learning-engine form) and "
                                 "--eta-pre / --eta-post whose exponents fit [-7, 8] "
                                 "(e.g. 3e-2 / 2e-2)",
    "delays_within_limit": "synaptic delays (at most 62 steps)",
    "neurons_fit_core": "--neurons-per-core (or omit it: the automatic mapping fits)",
    "synapses_fit_core_memory": "--neurons-per-core (or omit it), or --weight-bits",
    "fan_in_within_limit": "--neurons-per-core (or omit it), or fewer inputs",
    "fan_out_within_limit": "--neurons-per-core (or omit it: the automatic mapping "
                            "searches block sizes for fan-out)",
    "cores_fit_chip": "fewer --neurons, fewer --weight-bits, or --target loihi2",
}


def check_all_rules(graph: LayerGraph, fixed_net: FixedNetwork, core_map: CoreMap, target,
                    learning: bool, delay_steps: int = spec.DENSE_DELAY_STEPS
                    ) -> list[DesignRuleError]:
    """Run every rule of :data:`RULES`; return **all** violations (empty: the design
    passes), each with its :attr:`DesignRuleError.hint`."""
    d = Design(graph, fixed_net, core_map, target, learning, delay_steps)
    out = []
    for rule in RULES.values():
        try:
            rule(d)
        except DesignRuleError as err:
            out.append(err)
    return out


def check_rules(graph: LayerGraph, fixed_net: FixedNetwork, core_map: CoreMap, target,
                learning: bool, delay_steps: int = spec.DENSE_DELAY_STEPS) -> Design:
    """Run every rule of :data:`RULES`; raise the first :class:`DesignRuleError`.

    Returns the checked :class:`Design`. ``target`` is a
    :class:`~lavalab.loihi_spec.CoreResources` or its name; it must be the target
    ``core_map`` was made for.
    """
    d = Design(graph, fixed_net, core_map, target, learning, delay_steps)
    if core_map.target != d.target.name:
        raise ValueError(f"core_map was made for {core_map.target!r}, not for "
                         f"target={d.target.name!r}")
    for rule in RULES.values():
        rule(d)
    return d
