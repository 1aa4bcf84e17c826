"""Quantize pass: a network and a :class:`~lavalab.compile.ir.PrecisionBudget` -> integers.

tinySNN's precision study (Putra & Shafique, section 2.3): weights alone (qW) or weights and the
neuron parameters v, v_th and theta (qWN), at a precision level, with truncation,
round-to-nearest or stochastic rounding, either in training (ITQ: train on the fixed
engine with these integers) or after it (PTQ: train in float, then
:func:`quantize_weights` and :func:`quantize_theta`, then infer on the fixed engine).

Formats
-------
Weights (:func:`weight_format`): a float weight ``w`` in [0, 1] becomes
``w_int = round(w * q)`` with ``q = 2**weight_bits - 1``. The input synapses' exponent
``exp_in = 8 - weight_bits`` keeps v's scale ``v_scale = 64 * q * 2**exp_in`` near
``64 * 255`` whatever the weight bits (15360 at 4 bits, 16320 at 8, 16383.75 at 16), so
networks of any weight precision share the neuron resolution and differ only in their
weights (and, with ``weight_bits > 8``, in a synapse output floored by ``>> -exp_in``).

Neuron state (:func:`neuron_format`, qWN only): v is a signed ``neuron_bits``-bit register
of grid units of ``2**v_lsb`` v units. The integer bits ``I`` are the bits of the
calibrated range plus a sign bit; ``v_lsb = max(0, I - neuron_bits)`` (raised while the
largest grid value falls short of the range), ``v_bits = neuron_bits``; theta is an unsigned
``neuron_bits``-bit register on the same grid. The threshold, reset and theta increment
are rounded onto the grid with the budget's rounding; truncation or rounding may take a
small theta increment to 0 (the honest effect of the precision: a
:class:`QuantizationWarning` says so).

Pass contract of :func:`quantize_network`
-----------------------------------------
requires: an integer budget (``weight_bits`` 2..16; float budgets run on the float
    engine), a :class:`~lavalab.networks.snn.NetworkSpec` whose ``stdp.w_max`` maps into
    ``weight_bits`` (``w_max = 1``), ``v_range`` in mV for qWN (or the default bound).
ensures: a new frozen :class:`~lavalab.networks.snn.FixedNetwork` (inputs untouched) equal
    to ``lower_network(spec, q, exp_in, frac_bits)`` with the STDP weight rounding set to
    ``budget.rounding``; with ``quantize_neurons`` the neurons' ``v_bits``, ``v_lsb``,
    ``v_rounding`` and ``theta_bits`` set and vth << 6, v_reset and theta_plus on the grid.
    The default Loihi budget (8 bits, stochastic, qW) gives exactly ``lower_network(spec)``.

Random numbers of stochastic rounding come from :func:`lavalab.fixed.counter_uniform` on
stream ``STREAMS["quantize"]`` at reserved steps (:data:`PARAM_STEP`, :data:`WEIGHT_STEP`,
:data:`THETA_STEP`, far beyond any simulated step, so never shared with the kernels' v
rounding), element = flat index.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import replace

import numpy as np

from lavalab import fixed
from lavalab import loihi_spec as spec
from lavalab.compile.ir import PrecisionBudget
from lavalab.dynamics.adaptive_lif import AdaptiveLIFFixed
from lavalab.networks.snn import FixedNetwork, NetworkSpec, lower_network

__all__ = ["QuantizationWarning", "weight_format", "neuron_format", "default_v_range_mv",
           "quantize_network", "quantize_weights", "quantize_theta", "round_to_grid",
           "PARAM_STEP", "WEIGHT_STEP", "THETA_STEP"]

QUANTIZE_STREAM = fixed.STREAMS["quantize"]
#: Reserved counter "steps" of the quantize stream (not reachable by a simulation).
PARAM_STEP = 2**64 - 1
WEIGHT_STEP = 2**64 - 2
THETA_STEP = 2**64 - 3
_RAND_BITS = 53  # float uniforms in [0, 1) for fixed.quantize


class QuantizationWarning(UserWarning):
    """A parameter lost its effect to quantization (e.g. theta_plus rounded to 0)."""


def _require_int_budget(budget: PrecisionBudget) -> None:
    if not isinstance(budget, PrecisionBudget):
        raise ValueError(f"budget={budget!r} must be a PrecisionBudget")
    if budget.is_float:
        raise ValueError("budget is float (weight_bits=32): float networks run on the float "
                         "engine (make_net(spec, 'float', ...)), there is nothing to quantize")


def weight_format(budget: PrecisionBudget) -> tuple[float, int]:
    """``(q, exp_in)``: integer weight units per float weight unit, ``2**weight_bits - 1``,
    and the input synapses' exponent ``8 - weight_bits`` (see the module docstring)."""
    _require_int_budget(budget)
    return float(2**budget.weight_bits - 1), spec.WEIGHT_BITS - budget.weight_bits


