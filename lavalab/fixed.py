"""Fixed-point primitives shared by the ProcessModels, the engine, the compiler and tests.

Each primitive is written once as a scalar numba function (``*_s``, callable from the
numba kernels of :mod:`lavalab.dynamics` and :mod:`lavalab.engine`) and exposed to numpy
code as a ufunc of the same name without the suffix (broadcasting, ``int64`` results).

Rounding of a division by ``2**n`` comes in three modes (tinySNN):

``"truncate"``    toward zero (what Loihi's decay does: ``sign(x) * (|x| >> n)``)
``"nearest"``     to the nearest integer, halves away from zero
``"stochastic"``  down or up with probability equal to the dropped fraction, using
                  random integers from :func:`counter_uniform` (reproducible by any
                  backend: keyed by seed, stream, step and element, no hidden RNG state)
"""

from __future__ import annotations

import functools
import math

import numpy as np
from numba import njit, vectorize

from lavalab import loihi_spec as spec

__all__ = [
    "ROUNDING_MODES", "STREAMS", "shift_toward_zero", "decay", "wrap_to_bits", "wrap_once",
    "saturate_to_bits", "saturate_symmetric", "round_shift", "quantize", "counter_hash",
    "counter_uniform", "check_int_range", "check_real",
    "shift_toward_zero_s", "round_shift_s", "rounding_code", "decay_s", "wrap_once_s",
    "clip_s", "step_key_s", "uniform_s",
]

ROUNDING_MODES = ("truncate", "nearest", "stochastic")

#: Stream identifiers of the counter-based random numbers, one per consumer.
STREAMS = {"poisson": 1, "trace": 2, "weight": 3, "quantize": 4, "theta": 5,
           "theta_quantize": 6, "one_spike": 7}

_I64 = ["int64(int64, int64)"]


# --- scalar kernels (numba) -----------------------------------------------------------

@njit(cache=True, inline="always")
def shift_toward_zero_s(x, n):
    """``sign(x) * (|x| >> n)``, without a branch or select: a negative ``x`` is first
    raised by ``2**n - 1`` so that the floor of ``>>`` becomes the ceiling (0 <= n < 63)."""
    return (x + ((x >> 63) & ((np.int64(1) << n) - 1))) >> n


@njit(cache=True, inline="always")
def decay_s(x, d):
    """``x * (4096 - d) / 4096`` rounded toward zero (Loihi / Lava decay)."""
    return shift_toward_zero_s(x * (spec.DECAY_UNITY - d), spec.DECAY_SHIFT)


@njit(cache=True, inline="always")
def wrap_once_s(x, bits):
    """Lava 0.10's single +-2**bits overflow correction (see :func:`wrap_once`)."""
    half = np.int64(1) << (bits - 1)
    y = x - 2 * half if x > half else x
    return x + 2 * half if y <= -half else y


@njit(cache=True, inline="always")
def clip_s(x, lo, hi):
    return lo if x < lo else (hi if x > hi else x)


@njit(cache=True, inline="always")
def _mix_s(z):
    # splitmix64 finaliser (Steele, Lea & Flood 2014); uint64 arithmetic wraps.
    z = z + np.uint64(0x9E3779B97F4A7C15)
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return z ^ (z >> np.uint64(31))


@njit(cache=True, inline="always")
def step_key_s(seed, stream, step):
    """Per-step key ``mix(mix(mix(seed) ^ stream) ^ step)`` (uint64)."""
    return _mix_s(_mix_s(_mix_s(np.uint64(seed)) ^ np.uint64(stream)) ^ np.uint64(step))


@njit(cache=True, inline="always")
def _elem_s(key, index):
    # MurmurHash3's fmix64 of key + (index + 1) * golden ratio: one cheap mix per element.
    z = key + (np.uint64(index) + np.uint64(1)) * np.uint64(0x9E3779B97F4A7C15)
    z = (z ^ (z >> np.uint64(33))) * np.uint64(0xFF51AFD7ED558CCD)
    z = (z ^ (z >> np.uint64(33))) * np.uint64(0xC4CEB9FE1A85EC53)
    return z ^ (z >> np.uint64(33))


def rounding_code(mode: str) -> int:
    """Kernel code of a rounding mode: its index in :data:`ROUNDING_MODES`
    (0 truncate, 1 nearest, 2 stochastic)."""
    if mode not in ROUNDING_MODES:
        raise ValueError(f"rounding mode={mode!r} is not one of {ROUNDING_MODES}")
    return ROUNDING_MODES.index(mode)


