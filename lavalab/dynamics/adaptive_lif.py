r"""Current-based LIF with an adaptive threshold (Diehl & Cook homeostasis).

One step, for every neuron (arrays broadcast over any leading batch axis):

.. math::

    u &\leftarrow u\,(1-\delta_u) + a_{in} \\
    v &\leftarrow v\,(1-\delta_v) + u + b \qquad \text{(held while refractory)} \\
    \theta &\leftarrow \theta\,(1-\delta_\theta) \qquad \text{(learning only)} \\
    s &= [\,r = 0 \;\wedge\; v > v_{th} + \theta\,] \\
    \text{on } s:\; v &\leftarrow v_{reset},\; r \leftarrow T_{ref},\;
        \theta \leftarrow \theta + \theta_+ \ \text{(learning only)}

and ``r`` counts down by one on every step it is positive. With learning off
(inference) theta is frozen, as Diehl & Cook freeze it at test time.

**One spike per step while learning** (``one_spike``, BindsNET's
``DiehlAndCookNodes(one_spike=True)``): during training every neuron that crosses threshold
in a step is reset, made refractory and raises its theta as above, but only one of them,
drawn uniformly (counter stream "one_spike" keyed by seed and step), emits its spike, so
only one neuron per step learns from it. This stands in for the inhibition that at D&C's
0.5 ms steps arrives before a second neuron can cross. It is a population-wide choice,
which Loihi's neuro cores cannot make (design rule ``one_spike_not_on_chip``, checked for
on-chip learning); inference (learning off) runs the plain network, which Loihi can run.
``one_spike_infer`` makes the same choice at inference (learning off), as BindsNET does at
test time: from 900 neurons many neurons of a layer cross threshold in the same step before
inhibition arrives, and the plain network answers a digit with 100-500 spikes of weakly
tuned neurons (D&C-1600 after 3 epochs, 3000 test digits: 83.0 % plain, 89.6 % with it).
No Loihi form either (design rule ``one_spike_not_on_chip`` for inference too).

Two precisions, one function each:

- :func:`step_float` on :class:`AdaptiveLIFFloat` (per-step fractions, potentials in
  the user's unit, e.g. mV relative to rest; made from physical time constants by
  :meth:`AdaptiveLIFParams.per_step`).
- :func:`step_fixed` on :class:`AdaptiveLIFFixed`, Loihi integer semantics exactly as
  Lava 0.10's ``PyLifModelBitAcc`` (see ``shared/LOIHI.md`` 2a):

  ======== ============================================================================
  u        signed 24-bit, ``u*(4096-decay_u)`` rounded toward zero, input ``<< 6``,
           overflow wraps (Lava's single +-2**24 correction, :func:`fixed.wrap_once`)
  v        ``v*(4096-decay_v)`` toward zero, ``+ u + (bias_mant << bias_exp)``, then
           rounded to the grid of multiples of ``2**v_lsb`` (``v_rounding``) and saturated
           at +-(2**(v_bits-1) - 1) * 2**v_lsb: a signed ``v_bits``-bit register of grid
           units. Default ``v_bits = 24``, ``v_lsb = 0``: Loihi's signed 24-bit v,
           saturating at +-(2**23 - 1), no rounding
  vth      17-bit mantissa, compared as ``vth << 6`` (strict ``>``); ``vth << 6`` is on the
           grid and within v's range
  theta    unsigned, on the grid, saturating at (2**theta_bits - 1) * 2**v_lsb (v units;
           default 24 bits, v_lsb 0); decays by ``theta * decay_theta / 2**theta_decay_bits``
           computed in grid units and rounded **stochastically** (counter stream "theta"
           keyed by seed, step and neuron; ``theta_decay_bits`` 12..28, so that D&C's
           tau_theta = 1e7 steps, a decay of 1e-7 per step, is representable)
  r        refractory counter, 0..64 steps

  At the start of a sample (``reset``), u, v and r are set to 0 (theta is kept).
  ======== ============================================================================

  Neuron-state quantization (tinySNN's qWN, :mod:`lavalab.compile.quantize`): v, the
  threshold and theta live on multiples of ``2**v_lsb`` v units (``v_bits + v_lsb <= 24``,
  ``theta_bits + v_lsb <= 24``); ``v_reset`` and ``vth << 6`` must be on the grid, and
  the initial theta too (the kernel keeps it there). ``v_rounding`` is one of
  :data:`lavalab.fixed.ROUNDING_MODES` with the meaning of :func:`lavalab.fixed.round_shift`
  (truncate toward zero; nearest, halves away from zero; stochastic with ``v_lsb`` random
  bits from the counter stream "quantize" keyed by seed, step and neuron, distinct from
  theta's stream). ``theta_plus`` is a constant kept at full v resolution (as tinySNN sizes
  a constant's bits by its value); at each spike ``theta + theta_plus`` is rounded back
  onto the grid with ``v_rounding`` (stream "theta_quantize"): truncation freezes theta
  when ``theta_plus`` is below one grid step, stochastic rounding keeps its mean growth.

  With ``theta_plus = 0``, ``ref_steps = 0``, ``v_reset = 0`` and the default v register
  (``v_bits = 24``, ``v_lsb = 0``) it equals Lava's stock
  ``LIF`` with ``du = decay_u - 1``, ``dv = decay_v`` bit for bit.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
from numba import njit

from lavalab import fixed
from lavalab import loihi_spec as spec
from lavalab.dynamics.timebase import decay_fraction

THETA_STREAM = fixed.STREAMS["theta"]
THETA_QUANTIZE_STREAM = fixed.STREAMS["theta_quantize"]
QUANTIZE_STREAM = fixed.STREAMS["quantize"]
ONE_SPIKE_STREAM = fixed.STREAMS["one_spike"]

__all__ = [
    "AdaptiveLIFParams", "AdaptiveLIFFloat", "AdaptiveLIFFixed", "LIFState",
    "init_state", "step_float", "step_fixed", "lif_float_kernel", "lif_fixed_kernel",
    "float_args", "fixed_args", "theta_decay_fixed_kernel", "theta_decay_float_kernel",
    "theta_args", "lif_fixed_live_kernel", "live_args",
]


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


# --- kernels: one element loop per precision, in place; used by models and the engine ---

@njit(cache=True)
def keep_one_spike(s, t, seed):
    """One spike per step: of the neurons that spiked in ``s`` keep one, drawn uniformly
    from the counter stream "one_spike" (seed, step). Returns how many were dropped."""
    n_s = 0
    for k in range(s.size):
        n_s += s[k]
    if n_s < 2:
        return 0
    r = fixed.uniform_s(fixed.step_key_s(seed, ONE_SPIKE_STREAM, t), 0, 31)
    pick = (r * n_s) >> 31
    for k in range(s.size):
        if s[k]:
            s[k] = pick == 0
            pick -= 1
    return n_s - 1


@njit(cache=True)
def lif_float_kernel(u, v, theta, ref, a_in, s, reset, learn, t, seed, decay_u, decay_v, vth,
                     v_reset, bias, theta_plus, decay_theta, ref_steps, one_spike,
                     one_spike_infer):
    """One float step of every element of the flat arrays (in place); spikes into ``s``."""
    for k in range(u.size):
        if reset:
            u[k] = 0.0
            v[k] = 0.0
            ref[k] = 0
        uu = u[k] * (1.0 - decay_u) + a_in[k]
        th = _theta_decay_float_s(theta[k], decay_theta) if learn else theta[k]
        vv = v[k]
        spike = False
        if ref[k] > 0:
            ref[k] -= 1
        else:
            vv = v[k] * (1.0 - decay_v) + uu + bias
            if vv > vth + th:
                spike = True
                vv = v_reset
                ref[k] = ref_steps
        if learn and spike:
            th += theta_plus
        u[k] = uu
        v[k] = vv
        theta[k] = th
        s[k] = spike
    if (one_spike and learn) or (one_spike_infer and not learn):
        keep_one_spike(s, t, seed)


@njit(cache=True)
def theta_decay_fixed_kernel(theta, t, seed, decay_theta, theta_decay_bits, v_lsb):
    """theta's stochastic decay at step ``t`` (learning only), in place: in grid units,
    ``tg - ((tg * decay_theta + r) >> theta_decay_bits)`` with ``r`` from the stream
    "theta" (seed, step, neuron). theta = 0 stays 0 (``r < 2**theta_decay_bits``), so no
    element is tested and the loop vectorises."""
    tkey = fixed.step_key_s(seed, THETA_STREAM, t)
    for k in range(theta.size):
        r = fixed.uniform_s(tkey, k, theta_decay_bits)
        tg = np.int64(theta[k]) >> v_lsb  # grid units: the stochastic decay stays unbiased
        theta[k] = (tg - ((tg * decay_theta + r) >> theta_decay_bits)) << v_lsb


@njit(cache=True)
def theta_decay_float_kernel(theta, t, seed, decay_theta):
    """theta's decay at one step (learning only), in place (``t``, ``seed`` unused)."""
    for k in range(theta.size):
        theta[k] = _theta_decay_float_s(theta[k], decay_theta)