def neuron_format(budget: PrecisionBudget, v_range: float) -> tuple[int, int]:
    """``(v_bits, v_lsb)`` of the v register for the largest magnitude ``v_range`` (in v
    units: integer units of the network's ``v_scale``) that v and ``v_th + theta`` reach.

    qW (``quantize_neurons`` false): Loihi's register, ``(24, 0)``. qWN: see the module
    docstring. Raises ``ValueError`` if ``neuron_bits`` is 32 (float neurons have no fixed
    form) or the range needs more than the 24-bit register.
    """
    _require_int_budget(budget)
    if not budget.quantize_neurons:
        return spec.UV_BITS, 0
    if budget.neuron_bits == 32:
        raise ValueError("neuron_bits=32 (float neurons) with quantize_neurons has no fixed "
                         "form: the fixed engine's v is at most 24 bits")
    fixed.check_real("v_range", v_range, lo=1.0)
    nb = budget.neuron_bits
    integer_bits = math.ceil(v_range).bit_length() + 1  # magnitude + sign
    v_lsb = max(0, integer_bits - nb)
    while ((1 << (nb - 1)) - 1) << v_lsb < v_range:
        v_lsb += 1
    if nb + v_lsb > spec.UV_BITS:
        raise ValueError(f"v_range={v_range} needs {nb + v_lsb} bits with neuron_bits={nb}; "
                         f"the v register has {spec.UV_BITS}")
    return nb, v_lsb


def default_v_range_mv(s: NetworkSpec, theta_max_mv: float | None = None) -> float:
    """A range bound (mV) for qWN when none is calibrated: the largest of the threshold
    plus ``theta_max_mv`` (default ``2 * v_th``), the reset, and one inhibitory spike
    (``w_inh_exc`` for diehl-cook, ``w_lateral`` for tinysnn; deeper inhibition saturates).
    A range calibrated from a float run (the largest ``|v|`` and ``v_th + theta``, in mV)
    is better: pass it to :func:`quantize_network`."""
    p = s.exc
    theta = 2.0 * p.v_th if theta_max_mv is None else theta_max_mv
    fixed.check_real("theta_max_mv", theta, lo=0.0)
    inhibition = s.w_inh_exc if s.has_inh else s.w_lateral
    return float(max(p.v_th + theta, abs(p.v_reset), inhibition))


def round_to_grid(x, lsb: int, mode: str, rand_bits=None) -> np.ndarray:
    """Integers ``x`` rounded to multiples of ``2**lsb`` (``mode`` as
    :func:`lavalab.fixed.round_shift`; ``rand_bits`` uniform in ``[0, 2**lsb)`` for
    stochastic rounding)."""
    return fixed.round_shift(x, lsb, mode, rand_bits) << np.int64(lsb)


def _rand_ints(seed: int, step: int, index, bits: int):
    return fixed.counter_uniform(seed, QUANTIZE_STREAM, np.uint64(step), index, bits)


def theta_frozen(theta_plus: int, v_lsb: int, mode: str) -> bool:
    """Whether ``theta + theta_plus`` rounded onto the grid of ``2**v_lsb`` never exceeds
    ``theta`` (truncation: ``theta_plus`` below one step; nearest: below half a step;
    stochastic rounding always keeps the expected growth)."""
    if v_lsb == 0 or mode == "stochastic":
        return False
    return theta_plus < (1 << v_lsb) if mode == "truncate" else 2 * theta_plus < (1 << v_lsb)


def _neuron_on_grid(p: AdaptiveLIFFixed, v_bits: int, v_lsb: int, mode: str, seed: int,
                    first_index: int, name: str) -> AdaptiveLIFFixed:
    """``p`` with the v register ``(v_bits, v_lsb)`` and its grid-bound parameters rounded."""
    v_max = ((1 << (v_bits - 1)) - 1) << v_lsb
    theta_max = ((1 << v_bits) - 1) << v_lsb
    rand = (_rand_ints(seed, PARAM_STEP, np.arange(first_index, first_index + 2), v_lsb)
            if mode == "stochastic" and v_lsb > 0 else np.zeros(2, np.int64))
    vth_eff = p.vth << spec.VTH_SHIFT
    if v_lsb > spec.VTH_SHIFT:  # the mantissa's << 6 no longer lands on the grid by itself
        vth_eff = int(round_to_grid(vth_eff, v_lsb, mode, rand[0]))
    vth = min(vth_eff, v_max) >> spec.VTH_SHIFT
    v_reset = int(np.clip(round_to_grid(p.v_reset, v_lsb, mode, rand[1]), -v_max, v_max))
    v_reset = min(v_reset, vth << spec.VTH_SHIFT)
    # theta_plus stays a full-resolution constant: the kernel rounds theta + theta_plus
    # onto the grid at each spike (see lavalab.dynamics.adaptive_lif)
    theta_plus = min(p.theta_plus, theta_max)
    if 0 < p.theta_plus and theta_frozen(p.theta_plus, v_lsb, mode):
        warnings.warn(f"{name}: theta_plus={p.theta_plus} v units is below what {mode} "
                      f"rounding keeps on the grid of 2**{v_lsb}: the adaptive threshold "
                      "no longer grows", QuantizationWarning, stacklevel=3)
    if p.vth > 0 and vth == 0:
        warnings.warn(f"{name}: threshold vth={p.vth} rounded ({mode}) to 0 on the grid of "
                      f"2**{v_lsb}", QuantizationWarning, stacklevel=3)
    return replace(p, vth=vth, v_reset=v_reset, theta_plus=theta_plus, theta_bits=v_bits,
                   v_bits=v_bits, v_lsb=v_lsb, v_rounding=mode)


