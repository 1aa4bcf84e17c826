"""The compile layer's typed records: budgets in, layer graph and compiled network out.

Every record is a frozen dataclass validated in ``__post_init__``; passes
(``lavalab.compile.*``) take records and return new ones, never mutating their input.

- :class:`TimeBudget` — step size and timesteps per sample (the TopSpark study's knobs).
- :class:`PrecisionBudget` — bit widths, rounding, PTQ/ITQ (the tinySNN study's knobs).
- :class:`LayerGraph` — populations and connections of a network with their sizes and bit
  widths: what core mapping, design rules, memory footprint and energy analysis look at.
"""

from __future__ import annotations

from dataclasses import dataclass

from lavalab import fixed
from lavalab.fixed import ROUNDING_MODES

__all__ = ["TimeBudget", "PrecisionBudget", "Population", "Connection", "LayerGraph",
           "layer_graph", "FLOAT_BITS", "SCHEMES", "PATTERNS"]

#: Connection patterns: ``dense`` (every source to every destination), ``one_to_one``
#: (source i to destination i), ``all_but_self`` (source i to every destination j != i, in
#: one population of n: ``n * (n - 1)`` synapses), ``empty``.
PATTERNS = ("dense", "one_to_one", "all_but_self", "empty")

#: Bit width that stands for floating point (FP32) in a :class:`PrecisionBudget`.
FLOAT_BITS = 32
#: Quantization schemes: post-training (quantize a trained float model) and in-training
#: (train in the quantized arithmetic).
SCHEMES = ("ptq", "itq")


@dataclass(frozen=True)
class TimeBudget:
    """Time discretisation of a sample.

    timesteps : presentation steps per sample T (1..100000)
    dt_ms : step size (ms), > 0
    rest_steps : rest steps after each presentation; ``None`` scales the network's rest
        period with ``timesteps`` (``round(rest * T / T_network)``, at least 2)
    baseline_timesteps : T0 of the unreduced network, for TopSpark's enhancement and
        normalised latency/energy; ``None`` = the network's own presentation steps
    """

    timesteps: int
    dt_ms: float = 1.0
    rest_steps: int | None = None
    baseline_timesteps: int | None = None

    def __post_init__(self):
        fixed.check_int_range("timesteps", self.timesteps, 1, 100_000)
        fixed.check_real("dt_ms", self.dt_ms, lo=1e-6, hi=1e3)
        if self.rest_steps is not None:
            fixed.check_int_range("rest_steps", self.rest_steps, 0, 100_000)
        if self.baseline_timesteps is not None:
            fixed.check_int_range("baseline_timesteps", self.baseline_timesteps, 1, 100_000)


@dataclass(frozen=True)
class PrecisionBudget:
    """Numeric precision of a network (tinySNN's design space).

    weight_bits : bits of a synaptic weight (unsigned magnitude), 2..16, or 32 = float
    neuron_bits : bits of the neuron parameters that are quantized (membrane potential v,
        threshold v_th and adaptive threshold theta), 2..24, or 32 = float; only applies
        when ``quantize_neurons`` (otherwise v is Loihi's 24-bit register, or float)
    rounding : ``"truncate"``, ``"nearest"`` or ``"stochastic"`` (weights and neuron
        parameters; in-training weight updates use it too)
    scheme : ``"ptq"`` (post-training: train in float, quantize the trained model) or
        ``"itq"`` (in-training: train in the quantized integer arithmetic)
    quantize_neurons : also quantize v, v_th and theta (tinySNN's qWN) rather than only
        the weights (qW)
    """

    weight_bits: int = 8
    neuron_bits: int = 24
    rounding: str = "stochastic"
    scheme: str = "itq"
    quantize_neurons: bool = False

    def __post_init__(self):
        if self.weight_bits != FLOAT_BITS:
            fixed.check_int_range("weight_bits", self.weight_bits, 2, 16)
        if self.neuron_bits != FLOAT_BITS:
            fixed.check_int_range("neuron_bits", self.neuron_bits, 2, 24)
        if self.rounding not in ROUNDING_MODES:
            raise ValueError(f"rounding={self.rounding!r} is not one of {ROUNDING_MODES}")
        if self.scheme not in SCHEMES:
            raise ValueError(f"scheme={self.scheme!r} is not one of {SCHEMES}")
        if not isinstance(self.quantize_neurons, bool):
            raise ValueError(f"quantize_neurons={self.quantize_neurons!r} must be a bool")
        if self.is_float and self.quantize_neurons and self.neuron_bits != FLOAT_BITS:
            raise ValueError("float weights (weight_bits=32) with quantized neurons is not "
                             "supported: quantize the weights too")

    @property
    def is_float(self) -> bool:
        """Float weights (the FP32 baseline)."""
        return self.weight_bits == FLOAT_BITS

    @property
    def label(self) -> str:
        """Short name, e.g. ``itq-8b-stochastic-qW`` or ``fp32``."""
        if self.is_float:
            return "fp32"
        what = "qWN" if self.quantize_neurons else "qW"
        nb = f"{self.neuron_bits}" if self.quantize_neurons else ""
        return f"{self.scheme}-{self.weight_bits}{'/' + nb if nb else ''}b-{self.rounding}-{what}"