@njit(cache=True, inline="always")
def _theta_decay_float_s(th, decay_theta):
    return th * (1.0 - decay_theta)


@njit(cache=True, inline="always")
def _v_step_s(v0, uu, th, rf, k, decay_v, bias, v_lsb, v_mode, qkey, round_v, stoch, v_lim,
              vth_eff):
    """(new v before a spike's reset, spike) of one element (refractory: v held, no spike)."""
    vd = fixed.decay_s(v0, decay_v) + uu + bias
    if round_v:
        r = fixed.uniform_s(qkey, k, v_lsb) if stoch else np.int64(0)
        vd = fixed.round_shift_s(vd, v_lsb, v_mode, r) << v_lsb
    vd = fixed.clip_s(vd, -v_lim, v_lim)
    refractory = rf > 0
    return (v0 if refractory else vd), (not refractory) and vd > vth_eff + th


@njit(cache=True, inline="always")
def _theta_spike_s(th, k, theta_plus, theta_max, v_lsb, v_mode, tqkey, round_v, stoch):
    """theta after a spike: ``+ theta_plus``, back onto the grid, saturated."""
    tp = th + theta_plus
    if round_v:  # theta_plus is a constant at full resolution; theta lives on the grid
        r = fixed.uniform_s(tqkey, k, v_lsb) if stoch else np.int64(0)
        tp = fixed.round_shift_s(tp, v_lsb, v_mode, r) << v_lsb
    return min(tp, theta_max)


