r"""Learning synapses: two STDP rules, float and Loihi fixed point, and D&C normalisation.

Weights ``w`` have shape ``(..., n_post, n_pre)`` (any leading batch axes); pre traces
``x_pre`` ``(..., n_pre)``, post traces ``x_post`` ``(..., n_post)``. One step ``t`` does, in
this order (the order of Lava's learning engine and of BindsNET):

1. traces decay, :math:`x \leftarrow x(1-\delta)`, then spike impulses,
   :math:`x \leftarrow \min(x + a\,s,\ x_{max})`;
2. learning (when ``learn``), with the traces of step 1 (so a pre and a post spike in the
   same step both count):

   *STDP1, pair-based weight-dependent* (Diehl & Cook 2015; TopSpark's first rule), every step:

   .. math::

       \Delta w_{ij} = \eta_{post}\, s^{post}_i\, x^{pre}_j\, (w_{max} - w_{ij})^{\mu}
                     - \eta_{pre}\, s^{pre}_j\, x^{post}_i

   (``mu = 0``: D&C's code, additive; ``mu = 1``: soft bound.)

   *STDP2, adaptive potentiation* (tinySNN eq. 1-2; TopSpark's second rule): only at the end
   of each update window of ``window_steps`` steps,

   .. math::

       k = \lceil maxN / N_{th} \rceil, \qquad
       \Delta w_{ij} = k\, \eta_{post}\, f^{post}_i\, x^{pre}_j\, (w_{max} - w_{ij})^{\mu}
                     - \eta_{pre}\, f^{pre}_j\, x^{post}_i

   where ``maxN`` is the largest post-spike count of the population since the start of the
   current sample and ``f`` flags neurons that spiked within the window;

   *Triplet* (Diehl & Cook 2015's own code, ``Diehl&Cook_spiking_MNIST.py``: on a pre spike
   ``w -= nu_pre * post1``, on a post spike ``w += nu_post * pre * post2before``), every step:

   .. math::

       \Delta w_{ij} = \eta_{post}\, s^{post}_i\, x^{pre}_j\, y^{2-}_i\,
                        (w_{max} - w_{ij})^{\mu} - \eta_{pre}\, s^{pre}_j\, x^{post}_i

   with a second post trace :math:`y^2` (``tau_post2_ms``, D&C: 40 ms) read *before* this
   step's impulse (:math:`y^{2-}`; its impulse is added after learning). A neuron's first
   spike after a silence potentiates nothing: a learning-side winner-take-all that
   rewards the neuron that keeps winning a sample;

   then :math:`w \leftarrow \mathrm{clip}(w + \Delta w, 0, w_{max})`.

At a sample start (``sample_steps``), spike counts and traces reset (samples are
independent, as BindsNET resets its state between samples) and, when learning with
``norm_total``, each post neuron's weights are normalised (D&C) before the step.

Fixed point (Loihi learning-engine widths and arithmetic, ``shared/LOIHI.md`` 2d):

=========== ==================================================================================
traces      unsigned 7-bit (0..127); decay ``x*(4096-d)`` (d = 4096: the trace lives one
            step) with **stochastic** rounding (12 bits from the counter stream); impulses
            1..127 added with saturation at 127
weights     unsigned 8-bit mantissa 0..w_max (w_max <= 255, Loihi); the engine accepts
            up to 16 bits (w_max <= 65535; Loihi's 8 bits are a design rule checked
            elsewhere); the synapse output is ``(W s) << weight_exp``
learning    a rate is ``m * 2**e`` (mantissa ``m`` in 0..7, Loihi's [-8, 7]). Terms in the
            accumulator's 1/128 units: depression ``(m x_post) * 2**(e+7)``, potentiation
            ``(k m x_pre) * 2**(e+7)`` for ``mu = 0`` and
            ``floor(k m x_pre (w_max - w) / 32) * 2**(e+12)`` for ``mu = 1`` (Loihi's
            engine drops the 5 low bits of a product with the 9-bit w factor); a right shift
            floors. ``acc = sat16(sat16((w << 7) + pot) - dep)``, rounded ``>> 7``
            (``w_rounding``: Loihi's **stochastic** ``(acc + r) >> 7``, r uniform in
            [0, 2**7); ``"truncate"`` floors ``acc >> 7``; ``"nearest"`` adds half an LSB,
            ``(acc + 2**6) >> 7``), clipped to 0..w_max. (``frac_bits`` replaces the 7 and
            widens the accumulator accordingly; 7 is Loihi. Weights wider than 8 bits widen
            it by their extra bits so that ``w << frac_bits`` always fits:
            ``acc_bits = 16 + frac_bits - 7 + max(0, bits(w_max) - 8)``.)
=========== ==================================================================================

Random bits come from :func:`lavalab.fixed.counter_uniform` keyed by (seed, stream, step,
element): trace ``j`` of the pre side is element ``j``, trace ``i`` of the post side
``n_pre + i``, synapse ``(i, j)`` element ``i * n_pre + j``. The same step on any backend
draws the same bits.

Loihi expressibility. STDP1 (``mu`` in {0, 1}) is the Loihi learning rule
``dw = C1*y0*x1*(WMAX - w) - C2*x0*y1`` (``mu = 1``) or ``C1*y0*x1 - C2*x0*y1`` (``mu = 0``),
where Lava's fixed applier divides multi-factor products by ``2**(sum of widths + 4 - 15)``
(``2**5`` for ``x1*(WMAX-w)``), so ``C1 = m * 2**(e+5)`` there; see
:func:`loihi_rule_string`. With integer rule constants, traces that live one step and no
accumulator saturation, this model and Lava's ``LearningDense`` (``sign_mode=EXCITATORY``)
agree bit for bit (tested); otherwise they differ only in their random streams (Lava: one
number per step shared by all synapses, from numpy) and agree statistically (tested).
STDP2 is **not** expressible on Loihi's learning engine: ``k``
needs the maximum spike count over the population and a division, and the
window-gated update needs per-neuron window flags (a tag could hold them, the max cannot).
The triplet rule's product ``x1 * y2`` is a Loihi form, but Loihi's ``y2`` already holds
this step's impulse when the rule is evaluated and saturates, so "before the spike" has
no exact form there: it is refused by the design rule ``learning_rule_expressible``.

Fixed point of the triplet term: ``(k m x_pre y2-) * 2**(e + frac_bits - 7)`` (one floor),
i.e. ``y2`` counts in units of 1/128 (the trace's 0..127 read as a fraction of 128, a
relative error of 1/128 against the float rule's 1/127).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
from numba import njit

from lavalab import fixed
from lavalab import loihi_spec as spec
from lavalab.dynamics.encoding import sample_start_s
from lavalab.dynamics.timebase import decay_fraction

__all__ = [
    "RULES", "STDPParams", "STDPFloat", "STDPFixed", "STDPState", "init_stdp_state",
    "step_stdp_float", "step_stdp_fixed", "normalize_float", "normalize_fixed",
    "loihi_rule_string", "synapse_output_float", "synapse_output_fixed", "accumulate_kernel",
    "accumulate_rows_kernel",
    "stdp_fixed_kernel", "stdp_float_kernel", "stdp_fixed_step", "stdp_float_step",
    "stdp_fixed_live_step", "stdp_live_sync", "normalize_fixed_dirty_kernel",
    "fixed_args", "float_args",
    "weight_exp_s", "W_MAX_ENGINE", "NORM_TOTAL_MAX",
]

RULES = ("stdp1", "stdp2", "triplet")
ACC_FRAC = spec.LEARN_WEIGHT_FRAC  # 7 fractional bits of the weight in the accumulator
TRACE_FRAC = 7  # the triplet rule reads the 7-bit trace y2 as a fraction of 2**7
TRACE_STREAM = fixed.STREAMS["trace"]
W_FACTOR_SHIFT = 5  # Loihi: 7 (trace) + 9 (w) + 4 (mantissa) - 15
WEIGHT_STREAM = fixed.STREAMS["weight"]
#: Largest weight the engine accepts: 16-bit unsigned (Loihi: ``spec.WEIGHT_MAX``, 8 bits,
#: enforced by a design rule, not here).
W_MAX_ENGINE = 2**16 - 1
#: Largest integer normalisation total (keeps ``2 * w * total`` within int64 for any w).
NORM_TOTAL_MAX = 2**40 - 1


def _check_rule_fields(rule, window_steps, n_th, sample_steps):
    if rule not in RULES:
        raise ValueError(f"rule={rule!r} is not one of {RULES}")
    fixed.check_int_range("window_steps", window_steps, 1, 10**9)
    fixed.check_int_range("n_th", n_th, 1, 10**9)
    if sample_steps is not None:
        fixed.check_int_range("sample_steps", sample_steps, 1, 10**12)


@dataclass(frozen=True)
class STDPParams:
    """STDP in physical units (defaults: Diehl & Cook's code, ``shared/LOIHI.md`` 4).

    tau_pre_ms, tau_post_ms : trace time constants (ms), > 0 (``math.inf``: no decay)
    eta_pre, eta_post : depression / potentiation rates, >= 0
    w_max : largest weight, > 0
    mu : weight dependence exponent, >= 0 (0 = additive, as D&C's code)
    trace_impulse : trace increase per spike, in (0, 1]; traces saturate at 1 (1 = "set to 1")
    rule : ``"stdp1"`` (every step) or ``"stdp2"`` (adaptive potentiation, per window)
    window_steps, n_th : STDP2's update window (steps) and spike-count threshold ``N_th``
    sample_steps : steps per sample (presentation + rest): STDP2's count resets and the
        weight normalisation happen at multiples of it; ``None`` = never
    norm_total : D&C normalisation, each post neuron's input weights sum to this at the
        start of each sample (``None`` = off; D&C: 78, BindsNET 78.4)
    dt_ms : step size (ms)
    tau_post2_ms : time constant of the triplet rule's second post trace (ms; D&C: 40)
    """

    tau_pre_ms: float = 20.0
    tau_post_ms: float = 20.0
    eta_pre: float = 1e-4
    eta_post: float = 1e-2
    w_max: float = 1.0
    mu: float = 0.0
    trace_impulse: float = 1.0
    rule: str = "stdp1"
    window_steps: int = 1
    n_th: int = 1
    sample_steps: int | None = None
    norm_total: float | None = None
    dt_ms: float = 1.0
    tau_post2_ms: float = 40.0

    def __post_init__(self):
        for name in ("tau_pre_ms", "tau_post_ms", "tau_post2_ms"):
            fixed.check_real(name, getattr(self, name), 0.0, allow_inf=True)
        fixed.check_real("eta_pre", self.eta_pre, 0.0)
        fixed.check_real("eta_post", self.eta_post, 0.0)
        fixed.check_real("w_max", self.w_max, 1e-12)
        fixed.check_real("mu", self.mu, 0.0)
        fixed.check_real("trace_impulse", self.trace_impulse, 1e-12, 1.0)
        fixed.check_real("dt_ms", self.dt_ms, 1e-12)
        if self.norm_total is not None:
            fixed.check_real("norm_total", self.norm_total, 1e-12)
        _check_rule_fields(self.rule, self.window_steps, self.n_th, self.sample_steps)

    def per_step(self) -> STDPFloat:
        def frac(tau):
            return decay_fraction(tau, self.dt_ms)

        return STDPFloat(
            decay_pre=frac(self.tau_pre_ms), decay_post=frac(self.tau_post_ms),
            eta_pre=self.eta_pre, eta_post=self.eta_post, w_max=self.w_max, mu=self.mu,
            impulse_pre=self.trace_impulse, impulse_post=self.trace_impulse, rule=self.rule,
            window_steps=self.window_steps, n_th=self.n_th, sample_steps=self.sample_steps,
            norm_total=self.norm_total, decay_post2=frac(self.tau_post2_ms),
        )


@dataclass(frozen=True)
class STDPFloat:
    """Per-step float STDP parameters (decays are fractions per step; traces in [0, 1])."""

    decay_pre: float
    decay_post: float
    eta_pre: float
    eta_post: float
    w_max: float
    mu: float = 0.0
    impulse_pre: float = 1.0
    impulse_post: float = 1.0
    rule: str = "stdp1"
    window_steps: int = 1
    n_th: int = 1
    sample_steps: int | None = None
    norm_total: float | None = None
    decay_post2: float = 1.0

    def __post_init__(self):
        fixed.check_real("decay_pre", self.decay_pre, 0.0, 1.0)
        fixed.check_real("decay_post", self.decay_post, 0.0, 1.0)
        fixed.check_real("decay_post2", self.decay_post2, 0.0, 1.0)
        fixed.check_real("eta_pre", self.eta_pre, 0.0)
        fixed.check_real("eta_post", self.eta_post, 0.0)
        fixed.check_real("w_max", self.w_max, 1e-12)
        fixed.check_real("mu", self.mu, 0.0)
        fixed.check_real("impulse_pre", self.impulse_pre, 0.0, 1.0)
        fixed.check_real("impulse_post", self.impulse_post, 0.0, 1.0)
        if self.norm_total is not None:
            fixed.check_real("norm_total", self.norm_total, 1e-12)
        _check_rule_fields(self.rule, self.window_steps, self.n_th, self.sample_steps)


@dataclass(frozen=True)
class STDPFixed:
    """Loihi integer STDP parameters.

    decay_pre, decay_post : 12-bit trace decays 0..4095
    impulse_pre, impulse_post : trace impulses 1..127 (127 = "set to max")
    eta_pre_mant, eta_post_mant : 0..7 ; eta_pre_exp, eta_post_exp : -24..8
        (a rate is ``mant * 2**exp`` weight units per (trace unit x (w_max - w) unit))
    w_max : 1..65535 (Loihi: 1..255; more than 8 bits runs on the engine only) ; mu : 0 or 1
    norm_total : integer row sum for D&C normalisation, 1..2**40 - 1 (``None`` = off)
    frac_bits : fractional bits of the weight in the learning accumulator: 7 is Loihi's
        (16-bit accumulator). More bits (a wider accumulator, ``16 + frac_bits - 7``, not
        Loihi's) keep learning-rate terms below 2**-7 weight units from being floored away.
    w_rounding : rounding of every weight update, one of :data:`lavalab.fixed.ROUNDING_MODES`
        (``"stochastic"`` is Loihi's; see the module docstring)
    decay_post2 : 12-bit decay of the triplet rule's second post trace (0..4096)
    """

    decay_pre: int
    decay_post: int
    impulse_pre: int
    impulse_post: int
    eta_pre_mant: int
    eta_pre_exp: int
    eta_post_mant: int
    eta_post_exp: int
    w_max: int = spec.WEIGHT_MAX
    mu: int = 0
    rule: str = "stdp1"
    window_steps: int = 1
    n_th: int = 1
    sample_steps: int | None = None
    norm_total: int | None = None
    frac_bits: int = spec.LEARN_WEIGHT_FRAC
    w_rounding: str = "stochastic"
    decay_post2: int = spec.DECAY_UNITY

    def __post_init__(self):
        chk = fixed.check_int_range
        chk("frac_bits", self.frac_bits, 1, 30)
        chk("decay_post2", self.decay_post2, 0, spec.DECAY_UNITY)
        chk("decay_pre", self.decay_pre, 0, spec.DECAY_UNITY)
        chk("decay_post", self.decay_post, 0, spec.DECAY_UNITY)
        chk("impulse_pre", self.impulse_pre, 1, spec.TRACE_MAX)
        chk("impulse_post", self.impulse_post, 1, spec.TRACE_MAX)
        chk("eta_pre_mant", self.eta_pre_mant, 0, spec.LEARN_MANT_MAX)
        chk("eta_post_mant", self.eta_post_mant, 0, spec.LEARN_MANT_MAX)
        chk("eta_pre_exp", self.eta_pre_exp, -24, spec.LEARN_EXP_MAX)
        chk("eta_post_exp", self.eta_post_exp, -24, spec.LEARN_EXP_MAX)
        chk("w_max", self.w_max, 1, W_MAX_ENGINE)
        chk("mu", self.mu, 0, 1)
        if self.norm_total is not None:
            chk("norm_total", self.norm_total, 1, NORM_TOTAL_MAX)
        if self.w_rounding not in fixed.ROUNDING_MODES:
            raise ValueError(f"w_rounding={self.w_rounding!r} is not one of "
                             f"{fixed.ROUNDING_MODES}")
        _check_rule_fields(self.rule, self.window_steps, self.n_th, self.sample_steps)

    @property
    def acc_bits(self) -> int:
        """Width of the signed learning accumulator: Loihi's 16 for 8-bit weights and 7
        fraction bits, plus the extra fraction bits and the extra weight bits."""
        extra_w = max(0, int(self.w_max).bit_length() - spec.LEARN_WEIGHT_BITS)
        return spec.LEARN_ACCUM_BITS + self.frac_bits - ACC_FRAC + extra_w


class STDPState(NamedTuple):
    """Synapse state. ``count``: post spikes this sample; ``fired`` / ``pre_fired``: spiked in
    the current STDP2 window (bool); ``x_post2``: the triplet rule's second post trace."""

    w: np.ndarray
    x_pre: np.ndarray
    x_post: np.ndarray
    count: np.ndarray
    fired: np.ndarray
    pre_fired: np.ndarray
    x_post2: np.ndarray


def init_stdp_state(w, batch_shape=()) -> STDPState:
    """State with weights ``w`` (n_post, n_pre) broadcast over ``batch_shape``; traces zero."""
    w = np.asarray(w)
    n_post, n_pre = w.shape[-2:]
    full = tuple(batch_shape) + (n_post, n_pre)
    dt = np.float64 if w.dtype.kind == "f" else np.int64
    b = tuple(batch_shape)
    return STDPState(
        np.broadcast_to(w.astype(dt), full).copy(), np.zeros(b + (n_pre,), dt),
        np.zeros(b + (n_post,), dt), np.zeros(b + (n_post,), np.int64),
        np.zeros(b + (n_post,), bool), np.zeros(b + (n_pre,), bool),
        np.zeros(b + (n_post,), dt),
    )


@njit(cache=True, inline="always")
def schedule_flags_s(t, sample_steps, stdp2, window_steps):
    """(sample start, learning step) of step ``t`` (0-based); ``sample_steps`` 0 = none."""
    start = sample_start_s(t, sample_steps)
    window_end = (not stdp2) or t % window_steps == window_steps - 1
    return start, window_end


@njit(cache=True, inline="always")
def _trace_decay_s(x, decay, key, index):
    """A 7-bit trace's decay ``x * (4096 - decay) / 4096``, rounded stochastically with 12
    random bits of element ``index`` under the step's ``key``."""
    return (x * (spec.DECAY_UNITY - decay)
            + fixed.uniform_s(key, index, spec.DECAY_SHIFT)) >> spec.DECAY_SHIFT


@njit(cache=True, inline="always")
def _shift_s(x, sh):
    """``x * 2**sh`` for integer ``sh``: a left shift, or a right shift (floor) if negative."""
    return (x << sh) if sh >= 0 else (x >> -sh)


@njit(cache=True, inline="always")
def _round_offset_s(w_mode, wkey, index, frac_bits, half):
    """What is added to the accumulator before ``>> frac_bits``: 0 (truncate: floor),
    half an LSB (nearest) or ``frac_bits`` random bits (stochastic)."""
    if w_mode == 2:
        return fixed.uniform_s(wkey, index, frac_bits)
    return half if w_mode == 1 else np.int64(0)


# --- kernels: one network (w is (n_post, n_pre)), in place, event-driven ---------------
# Synapses with no event are skipped: their accumulator is exactly ``w << 7`` and every
# rounding mode returns w, so skipping them is exact. Zero traces stay zero.

@njit(cache=True)
def stdp_fixed_kernel(w, x_pre, x_post, count, fired, pre_fired, x_post2, s_pre, s_post, t,
                      learn, seed, decay_pre, decay_post, impulse_pre, impulse_post,
                      eta_pre_mant, eta_pre_exp, eta_post_mant, eta_post_exp, w_max, mu, stdp2,
                      n_th, norm_total, sample_steps, window_steps, frac_bits, acc_max, w_mode,
                      triplet, decay_post2):
    """One step of one network, in place. Returns the number of synapses updated.

    ``acc_max`` = 2**(acc_bits - 1) - 1 bounds the accumulator; ``w_mode`` is the weight
    rounding (0 truncate = floor, 1 nearest = +half LSB, 2 stochastic)."""
    n_post, n_pre = w.shape
    scratch = np.empty(n_post + n_pre + 2, np.int64)
    return stdp_fixed_step(w, x_pre, x_post, count, fired, pre_fired, x_post2, s_pre, s_post, t,
                           learn, seed, scratch, -1, decay_pre, decay_post, impulse_pre,
                           impulse_post, eta_pre_mant, eta_pre_exp, eta_post_mant, eta_post_exp,
                           w_max, mu, stdp2, n_th, norm_total, sample_steps, window_steps,
                           frac_bits, acc_max, w_mode, triplet, decay_post2)


@njit(cache=True)
def stdp_fixed_step(w, x_pre, x_post, count, fired, pre_fired, x_post2, s_pre, s_post, t, learn,
                    seed, scratch, n_pre_spikes, decay_pre, decay_post, impulse_pre, impulse_post,
                    eta_pre_mant, eta_pre_exp, eta_post_mant, eta_post_exp, w_max, mu, stdp2, n_th,
                    norm_total, sample_steps, window_steps, frac_bits, acc_max, w_mode, triplet,
                    decay_post2):
    """:func:`stdp_fixed_kernel` with caller-owned working memory, for a step loop:
    ``scratch`` int64 of ``n_post + n_pre + 2``; ``n_pre_spikes >= 0`` says that
    ``scratch[n_post + 1:][:n_pre_spikes]`` already lists the pre spikes ``s_pre``
    (increasing indices), as the engine's encoder writes them (-1: not given)."""
    n_post, n_pre = w.shape
    start, window_end = schedule_flags_s(t, sample_steps, stdp2, window_steps)
    n_upd = 0
    if start:
        if learn and norm_total > 0:
            normalize_fixed_kernel(w, norm_total, w_max)
        count[:] = 0
        x_pre[:] = 0
        x_post[:] = 0
        x_post2[:] = 0
    key = fixed.step_key_s(seed, TRACE_STREAM, t)
    # Traces: stochastic decay, then the spike's impulse (saturating). A zero trace stays
    # zero ((0 + r) >> 12 = 0), so no element is tested; selects instead of branches, so
    # the loops vectorise.
    for j in range(n_pre):
        x = _trace_decay_s(np.int64(x_pre[j]), decay_pre, key, j)
        x_pre[j] = min(x + impulse_pre, spec.TRACE_MAX) if s_pre[j] else x
    for i in range(n_post):
        x = _trace_decay_s(np.int64(x_post[i]), decay_post, key, n_pre + i)
        x_post[i] = min(x + impulse_post, spec.TRACE_MAX) if s_post[i] else x
    if triplet:
        for i in range(n_post):
            x_post2[i] = _trace_decay_s(np.int64(x_post2[i]), decay_post2, key,
                                        n_pre + n_post + i)
    for i in range(n_post):
        count[i] += s_post[i]
    if stdp2:
        for j in range(n_pre):
            pre_fired[j] |= s_pre[j]
        for i in range(n_post):
            fired[i] |= s_post[i]
    if learn and window_end:
        k = np.int64(1)
        if stdp2:
            max_n = np.int64(0)
            for i in range(n_post):
                max_n = max(max_n, np.int64(count[i]))
            k = (max_n + n_th - 1) // n_th
        g_pre = pre_fired if stdp2 else s_pre
        g_post = fired if stdp2 else s_post
        # Loihi's engine shifts a product with the 9-bit w factor right by 5 (floor) before
        # scaling: sum of factor widths 7 + 9 + 4 - 15 (LOIHI.md 2d); compensated by +5 here.
        sh_p = eta_post_exp + frac_bits + (W_FACTOR_SHIFT if mu else 0)
        if triplet:
            sh_p -= TRACE_FRAC
        sh_d = eta_pre_exp + frac_bits
        listed = n_pre_spikes >= 0 and not stdp2
        n_g_pre = n_pre_spikes if listed else 0
        if not listed:
            for j in range(n_pre):
                n_g_pre += g_pre[j]
        has_pre = np.int64(n_g_pre > 0)
        # Rows with an event: a post spike (potentiation), or a nonzero depression and a pre
        # spike. Every other synapse keeps its weight (see above), so only these rows are
        # visited; found by a branch-free compaction (idx: rows, then the pre spikes).
        n_rows = 0
        for i in range(n_post):
            dep_nz = np.int64(_shift_s(np.int64(x_post[i]) * eta_pre_mant, sh_d) != 0)
            n_rows += np.int64(g_post[i]) | (dep_nz & has_pre)
        if n_rows:
            idx = scratch
            q = 0
            for i in range(n_post):
                dep_nz = np.int64(_shift_s(np.int64(x_post[i]) * eta_pre_mant, sh_d) != 0)
                idx[q] = i
                q += np.int64(g_post[i]) | (dep_nz & has_pre)
            pre_idx = idx[n_post + 1:]
            if not listed:
                q = 0
                for j in range(n_pre):
                    pre_idx[q] = j
                    q += g_pre[j]
            pre_idx = pre_idx[:n_g_pre]
            wkey = fixed.step_key_s(seed, WEIGHT_STREAM, t)
            half = np.int64(1) << (frac_bits - 1)
            for r_ in range(n_rows):
                i = idx[r_]
                dep = _shift_s(np.int64(x_post[i]) * eta_pre_mant, sh_d)
                if g_post[i]:
                    k_i = k * np.int64(x_post2[i]) if triplet else k
                    for j in range(n_pre):
                        pot = k_i * np.int64(x_pre[j]) * eta_post_mant
                        if mu:
                            pot = (pot * (w_max - np.int64(w[i, j]))) >> W_FACTOR_SHIFT
                        pot = _shift_s(pot, sh_p)
                        d = dep if g_pre[j] else np.int64(0)
                        if pot != 0 or d != 0:
                            n_upd += 1
                            acc = fixed.clip_s((np.int64(w[i, j]) << frac_bits) + pot,
                                               -acc_max - 1, acc_max)
                            acc = fixed.clip_s(acc - d, -acc_max - 1, acc_max)
                            r = _round_offset_s(w_mode, wkey, i * n_pre + j, frac_bits, half)
                            w[i, j] = fixed.clip_s((acc + r) >> frac_bits, 0, w_max)
                elif dep != 0:
                    n_upd += n_g_pre
                    for j in pre_idx:
                        acc = fixed.clip_s((np.int64(w[i, j]) << frac_bits) - dep,
                                           -acc_max - 1, acc_max)
                        r = _round_offset_s(w_mode, wkey, i * n_pre + j, frac_bits, half)
                        w[i, j] = fixed.clip_s((acc + r) >> frac_bits, 0, w_max)
    if triplet:  # the second post trace's impulse comes after learning ("post2before")
        for i in range(n_post):
            if s_post[i]:
                x_post2[i] = min(np.int64(x_post2[i]) + impulse_post, spec.TRACE_MAX)
    if stdp2 and window_end:
        fired[:] = False
        pre_fired[:] = False
    return n_upd


@njit(cache=True, inline="always")
def _pot_dep_s(w, i, j, n_pre, x, spiked, k_i, dep, eta_post_mant, mu, w_max, sh_p, frac_bits,
               acc_max, w_mode, wkey, half):
    """Synapse (i, j) of a post-spike row (as :func:`stdp_fixed_step`): potentiation from
    the pre trace ``x``, depression ``dep`` if the input spiked; 1 if it was updated."""
    pot = k_i * x * eta_post_mant
    if mu:
        pot = (pot * (w_max - np.int64(w[i, j]))) >> W_FACTOR_SHIFT
    pot = _shift_s(pot, sh_p)
    d = dep if spiked else np.int64(0)
    if pot == 0 and d == 0:
        return 0
    acc = fixed.clip_s((np.int64(w[i, j]) << frac_bits) + pot, -acc_max - 1, acc_max)
    acc = fixed.clip_s(acc - d, -acc_max - 1, acc_max)
    r = _round_offset_s(w_mode, wkey, i * n_pre + j, frac_bits, half)
    w[i, j] = fixed.clip_s((acc + r) >> frac_bits, 0, w_max)
    return 1


@njit(cache=True)
def stdp_live_sync(x_pre, live, pre_active):
    """Write the compact pre traces of :func:`stdp_fixed_live_step` to ``x_pre`` (whose
    other elements are zero since the sample's start)."""
    n_post = (live.size - 3 - x_pre.size) // 2
    for q in range(pre_active.size):
        x_pre[pre_active[q]] = live[3 + 2 * n_post + q]


@njit(cache=True)
def stdp_fixed_live_step(w, x_pre, x_post, count, fired, pre_fired, x_post2, s_pre, s_post, t,
                         learn, seed, scratch, n_pre_spikes, live, n_post_spikes, pre_active,
                         pre_pos, decay_pre,
                         decay_post, impulse_pre, impulse_post, eta_pre_mant, eta_pre_exp,
                         eta_post_mant, eta_post_exp, w_max, mu, stdp2, n_th, norm_total,
                         sample_steps, window_steps, frac_bits, acc_max, w_mode, triplet,
                         decay_post2):
    """:func:`stdp_fixed_step` for a step loop that also keeps ``live`` (int64,
    ``3 + 2 * n_post``, zeros before the loop's first step) and passes the number of post
    spikes ``n_post_spikes``: the same arithmetic on fewer elements (exact).

    - Pre side, when ``pre_active`` is not empty: the caller guarantees that only the inputs
      ``pre_active`` (increasing; ``pre_pos[j]`` is the position of input ``j`` in it) can
      spike from this sample's start (where the traces reset) to its end. Their traces are
      then kept compactly in ``live[3 + 2 * n_post:]`` (same order), decayed in one dense
      loop, and ``x_pre`` is *not* written during the sample: call
      :func:`stdp_live_sync` before reading it (the other traces are zero).

    - Post side: only the post neurons with a nonzero trace (``x_post`` or ``x_post2``) are
      decayed and visited for learning (a zero trace stays zero and gives no depression;
      a post spike puts the neuron on the list). ``live[1]`` counts them, listed in
      ``live[3:3 + n_post]`` (``live[2]`` = 1 once the list is built from the traces).
    - D&C normalisation at a sample start visits only the rows not known to be fixed
      points (``live[3 + n_post:]``, 1 = the row is unchanged by the normalisation and
      has not been learned since; see :func:`normalize_fixed_dirty_kernel`).

    Rows are independent (each synapse's update depends on its own weight, traces and
    random index only), so visiting them in another order gives the same weights and
    count. STDP2 (update windows), or pre spikes not listed (``n_pre_spikes < 0``), run
    :func:`stdp_fixed_step` itself.
    """
    n_post, n_pre = w.shape
    if stdp2 or n_pre_spikes < 0:
        live[2] = 0
        return stdp_fixed_step(w, x_pre, x_post, count, fired, pre_fired, x_post2, s_pre,
                               s_post, t, learn, seed, scratch, n_pre_spikes, decay_pre,
                               decay_post, impulse_pre, impulse_post, eta_pre_mant,
                               eta_pre_exp, eta_post_mant, eta_post_exp, w_max, mu, stdp2,
                               n_th, norm_total, sample_steps, window_steps, frac_bits,
                               acc_max, w_mode, triplet, decay_post2)
    lq = live[3:3 + n_post]
    clean = live[3 + n_post:3 + 2 * n_post]
    n_act = pre_active.size
    xa = live[3 + 2 * n_post:3 + 2 * n_post + n_act]
    if sample_start_s(t, sample_steps):
        if learn and norm_total > 0:
            normalize_fixed_dirty_kernel(w, norm_total, w_max, clean)
        count[:] = 0
        x_pre[:] = 0
        x_post[:] = 0
        x_post2[:] = 0
        xa[:] = 0
        live[1] = 0
        live[2] = 1
    elif live[2] == 0:
        m = 0
        for i in range(n_post):
            lq[m] = i
            m += (x_post[i] != 0) | (x_post2[i] != 0)
        live[1] = m
        live[2] = 1
    key = fixed.step_key_s(seed, TRACE_STREAM, t)
    pre_idx = scratch[n_post + 1:n_post + 1 + n_pre_spikes]
    if n_act:  # compact: the inputs that can spike in this sample (vectorised)
        for q in range(n_act):
            xa[q] = _trace_decay_s(np.int64(xa[q]), decay_pre, key, pre_active[q])
        for j in pre_idx:
            q = pre_pos[j]
            xa[q] = min(np.int64(xa[q]) + impulse_pre, spec.TRACE_MAX)
    else:
        for j in range(n_pre):  # as stdp_fixed_step (vectorised)
            x = _trace_decay_s(np.int64(x_pre[j]), decay_pre, key, j)
            x_pre[j] = min(x + impulse_pre, spec.TRACE_MAX) if s_pre[j] else x
    m = 0
    for q in range(live[1]):  # the live post traces, then the list without the zero ones
        i = lq[q]
        xp = _trace_decay_s(np.int64(x_post[i]), decay_post, key, n_pre + i)
        x2 = np.int64(0)
        if triplet:
            x2 = _trace_decay_s(np.int64(x_post2[i]), decay_post2, key, n_pre + n_post + i)
            x_post2[i] = x2
        x_post[i] = xp
        lq[m] = i
        m += (xp != 0) | (x2 != 0)
    if n_post_spikes:
        for i in range(n_post):
            if s_post[i]:
                if x_post[i] == 0 and x_post2[i] == 0:  # not listed
                    lq[m] = i
                    m += 1
                x_post[i] = min(np.int64(x_post[i]) + impulse_post, spec.TRACE_MAX)
                count[i] += 1
    live[1] = m
    n_upd = 0
    if learn:
        sh_p = eta_post_exp + frac_bits + (W_FACTOR_SHIFT if mu else 0)
        if triplet:
            sh_p -= TRACE_FRAC
        sh_d = eta_pre_exp + frac_bits
        wkey = fixed.step_key_s(seed, WEIGHT_STREAM, t)
        half = np.int64(1) << (frac_bits - 1)
        for q in range(m):
            i = lq[q]
            dep = _shift_s(np.int64(x_post[i]) * eta_pre_mant, sh_d)
            if s_post[i]:
                clean[i] = 0
                k_i = np.int64(x_post2[i]) if triplet else np.int64(1)
                if n_act:  # the other inputs have a zero trace and no spike: no update
                    for q in range(n_act):
                        j = pre_active[q]
                        n_upd += _pot_dep_s(w, i, j, n_pre, np.int64(xa[q]), s_pre[j], k_i,
                                            dep, eta_post_mant, mu, w_max, sh_p, frac_bits,
                                            acc_max, w_mode, wkey, half)
                else:
                    for j in range(n_pre):
                        n_upd += _pot_dep_s(w, i, j, n_pre, np.int64(x_pre[j]), s_pre[j], k_i,
                                            dep, eta_post_mant, mu, w_max, sh_p, frac_bits,
                                            acc_max, w_mode, wkey, half)
            elif dep != 0 and n_pre_spikes > 0:
                clean[i] = 0
                n_upd += n_pre_spikes
                for j in pre_idx:
                    acc = fixed.clip_s((np.int64(w[i, j]) << frac_bits) - dep,
                                       -acc_max - 1, acc_max)
                    r = _round_offset_s(w_mode, wkey, i * n_pre + j, frac_bits, half)
                    w[i, j] = fixed.clip_s((acc + r) >> frac_bits, 0, w_max)
    if triplet and n_post_spikes:  # the second post trace's impulse comes after learning
        for i in range(n_post):
            if s_post[i]:
                x_post2[i] = min(np.int64(x_post2[i]) + impulse_post, spec.TRACE_MAX)
    return n_upd


@njit(cache=True)
def stdp_float_step(w, x_pre, x_post, count, fired, pre_fired, x_post2, s_pre, s_post, t, learn,
                    seed, scratch, n_pre_spikes, live, n_post_spikes, pre_active, pre_pos,
                    decay_pre, decay_post, impulse_pre, impulse_post, eta_pre, eta_post, w_max,
                    mu, stdp2, n_th, norm_total, sample_steps, window_steps, triplet,
                    decay_post2):
    """:func:`stdp_float_kernel` with the signature of :func:`stdp_fixed_live_step`
    (``scratch``, ``n_pre_spikes``, ``live``, ``n_post_spikes``, ``pre_active`` and
    ``pre_pos`` are not needed)."""
    return stdp_float_kernel(w, x_pre, x_post, count, fired, pre_fired, x_post2, s_pre, s_post, t,
                             learn, seed, decay_pre, decay_post, impulse_pre, impulse_post, eta_pre,
                             eta_post, w_max, mu, stdp2, n_th, norm_total, sample_steps,
                             window_steps, triplet, decay_post2)


@njit(cache=True)
def stdp_float_kernel(w, x_pre, x_post, count, fired, pre_fired, x_post2, s_pre, s_post, t,
                      learn, seed, decay_pre, decay_post, impulse_pre, impulse_post, eta_pre,
                      eta_post, w_max, mu, stdp2, n_th, norm_total, sample_steps, window_steps,
                      triplet, decay_post2):
    """One float step of one network, in place. Returns the number of synapses updated."""
    n_post, n_pre = w.shape
    start, window_end = schedule_flags_s(t, sample_steps, stdp2, window_steps)
    n_upd = 0
    if start:
        if learn and norm_total > 0:
            normalize_float_kernel(w, norm_total, w_max)
        count[:] = 0
        x_pre[:] = 0
        x_post[:] = 0
        x_post2[:] = 0
    for j in range(n_pre):
        x_pre[j] *= 1.0 - decay_pre
    for i in range(n_post):
        x_post[i] *= 1.0 - decay_post
    if triplet:
        for i in range(n_post):
            x_post2[i] *= 1.0 - decay_post2
    for j in range(n_pre):
        if s_pre[j]:
            x_pre[j] = min(x_pre[j] + impulse_pre, 1.0)
            if stdp2:
                pre_fired[j] = True
    for i in range(n_post):
        if s_post[i]:
            x_post[i] = min(x_post[i] + impulse_post, 1.0)
            count[i] += 1
            if stdp2:
                fired[i] = True
    if learn and window_end:
        k = 1.0
        if stdp2:
            max_n = 0
            for i in range(n_post):
                max_n = max(max_n, count[i])
            k = float((max_n + n_th - 1) // n_th)
        g_pre = pre_fired if stdp2 else s_pre
        g_post = fired if stdp2 else s_post
        pre_idx = np.nonzero(g_pre)[0]
        for i in range(n_post):
            dep = eta_pre * x_post[i]
            if g_post[i]:
                k_i = k * x_post2[i] if triplet else k
                for j in range(n_pre):
                    dw = k_i * eta_post * x_pre[j]
                    if mu != 0.0:
                        dw *= (w_max - w[i, j]) ** mu
                    if g_pre[j]:
                        dw -= dep
                    if dw != 0.0:
                        n_upd += 1
                        w[i, j] = min(max(w[i, j] + dw, 0.0), w_max)
            elif dep != 0.0:
                for j in pre_idx:
                    n_upd += 1
                    w[i, j] = min(max(w[i, j] - dep, 0.0), w_max)
    if triplet:
        for i in range(n_post):
            if s_post[i]:
                x_post2[i] = min(x_post2[i] + impulse_post, 1.0)
    if stdp2 and window_end:
        fired[:] = False
        pre_fired[:] = False
    return n_upd


@njit(cache=True)
def normalize_fixed_kernel(w, total, w_max):
    """Nearest-rounded integer D&C normalisation of each row, in place (zero rows kept):
    ``w <- min(floor((2 w total + s) / (2 s)), w_max)`` with ``s`` the row sum.

    The floor division is computed exactly without a division per weight: an estimate
    from the row's float reciprocal is off by less than 1 (the quotient is below 2**41,
    so its float error is below 2**-10) and one integer correction each way makes it
    the floor. ``w`` may be a transposed view (the engine keeps weights column-major);
    the loops follow the memory order.
    """
    n_post, n_pre = w.shape
    sums, dens, invs, by_col = _row_sums(w)
    if by_col:
        for j in range(n_pre):
            for i in range(n_post):
                if dens[i] > 0:
                    w[i, j] = _norm_one(np.int64(w[i, j]), total, sums[i], dens[i], invs[i],
                                        w_max)
    else:
        for i in range(n_post):
            s, den, inv = sums[i], dens[i], invs[i]
            if den > 0:
                for j in range(n_pre):
                    w[i, j] = _norm_one(np.int64(w[i, j]), total, s, den, inv, w_max)


@njit(cache=True)
def _row_sums(w):
    """Per row of ``w``: the integer sum, twice it and the float reciprocal of that (0 for
    an empty row), summed in the memory order of ``w``; and whether ``w`` is column-major."""
    n_post, n_pre = w.shape
    sums = np.zeros(n_post, np.int64)
    by_col = w.strides[0] < w.strides[1]
    if by_col:
        for j in range(n_pre):
            for i in range(n_post):
                sums[i] += w[i, j]
    else:
        for i in range(n_post):
            s = np.int64(0)
            for j in range(n_pre):
                s += w[i, j]
            sums[i] = s
    dens = 2 * sums
    invs = np.empty(n_post, np.float64)
    for i in range(n_post):
        invs[i] = 1.0 / dens[i] if dens[i] > 0 else 0.0
    return sums, dens, invs, by_col


@njit(cache=True)
def normalize_fixed_dirty_kernel(w, total, w_max, clean):
    """:func:`normalize_fixed_kernel` on the rows whose ``clean`` flag is 0; afterwards a
    row's flag is 1 when its normalisation left it unchanged (a fixed point), else 0.

    A row flagged 1 is a fixed point that nothing changed since (the caller sets the flag
    to 0 when it changes the row), so normalising it again would leave it as it is:
    skipping it is exact. When many rows are flagged 0 every row is normalised (a clean
    row is left unchanged) in the memory order of ``w``, as :func:`normalize_fixed_kernel`.
    """
    n_post, n_pre = w.shape
    n_dirty = 0
    for i in range(n_post):
        n_dirty += clean[i] == 0
    if n_dirty == 0:
        return
    if n_dirty * 8 < n_post:
        for i in range(n_post):
            if clean[i]:
                continue
            s = np.int64(0)
            for j in range(n_pre):
                s += w[i, j]
            den = 2 * s
            changed = False
            if den > 0:
                inv = 1.0 / den
                for j in range(n_pre):
                    old = np.int64(w[i, j])
                    new = _norm_one(old, total, s, den, inv, w_max)
                    changed |= new != old
                    w[i, j] = new
            clean[i] = not changed
        return
    changed = np.zeros(n_post, np.bool_)
    sums, dens, invs, by_col = _row_sums(w)
    if by_col:
        for j in range(n_pre):
            for i in range(n_post):
                if dens[i] > 0:
                    old = np.int64(w[i, j])
                    new = _norm_one(old, total, sums[i], dens[i], invs[i], w_max)
                    changed[i] |= new != old
                    w[i, j] = new
    else:
        for i in range(n_post):
            s, den, inv = sums[i], dens[i], invs[i]
            if den > 0:
                for j in range(n_pre):
                    old = np.int64(w[i, j])
                    new = _norm_one(old, total, s, den, inv, w_max)
                    changed[i] |= new != old
                    w[i, j] = new
    for i in range(n_post):
        clean[i] = not changed[i]


@njit(cache=True, inline="always")
def _norm_one(wij, total, s, den, inv, w_max):
    """``min((2 wij total + s) // den, w_max)`` for ``den = 2 s > 0``, ``inv = 1 / den``."""
    num = 2 * wij * total + s
    q = np.int64(num * inv)
    q -= np.int64(q * den > num)
    q += np.int64((q + 1) * den <= num)
    return min(q, w_max)


@njit(cache=True)
def normalize_float_kernel(w, total, w_max):
    """D&C normalisation of each row, in place, clipped to ``w_max`` as the integer one
    (a sparse receptive field would otherwise be scaled above the weight range)."""
    n_post, n_pre = w.shape
    for i in range(n_post):
        s = 0.0
        for j in range(n_pre):
            s += w[i, j]
        if s > 0:
            for j in range(n_pre):
                w[i, j] = min(w[i, j] * (total / s), w_max)


def fixed_args(p: STDPFixed) -> tuple:
    """Kernel arguments of integer parameters (after ``seed``)."""
    return (p.decay_pre, p.decay_post, p.impulse_pre, p.impulse_post, p.eta_pre_mant,
            p.eta_pre_exp, p.eta_post_mant, p.eta_post_exp, p.w_max, p.mu, p.rule == "stdp2",
            p.n_th, p.norm_total or 0, p.sample_steps or 0, p.window_steps, p.frac_bits,
            2 ** (p.acc_bits - 1) - 1, fixed.ROUNDING_MODES.index(p.w_rounding),
            p.rule == "triplet", p.decay_post2)


def float_args(p: STDPFloat) -> tuple:
    """Kernel arguments of float parameters (after ``seed``)."""
    return (p.decay_pre, p.decay_post, p.impulse_pre, p.impulse_post, p.eta_pre, p.eta_post,
            p.w_max, float(p.mu), p.rule == "stdp2", p.n_th, float(p.norm_total or 0.0),
            p.sample_steps or 0, p.window_steps, p.rule == "triplet", p.decay_post2)


def _step(kernel, args, st, p, s_pre, s_post, t, learn, seed, return_updates):
    new = [x.copy() for x in st]
    batch = new[0].shape[:-2]
    s_pre = np.broadcast_to(np.asarray(s_pre, bool), batch + new[1].shape[-1:])
    s_post = np.broadcast_to(np.asarray(s_post, bool), batch + new[2].shape[-1:])
    n_upd = 0
    for b in np.ndindex(*batch):
        n_upd += kernel(new[0][b], new[1][b], new[2][b], new[3][b], new[4][b], new[5][b],
                        new[6][b], np.ascontiguousarray(s_pre[b]),
                        np.ascontiguousarray(s_post[b]), t, bool(learn), seed, *args)
    return (STDPState(*new), n_upd) if return_updates else STDPState(*new)


def step_stdp_float(st: STDPState, p: STDPFloat, s_pre, s_post, t: int, learn: bool = True,
                    seed: int = 0, return_updates: bool = False):
    """One float step (functional; ``seed`` unused: nothing is rounded). With
    ``return_updates``, returns ``(state, number of synapses updated)``."""
    return _step(stdp_float_kernel, float_args(p), st, p, s_pre, s_post, t, learn, seed,
                 return_updates)


def step_stdp_fixed(st: STDPState, p: STDPFixed, s_pre, s_post, t: int, learn: bool = True,
                    seed: int = 0, return_updates: bool = False):
    """One Loihi-integer step (functional; see the module docstring for the arithmetic).
    With ``return_updates``, returns ``(state, number of synapses updated)``."""
    return _step(stdp_fixed_kernel, fixed_args(p), st, p, s_pre, s_post, t, learn, seed,
                 return_updates)


def normalize_float(w, total: float, w_max: float = np.inf) -> np.ndarray:
    """D&C normalisation: scale each post neuron's input weights (last axis) to sum ``total``,
    clipped to ``w_max`` (as the learning kernels do).

    Rows summing to zero are left as they are.
    """
    w = np.asarray(w, np.float64)
    s = w.sum(axis=-1, keepdims=True)
    return np.minimum(np.where(s > 0, w * (total / np.where(s > 0, s, 1.0)), w), w_max)


def normalize_fixed(w, total: int, w_max: int, mode: str = "nearest", rand=None) -> np.ndarray:
    """Integer D&C normalisation: ``w * total / rowsum`` rounded (``mode``), clipped to w_max.

    Exact integer arithmetic; ``"stochastic"`` takes ``rand`` uniform in [0, 1) per weight.
    Rows summing to zero are left as they are.
    """
    w = np.asarray(w, np.int64)
    s = w.sum(axis=-1, keepdims=True)
    den = np.where(s > 0, s, 1)
    num = w * np.int64(total)
    if mode == "truncate":
        q = num // den
    elif mode == "nearest":
        q = (2 * num + den) // (2 * den)
    elif mode == "stochastic":
        if rand is None:
            raise ValueError("stochastic rounding needs rand (floats in [0, 1))")
        q = (num + np.floor(np.asarray(rand) * den).astype(np.int64)) // den
    else:
        raise ValueError(f"rounding mode={mode!r} is not one of {fixed.ROUNDING_MODES}")
    return np.where(s > 0, np.clip(q, 0, w_max), w)


def loihi_rule_string(p: STDPFixed) -> str:
    """The Loihi / Lava learning-rule string equivalent to STDP1 with these parameters.

    Uses Lava's factor naming: x0/y0 pre/post spikes, x1/y1 pre/post traces. The
    ``(WMAX - w)`` product carries Lava's implicit ``2**-5`` (LOIHI.md 2d), compensated
    in the literal.
    """
    if p.rule != "stdp1":
        raise ValueError(f"only STDP1 is expressible as a Loihi learning rule, not "
                         f"{p.rule!r} (STDP2's k and the triplet's y2 before the impulse "
                         "have no form)")
    pot_exp = p.eta_post_exp + (5 if p.mu else 0)
    pot = f"{p.eta_post_mant}*2^{pot_exp}*y0*x1" + (f"*({p.w_max}-w)" if p.mu else "")
    dep = f"{p.eta_pre_mant}*2^{p.eta_pre_exp}*x0*y1"
    return f"{pot} - {dep}"


@njit(cache=True)
def accumulate_kernel(w, s, out):
    """``out[i] += sum of w[i, j] over the j that spiked`` (binary spikes, event-driven)."""
    n_post, n_pre = w.shape
    for j in range(n_pre):
        if s[j]:
            for i in range(n_post):
                out[i] += w[i, j]


@njit(cache=True)
def accumulate_rows_kernel(wt, idx, n_idx, out, assign=False):
    """:func:`accumulate_kernel` on the transposed weights ``wt`` (n_pre, n_post) for the
    ``n_idx`` spikes ``idx[:n_idx]`` (increasing): ``out[i] += wt[j, i]``, one contiguous
    row per spike, summed in the same order (so float sums are identical too): four rows
    per pass, ``((((out + r0) + r1) + r2) + r3)``, so ``out`` is loaded and stored once.
    ``assign``: ``out`` starts from zero (not read; the first pass assigns ``r0 + r1 ...``,
    equal to ``0 + r0 + r1 ...``; in float up to the sign of a zero sum)."""
    q = 0
    if assign:
        if n_idx >= 4:
            r0, r1, r2, r3 = wt[idx[0]], wt[idx[1]], wt[idx[2]], wt[idx[3]]
            for i in range(out.size):
                out[i] = r0[i] + r1[i] + r2[i] + r3[i]
            q = 4
        elif n_idx >= 1:
            r0 = wt[idx[0]]
            for i in range(out.size):
                out[i] = r0[i]
            q = 1
        else:
            out[:] = 0
    while q + 4 <= n_idx:
        r0, r1, r2, r3 = wt[idx[q]], wt[idx[q + 1]], wt[idx[q + 2]], wt[idx[q + 3]]
        for i in range(out.size):
            out[i] = out[i] + r0[i] + r1[i] + r2[i] + r3[i]
        q += 4
    while q < n_idx:
        row = wt[idx[q]]
        for i in range(out.size):
            out[i] += row[i]
        q += 1


@njit(cache=True, inline="always")
def weight_exp_s(a, weight_exp):
    """Lava Dense's exponent: ``a << e`` for ``e >= 0``, arithmetic ``a >> -e`` otherwise."""
    return (a << weight_exp) if weight_exp >= 0 else (a >> -weight_exp)


def _output(w, s, dtype):
    w = np.asarray(w)
    s = np.asarray(s).astype(bool)
    batch = np.broadcast_shapes(w.shape[:-2], s.shape[:-1])
    w = np.broadcast_to(w, batch + w.shape[-2:])
    s = np.broadcast_to(s, batch + s.shape[-1:])
    out = np.zeros(batch + w.shape[-2:-1], dtype)
    for b in np.ndindex(*batch):
        accumulate_kernel(w[b].astype(dtype), np.ascontiguousarray(s[b]), out[b])
    return out


def synapse_output_float(w, s) -> np.ndarray:
    """Dendritic input from binary spikes ``s`` (..., n_pre): ``W s`` (..., n_post)."""
    return _output(w, s, np.float64)


def synapse_output_fixed(w, s, weight_exp: int = 0) -> np.ndarray:
    """Integer dendritic input ``(W s) << weight_exp`` (arithmetic ``>>`` for negative exp),
    as Lava's ``PyDenseModelBitAcc`` for binary spikes."""
    a = _output(w, s, np.int64)
    return a << weight_exp if weight_exp >= 0 else a >> (-weight_exp)