def quantize_network(s: NetworkSpec, budget: PrecisionBudget, v_range: float | None = None,
                     frac_bits: int | str | None = None, seed: int = 0) -> FixedNetwork:
    """The fixed network of ``s`` under ``budget`` (see the module docstring's contract).

    v_range : qWN only: the largest magnitude (mV, the spec's potential unit) that v and
        ``v_th + theta`` reach, calibrated from a float run; ``None`` =
        :func:`default_v_range_mv`. Converted to v units as ``v_range / input_gain * v_scale``.
    frac_bits : fraction bits of the learning accumulator, as
        :func:`lavalab.networks.lower.lower_stdp` (default: Loihi's 7)
    seed : keys the stochastic rounding of the neuron parameters (qWN)
    """
    q, exp_in = weight_format(budget)
    fx = lower_network(s, q, exp_in, frac_bits)
    out = replace(fx, stdp=replace(fx.stdp, w_rounding=budget.rounding))
    if not budget.quantize_neurons:
        return out
    mv = default_v_range_mv(s) if v_range is None else v_range
    fixed.check_real("v_range", mv, lo=1e-12)
    v_bits, v_lsb = neuron_format(budget, max(1.0, mv / s.input_gain * fx.v_scale))
    exc = _neuron_on_grid(fx.exc, v_bits, v_lsb, budget.rounding, seed, 0, "exc")
    inh = (None if fx.inh is None else
           _neuron_on_grid(fx.inh, v_bits, v_lsb, budget.rounding, seed, 3, "inh"))
    return replace(out, exc=exc, inh=inh)


def _quantize_reals(y, mode: str, seed: int, step: int) -> np.ndarray:
    y = np.asarray(y, np.float64)
    if not np.all(np.isfinite(y)):
        raise ValueError("values to quantize must be finite")
    rand = None
    if mode == "stochastic":
        idx = np.arange(y.size, dtype=np.uint64).reshape(y.shape)
        rand = _rand_ints(seed, step, idx, _RAND_BITS) / float(2**_RAND_BITS)
    return fixed.quantize(y, 0, mode, rand)


def quantize_weights(w_float, budget: PrecisionBudget, seed: int = 0) -> np.ndarray:
    """PTQ of trained float weights in [0, 1]: ``round(w * q)`` with the budget's rounding
    (stochastic: ``floor(w * q + u)``, u from the counter stream keyed by ``seed`` and the
    flat index), saturating to ``0..2**weight_bits - 1``. Returns int64, same shape."""
    q, _ = weight_format(budget)
    w = _quantize_reals(np.asarray(w_float, np.float64) * q, budget.rounding, seed, WEIGHT_STEP)
    return np.clip(w, 0, int(q))


def quantize_theta(theta_float, fixed_net: FixedNetwork, budget: PrecisionBudget,
                   seed: int = 0) -> np.ndarray:
    """PTQ of trained float thetas to the excitatory neurons' grid (v units).

    ``theta_float`` is in the float engine's unit (that of ``make_net(spec, "float")`` and
    its ``net.theta``: mV / ``input_gain``, one input weight), so ``theta * v_scale`` v
    units, rounded with the budget's rounding to multiples of ``2**v_lsb`` and saturating
    at the theta register, ``0..theta_max``. Returns int64, same shape.
    """
    _require_int_budget(budget)
    p = fixed_net.exc
    y = np.asarray(theta_float, np.float64) * fixed_net.v_scale / 2.0**p.v_lsb
    g = _quantize_reals(y, budget.rounding, seed, THETA_STEP)
    return np.clip(g, 0, (1 << p.theta_bits) - 1) << np.int64(p.v_lsb)
