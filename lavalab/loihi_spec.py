"""Loihi hardware facts: the one home of every bit width, range and resource figure.

Each constant names its source. Tags as in ``shared/LOIHI.md``: [V] checked in
the primary source (code read or run), [V2] checked through a transcription
quoting the source, [R] recalled.

Sources
-------
LAVA   lava-nc 0.10.0, ``src/lava/proc/lif/models.py`` (PyLifModelBitAcc),
       ``proc/dense/models.py``, ``magma/core/learning/constants.py`` [V].
DAVIES Davies et al. 2018, IEEE Micro 38(1):82-99, Table 2 and text [V2].
DEY    Dey & Dimitrov 2022, Front. Neurosci. (Loihi 1 neuron state widths) [V2].
SANAFE SANA-FE ``arch/loihi.yaml``, SLAM-Lab/SANA-FE @0d49da8 (silicon-calibrated per-op
       energy and time, tile mesh) [V].
"""

from __future__ import annotations

import math
from dataclasses import dataclass

# --- neuron state (LAVA PyLifModelBitAcc; DEY) ---------------------------------
#: u and v are signed 24-bit (LAVA: ``uv_bitwidth = 24``).
UV_BITS = 24
#: Largest magnitude of the 24-bit state: 2**23.
UV_MAX = 2 ** (UV_BITS - 1)
#: Decays are 12-bit: x <- x * (DECAY_UNITY - d) >> DECAY_SHIFT (LAVA ``decay_shift``).
DECAY_SHIFT = 12
DECAY_UNITY = 2**DECAY_SHIFT
#: Largest 12-bit decay register value.
DECAY_MAX = DECAY_UNITY - 1
#: Loihi adds a 1-bit offset to du (ds_offset = 1) and none to dv (dm_offset = 0) (LAVA).
DU_OFFSET = 1
DV_OFFSET = 0
#: Synaptic input and threshold are MSB-aligned by a left shift of 6 (LAVA act/vth_shift).
ACT_SHIFT = 6
VTH_SHIFT = 6
#: Threshold mantissa: unsigned 17-bit (LAVA ``vth`` precision=17; DEY).
VTH_BITS = 17
VTH_MAX = 2**VTH_BITS - 1
#: Bias mantissa: signed 13-bit, exponent 3-bit unsigned (LAVA bias_mant / bias_exp).
BIAS_MANT_BITS = 13
BIAS_EXP_BITS = 3
BIAS_MANT_MIN = -(2 ** (BIAS_MANT_BITS - 1))
BIAS_MANT_MAX = 2 ** (BIAS_MANT_BITS - 1) - 1
BIAS_EXP_MAX = 2**BIAS_EXP_BITS - 1
#: Refractory delay: Loihi 1 compartments support 1..64 steps (brian2-loihi docs, [V2]).
REFRACTORY_MAX = 64

# --- synapses (LAVA proc/dense/models.py, utils/weightutils.py; DAVIES) -------
#: Weight mantissa: 8 bits magnitude, plus a sign bit for mixed-sign weights.
WEIGHT_BITS = 8
WEIGHT_MAX = 2**WEIGHT_BITS - 1
#: Weight exponent range of Lava's Dense / Loihi (brian2-loihi, LAVA learning) [-8, 7].
WEIGHT_EXP_MIN = -8
WEIGHT_EXP_MAX = 7
#: Dendritic accumulator as annotated in LAVA (a_out precision=16; not saturated there).
ACCUM_BITS = 16
#: Synaptic delay: 6 bits on Loihi 1 and 2 (DAVIES; Lava DelaySparse docstring).
DELAY_BITS = 6
DELAY_MAX = 62  # usable maximum on Loihi 1 with few compartments (DAVIES)

