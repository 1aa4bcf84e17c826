"""Map a :class:`~lavalab.compile.ir.LayerGraph` onto Loihi neuro-cores (a compile pass).

requires
    a :class:`LayerGraph` whose connections have one of the patterns below, and a target
    (:class:`~lavalab.loihi_spec.CoreResources` or its name, ``"loihi1"`` / ``"loihi2"``).
ensures
    a new frozen :class:`CoreMap` (the graph is not modified): every on-chip population
    split into contiguous neuron ranges, one population per core, cores numbered in graph
    order and placed on tiles in order (``cores_per_tile`` per tile, tiles row-major on the
    mesh of :data:`lavalab.loihi_spec.TILE_GEOMETRIES`). The map never raises for a
    partition that breaks a limit: :func:`lavalab.compile.rules.check_rules` names that.

Automatic partition (``neurons_per_core=None``): the fewest cores per population, given
the largest block of neurons that satisfies, on one core, (1) neurons <= neurons_per_core,
(2) stored synapse bits <= synapse_memory_bits_per_core and (3) fan-in (distinct input
axons, i.e. presynaptic neurons feeding the core) <= fan_in_per_core; the neurons are
then spread evenly over that many cores (sizes differ by at most one, which lowers the
busiest core's load at the same core count). Then (4) fan-out: a core's output axons grow
with its neurons and with the cores of its destinations, which are only known once every
population is partitioned; so the partition is searched: while a population's cores
exceed ``fan_out_per_core``, that population's block size shrinks (to the largest size
whose worst core fits, re-partitioning and re-checking every time) until every core fits
or one neuron per core still does not (no partition exists: ``CoreMap.search`` says why,
and the rule ``fan_out_within_limit`` names the violation). A limit no single neuron can
meet (e.g. more than 4096 inputs) is left to the rules. ``neurons_per_core=k`` forces blocks of
``k`` neurons (the last block holds the rest).

Synaptic memory: stored synapses x weight bits, **weight bits only**. Loihi 1 packs
synapses into 64-bit words with variable-width formats (Davies 2018) and SANA-FE models
one synapse as 16 bits (8 weight + sign + delay/tag bits); we found no exact per-synapse
overhead for our formats, so none is added. This undercounts memory (optimistic).

Connection patterns: :data:`lavalab.compile.ir.PATTERNS`, declared by each connection
(``Connection.pattern``; the graph checks its sizes).
"""

from __future__ import annotations

from dataclasses import dataclass

from lavalab import loihi_spec as spec
from lavalab.compile.ir import PATTERNS, Connection, LayerGraph

__all__ = ["CoreRecord", "CoreMap", "map_to_cores", "reached_cores",
           "core_synapses", "resolve_target", "PATTERNS"]



def resolve_target(target) -> spec.CoreResources:
    """A :class:`~lavalab.loihi_spec.CoreResources`, given one or its name."""
    if isinstance(target, spec.CoreResources):
        return target
    if isinstance(target, str) and target in spec.TARGETS:
        return spec.TARGETS[target]
    raise ValueError(f"target={target!r} is not one of {sorted(spec.TARGETS)} "
                     "or a CoreResources")


def _block_synapses(pattern: str, n_src: int, size: int) -> int:
    """Synapses into a block of ``size`` destination neurons."""
    if pattern == "dense":
        return size * n_src
    if pattern == "one_to_one":
        return size
    if pattern == "empty":
        return 0
    return size * (n_src - 1)


def _block_fan_in(pattern: str, n_src: int, size: int) -> int:
    """Distinct presynaptic neurons feeding a block of ``size`` destination neurons."""
    if pattern == "dense":
        return n_src
    if pattern == "one_to_one":
        return size
    if pattern == "empty":
        return 0
    return n_src if size >= 2 else n_src - 1


def _reach(pattern: str, i: int, dst_cores) -> list:
    """Destination cores (records) that source neuron ``i`` sends to."""
    if pattern == "dense":
        return list(dst_cores)
    if pattern == "one_to_one":
        return [c for c in dst_cores if c.start <= i < c.stop]
    if pattern == "empty":
        return []
    return [c for c in dst_cores if not (c.start == i and c.stop == i + 1)]


