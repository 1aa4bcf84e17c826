"""Energy, latency and NeuroBench-style figures: an analysis of event counts (STYLE 8).

requires
    a :class:`~lavalab.compile.ir.LayerGraph`, its :class:`~lavalab.compile.mapping.CoreMap`,
    per-sample event counts (:data:`lavalab.engine.core.EVENT_NAMES`) from a run, the
    simulated steps per sample, and an :class:`~lavalab.loihi_spec.EnergyTable`.
ensures
    a frozen :class:`EnergyReport`: per population and connection, the operation counts
    of one sample and their energy (pJ), totals (uJ per sample), latency per step and per
    sample, NeuroBench figures. Nothing is simulated here and no input is modified.

Counts per sample (``events`` are per-sample means)

- **synaptic ops** of a connection: its engine counter when it has one
  (``Connection.event``, e.g. ``syn_events_input``); otherwise source spikes x fan-out
  (D&C: E->I ``exc_spikes * 1``, I->E ``inh_spikes * (n - 1)``; tinySNN: E->E
  ``exc_spikes * (n - 1)``). These derived counts must add up to the engine's
  ``syn_events_inhibition`` (checked). Every synaptic event costs one ``syn_op``.
- **neuron updates**: every on-chip neuron is updated every step (``size * sample_steps``).
  An update is **active** when the neuron receives synaptic input in that step (Davies 2018
  Table 2 prices active and inactive updates apart, 81 vs 52 pJ; an update with no input
  only decays the state and is priced *inactive*: our reading of the table, which does
  not define the two cases further). The engine counts events per sample, not per
  (neuron, step), so the active updates of a population are bounded from the counts of
  each incoming connection ``c``:

  - ``dense`` (every source spike reaches every destination neuron): ``size x min(source
    spikes, steps in which the source can spike)`` (an off-chip input spikes only during
    the ``input_steps`` of presentation; an on-chip source in any of ``sample_steps``);
  - ``all_but_self``: ``min(syn_ops, size x min(source spikes, sample_steps))``;
  - otherwise (``one_to_one``): its synaptic events ``syn_ops``;

  summed over connections and capped at ``size x sample_steps`` (a neuron-step with input
  from two connections is counted twice: an **upper bound** on active updates, so energy
  stays an upper bound, now a tighter one). Spiking updates count among the active ones
  (at least the population's spikes are active); spikes are priced as spiking updates,
  the rest of the active ones as active, the remaining updates as inactive. The off-chip
  input population has no neuron updates.
- **spike messages**: a spike is sent once to every core holding one of its destinations
  (:func:`~lavalab.compile.mapping.reached_cores`). A message costs ``spike_out`` at an
  on-chip source core, then ``spike_tile`` if source and destination share a tile, else
  ``hop_ew`` per E-W and ``hop_ns`` per N-S hop (Manhattan distance on the mesh) — the
  SANA-FE message model. Input spikes come from off-chip: they enter at tile 0 (the mesh
  corner, an assumption) and pay routing only (no ``spike_out``, no neuron update).
  Spikes are assumed spread evenly over a population's neurons (we count per population).
- **learning updates**: ``weight_updates``, priced as ``syn_update``, on the plastic
  connection, only when ``learning`` (counts with updates but ``learning=False`` are refused).

Latency: each core's work per step is its **even share** of its population's counts (a
core holding a fraction f of a population's neurons does f of its neuron updates, spikes
and messages, and a fraction of each incoming connection's synaptic ops equal to its share
of that connection's synapses), times the time per operation, averaged over the sample's
steps. A step takes the busiest core's time plus the barrier for the tiles in use
(``table.barrier_ns``). Message flight time (2.1 ns within a tile, 4.1-6.5 ns per hop) is
taken to overlap with core work and is not added; the max of per-step means is a lower
bound of the mean of per-step maxima when activity is bursty.

Static power (optional, not in ``energy_uj``): ``static_energy_uj`` = the chip's static
power (:data:`lavalab.loihi_spec.STATIC_POWER_W`, per whole chip, whatever the cores used)
x the modelled latency per sample; it grows with the steps per sample, not with activity.

NeuroBench (``shared/LOIHI.md`` 5), per sample: binary spikes make every synaptic event an
accumulate (AC; MACs 0); dense synaptic ops = stored synapses x steps; activation sparsity
= 1 - on-chip spikes / (on-chip neurons x steps); membrane updates = on-chip neurons x steps
(NeuroBench counts only changed membranes: ours is an upper bound); footprint =
:func:`memory_footprint`; connection sparsity = 1 - stored synapses / (n_src x n_dst)
summed over connections (absent synapses as zero weights; zero-valued stored weights are
not known here).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass

import numpy as np

from lavalab import loihi_spec as spec
from lavalab.compile.ir import LayerGraph
from lavalab.compile.mapping import CoreMap, core_synapses, reached_cores
from lavalab.engine.core import EVENT_NAMES

__all__ = ["Footprint", "memory_footprint", "EnergyRow", "NeuroBenchFigures", "EnergyReport",
           "estimate", "mean_events", "resolve_table", "INPUT_ENTRY_TILE", "CATEGORIES"]

#: Tile at which off-chip input spikes enter the mesh (an assumption: the corner tile).
INPUT_ENTRY_TILE = 0
#: Energy categories of a row.
CATEGORIES = ("syn", "neuron", "spike", "learn")
PJ_PER_UJ = 1e6
NS_PER_US = 1e3


# --- memory footprint ----------------------------------------------------------------------

@dataclass(frozen=True)
class Footprint:
    """tinySNN's memory footprint ``M = Nw * Bw + sum_k Nn_k * Bn_k``.

    weight_bits : sum over connections of stored synapses x weight bits
    neuron_bits : sum over populations of neurons x stored parameter bits per neuron
        (``Population.state_bits``)
    """

    weight_bits: int
    neuron_bits: int

    @property
    def bits(self) -> int:
        return self.weight_bits + self.neuron_bits

    @property
    def bytes(self) -> int:
        """Whole bytes, ``ceil(bits / 8)``."""
        return -(-self.bits // 8)

    def to_dict(self) -> dict:
        return {"weight_bits": self.weight_bits, "neuron_bits": self.neuron_bits,
                "bits": self.bits, "bytes": self.bytes}


def memory_footprint(graph: LayerGraph) -> Footprint:
    """The :class:`Footprint` of ``graph`` (weights and per-neuron parameters)."""
    w = sum(c.n_synapses * c.weight_bits for c in graph.connections)
    n = sum(p.size * sum(b for _, b in p.state_bits) for p in graph.populations)
    return Footprint(weight_bits=int(w), neuron_bits=int(n))


# --- records -------------------------------------------------------------------------------

@dataclass(frozen=True)
class EnergyRow:
    """Counts and energy of one population or connection, per sample.

    kind : ``"population"`` (neuron updates, spikes) or ``"connection"`` (synaptic ops,
        spike messages, learning updates; ``spikes`` repeats the source's spike count)
    active_updates : neuron updates with synaptic input (upper bound, spiking ones
        included); ``neuron_updates - active_updates`` are priced inactive
    e_syn_pj, e_neuron_pj, e_spike_pj, e_learn_pj : energy by category, pJ
    """

    name: str
    kind: str
    syn_ops: float = 0.0
    neuron_updates: float = 0.0
    active_updates: float = 0.0
    spikes: float = 0.0
    spike_messages: float = 0.0
    learning_updates: float = 0.0
    e_syn_pj: float = 0.0
    e_neuron_pj: float = 0.0
    e_spike_pj: float = 0.0
    e_learn_pj: float = 0.0

    @property
    def energy_pj(self) -> float:
        return self.e_syn_pj + self.e_neuron_pj + self.e_spike_pj + self.e_learn_pj

    @property
    def energy_uj(self) -> float:
        return self.energy_pj / PJ_PER_UJ

    def to_dict(self) -> dict:
        return {**asdict(self), "energy_pj": self.energy_pj, "energy_uj": self.energy_uj}


@dataclass(frozen=True)
class NeuroBenchFigures:
    """NeuroBench-style workload and static figures per sample (see the module doc)."""

    synaptic_acs: float
    synaptic_macs: float
    dense_synaptic_ops: float
    activation_sparsity: float
    membrane_updates: float
    footprint_bytes: int
    connection_sparsity: float

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class EnergyReport:
    """Result of :func:`estimate`, per sample.

    table_name : name of the :class:`~lavalab.loihi_spec.EnergyTable`; table_source its
        source
    rows : populations (on-chip and input) then connections
    core_step_ns : per core (by index), mean work time per step, ns
    barrier_ns : barrier per step for the tiles in use, ns
    """

    table_name: str
    table_source: str
    sample_steps: int
    learning: bool
    rows: tuple[EnergyRow, ...]
    core_step_ns: tuple[float, ...]
    barrier_ns: float
    tiles_used: int
    neurobench: NeuroBenchFigures
    footprint: Footprint
    static_power_w: float | None = None

    @property
    def static_energy_uj(self) -> float | None:
        """Static energy of one sample: the chip's static power x the sample's latency, uJ
        (not part of :attr:`energy_uj`); None where no static power is published."""
        if self.static_power_w is None:
            return None
        return self.static_power_w * self.latency_sample_us

    def energy_by_layer_uj(self) -> dict:
        """Dynamic energy per population and connection, uJ per sample."""
        return {r.name: r.energy_uj for r in self.rows}

    @property
    def energy_pj(self) -> float:
        """Total energy per sample, pJ."""
        return sum(r.energy_pj for r in self.rows)

    @property
    def energy_uj(self) -> float:
        """Total energy per sample, uJ."""
        return self.energy_pj / PJ_PER_UJ

    def energy_by_category_pj(self) -> dict:
        return {k: sum(getattr(r, f"e_{k}_pj") for r in self.rows) for k in CATEGORIES}

    @property
    def critical_core(self) -> int:
        """Index of the busiest core."""
        return int(np.argmax(self.core_step_ns))

    @property
    def latency_step_ns(self) -> float:
        """Busiest core's mean work per step + barrier, ns."""
        return max(self.core_step_ns) + self.barrier_ns

    @property
    def latency_sample_us(self) -> float:
        """``latency_step_ns * sample_steps``, us."""
        return self.latency_step_ns * self.sample_steps / NS_PER_US

    def table(self) -> list[dict]:
        """One dict per row plus a ``total`` row, for printing."""
        out = [r.to_dict() for r in self.rows]
        tot = {"name": "total", "kind": "total"}
        for k in ("syn_ops", "neuron_updates", "active_updates", "spikes", "spike_messages",
                  "learning_updates",
                  "e_syn_pj", "e_neuron_pj", "e_spike_pj", "e_learn_pj", "energy_pj",
                  "energy_uj"):
            # a connection row repeats its source's spikes: count spikes on populations only
            tot[k] = sum(r[k] for r in out if k != "spikes" or r["kind"] == "population")
        return out + [tot]

    def to_dict(self) -> dict:
        """JSON-able record of the report."""
        return {
            "type": "lavalab.EnergyReport", "version": 1,
            "table": self.table_name, "table_source": self.table_source,
            "sample_steps": self.sample_steps, "learning": self.learning,
            "rows": [r.to_dict() for r in self.rows],
            "energy_pj": self.energy_pj, "energy_uj": self.energy_uj,
            "energy_by_category_pj": self.energy_by_category_pj(),
            "core_step_ns": list(self.core_step_ns), "barrier_ns": self.barrier_ns,
            "tiles_used": self.tiles_used, "critical_core": self.critical_core,
            "latency_step_ns": self.latency_step_ns,
            "latency_sample_us": self.latency_sample_us,
            "neurobench": self.neurobench.to_dict(), "footprint": self.footprint.to_dict(),
            "static_power_w": self.static_power_w, "static_energy_uj": self.static_energy_uj,
        }


# --- inputs --------------------------------------------------------------------------------

def resolve_table(table) -> spec.EnergyTable:
    """An :class:`~lavalab.loihi_spec.EnergyTable`, given one or its name."""
    if isinstance(table, spec.EnergyTable):
        return table
    if isinstance(table, str) and table in spec.ENERGY_TABLES:
        return spec.ENERGY_TABLES[table]
    raise ValueError(f"table={table!r} is not one of {sorted(spec.ENERGY_TABLES)} "
                     "or an EnergyTable")


def mean_events(events, names: tuple[str, ...] = EVENT_NAMES) -> dict:
    """Per-sample mean counts by name from a mapping of ``names`` (default the engine's
    :data:`EVENT_NAMES`) to numbers, or from the ``(S, len(names))`` (or
    ``(len(names),)``) count array of a run (mean over samples)."""
    if isinstance(events, Mapping):
        unknown = set(events) - set(names)
        missing = set(names) - set(events)
        if unknown or missing:
            raise ValueError(f"events keys must be exactly {names}: unknown "
                             f"{sorted(unknown)}, missing {sorted(missing)}")
        out = {k: float(events[k]) for k in names}
    else:
        a = np.asarray(events)
        if a.ndim == 1:
            a = a[None, :]
        if a.ndim != 2 or a.shape[1] != len(names) or a.shape[0] == 0:
            raise ValueError(f"events array of shape {np.shape(events)} is not (S, "
                             f"{len(names)}) with S >= 1")
        m = a.astype(np.float64).mean(axis=0)
        out = {k: float(v) for k, v in zip(names, m, strict=True)}
    for k, v in out.items():
        if not (math.isfinite(v) and v >= 0):
            raise ValueError(f"events[{k!r}]={v!r} must be a finite count >= 0")
    return out


# --- the analysis --------------------------------------------------------------------------

def _spike_event(pop: str, names: tuple[str, ...] = EVENT_NAMES) -> str:
    name = f"{pop}_spikes"
    if name not in names:
        raise ValueError(f"population {pop!r} has no spike counter ({name!r} is not one of "
                         f"{names})")
    return name


def _routes(graph: LayerGraph, core_map: CoreMap, conn) -> dict:
    """Per source neuron mean of messages, same-tile messages, E-W and N-S hops, and the
    per-source-core sum of messages (``by_core``)."""
    src = graph.population(conn.src)
    src_cores = core_map.cores_of(conn.src)
    if src.on_chip and sum(c.n_neurons for c in src_cores) != src.size:
        raise ValueError(f"core_map does not hold population {conn.src!r} of {src.size} "
                         "neurons")
    tile_of = {}
    for c in src_cores:
        for i in range(c.start, c.stop):
            tile_of[i] = c.tile
    msgs = same = ew = ns = 0
    by_core = {c.index: 0 for c in src_cores}
    core_of = {i: c.index for c in src_cores for i in range(c.start, c.stop)}
    for i in range(src.size):
        t0 = tile_of[i] if src.on_chip else INPUT_ENTRY_TILE
        x0, y0 = core_map.tile_xy(t0)
        dst = reached_cores(graph, core_map, conn, i)
        msgs += len(dst)
        if src.on_chip:
            by_core[core_of[i]] += len(dst)
        for d in dst:
            if d.tile == t0:
                same += 1
            else:
                x, y = core_map.tile_xy(d.tile)
                ew += abs(x - x0)
                ns += abs(y - y0)
    n = src.size
    return {"msgs": msgs / n, "same": same / n, "ew": ew / n, "ns": ns / n, "by_core": by_core}


def estimate(graph: LayerGraph, core_map: CoreMap, events, sample_steps: int,
             table="davies2018", learning: bool = False,
             event_names: tuple[str, ...] = EVENT_NAMES,
             input_steps: int | None = None) -> EnergyReport:
    """Energy and latency of one sample (see the module doc for every count and assumption).

    graph, core_map : the network and its placement
    events : per-sample mean counts by :data:`EVENT_NAMES`, or a run's ``(S, 6)`` array
    sample_steps : simulated steps per sample (presentation + rest), >= 1
    table : :class:`~lavalab.loihi_spec.EnergyTable` or its name (``"davies2018"``,
        ``"sana-fe"``)
    learning : on-chip learning: ``weight_updates`` are priced on the plastic connection
    event_names : the counters in ``events`` (default the engine's :data:`EVENT_NAMES`);
        another network family names its own: ``<population>_spikes`` for every
        population, every connection's ``event``, and ``weight_updates``
    input_steps : steps per sample in which the off-chip input can spike (the
        presentation; default ``sample_steps``): bounds the active neuron updates
    """
    tab = resolve_table(table)
    ev = mean_events(events, event_names)
    if not (isinstance(sample_steps, (int, np.integer)) and 1 <= sample_steps <= 10**9):
        raise ValueError(f"sample_steps={sample_steps!r} is outside 1..10**9")
    sample_steps = int(sample_steps)
    input_steps = sample_steps if input_steps is None else input_steps
    if not (isinstance(input_steps, (int, np.integer)) and 1 <= input_steps <= sample_steps):
        raise ValueError(f"input_steps={input_steps!r} is outside 1..{sample_steps} "
                         "(sample_steps)")
    if not isinstance(learning, bool):
        raise ValueError(f"learning={learning!r} must be a bool")
    on_chip = [p for p in graph.populations if p.on_chip]
    for p in on_chip:
        held = sum(c.n_neurons for c in core_map.cores_of(p.name))
        if held != p.size:
            raise ValueError(f"core_map holds {held} neurons of {p.name!r}, the graph {p.size}")
    spikes = {p.name: ev[_spike_event(p.name, event_names)] for p in graph.populations}
    for p in on_chip:
        if spikes[p.name] > p.size * sample_steps:
            raise ValueError(f"{p.name} spikes={spikes[p.name]} exceed neurons x steps = "
                             f"{p.size * sample_steps}")
    plastic = [c for c in graph.connections if c.plastic]
    if ev["weight_updates"] > 0 and not learning:
        raise ValueError(f"weight_updates={ev['weight_updates']} but learning=False: "
                         "pass learning=True to price them, or counts of an inference run")
    if learning and ev["weight_updates"] > 0 and len(plastic) != 1:
        raise ValueError(f"weight_updates need exactly one plastic connection, the graph "
                         f"has {len(plastic)}")
    # synaptic ops per connection
    ops = {}
    for c in graph.connections:
        if c.event:
            if c.event not in event_names:
                raise ValueError(f"connection {c.name}: event={c.event!r} is not one of "
                                 f"{event_names}")
            ops[c.name] = ev[c.event]
        else:
            ops[c.name] = spikes[c.src] * c.fan_out
    derived = [c for c in graph.connections if not c.event]
    if derived:
        tot = sum(ops[c.name] for c in derived)
        ref = ev["syn_events_inhibition"]
        if not math.isclose(tot, ref, rel_tol=1e-9, abs_tol=1e-9):
            raise ValueError(
                f"derived synaptic events of {[c.name for c in derived]} add up to {tot}, "
                f"but events['syn_events_inhibition']={ref}: counts from another network?")
    rows, core_ns = [], {c.index: 0.0 for c in core_map.cores}
    # populations: neuron updates and spikes
    for p in graph.populations:
        s = spikes[p.name]
        if not p.on_chip:
            rows.append(EnergyRow(p.name, "population", spikes=s))
            continue
        upd = p.size * sample_steps
        act = _active_updates(graph, p, ops, spikes, sample_steps, input_steps)
        rows.append(EnergyRow(p.name, "population", neuron_updates=float(upd),
                              active_updates=act, spikes=s,
                              e_neuron_pj=s * tab.neuron_spiking_pj
                              + (act - s) * tab.neuron_active_pj
                              + (upd - act) * tab.neuron_inactive_pj))
        for core in core_map.cores_of(p.name):
            f = core.n_neurons / p.size
            core_ns[core.index] += f * (s * tab.neuron_spiking_ns
                                        + (act - s) * tab.neuron_active_ns
                                        + (upd - act) * tab.neuron_inactive_ns)
    # connections: synaptic ops, messages, learning
    for c in graph.connections:
        src = graph.population(c.src)
        s = spikes[c.src]
        r = _routes(graph, core_map, c)
        out_pj = tab.spike_out_pj if src.on_chip else 0.0
        e_spike = s * (r["msgs"] * out_pj + r["same"] * tab.spike_tile_pj
                       + r["ew"] * tab.hop_ew_pj + r["ns"] * tab.hop_ns_pj)
        learn = ev["weight_updates"] if (learning and c.plastic) else 0.0
        rows.append(EnergyRow(c.name, "connection", syn_ops=ops[c.name], spikes=s,
                              spike_messages=s * r["msgs"], learning_updates=learn,
                              e_syn_pj=ops[c.name] * tab.syn_op_pj, e_spike_pj=e_spike,
                              e_learn_pj=learn * tab.syn_update_pj))
        for core in core_map.cores_of(c.dst):
            share = core_synapses(graph, c, core) / c.n_synapses if c.n_synapses else 0.0
            core_ns[core.index] += share * (ops[c.name] * tab.syn_op_ns
                                            + learn * tab.syn_update_ns)
        if src.on_chip:
            for idx, m in r["by_core"].items():
                core_ns[idx] += s / src.size * m * tab.spike_out_ns
    step_ns = tuple(core_ns[c.index] / sample_steps for c in core_map.cores)
    if not step_ns:
        raise ValueError("core_map has no cores: nothing runs on chip")
    n_on = sum(p.size for p in on_chip)
    s_on = sum(spikes[p.name] for p in on_chip)
    fp = memory_footprint(graph)
    full = sum(graph.population(c.src).size * graph.population(c.dst).size
               for c in graph.connections)
    nb = NeuroBenchFigures(
        synaptic_acs=float(sum(ops.values())), synaptic_macs=0.0,
        dense_synaptic_ops=float(sum(c.n_synapses for c in graph.connections) * sample_steps),
        activation_sparsity=1.0 - s_on / (n_on * sample_steps),
        membrane_updates=float(n_on * sample_steps), footprint_bytes=fp.bytes,
        connection_sparsity=1.0 - sum(c.n_synapses for c in graph.connections) / full,
    )
    return EnergyReport(
        table_name=tab.name, table_source=tab.source, sample_steps=sample_steps, learning=learning,
        rows=tuple(rows), core_step_ns=step_ns, barrier_ns=tab.barrier_ns(core_map.tiles_used),
        tiles_used=core_map.tiles_used, neurobench=nb, footprint=fp,
        static_power_w=spec.STATIC_POWER_W.get(core_map.target),
    )


def _active_updates(graph: LayerGraph, p, ops: dict, spikes: dict, sample_steps: int,
                    input_steps: int) -> float:
    """Upper bound of the updates of population ``p`` with synaptic input, per sample (see
    the module doc), at least its spikes and at most ``size x sample_steps``."""
    bound = 0.0
    for c in graph.inputs_of(p.name):
        src = graph.population(c.src)
        steps = sample_steps if src.on_chip else input_steps
        if c.pattern == "dense":
            bound += p.size * min(spikes[c.src], steps)
        elif c.pattern == "all_but_self":
            bound += min(ops[c.name], p.size * min(spikes[c.src], sample_steps))
        else:
            bound += ops[c.name]
    return float(min(p.size * sample_steps, max(bound, spikes[p.name])))
