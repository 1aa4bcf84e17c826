"""Lower float (per-step) parameters to Loihi integers.

Potentials: a float potential ``x`` (e.g. mV) becomes the integer ``round(x * v_scale)``
in v's 24-bit units; the threshold mantissa is ``round(v_th * v_scale / 64)`` (compared
as ``vth << 6``), and a synaptic weight ``w`` (float input to u per spike) becomes
``round(w * v_scale / 64)`` (the neuron shifts its input by 6). Decays: a fraction
``delta`` per step becomes ``round(delta * 4096)``.

These per-neuron and per-rule lowerings sit below :mod:`lavalab.compile` because
:func:`lavalab.networks.snn.lower_network` (used by the engine and every backend) is built
from them; the compile passes (discretize, quantize) import them from here.
"""

from __future__ import annotations

import math

from lavalab import loihi_spec as spec
from lavalab.dynamics.adaptive_lif import AdaptiveLIFFixed, AdaptiveLIFFloat, AdaptiveLIFParams

__all__ = ["lower_decay", "lower_adaptive_lif", "weight_scale", "lower_stdp",
           "rate_to_mant_exp",
           "bias_to_mant_exp"]


def lower_decay(delta: float, offset: int = 0, allow_full: bool = False) -> int:
    """Fraction removed per step -> 12-bit effective decay ``round(delta * 4096)``.

    ``offset=1`` (the u register's hidden +1) makes the smallest representable decay 1
    and the largest 4096; ``allow_full`` allows 4096 without an offset (learning traces).
    """
    if not 0.0 <= delta <= 1.0:
        raise ValueError(f"decay fraction {delta} is outside [0, 1]")
    d = int(round(delta * spec.DECAY_UNITY))
    hi = spec.DECAY_UNITY if (offset or allow_full) else spec.DECAY_MAX
    return min(max(d, offset), hi)


def bias_to_mant_exp(bias_int: int) -> tuple[int, int]:
    """An integer bias as ``mant << exp`` with a 13-bit signed mantissa (rounded)."""
    for exp in range(spec.BIAS_EXP_MAX + 1):
        mant = int(round(bias_int / 2**exp))
        if spec.BIAS_MANT_MIN <= mant <= spec.BIAS_MANT_MAX:
            return mant, exp
    raise ValueError(
        f"bias {bias_int} does not fit a 13-bit mantissa with exponent 0..{spec.BIAS_EXP_MAX}"
    )


def lower_adaptive_lif(params: AdaptiveLIFParams | AdaptiveLIFFloat, v_scale: float,
                       theta_bits: int = spec.UV_BITS) -> AdaptiveLIFFixed:
    """Loihi integer parameters for ``params`` with ``v_scale`` integer units per unit of v."""
    if not (isinstance(v_scale, (int, float)) and math.isfinite(v_scale) and v_scale > 0):
        raise ValueError(f"v_scale={v_scale!r} must be a positive number")
    c = params.per_step() if isinstance(params, AdaptiveLIFParams) else params
    vth = int(round(c.vth * v_scale / 2**spec.VTH_SHIFT))
    if not 0 <= vth <= spec.VTH_MAX:
        raise ValueError(
            f"threshold {c.vth} x v_scale {v_scale} / 64 = {vth} is outside the 17-bit "
            f"mantissa range 0..{spec.VTH_MAX}: choose a smaller v_scale"
        )
    mant, exp = bias_to_mant_exp(int(round(c.bias * v_scale)))
    # theta's decay: the fewest fraction bits (12..28) that keep >= 4 significant bits
    theta_decay_bits, theta_decay = spec.DECAY_SHIFT, 0
    if c.decay_theta > 0:
        for bits in range(spec.DECAY_SHIFT, 29):
            theta_decay_bits, theta_decay = bits, int(round(c.decay_theta * 2**bits))
            if theta_decay >= 16:
                break
        theta_decay = min(theta_decay, 2**theta_decay_bits - 1)
    return AdaptiveLIFFixed(
        decay_u=lower_decay(c.decay_u, offset=spec.DU_OFFSET),
        decay_v=lower_decay(c.decay_v),
        vth=vth,
        v_reset=int(round(c.v_reset * v_scale)),
        bias_mant=mant, bias_exp=exp,
        theta_plus=int(round(c.theta_plus * v_scale)),
        decay_theta=theta_decay, theta_decay_bits=theta_decay_bits,
        ref_steps=c.ref_steps,
        theta_bits=theta_bits,
        one_spike=c.one_spike, one_spike_infer=c.one_spike_infer,
    )



