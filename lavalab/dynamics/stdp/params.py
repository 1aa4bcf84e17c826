"""STDP parameters (physical units, per-step float, Loihi integers), their validation, the
synapse state and the kernels' argument tuples.

The rules these parameters drive are documented in :mod:`lavalab.dynamics.stdp.rules`
(learning) and :mod:`lavalab.dynamics.stdp.traces` (traces); the normalisation in
:mod:`lavalab.dynamics.stdp.normalise`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from lavalab import fixed
from lavalab import loihi_spec as spec
from lavalab.dynamics.timebase import decay_fraction

__all__ = [
    "RULES", "ACC_FRAC", "W_MAX_ENGINE", "NORM_TOTAL_MAX", "STDPParams", "STDPFloat",
    "STDPFixed", "STDPState", "init_stdp_state", "fixed_args", "float_args",
]

RULES = ("stdp1", "stdp2", "triplet")
ACC_FRAC = spec.LEARN_WEIGHT_FRAC  # 7 fractional bits of the weight in the accumulator
#: Largest weight the engine accepts: 16-bit unsigned (Loihi: ``spec.WEIGHT_MAX``, 8 bits,
#: enforced by a design rule, not here).
W_MAX_ENGINE = 2**16 - 1
#: Largest integer normalisation total (keeps ``2 * w * total`` within int64 for any w).
NORM_TOTAL_MAX = 2**40 - 1


def _check_rule_fields(rule, window_steps, n_th, sample_steps):
    """The fields every precision shares: the rule and its schedule."""
    if rule not in RULES:
        raise ValueError(f"rule={rule!r} is not one of {RULES}")
    fixed.check_int_range("window_steps", window_steps, 1, 10**9)
    fixed.check_int_range("n_th", n_th, 1, 10**9)
    if sample_steps is not None:
        fixed.check_int_range("sample_steps", sample_steps, 1, 10**12)


def _check_real_rates(p):
    """The real-valued rates and weight range of :class:`STDPParams` and :class:`STDPFloat`."""
    fixed.check_real("eta_pre", p.eta_pre, 0.0)
    fixed.check_real("eta_post", p.eta_post, 0.0)
    fixed.check_real("w_max", p.w_max, 1e-12)
    fixed.check_real("mu", p.mu, 0.0)


def _check_real_tail(p):
    """The real-valued normalisation total and the rule fields (checked last)."""
    if p.norm_total is not None:
        fixed.check_real("norm_total", p.norm_total, 1e-12)
    _check_rule_fields(p.rule, p.window_steps, p.n_th, p.sample_steps)


@dataclass(frozen=True)
class STDPParams:
    """STDP in physical units (defaults: Diehl & Cook's code, ``shared/LOIHI.md`` 4).

    tau_pre_ms, tau_post_ms : trace time constants (ms), > 0 (``math.inf``: no decay)
    eta_pre, eta_post : depression / potentiation rates, >= 0
    w_max : largest weight, > 0
    mu : weight dependence exponent, >= 0 (0 = additive, as D&C's code)
    trace_impulse : trace increase per spike, in (0, 1]; traces saturate at 1 (1 = "set to 1")
    rule : one of :data:`RULES`: ``"stdp1"`` (every step), ``"stdp2"`` (adaptive
        potentiation, per window) or ``"triplet"`` (D&C's code)
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
        _check_real_rates(self)
        fixed.check_real("trace_impulse", self.trace_impulse, 1e-12, 1.0)
        fixed.check_real("dt_ms", self.dt_ms, 1e-12)
        _check_real_tail(self)

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
    """Per-step float STDP parameters: :class:`STDPParams` with each time constant turned
    into a decay fraction per step (``decay_pre``, ``decay_post``, ``decay_post2`` in
    [0, 1]) and the impulse per side (``impulse_pre``, ``impulse_post`` in [0, 1]; traces
    in [0, 1]). The other fields mean what they mean there."""

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
        _check_real_rates(self)
        fixed.check_real("impulse_pre", self.impulse_pre, 0.0, 1.0)
        fixed.check_real("impulse_post", self.impulse_post, 0.0, 1.0)
        _check_real_tail(self)


@dataclass(frozen=True)
class STDPFixed:
    """Loihi integer STDP parameters (the arithmetic: :mod:`lavalab.dynamics.stdp.rules`).

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
        (``"stochastic"`` is Loihi's)
    decay_post2 : 12-bit decay of the triplet rule's second post trace (0..4096)
    rule, window_steps, n_th, sample_steps : as :class:`STDPParams`
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
    """Synapse state. ``w`` (..., n_post, n_pre); ``x_pre`` (..., n_pre), ``x_post`` and
    ``x_post2`` (the triplet rule's second post trace) (..., n_post); ``count``: post spikes
    this sample; ``fired`` / ``pre_fired``: spiked in the current STDP2 window (bool)."""

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
