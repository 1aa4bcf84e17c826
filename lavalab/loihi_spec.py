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
"""

from __future__ import annotations

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