@dataclass(frozen=True)
class CoreRecord:
    """One neuro-core of a :class:`CoreMap`.

    index : core number on the chip (0-based, graph order)
    population : the population whose neurons ``start .. stop-1`` live here
    synapses : stored synapses (into these neurons)
    memory_bits : synapse memory, synapses x weight bits
    fan_in : distinct input axons (presynaptic neurons feeding the core)
    fan_out : output axons, sum over the core's neurons of the destination cores each
        sends to (one entry per neuron, connection and destination core)
    tile : tile number (``index // cores_per_tile``)
    """

    index: int
    population: str
    start: int
    stop: int
    synapses: int
    memory_bits: int
    fan_in: int
    fan_out: int
    tile: int

    @property
    def n_neurons(self) -> int:
        return self.stop - self.start


@dataclass(frozen=True)
class CoreMap:
    """Populations placed on cores (see :func:`map_to_cores`).

    target : name of the :class:`~lavalab.loihi_spec.CoreResources` mapped to
    cores : the core records, by core index
    capacity : ``((population, neurons), ...)``: the largest block one core may hold in the
        automatic partition, or the forced ``neurons_per_core``
    cores_per_tile, mesh_width : tile geometry used to place cores (tiles row-major)
    search : what the automatic partition search did (one line per step, e.g. a block
        size shrunk for fan-out, or why no partition exists); empty when nothing was needed
    """

    target: str
    cores: tuple[CoreRecord, ...]
    capacity: tuple[tuple[str, int], ...]
    cores_per_tile: int
    mesh_width: int
    search: tuple[str, ...] = ()

    @property
    def cores_used(self) -> int:
        return len(self.cores)

    @property
    def tiles_used(self) -> int:
        return len({c.tile for c in self.cores})

    def cores_of(self, population: str) -> tuple[CoreRecord, ...]:
        return tuple(c for c in self.cores if c.population == population)

    def tile_xy(self, tile: int) -> tuple[int, int]:
        """(x, y) of a tile on the mesh: x counts E-W hops, y N-S hops."""
        return tile % self.mesh_width, tile // self.mesh_width

    def table(self) -> list[dict]:
        """One dict per core, for printing."""
        return [{"core": c.index, "tile": c.tile, "population": c.population,
                 "neurons": f"{c.start}..{c.stop - 1}", "n_neurons": c.n_neurons,
                 "synapses": c.synapses, "memory_bits": c.memory_bits, "fan_in": c.fan_in,
                 "fan_out": c.fan_out} for c in self.cores]


def _block_load(graph: LayerGraph, pop: str, size: int) -> tuple[int, int, int]:
    """(synapses, memory bits, fan-in) of a block of ``size`` neurons of ``pop``."""
    syn = mem = fan = 0
    for c in graph.inputs_of(pop):
        pat = c.pattern
        n_src = graph.population(c.src).size
        s = _block_synapses(pat, n_src, size)
        syn += s
        mem += s * c.weight_bits
        fan += _block_fan_in(pat, n_src, size)
    return syn, mem, fan


def _capacity(graph: LayerGraph, pop: str, target: spec.CoreResources) -> int:
    """Largest block of ``pop`` one core holds under each satisfiable limit."""
    size = graph.population(pop).size
    cap = min(size, target.neurons_per_core)
    limits = ((1, target.synapse_memory_bits_per_core), (2, target.fan_in_per_core))
    for k, limit in limits:
        if _block_load(graph, pop, 1)[k] > limit:
            continue  # no partition helps: left to the design rules
        lo, hi = 1, cap  # largest s in [lo, hi] with load(s) <= limit (monotone in s)
        while lo < hi:
            mid = (lo + hi + 1) // 2
            if _block_load(graph, pop, mid)[k] <= limit:
                lo = mid
            else:
                hi = mid - 1
        cap = lo
    return cap