@njit(cache=True, inline="always")
def round_shift_s(x, n, mode, r):
    """Scalar :func:`round_shift`: ``x / 2**n`` rounded by ``mode`` (a
    :func:`rounding_code`); ``r`` in ``[0, 2**n)`` is used by stochastic rounding only."""
    if n == 0:
        return x
    if mode == 0:
        return shift_toward_zero_s(x, n)
    if mode == 1:
        half = np.int64(1) << (n - 1)
        return ((x + half) >> n) if x >= 0 else -((half - x) >> n)
    return (x + r) >> n


@njit(cache=True, inline="always")
def uniform_s(key, index, bits):
    """Integer uniform in ``[0, 2**bits)`` for element ``index`` under a per-step ``key``."""
    return np.int64(_elem_s(key, index) >> np.uint64(64 - bits))


# --- numpy-facing ufuncs ----------------------------------------------------------------

class _LazyUfunc:
    """A numba ufunc built at its first use, not at import: building a ufunc's wrapper is
    not cached by numba and costs a fraction of a second per ufunc, which every process
    would pay even when (like ``lavalab train`` on the engine) it never calls them."""

    def __init__(self, sigs, pyfunc) -> None:
        self._sigs, self._pyfunc, self._ufunc = sigs, pyfunc, None
        functools.update_wrapper(self, pyfunc)

    def ufunc(self):
        """The numba ufunc (built on the first call)."""
        if self._ufunc is None:
            self._ufunc = vectorize(self._sigs, cache=True)(self._pyfunc)
        return self._ufunc

    def __call__(self, *args, **kwargs):
        return self.ufunc()(*args, **kwargs)

    def __getattr__(self, name):  # .reduce, .outer, .types, ...
        if name.startswith("__"):
            raise AttributeError(name)
        return getattr(self.ufunc(), name)


def _lazy_vectorize(sigs):
    return lambda pyfunc: _LazyUfunc(sigs, pyfunc)


@_lazy_vectorize(_I64)
def shift_toward_zero(x, n):
    """``sign(x) * (|x| >> n)``: division by ``2**n`` rounded toward zero."""
    return shift_toward_zero_s(x, n)


@_lazy_vectorize(_I64)
def decay(x, d):
    """Loihi / Lava decay: ``x * (4096 - d) / 4096`` rounded toward zero.

    ``d`` is the effective 12-bit decay (0 = no decay, 4096 = full decay); for u,
    Lava's register ``du`` gives ``d = du + 1``.
    """
    return decay_s(x, d)


@_lazy_vectorize(_I64)
def wrap_once(x, bits):
    """Lava 0.10's u overflow handling (PyLifModelBitAcc): one correction by ``2**bits``.

    ``x > 2**(bits-1)`` becomes ``x - 2**bits``; ``x <= -2**(bits-1)`` becomes
    ``x + 2**bits``. The result lies in ``(-2**(bits-1), 2**(bits-1)]``: it equals
    :func:`wrap_to_bits` on ``(-3*2**(bits-1), 3*2**(bits-1)]`` except that
    where the modulo gives ``-2**(bits-1)`` Lava gives ``+2**(bits-1)`` (outside the
    signed range).
    """
    return wrap_once_s(x, bits)


@_lazy_vectorize(["uint64(uint64, uint64, uint64, uint64)"])
def _counter_hash(seed, stream, step, index):
    return _elem_s(step_key_s(seed, stream, step), index)


def _i64(x) -> np.ndarray:
    return np.asarray(x, dtype=np.int64)


def wrap_to_bits(x, bits: int) -> np.ndarray:
    """Two's-complement wrap into ``[-2**(bits-1), 2**(bits-1) - 1]``."""
    half = np.int64(1) << (bits - 1)
    return ((_i64(x) + half) & ((half << 1) - 1)) - half


def saturate_to_bits(x, bits: int, signed: bool = True) -> np.ndarray:
    """Clip into the range of a ``bits``-wide (two's complement or unsigned) integer."""
    if signed:
        lo, hi = -(1 << (bits - 1)), (1 << (bits - 1)) - 1
    else:
        lo, hi = 0, (1 << bits) - 1
    return np.clip(_i64(x), lo, hi)


def saturate_symmetric(x, bits: int) -> np.ndarray:
    """Clip into ``[-(2**(bits-1) - 1), 2**(bits-1) - 1]`` (Lava's v saturation)."""
    hi = (1 << (bits - 1)) - 1
    return np.clip(_i64(x), -hi, hi)