@njit(cache=True, inline="always")
def _lif_fixed_elem(k, u, v, theta, ref, a_in, s, learn, round_v, stoch, qkey, tqkey, decay_u,
                    decay_v, vth_eff, v_reset, bias, theta_plus, theta_max, v_lim, v_lsb,
                    v_mode, ref_steps):
    """The loops of :func:`lif_fixed_kernel` after theta's decay, for element ``k``."""
    a = np.int64(a_in[k]) << spec.ACT_SHIFT
    uu = fixed.wrap_once_s(fixed.decay_s(np.int64(u[k]), decay_u) + a, spec.UV_BITS)
    u[k] = uu
    rf = np.int64(ref[k])
    vv, sp = _v_step_s(np.int64(v[k]), uu, np.int64(theta[k]), rf, k, decay_v, bias, v_lsb,
                       v_mode, qkey, round_v, stoch, v_lim, vth_eff)
    v[k] = v_reset if sp else vv
    s[k] = sp
    ref[k] = rf - 1 if rf > 0 else (ref_steps if sp else rf)
    if learn and sp:
        theta[k] = _theta_spike_s(np.int64(theta[k]), k, theta_plus, theta_max, v_lsb, v_mode,
                                  tqkey, round_v, stoch)


@njit(cache=True)
def lif_fixed_live_kernel(live, n_live, u, v, theta, ref, a_in, s, learn, t, seed, decay_u,
                          decay_v, vth_eff, v_reset, bias, theta_plus, theta_max, v_lim, v_lsb,
                          v_mode, ref_steps):
    """:func:`lif_fixed_kernel` (no reset) stepping only the elements ``live[:n_live]``.

    Exact when every other element is at rest (u = v = r = 0) without input and did not
    spike in the previous step, ``bias = 0``, theta does not decay in this step and there
    is no one-spike choice: such an element stays at rest and does not spike (v stays 0
    in every rounding mode; ``0 > vth + theta`` is false for theta >= 0), and its ``s``
    stays False. Steps the live elements with the arithmetic and element indices of
    :func:`lif_fixed_kernel`, then keeps in ``live`` those not at rest or that spiked;
    returns their number.
    """
    round_v = v_lsb > 0
    stoch = round_v and v_mode == 2
    qkey = fixed.step_key_s(seed, QUANTIZE_STREAM, t) if stoch else np.uint64(0)
    tqkey = fixed.step_key_s(seed, THETA_QUANTIZE_STREAM, t) if stoch else np.uint64(0)
    n = 0
    for q in range(n_live):
        k = live[q]
        _lif_fixed_elem(k, u, v, theta, ref, a_in, s, learn, round_v, stoch, qkey, tqkey,
                        decay_u, decay_v, vth_eff, v_reset, bias, theta_plus, theta_max, v_lim,
                        v_lsb, v_mode, ref_steps)
        live[n] = k
        n += (u[k] != 0) | (v[k] != 0) | (ref[k] != 0) | s[k]
    return n