# --- learning engine (LAVA magma/core/learning/constants.py) ---------------------
#: Traces x1, x2, y1, y2, y3: unsigned 7-bit integer part.
TRACE_BITS = 7
TRACE_MAX = 2**TRACE_BITS - 1
#: Learning weight: 8 bits unsigned / 9 bits signed.
LEARN_WEIGHT_BITS = 8
#: Learning accumulator: 16-bit signed (15 bits + sign).
LEARN_ACCUM_BITS = 16
#: Fractional bits kept for the weight inside the accumulator (w << 7).
LEARN_WEIGHT_FRAC = 7
#: Scaling mantissa in [-8, 7], exponent in [-7, 8].
LEARN_MANT_MIN, LEARN_MANT_MAX = -8, 7
LEARN_EXP_MIN, LEARN_EXP_MAX = -7, 8
#: Learning epoch: up to 63 steps (6-bit epoch field), DAVIES / LAVA W_EPOCH_TIME.
LEARN_EPOCH_MAX = 63


@dataclass(frozen=True)
class CoreResources:
    """Per-chip and per-core resources of one Loihi generation."""

    name: str
    cores_per_chip: int
    neurons_per_core: int
    synapse_memory_bits_per_core: int
    fan_in_per_core: int
    fan_out_per_core: int
    source: str


#: Loihi 1 (DAVIES p.92; LOIHI.md 1b): 128 cores, 1024 compartments, 128 KB synaptic
#: memory (N_syn x 64-bit words), 4096 input axons and 4096 output edges per core.
LOIHI1 = CoreResources(
    name="loihi1", cores_per_chip=128, neurons_per_core=1024,
    synapse_memory_bits_per_core=128 * 1024 * 8,
    fan_in_per_core=4096, fan_out_per_core=4096,
    source="Davies et al. 2018, IEEE Micro 38(1), p.92 [V2]",
)

#: Loihi 2 (wikichip / Intel brief, [V]): 128 cores, up to 8192 neurons per core; memory
#: per core 192 KB shared between neuron state and synapses (Orchard et al. 2021 [R]).
#: Fan-in/fan-out per core are not published; the Loihi 1 figures are used [R].
LOIHI2 = CoreResources(
    name="loihi2", cores_per_chip=128, neurons_per_core=8192,
    synapse_memory_bits_per_core=192 * 1024 * 8,
    fan_in_per_core=4096, fan_out_per_core=4096,
    source="wikichip/Intel (cores, neurons) [V]; Orchard et al. 2021 (memory) [R]",
)

TARGETS = {"loihi1": LOIHI1, "loihi2": LOIHI2}

# --- synaptic delay of our connections (LAVA proc/dense/models.py) ----------------------
#: Lava's Dense (and our engine, which mirrors it) delivers at t what was sent at t-1: a
#: fixed one-step synaptic delay (LOIHI.md 2a, "1 timestep of extra latency") [V].
DENSE_DELAY_STEPS = 1


# --- tile geometry (SANA-FE arch/loihi.yaml; DAVIES) -------------------------------------
@dataclass(frozen=True)
class TileGeometry:
    """How cores sit on the chip's 2-D mesh of tiles (for routing hops and barriers).

    cores_per_tile : neuro-cores sharing one router (one tile)
    mesh_width, mesh_height : tiles along x (E-W hops) and y (N-S hops)
    """

    name: str
    cores_per_tile: int
    mesh_width: int
    mesh_height: int
    source: str

    @property
    def tiles(self) -> int:
        return self.mesh_width * self.mesh_height


#: Loihi 1: 4 cores per tile on an 8 x 4 mesh (32 tiles x 4 = 128 cores). SANA-FE
#: ``arch/loihi.yaml`` (commit 0d49da8, ``width: 8, height: 4``, ``loihi_core[0..3]``) [V];
#: Davies 2018's barrier figure spans "1-32 tiles" [V2].
LOIHI1_TILES = TileGeometry(
    name="loihi1", cores_per_tile=4, mesh_width=8, mesh_height=4,
    source="SANA-FE arch/loihi.yaml @0d49da8 (8x4 tiles x 4 cores) [V]; Davies 2018 Table 2 [V2]",
)
#: Loihi 2: no per-tile geometry was found; the Loihi 1 layout (same 128 cores) is assumed [R].
LOIHI2_TILES = TileGeometry(
    name="loihi2", cores_per_tile=4, mesh_width=8, mesh_height=4,
    source="assumed equal to Loihi 1 (no published Loihi 2 tile geometry found) [R]",
)
TILE_GEOMETRIES = {"loihi1": LOIHI1_TILES, "loihi2": LOIHI2_TILES}