def map_to_cores(graph: LayerGraph, target="loihi1",
                 neurons_per_core: int | None = None) -> CoreMap:
    """Partition every on-chip population of ``graph`` into cores (see the module doc).

    target : a :class:`~lavalab.loihi_spec.CoreResources` or its name
    neurons_per_core : force blocks of this many neurons (1..10**8); ``None`` = automatic
    """
    res = resolve_target(target)
    geo = spec.TILE_GEOMETRIES.get(res.name)
    if geo is None:
        raise ValueError(f"no tile geometry for target {res.name!r}: one of "
                         f"{sorted(spec.TILE_GEOMETRIES)}")
    if neurons_per_core is not None and not (
            isinstance(neurons_per_core, int) and 1 <= neurons_per_core <= 10**8):
        raise ValueError(f"neurons_per_core={neurons_per_core!r} is outside 1..10**8")
    caps = {}
    for p in graph.populations:
        if p.on_chip:
            caps[p.name] = (_capacity(graph, p.name, res) if neurons_per_core is None
                            else neurons_per_core)
    cmap = _place(graph, res, geo, caps, even=neurons_per_core is None)
    if neurons_per_core is not None:
        return cmap
    notes = []
    limit = res.fan_out_per_core
    for _ in range(64):  # each round shrinks at least one block size; sizes are bounded
        over = {}
        for c in cmap.cores:
            if c.fan_out > limit:
                over[c.population] = max(over.get(c.population, 0), c.fan_out)
        if not over:
            break
        changed = False
        for pop, worst in over.items():
            cap = caps[pop]
            if cap == 1:
                notes.append(f"no partition exists: one {pop} neuron per core still sends "
                             f"{worst} fan-out axons, above {res.name}'s limit of {limit}")
                continue
            new = max(1, min(cap - 1, cap * limit // worst))
            notes.append(f"{pop}: block size {cap} -> {new} (a core's fan-out {worst} > "
                         f"{limit})")
            caps[pop] = new
            changed = True
        if not changed:
            break
        cmap = _place(graph, res, geo, caps, even=True)
    return CoreMap(cmap.target, cmap.cores, cmap.capacity, cmap.cores_per_tile,
                   cmap.mesh_width, tuple(notes))


def _place(graph: LayerGraph, res, geo, caps: dict, even: bool) -> CoreMap:
    """Cores for block sizes ``caps`` (population -> largest block); ``even`` spreads a
    population evenly over the fewest cores, else blocks of exactly ``cap``."""
    blocks, capacity = [], []
    for p in graph.populations:
        if not p.on_chip:
            continue
        cap = caps[p.name]
        if even:
            k = -(-p.size // cap)
            sizes = [p.size // k + (1 if j < p.size % k else 0) for j in range(k)]
        else:
            sizes = [min(cap, p.size - s) for s in range(0, p.size, cap)]
        capacity.append((p.name, cap))
        start = 0
        for s in sizes:
            blocks.append((p.name, start, start + s))
            start += s
    # first pass: ranges and tiles (fan-out needs every destination core)
    cores = []
    for idx, (pop, a, b) in enumerate(blocks):
        syn, mem, fan_in = _block_load(graph, pop, b - a)
        cores.append(CoreRecord(idx, pop, a, b, syn, mem, fan_in, 0, idx // geo.cores_per_tile))
    by_pop = {}
    for c in cores:
        by_pop.setdefault(c.population, []).append(c)
    final = []
    for c in cores:
        fan_out = 0
        for conn in graph.connections:
            if conn.src != c.population or conn.n_synapses == 0:
                continue
            pat = conn.pattern
            dst = by_pop.get(conn.dst, [])
            fan_out += sum(len(_reach(pat, i, dst)) for i in range(c.start, c.stop))
        final.append(CoreRecord(c.index, c.population, c.start, c.stop, c.synapses,
                                c.memory_bits, c.fan_in, fan_out, c.tile))
    return CoreMap(target=res.name, cores=tuple(final), capacity=tuple(capacity),
                   cores_per_tile=geo.cores_per_tile, mesh_width=geo.mesh_width)


def reached_cores(graph: LayerGraph, core_map: CoreMap, conn: Connection, i: int) -> list:
    """The destination cores of ``conn`` that source neuron ``i`` sends a message to."""
    return _reach(conn.pattern, i, core_map.cores_of(conn.dst))


def core_synapses(graph: LayerGraph, conn: Connection, core: CoreRecord) -> int:
    """Synapses of ``conn`` stored on ``core`` (0 unless the core holds ``conn.dst``)."""
    if core.population != conn.dst:
        return 0
    return _block_synapses(conn.pattern, graph.population(conn.src).size,
                           core.n_neurons)