def live_args(p: AdaptiveLIFFixed) -> tuple:
    """Arguments of :func:`lif_fixed_live_kernel` (after ``learn, t, seed``)."""
    return (p.decay_u, p.decay_v, p.vth << spec.VTH_SHIFT, p.v_reset,
            p.bias_mant << p.bias_exp, p.theta_plus, p.theta_max, p.v_max, p.v_lsb,
            fixed.rounding_code(p.v_rounding), p.ref_steps)


@njit(cache=True)
def lif_fixed_kernel(u, v, theta, ref, a_in, s, reset, learn, t, seed, decay_u, decay_v,
                     vth_eff, v_reset, bias, theta_plus, decay_theta, theta_decay_bits,
                     ref_steps, theta_max, v_lim, v_lsb, v_mode, one_spike, one_spike_infer):
    """One Loihi-integer step of every element of the flat arrays (in place).

    All arithmetic in int64 whatever the storage type (Lava keeps int32 Vars). ``t`` and
    ``seed`` key the stochastic rounding of the theta decay (and of v when ``v_mode`` is
    stochastic and ``v_lsb > 0``). Each element's update is split over several loops
    (u; theta decay; v and spike; refractory counter; theta on a spike), each touching
    few arrays and written with selects, so that every loop vectorises; the elements are
    independent, so this is the same arithmetic as one loop per element.
    """
    round_v = v_lsb > 0
    stoch = round_v and v_mode == 2
    qkey = fixed.step_key_s(seed, QUANTIZE_STREAM, t) if stoch else np.uint64(0)
    tqkey = fixed.step_key_s(seed, THETA_QUANTIZE_STREAM, t) if stoch else np.uint64(0)
    n = u.size
    if reset:
        u[:] = 0
        v[:] = 0
        ref[:] = 0
    if decay_u == spec.DECAY_UNITY:  # u keeps nothing of its past: decay_s(u, 4096) = 0
        for k in range(n):
            u[k] = fixed.wrap_once_s(np.int64(a_in[k]) << spec.ACT_SHIFT, spec.UV_BITS)
    else:
        for k in range(n):
            a = np.int64(a_in[k]) << spec.ACT_SHIFT
            u[k] = fixed.wrap_once_s(fixed.decay_s(np.int64(u[k]), decay_u) + a, spec.UV_BITS)
    if learn and decay_theta != 0:
        theta_decay_fixed_kernel(theta, t, seed, decay_theta, theta_decay_bits, v_lsb)
    if round_v:
        for k in range(n):
            vv, sp = _v_step_s(np.int64(v[k]), np.int64(u[k]), np.int64(theta[k]),
                               np.int64(ref[k]), k, decay_v, bias, v_lsb, v_mode, qkey, True,
                               stoch, v_lim, vth_eff)
            v[k] = v_reset if sp else vv
            s[k] = sp
    else:
        for k in range(n):
            vv, sp = _v_step_s(np.int64(v[k]), np.int64(u[k]), np.int64(theta[k]),
                               np.int64(ref[k]), k, decay_v, bias, 0, 0, qkey, False, False,
                               v_lim, vth_eff)
            v[k] = v_reset if sp else vv
            s[k] = sp
    n_s = 0
    for k in range(n):  # refractory: count down; a spike starts the period
        rf = np.int64(ref[k])
        ref[k] = rf - 1 if rf > 0 else (ref_steps if s[k] else rf)
        n_s += s[k]
    if learn and n_s:  # theta rises where a neuron spiked
        if round_v:
            for k in range(n):
                if s[k]:
                    theta[k] = _theta_spike_s(np.int64(theta[k]), k, theta_plus, theta_max,
                                              v_lsb, v_mode, tqkey, True, stoch)
        else:
            for k in range(n):
                th = np.int64(theta[k])
                theta[k] = _theta_spike_s(th, k, theta_plus, theta_max, 0, 0, tqkey, False,
                                          False) if s[k] else th
    if ((one_spike and learn) or (one_spike_infer and not learn)) and n_s > 1:
        keep_one_spike(s, t, seed)