# --- energy and time per operation (DAVIES Table 2; SANA-FE arch/loihi.yaml) -------------
@dataclass(frozen=True)
class EnergyTable:
    """Energy (pJ) and time (ns) of one operation of each kind, with sources.

    syn_op : one synaptic spike operation (one synaptic event: a spike reaching one synapse)
    syn_update : one synaptic (learning) update of one weight
    neuron_active / neuron_inactive / neuron_spiking : one compartment update that is
        active, inactive (idle), or active and emitting a spike
    spike_out : sending one spike message from a core (SANA-FE's "axon out"; per
        destination core)
    spike_tile : one spike message delivered within a tile (no hop)
    hop_ew / hop_ns : one router hop east-west / north-south
    barrier_min_ns .. barrier_max_ns : end-of-timestep barrier over ``barrier_min_tiles``
        .. ``barrier_max_tiles`` tiles, interpolated linearly in the number of tiles
    notes : per-field remarks, ``((field, note), ...)``, for every value not taken from
        ``source`` itself (borrowed or absent)
    """

    name: str
    source: str
    syn_op_pj: float
    syn_op_ns: float
    syn_update_pj: float
    syn_update_ns: float
    neuron_active_pj: float
    neuron_active_ns: float
    neuron_inactive_pj: float
    neuron_inactive_ns: float
    neuron_spiking_pj: float
    neuron_spiking_ns: float
    spike_out_pj: float
    spike_out_ns: float
    spike_tile_pj: float
    spike_tile_ns: float
    hop_ew_pj: float
    hop_ew_ns: float
    hop_ns_pj: float
    hop_ns_ns: float
    barrier_min_ns: float
    barrier_max_ns: float
    barrier_min_tiles: int = 1
    barrier_max_tiles: int = 32
    notes: tuple[tuple[str, str], ...] = ()

    def __post_init__(self):
        for f in self.__dataclass_fields__:
            if f.endswith("_pj") or f.endswith("_ns"):
                v = getattr(self, f)
                if not (isinstance(v, (int, float)) and math.isfinite(v) and v >= 0):
                    raise ValueError(f"{self.name}.{f}={v!r} must be a finite number >= 0")
        if not 1 <= self.barrier_min_tiles <= self.barrier_max_tiles:
            raise ValueError(f"barrier tiles {self.barrier_min_tiles}..{self.barrier_max_tiles}"
                             " must satisfy 1 <= min <= max")
        if self.barrier_max_ns < self.barrier_min_ns:
            raise ValueError(f"barrier_max_ns={self.barrier_max_ns} is below "
                             f"barrier_min_ns={self.barrier_min_ns}")
        for f, _ in self.notes:
            if f not in self.__dataclass_fields__:
                raise ValueError(f"note for unknown field {f!r}")

    def note(self, field: str) -> str:
        """The remark on ``field`` ('' when the value is the table source's own)."""
        return dict(self.notes).get(field, "")

    def barrier_ns(self, tiles: int) -> float:
        """Barrier time (ns) for ``tiles`` tiles, linear between the table's two ends."""
        lo, hi = self.barrier_min_tiles, self.barrier_max_tiles
        if not (isinstance(tiles, int) and lo <= tiles <= hi):
            raise ValueError(f"tiles={tiles!r} is outside the {self.name} barrier range "
                             f"{lo}..{hi}")
        if hi == lo:
            return float(self.barrier_min_ns)
        return self.barrier_min_ns + (self.barrier_max_ns - self.barrier_min_ns) * (
            (tiles - lo) / (hi - lo))