def round_shift(x, n: int, mode: str = "truncate", rand=None) -> np.ndarray:
    """Divide by ``2**n`` and round with ``mode`` (see module docstring).

    For ``"stochastic"``, ``rand`` are integers uniform in ``[0, 2**n)`` broadcastable
    to ``x`` (e.g. from :func:`counter_uniform`); the result is
    ``floor((x + rand) / 2**n)``, whose expectation is exactly ``x / 2**n``.
    """
    x = _i64(x)
    if n < 0:
        raise ValueError(f"shift n={n} must be >= 0")
    if mode not in ROUNDING_MODES:
        raise ValueError(f"rounding mode={mode!r} is not one of {ROUNDING_MODES}")
    if n == 0:
        return x.copy()
    if mode == "truncate":
        return shift_toward_zero(x, n)
    if mode == "nearest":
        return np.sign(x) * ((np.abs(x) + (np.int64(1) << (n - 1))) >> n)
    if rand is None:
        raise ValueError("stochastic rounding needs rand (integers in [0, 2**n))")
    return (x + _i64(rand)) >> n


def quantize(x, frac_bits: int, mode: str = "nearest", rand=None) -> np.ndarray:
    """Real values to integers with ``frac_bits`` fractional bits: ``round(x * 2**frac_bits)``.

    ``"stochastic"`` takes ``rand`` as floats in [0, 1). No saturation: combine
    with :func:`saturate_to_bits`.
    """
    y = np.asarray(x, dtype=np.float64) * (2.0**frac_bits)
    if mode == "truncate":
        return np.trunc(y).astype(np.int64)
    if mode == "nearest":
        return (np.sign(y) * np.floor(np.abs(y) + 0.5)).astype(np.int64)
    if mode == "stochastic":
        if rand is None:
            raise ValueError("stochastic rounding needs rand (floats in [0, 1))")
        return np.floor(y + np.asarray(rand, np.float64)).astype(np.int64)
    raise ValueError(f"rounding mode={mode!r} is not one of {ROUNDING_MODES}")


def counter_hash(seed, stream, step, index) -> np.ndarray:
    """64-bit hash of the counters (seed, stream, step, index), broadcast together.

    ``fmix64(step_key(seed, stream, step) + (index + 1) * 0x9E3779B97F4A7C15)``: a pure
    function of its arguments, so any backend computing it gets the same bits; the
    per-step key is computed once per step and each element costs one cheap mix.
    """
    args = [np.asarray(a).astype(np.uint64) for a in (seed, stream, step, index)]
    return np.asarray(_counter_hash(*args))


def counter_uniform(seed, stream, step, index, bits: int) -> np.ndarray:
    """Integers uniform in ``[0, 2**bits)`` (``bits`` <= 63) from :func:`counter_hash`."""
    if not 1 <= bits <= 63:
        raise ValueError(f"bits={bits} is outside 1..63")
    return (counter_hash(seed, stream, step, index) >> np.uint64(64 - bits)).astype(np.int64)


def check_real(name: str, value, lo: float = -math.inf, hi: float = math.inf,
               allow_inf: bool = False) -> None:
    """Raise ``ValueError`` naming ``name`` unless ``value`` is a real number in [lo, hi]
    (NaN never, infinities only with ``allow_inf``)."""
    ok = isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool)
    ok = ok and not math.isnan(value) and (allow_inf or math.isfinite(value))
    if not ok or not lo <= value <= hi:
        raise ValueError(f"{name}={value!r} is outside the allowed range [{lo}, {hi}]")


def check_int_range(name: str, value, lo: int, hi: int) -> None:
    """Raise ``ValueError`` naming ``name`` if any element of ``value`` is outside [lo, hi]
    or is not an integer."""
    arr = np.asarray(value)
    if arr.dtype.kind not in "iub":
        if arr.dtype.kind == "f" and np.all(np.isfinite(arr)) and np.all(arr == np.round(arr)):
            arr = arr.astype(np.int64)
        else:
            raise ValueError(f"{name}={value!r} must be an integer in {lo}..{hi}")
    if arr.size and (arr.min() < lo or arr.max() > hi):
        bad = arr.min() if arr.min() < lo else arr.max()
        raise ValueError(f"{name}={int(bad)} is outside the allowed range {lo}..{hi}")
