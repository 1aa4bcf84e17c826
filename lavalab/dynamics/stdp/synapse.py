r"""The learning synapse's output: dendritic input from binary spikes, float and fixed.

.. math::

    a_i = \sum_j w_{ij}\, s_j \quad \text{(float)}, \qquad
    a_i = \Big(\sum_j w_{ij}\, s_j\Big) \ll e \quad \text{(fixed, Lava's Dense)}

with ``w`` (..., n_post, n_pre), ``s`` (..., n_pre), ``a`` (..., n_post) and ``e`` the
weight exponent (``<<`` for ``e >= 0``, an arithmetic ``>> -e`` otherwise).
"""

from __future__ import annotations

import numpy as np
from numba import njit

__all__ = [
    "accumulate_kernel", "accumulate_rows_kernel", "weight_exp_s", "synapse_output_float",
    "synapse_output_fixed",
]


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
    """Lava Dense's exponent: ``a << e`` for ``e >= 0``, arithmetic ``a >> -e`` otherwise
    (``a * 2**e``, floored; the learning rules scale their rates with it too)."""
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
    return weight_exp_s.py_func(_output(w, s, np.int64), weight_exp)