def rate_to_mant_exp(rate: float, name: str = "rate") -> tuple[int, int]:
    """Nearest ``mant * 2**exp`` with ``mant`` in 4..7 (Loihi's learning mantissa range
    [-8, 7], positive side) and ``exp`` in -24..8; 0 for a zero rate.

    The relative error is at most 1/9 (mantissa 4 +- 0.5).
    """
    if not (math.isfinite(rate) and rate >= 0):
        raise ValueError(f"{name}={rate!r} must be a finite number >= 0")
    if rate == 0:
        return 0, 0
    exp = math.floor(math.log2(rate)) - 2
    mant = round(rate / 2.0**exp)
    if mant == 8:
        mant, exp = 4, exp + 1
    if not -24 <= exp <= 8:
        raise ValueError(f"{name}={rate} is outside the learning-rate range 4*2**-24 .. 7*2**8")
    return int(mant), int(exp)


def lower_stdp(params, q: float, frac_bits: int | None = None,
               w_rounding: str = "stochastic"):
    """Loihi integer STDP for float ``params`` (STDPParams or STDPFloat).

    ``q`` is integer weight units per float weight unit (``w_int = round(w * q)``); traces
    map [0, 1] to 0..127. Rates become ``mant * 2**exp`` (see :func:`rate_to_mant_exp`):
    potentiation ``eta_post * q**(1 - mu) / 127``, depression ``eta_pre * q / 127``.
    ``frac_bits``: accumulator fractional bits (default 7, Loihi's); ``"exact"`` picks
    the fewest bits at which no rate term is shifted right (floored). ``w_rounding``:
    rounding of the weight updates (default Loihi's stochastic). The integer ``w_max`` may
    use up to 16 bits (engine only: Loihi's 8 bits are a design rule).
    """
    from lavalab.dynamics.stdp import W_MAX_ENGINE, STDPFixed, STDPParams

    c = params.per_step() if isinstance(params, STDPParams) else params
    if c.mu not in (0, 1, 0.0, 1.0):
        raise ValueError(f"mu={c.mu} has no fixed-point form: Loihi's rule allows mu in {{0, 1}}")
    w_max = int(round(c.w_max * q))
    if not 1 <= w_max <= W_MAX_ENGINE:
        raise ValueError(
            f"w_max={c.w_max} x q={q} = {w_max} is outside the 16-bit range 1..{W_MAX_ENGINE}"
        )
    tmax = spec.TRACE_MAX
    pm, pe = rate_to_mant_exp(c.eta_post * q ** (1 - int(c.mu)) / tmax, "eta_post")
    dm, de = rate_to_mant_exp(c.eta_pre * q / tmax, "eta_pre")
    if frac_bits is None:
        frac_bits = spec.LEARN_WEIGHT_FRAC
    elif frac_bits == "exact":
        lowest = min(e for m, e in ((pm, pe + (5 if c.mu else 0)), (dm, de)) if m)
        frac_bits = max(spec.LEARN_WEIGHT_FRAC, -lowest)
    return STDPFixed(
        decay_pre=lower_decay(c.decay_pre, allow_full=True),
        decay_post=lower_decay(c.decay_post, allow_full=True),
        impulse_pre=max(1, int(round(c.impulse_pre * tmax))),
        impulse_post=max(1, int(round(c.impulse_post * tmax))),
        eta_pre_mant=dm, eta_pre_exp=de, eta_post_mant=pm, eta_post_exp=pe,
        w_max=w_max, mu=int(c.mu), rule=c.rule, window_steps=c.window_steps, n_th=c.n_th,
        sample_steps=c.sample_steps,
        norm_total=None if c.norm_total is None else int(round(c.norm_total * q)),
        frac_bits=frac_bits, w_rounding=w_rounding,
        decay_post2=lower_decay(c.decay_post2, allow_full=True),
    )


def weight_scale(v_scale: float) -> float:
    """Integer weight units per float weight unit: ``v_scale / 64``."""
    return v_scale / 2**spec.ACT_SHIFT
