"""Parameters and state of the adaptive LIF neuron: physical units, per-step float, Loihi
integers (each width and range in :class:`AdaptiveLIFFixed`; the equations in
:mod:`lavalab.dynamics.adaptive_lif`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from lavalab import fixed
from lavalab import loihi_spec as spec
from lavalab.dynamics.timebase import decay_fraction

__all__ = ["AdaptiveLIFParams", "AdaptiveLIFFloat", "AdaptiveLIFFixed", "LIFState",
           "init_state"]


@dataclass(frozen=True)
class AdaptiveLIFParams:
    """Neuron parameters in physical units (potentials relative to rest).

    Defaults follow Diehl & Cook 2015's excitatory neuron (``shared/LOIHI.md`` 4):
    threshold -52 mV and reset -65 mV with rest -65 mV give ``v_th = 13``,
    ``v_reset = 0``; refractory 5 ms; theta_plus 0.05 mV; tau_theta 1e7 ms; membrane
    tau 100 ms. D&C's conductance synapses (tau_ge = 1 ms) become a current with
    ``tau_u_ms = 1``.

    Attributes
    ----------
    v_th : threshold above rest (mV), > 0
    v_reset : reset potential relative to rest (mV), below ``v_th``
    tau_u_ms : synaptic-current time constant (ms), >= 0; 0 = instantaneous (the input of a
        step reaches v in that step only, as in BindsNET's D&C nodes); ``math.inf`` = no decay
    tau_v_ms : membrane time constant (ms), > 0; ``math.inf`` = no decay
    theta_plus : threshold increase per spike (mV), >= 0
    tau_theta_ms : theta decay time constant (ms), > 0; ``math.inf`` = no decay
    t_ref_ms : refractory period (ms), >= 0, rounded to whole steps
    bias : constant input to v per step (mV)
    dt_ms : step size (ms), > 0
    one_spike : while learning, at most one neuron of the population emits a spike per
        step (see the module docstring; not on Loihi's learning path)
    one_spike_infer : the same at inference (learning off; not on Loihi)
    """

    v_th: float = 13.0
    v_reset: float = 0.0
    tau_u_ms: float = 1.0
    tau_v_ms: float = 100.0
    theta_plus: float = 0.05
    tau_theta_ms: float = 1e7
    t_ref_ms: float = 5.0
    bias: float = 0.0
    dt_ms: float = 1.0
    one_spike: bool = False
    one_spike_infer: bool = False

    def __post_init__(self):
        _check_bool("one_spike", self.one_spike)
        _check_bool("one_spike_infer", self.one_spike_infer)
        fixed.check_real("v_th", self.v_th, lo=1e-12)
        fixed.check_real("v_reset", self.v_reset, hi=self.v_th)
        fixed.check_real("tau_u_ms", self.tau_u_ms, lo=0.0, allow_inf=True)
        for name in ("tau_v_ms", "tau_theta_ms"):
            fixed.check_real(name, getattr(self, name), lo=1e-12, allow_inf=True)
        fixed.check_real("theta_plus", self.theta_plus, lo=0.0)
        fixed.check_real("t_ref_ms", self.t_ref_ms, lo=0.0)
        fixed.check_real("bias", self.bias)
        fixed.check_real("dt_ms", self.dt_ms, lo=1e-12)
        steps = round(self.t_ref_ms / self.dt_ms)
        if steps > spec.REFRACTORY_MAX:
            raise ValueError(
                f"t_ref_ms={self.t_ref_ms} is {steps} steps of dt_ms={self.dt_ms}; "
                f"allowed 0..{spec.REFRACTORY_MAX} steps"
            )

    def per_step(self) -> AdaptiveLIFFloat:
        """Discretise with step ``dt_ms``: ``delta = 1 - exp(-dt / tau)``."""
        def frac(tau):
            return decay_fraction(tau, self.dt_ms)

        return AdaptiveLIFFloat(
            decay_u=frac(self.tau_u_ms), decay_v=frac(self.tau_v_ms),
            decay_theta=frac(self.tau_theta_ms), vth=self.v_th, v_reset=self.v_reset,
            theta_plus=self.theta_plus, ref_steps=round(self.t_ref_ms / self.dt_ms),
            bias=self.bias, one_spike=self.one_spike, one_spike_infer=self.one_spike_infer,
        )


@dataclass(frozen=True)
class AdaptiveLIFFloat:
    """Per-step float parameters: decays are fractions removed per step, in [0, 1]."""

    decay_u: float
    decay_v: float
    decay_theta: float
    vth: float
    v_reset: float
    theta_plus: float
    ref_steps: int
    bias: float = 0.0
    one_spike: bool = False
    one_spike_infer: bool = False

    def __post_init__(self):
        _check_bool("one_spike", self.one_spike)
        _check_bool("one_spike_infer", self.one_spike_infer)
        for name in ("decay_u", "decay_v", "decay_theta"):
            fixed.check_real(name, getattr(self, name), 0.0, 1.0)
        fixed.check_real("vth", self.vth)
        fixed.check_real("v_reset", self.v_reset, hi=self.vth)
        fixed.check_real("theta_plus", self.theta_plus, lo=0.0)
        fixed.check_int_range("ref_steps", self.ref_steps, 0, spec.REFRACTORY_MAX)
        fixed.check_real("bias", self.bias)


@dataclass(frozen=True)
class AdaptiveLIFFixed:
    """Loihi integer parameters (see the module docstring for each width).

    Attributes
    ----------
    decay_u : effective current decay, 1..4096 (Lava/Loihi register ``du = decay_u - 1``)
    decay_v : voltage decay, 0..4095 (register ``dv``; 0 = no leak)
    vth : threshold mantissa, 0..131071 (compared as ``vth << 6``)
    v_reset : reset value of v, signed 24-bit, at most ``vth << 6``
    bias_mant, bias_exp : bias ``bias_mant << bias_exp``; -4096..4095 and 0..7
    theta_plus : theta increment per spike, 0..2**theta_bits - 1 (v units)
    decay_theta : theta decay in units of 2**-theta_decay_bits, 0..2**theta_decay_bits - 1
        (0 = no decay)
    theta_decay_bits : fraction bits of decay_theta, 12..28
    ref_steps : refractory period in steps, 0..64
    theta_bits : width of the unsigned theta register (grid units), 1..24 - v_lsb
    v_bits : width of the signed v register (grid units, sign included), 2..24 - v_lsb
    v_lsb : v, the threshold and theta are multiples of ``2**v_lsb`` v units, 0..22
    v_rounding : how v is rounded to the grid after each update, one of
        :data:`lavalab.fixed.ROUNDING_MODES` (no effect with ``v_lsb = 0``)
    one_spike : while learning, at most one neuron emits per step (module docstring)
    one_spike_infer : the same at inference (learning off)
    """

    decay_u: int
    decay_v: int
    vth: int
    v_reset: int = 0
    bias_mant: int = 0
    bias_exp: int = 0
    theta_plus: int = 0
    decay_theta: int = 0
    ref_steps: int = 0
    theta_bits: int = spec.UV_BITS
    theta_decay_bits: int = spec.DECAY_SHIFT
    v_bits: int = spec.UV_BITS
    v_lsb: int = 0
    v_rounding: str = "truncate"
    one_spike: bool = False
    one_spike_infer: bool = False

    def __post_init__(self):
        _check_bool("one_spike", self.one_spike)
        _check_bool("one_spike_infer", self.one_spike_infer)
        chk = fixed.check_int_range
        chk("v_lsb", self.v_lsb, 0, spec.UV_BITS - 2)
        chk("v_bits", self.v_bits, 2, spec.UV_BITS - self.v_lsb)
        fixed.rounding_code(self.v_rounding)
        chk("decay_u", self.decay_u, 1, spec.DECAY_UNITY)
        chk("decay_v", self.decay_v, 0, spec.DECAY_MAX)
        chk("vth", self.vth, 0, spec.VTH_MAX)
        chk("v_reset", self.v_reset, -(spec.UV_MAX - 1), self.vth << spec.VTH_SHIFT)
        chk("bias_mant", self.bias_mant, spec.BIAS_MANT_MIN, spec.BIAS_MANT_MAX)
        chk("bias_exp", self.bias_exp, 0, spec.BIAS_EXP_MAX)
        chk("theta_bits", self.theta_bits, 1, spec.UV_BITS - self.v_lsb)
        chk("theta_plus", self.theta_plus, 0, self.theta_max)
        chk("theta_decay_bits", self.theta_decay_bits, spec.DECAY_SHIFT, 28)
        chk("decay_theta", self.decay_theta, 0, 2**self.theta_decay_bits - 1)
        chk("ref_steps", self.ref_steps, 0, spec.REFRACTORY_MAX)
        chk("vth << 6", self.vth << spec.VTH_SHIFT, 0, self.v_max)
        chk("v_reset", self.v_reset, -self.v_max, self.v_max)
        step = 1 << self.v_lsb
        for name, value in (("vth << 6", self.vth << spec.VTH_SHIFT),
                            ("v_reset", self.v_reset)):
            if value % step:
                raise ValueError(f"{name}={value} is not on the v grid (a multiple of "
                                 f"2**v_lsb = {step})")

    @property
    def v_max(self) -> int:
        """Saturation magnitude of v (v units): ``(2**(v_bits-1) - 1) * 2**v_lsb``."""
        return ((1 << (self.v_bits - 1)) - 1) << self.v_lsb

    @property
    def theta_max(self) -> int:
        """Saturation of theta (v units): ``(2**theta_bits - 1) * 2**v_lsb``."""
        return ((1 << self.theta_bits) - 1) << self.v_lsb

    @classmethod
    def from_lava_lif(cls, du: int, dv: int, vth: int, bias_mant: int = 0,
                      bias_exp: int = 0) -> AdaptiveLIFFixed:
        """The parameters equivalent to Lava's stock ``LIF(du, dv, vth, bias_mant, bias_exp)``."""
        fixed.check_int_range("du", du, 0, spec.DECAY_MAX)
        return cls(decay_u=du + spec.DU_OFFSET, decay_v=dv + spec.DV_OFFSET, vth=vth,
                   bias_mant=bias_mant, bias_exp=bias_exp)


def _check_bool(name, value):
    if not isinstance(value, (bool, np.bool_)):
        raise ValueError(f"{name}={value!r} must be True or False")


class LIFState(NamedTuple):
    """Neuron state; each array has the population's shape (with any batch axes)."""

    u: np.ndarray
    v: np.ndarray
    theta: np.ndarray
    ref: np.ndarray


def init_state(shape, precision: str) -> LIFState:
    """All-zero state: ``precision`` is ``"float"`` (float64) or ``"fixed"`` (int64)."""
    if precision not in ("float", "fixed"):
        raise ValueError(f"precision={precision!r} is not one of ('float', 'fixed')")
    dt = np.float64 if precision == "float" else np.int64
    return LIFState(np.zeros(shape, dt), np.zeros(shape, dt), np.zeros(shape, dt),
                    np.zeros(shape, np.int64))