#: Loihi 1, Davies et al. 2018 Table 2: **pre-silicon** (SDF and SPICE simulation) at
#: 0.75 V (LOIHI.md 1a) [V2]. Synaptic op energy is the table's minimum and its time the
#: maximum, as printed.
DAVIES2018 = EnergyTable(
    name="davies2018",
    source="Davies et al. 2018, IEEE Micro 38(1):82-99, Table 2 (pre-silicon, 0.75 V) [V2]",
    syn_op_pj=23.6, syn_op_ns=3.5,
    syn_update_pj=120.0, syn_update_ns=6.1,
    neuron_active_pj=81.0, neuron_active_ns=8.4,
    neuron_inactive_pj=52.0, neuron_inactive_ns=5.3,
    neuron_spiking_pj=81.0, neuron_spiking_ns=8.4,
    spike_out_pj=0.0, spike_out_ns=0.0,
    spike_tile_pj=1.7, spike_tile_ns=2.1,
    hop_ew_pj=3.0, hop_ew_ns=4.1, hop_ns_pj=4.0, hop_ns_ns=6.5,
    barrier_min_ns=113.0, barrier_max_ns=465.0, barrier_min_tiles=1, barrier_max_tiles=32,
    notes=(
        ("neuron_spiking_pj", "no separate figure in Table 2: the active-update value"),
        ("neuron_spiking_ns", "no separate figure in Table 2: the active-update value"),
        ("spike_out_pj", "not published: a message is priced by within-tile energy and hops"),
        ("spike_out_ns", "not published"),
    ),
)

#: Loihi 1, SANA-FE ``arch/loihi.yaml`` (SLAM-Lab/SANA-FE @0d49da8): values calibrated
#: against Loihi silicon (Boyle et al., IEEE TCAD 2025; up to 11.7 % energy / 24.3 % latency
#: model error) [V]. The file has no learning figure: Davies' 120 pJ / 6.1 ns is used.
#: Its within-tile spike energy is set to 0 (the file's 1.7 pJ is commented out).
SANAFE = EnergyTable(
    name="sana-fe",
    source="SANA-FE arch/loihi.yaml @0d49da8fce7b (silicon-calibrated, Boyle et al. TCAD "
           "2025) [V]; synaptic update from Davies et al. 2018 Table 2 [V2]",
    syn_op_pj=35.5, syn_op_ns=4.0,
    syn_update_pj=120.0, syn_update_ns=6.1,
    neuron_active_pj=72.8, neuron_active_ns=9.7,
    neuron_inactive_pj=51.2, neuron_inactive_ns=6.0,
    neuron_spiking_pj=69.3, neuron_spiking_ns=30.0,
    spike_out_pj=76.8, spike_out_ns=7.6,
    spike_tile_pj=0.0, spike_tile_ns=2.1,
    hop_ew_pj=3.0, hop_ew_ns=4.1, hop_ns_pj=4.2, hop_ns_ns=6.5,
    barrier_min_ns=299.0, barrier_max_ns=299.0, barrier_min_tiles=1, barrier_max_tiles=32,
    notes=(
        ("syn_update_pj", "borrowed from Davies et al. 2018 Table 2 (SANA-FE has none)"),
        ("syn_update_ns", "borrowed from Davies et al. 2018 Table 2 (SANA-FE has none)"),
        ("spike_tile_pj", "SANA-FE sets energy_spike_within_tile to 0 (1.7 pJ commented out)"),
        ("barrier_min_ns", "one global barrier (latency_global_barrier), any tile count"),
        ("barrier_max_ns", "one global barrier (latency_global_barrier), any tile count"),
    ),
)

ENERGY_TABLES = {"davies2018": DAVIES2018, "sana-fe": SANAFE}

# --- static power (LOIHI.md 1a, derived figures) -------------------------------------------
#: Static power of one chip, W, by target. Loihi 1: about 104 mW per chip, from Frady et al.
#: NICE 2020 (Pohoiki Springs: 3.34 W static over 32 chips; supply voltage not stated) [V2].
#: No Loihi 2 figure has been published (LOIHI.md 1c): absent, so no static energy is given.
STATIC_POWER_W = {"loihi1": 3.34 / 32}
STATIC_POWER_SOURCE = ("Frady et al., NICE 2020 (Pohoiki Springs), 3.34 W static over 32 "
                       "Loihi 1 chips, via LOIHI.md 1a [V2]")