def float_args(p: AdaptiveLIFFloat) -> tuple:
    """Kernel arguments of float parameters (after ``reset, learn, t, seed``)."""
    return (p.decay_u, p.decay_v, p.vth, p.v_reset, p.bias, p.theta_plus, p.decay_theta,
            p.ref_steps, bool(p.one_spike), bool(p.one_spike_infer))


def fixed_args(p: AdaptiveLIFFixed) -> tuple:
    """Kernel arguments of integer parameters (after ``reset, learn, t, seed``)."""
    return (p.decay_u, p.decay_v, p.vth << spec.VTH_SHIFT, p.v_reset,
            p.bias_mant << p.bias_exp, p.theta_plus, p.decay_theta, p.theta_decay_bits,
            p.ref_steps, p.theta_max, p.v_max, p.v_lsb, fixed.rounding_code(p.v_rounding),
            bool(p.one_spike), bool(p.one_spike_infer))


def theta_args(p: AdaptiveLIFFixed | AdaptiveLIFFloat) -> tuple:
    """Arguments of :func:`theta_decay_fixed_kernel` / :func:`theta_decay_float_kernel`
    (after ``theta, t, seed``)."""
    if isinstance(p, AdaptiveLIFFixed):
        return (p.decay_theta, p.theta_decay_bits, p.v_lsb)
    return (p.decay_theta,)


def _step(kernel, args, state, a_in, learn, reset, t, seed):
    shape = np.broadcast_shapes(state.u.shape, np.shape(a_in))
    n = shape[-1] if shape else 1
    new = [np.array(np.broadcast_to(x, shape)).reshape(-1, n) for x in state]
    a = np.ascontiguousarray(np.broadcast_to(a_in, shape), dtype=new[0].dtype).reshape(-1, n)
    s = np.zeros(new[0].shape, bool)
    for b in range(new[0].shape[0]):  # each batch row is one population (neuron index = k)
        kernel(new[0][b], new[1][b], new[2][b], new[3][b], a[b], s[b], bool(reset),
               bool(learn), t, seed, *args)
    return LIFState(*(x.reshape(shape) for x in new)), s.reshape(shape)


def step_float(state: LIFState, p: AdaptiveLIFFloat, a_in, learn: bool = True,
               reset: bool = False, t: int = 0, seed: int = 0) -> tuple[LIFState, np.ndarray]:
    """One float step (functional: returns a new state). ``a_in``: input to u, same unit as
    v. ``reset`` zeroes u, v and the refractory counter first (a new sample). ``t`` and
    ``seed`` are unused (nothing is rounded)."""
    return _step(lif_float_kernel, float_args(p), state, a_in, learn, reset, t, seed)


def step_fixed(state: LIFState, p: AdaptiveLIFFixed, a_in, learn: bool = True,
               reset: bool = False, t: int = 0, seed: int = 0) -> tuple[LIFState, np.ndarray]:
    """One Loihi-integer step (functional). ``a_in``: integer dendritic input (before the
    ``<< 6``); inputs must satisfy ``|a_in << 6| < 2**31`` (Lava's int32 arithmetic).
    ``t`` (global step) and ``seed`` key the stochastic rounding of the theta decay; the
    element index is the neuron's index along the last axis."""
    return _step(lif_fixed_kernel, fixed_args(p), state, a_in, learn, reset, t, seed)
