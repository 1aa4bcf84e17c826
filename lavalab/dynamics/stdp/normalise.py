r"""Diehl & Cook 2015's weight normalisation, float and Loihi integer.

At each sample start (when learning with ``norm_total``), each post neuron's input weights
(a row of ``w``, shape ``(..., n_post, n_pre)``) are scaled to sum ``total``, clipped to
``w_max`` (a sparse receptive field would otherwise be scaled above the weight range):

.. math::

    w_{ij} \leftarrow \min\!\left(w_{ij}\, \frac{total}{\sum_k w_{ik}},\ w_{max}\right)

Rows summing to zero are left as they are.

=========== ==================================================================================
float       the formula above in float64, the row summed in index order
fixed       exact integer arithmetic, rounded to nearest:
            ``w <- min(floor((2 w total + s) / (2 s)), w_max)`` with ``s`` the row sum
            (the numpy :func:`normalize_fixed` also offers truncation and stochastic
            rounding); ``total`` <= 2**40 - 1 keeps ``2 w total`` within int64
=========== ==================================================================================
"""

from __future__ import annotations

import numpy as np
from numba import njit

from lavalab import fixed

__all__ = [
    "normalize_float", "normalize_fixed", "normalize_float_kernel", "normalize_fixed_kernel",
    "normalize_fixed_dirty_kernel",
]


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


@njit(cache=True)
def normalize_float_kernel(w, total, w_max):
    """The float normalisation of one network's ``w`` (n_post, n_pre), in place (each row
    summed in index order; :func:`normalize_float` sums as numpy does)."""
    n_post, n_pre = w.shape
    for i in range(n_post):
        s = 0.0
        for j in range(n_pre):
            s += w[i, j]
        if s > 0:
            for j in range(n_pre):
                w[i, j] = min(w[i, j] * (total / s), w_max)


@njit(cache=True, inline="always")
def _norm_one(wij, total, s, den, inv, w_max):
    """``min((2 wij total + s) // den, w_max)`` for ``den = 2 s > 0``, ``inv = 1 / den``.

    The floor division is computed exactly without a division: an estimate from the row's
    float reciprocal is off by less than 1 (the quotient is below 2**41, so its float error
    is below 2**-10) and one integer correction each way makes it the floor."""
    num = 2 * wij * total + s
    q = np.int64(num * inv)
    q -= np.int64(q * den > num)
    q += np.int64((q + 1) * den <= num)
    return min(q, w_max)


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
def _normalize_rows_fixed(w, total, w_max, changed):
    """Every row, in the memory order of ``w``; ``changed[i] |=`` row ``i`` changed, unless
    ``changed`` is None (then nothing is tracked: the branch is pruned at compile time)."""
    n_post, n_pre = w.shape
    sums, dens, invs, by_col = _row_sums(w)
    if by_col:
        for j in range(n_pre):
            for i in range(n_post):
                if dens[i] > 0:
                    old = np.int64(w[i, j])
                    new = _norm_one(old, total, sums[i], dens[i], invs[i], w_max)
                    if changed is not None:
                        changed[i] |= new != old
                    w[i, j] = new
    else:
        for i in range(n_post):
            s, den, inv = sums[i], dens[i], invs[i]
            if den > 0:
                for j in range(n_pre):
                    old = np.int64(w[i, j])
                    new = _norm_one(old, total, s, den, inv, w_max)
                    if changed is not None:
                        changed[i] |= new != old
                    w[i, j] = new


@njit(cache=True, inline="always")
def _normalize_row_fixed(w, i, total, w_max):
    """Row ``i`` alone; whether it changed."""
    n_pre = w.shape[1]
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
    return changed


@njit(cache=True)
def normalize_fixed_kernel(w, total, w_max):
    """Nearest-rounded integer D&C normalisation of each row of one network's ``w``
    (n_post, n_pre), in place (zero rows kept; see the module table).

    ``w`` may be a transposed view (the engine keeps weights column-major); the loops
    follow the memory order.
    """
    _normalize_rows_fixed(w, total, w_max, None)


@njit(cache=True)
def normalize_fixed_dirty_kernel(w, total, w_max, clean):
    """:func:`normalize_fixed_kernel` on the rows whose ``clean`` flag is 0; afterwards a
    row's flag is 1 when its normalisation left it unchanged (a fixed point), else 0.

    A row flagged 1 is a fixed point that nothing changed since (the caller sets the flag
    to 0 when it changes the row), so normalising it again would leave it as it is:
    skipping it is exact. When many rows are flagged 0 every row is normalised (a clean
    row is left unchanged) in the memory order of ``w``, as :func:`normalize_fixed_kernel`.
    """
    n_post = w.shape[0]
    n_dirty = 0
    for i in range(n_post):
        n_dirty += clean[i] == 0
    if n_dirty == 0:
        return
    if n_dirty * 8 < n_post:
        for i in range(n_post):
            if not clean[i]:
                clean[i] = not _normalize_row_fixed(w, i, total, w_max)
        return
    changed = np.zeros(n_post, np.bool_)
    _normalize_rows_fixed(w, total, w_max, changed)
    for i in range(n_post):
        clean[i] = not changed[i]