@dataclass(frozen=True)
class Population:
    """A group of neurons.

    name : e.g. ``"exc"``, ``"inh"``; ``"input"`` is the spike source (not on cores)
    size : number of neurons
    on_chip : True for compartments on neuro-cores; False for the input encoder (spikes
        arrive from outside, e.g. the host or an embedded spike generator)
    state_bits : bits of the stored neuron parameters per neuron, by parameter name
        (e.g. ``{"v": 24, "v_th": 17, "theta": 24}``); empty for the input
    """

    name: str
    size: int
    on_chip: bool = True
    state_bits: tuple[tuple[str, int], ...] = ()

    def __post_init__(self):
        fixed.check_int_range(f"{self.name}.size", self.size, 1, 10**8)
        for k, b in self.state_bits:
            fixed.check_int_range(f"{self.name}.{k} bits", b, 1, 64)


@dataclass(frozen=True)
class Connection:
    """Synapses from ``src`` to ``dst`` (population names).

    n_synapses : stored synapses (a dense all-to-all n_dst x n_src matrix stores all of
        them, a 1:1 connection n of them)
    fan_in : synapses per destination neuron (max)
    fan_out : synapses per source neuron (max)
    weight_bits : bits per stored weight (32 = float)
    plastic : learns (STDP)
    event : the engine event counter (:data:`lavalab.engine.EVENT_NAMES`) whose per-sample
        count gives this connection's synaptic events, or ``""`` when it is derived from
        a spike count times ``fan_out``
    pattern : one of :data:`PATTERNS`; :class:`LayerGraph` checks that the sizes agree
    """

    name: str
    src: str
    dst: str
    n_synapses: int
    fan_in: int
    fan_out: int
    weight_bits: int
    plastic: bool = False
    event: str = ""
    pattern: str = "dense"

    def __post_init__(self):
        if self.pattern not in PATTERNS:
            raise ValueError(f"{self.name}.pattern={self.pattern!r} is not one of {PATTERNS}")
        fixed.check_int_range(f"{self.name}.n_synapses", self.n_synapses, 0, 10**12)
        fixed.check_int_range(f"{self.name}.fan_in", self.fan_in, 0, 10**8)
        fixed.check_int_range(f"{self.name}.fan_out", self.fan_out, 0, 10**8)
        fixed.check_int_range(f"{self.name}.weight_bits", self.weight_bits, 1, 64)


@dataclass(frozen=True)
class LayerGraph:
    """Populations and connections of one network (see :func:`layer_graph`)."""

    populations: tuple[Population, ...]
    connections: tuple[Connection, ...]

    def __post_init__(self):
        names = [p.name for p in self.populations]
        if len(set(names)) != len(names):
            raise ValueError(f"population names repeat: {names}")
        size = {p.name: p.size for p in self.populations}
        for c in self.connections:
            for end in (c.src, c.dst):
                if end not in names:
                    raise ValueError(f"connection {c.name} refers to unknown population {end!r}")
            ns, nd = size[c.src], size[c.dst]
            want = {"dense": (ns * nd, ns, nd), "one_to_one": (nd, 1, 1),
                    "all_but_self": (nd * (nd - 1), nd - 1, nd - 1), "empty": (0, 0, 0)}
            if c.pattern in ("one_to_one", "all_but_self") and ns != nd:
                raise ValueError(f"connection {c.name}: pattern {c.pattern} needs equal "
                                 f"populations, got {ns} and {nd}")
            if (c.n_synapses, c.fan_in, c.fan_out) != want[c.pattern]:
                raise ValueError(
                    f"connection {c.name}: n_synapses={c.n_synapses}, fan_in={c.fan_in}, "
                    f"fan_out={c.fan_out} between {ns} and {nd} neurons do not match its "
                    f"pattern {c.pattern} (expected {want[c.pattern]})")

    def population(self, name: str) -> Population:
        for p in self.populations:
            if p.name == name:
                return p
        raise KeyError(name)

    def inputs_of(self, name: str) -> tuple[Connection, ...]:
        return tuple(c for c in self.connections if c.dst == name)


def layer_graph(spec, weight_bits: int = 8, neuron_bits: int = 24,
                inhibition_bits: int = 8) -> LayerGraph:
    """The :class:`LayerGraph` of a :class:`~lavalab.networks.snn.NetworkSpec`.

    Diehl & Cook: input -> exc (dense, plastic), exc -> inh (1:1), inh -> exc (all but
    self). tinySNN: input -> exc (dense, plastic), exc -> exc (all but self; direct lateral
    inhibition). Neuron parameters stored per neuron: membrane potential ``v``, threshold
    ``v_th`` and (excitatory) adaptive threshold ``theta``, each ``neuron_bits`` wide (the
    quantities tinySNN quantizes). Inhibitory weights are ``inhibition_bits`` wide.
    """
    n, m = spec.n_exc, spec.n_input
    exc_bits = (("v", neuron_bits), ("v_th", neuron_bits), ("theta", neuron_bits))
    pops = [Population("input", m, on_chip=False), Population("exc", n, state_bits=exc_bits)]
    conns = [Connection("input->exc", "input", "exc", n * m, fan_in=m, fan_out=n,
                        weight_bits=weight_bits, plastic=True, event="syn_events_input")]
    if spec.kind == "diehl-cook":
        pops.append(Population("inh", n, state_bits=(("v", neuron_bits), ("v_th", neuron_bits))))
        conns.append(Connection("exc->inh", "exc", "inh", n, fan_in=1, fan_out=1,
                                weight_bits=inhibition_bits, pattern="one_to_one"))
        conns.append(Connection("inh->exc", "inh", "exc", n * (n - 1), fan_in=n - 1,
                                fan_out=n - 1, weight_bits=inhibition_bits,
                                pattern="all_but_self"))
    else:
        conns.append(Connection("exc->exc", "exc", "exc", n * (n - 1), fan_in=n - 1,
                                fan_out=n - 1, weight_bits=inhibition_bits,
                                pattern="all_but_self"))
    return LayerGraph(tuple(pops), tuple(conns))
