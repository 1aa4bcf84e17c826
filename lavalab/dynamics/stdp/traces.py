r"""Spike traces and the per-sample / per-window bookkeeping, float and fixed, written once.

Each step, every trace decays, then a spike adds its impulse, saturating at the trace's
maximum:

.. math::

    x \leftarrow x(1-\delta), \qquad x \leftarrow \min(x + a\,s,\ x_{max})

(the triplet rule's second post trace :math:`y^2` decays with the others but gets its
impulse after learning, see :mod:`lavalab.dynamics.stdp.rules`). At a sample start
(``sample_steps``), spike counts and traces reset (samples are independent, as BindsNET
resets its state between samples).

The loops below are written once; the element arithmetic is selected by the trace's type
(:func:`decay_trace` and :func:`add_impulse`, numba overloads):

=========== ==================================================================================
float       traces in [0, 1]; decay ``x * (1 - decay)``; impulse ``min(x + a, 1)``
fixed       unsigned 7-bit (0..127); decay ``x*(4096-d)`` (d = 4096: the trace lives one
            step) with **stochastic** rounding, ``(x*(4096-d) + r) >> 12`` with 12 random
            bits ``r``; impulses 1..127 added with saturation at 127. A zero trace stays
            zero ((0 + r) >> 12 = 0).
=========== ==================================================================================

Random bits come from :func:`lavalab.fixed.counter_uniform` keyed by (seed, stream, step,
element) on the ``"trace"`` stream: trace ``j`` of the pre side is element ``j``, trace
``i`` of the post side ``n_pre + i``, the second post trace ``n_pre + n_post + i``. The same
step on any backend draws the same bits.
"""

from __future__ import annotations

import numpy as np
from numba import njit, types
from numba.extending import overload

from lavalab import fixed
from lavalab import loihi_spec as spec
from lavalab.dynamics.encoding import sample_start_s

__all__ = [
    "TRACE_STREAM", "TRACE_FRAC", "decay_trace", "add_impulse", "update_traces_s",
    "decay_traces_s", "schedule_flags_s", "reset_sample_s", "mark_spikes_s",
    "end_window_s", "stdp2_k_s",
]

TRACE_STREAM = fixed.STREAMS["trace"]
TRACE_FRAC = 7  # the triplet rule reads the 7-bit trace y2 as a fraction of 2**7


def decay_trace(x, decay, key, index):
    """One step's decay of the trace value ``x`` (jit code only; see the module table):
    float ``x * (1 - decay)``; integer ``(x * (4096 - decay) + r) >> 12`` with ``r`` the 12
    random bits of element ``index`` under the step's ``key`` (unused in float)."""
    raise NotImplementedError("decay_trace is compiled by numba only")


def add_impulse(x, impulse):
    """``x`` plus a spike's ``impulse``, saturated at the trace maximum (1 in float, 127 in
    fixed; jit code only)."""
    raise NotImplementedError("add_impulse is compiled by numba only")


@overload(decay_trace, inline="always")
def _decay_trace_impl(x, decay, key, index):
    if isinstance(x, types.Float):
        def decay_float(x, decay, key, index):
            return x * (1.0 - decay)
        return decay_float
    if isinstance(x, types.Integer):
        def decay_fixed(x, decay, key, index):
            return (np.int64(x) * (spec.DECAY_UNITY - decay)
                    + fixed.uniform_s(key, index, spec.DECAY_SHIFT)) >> spec.DECAY_SHIFT
        return decay_fixed
    return None


@overload(add_impulse, inline="always")
def _add_impulse_impl(x, impulse):
    if isinstance(x, types.Float):
        def impulse_float(x, impulse):
            return min(x + impulse, 1.0)
        return impulse_float
    if isinstance(x, types.Integer):
        def impulse_fixed(x, impulse):
            return min(np.int64(x) + impulse, spec.TRACE_MAX)
        return impulse_fixed
    return None


@njit(cache=True, inline="always")
def update_traces_s(x, n, decay, impulse, s, key, first):
    """Decay the traces ``x[:n]``, then add the impulse where ``s``; trace ``j`` is random
    element ``first + j``. Selects instead of branches, so the loop vectorises."""
    for j in range(n):
        d = decay_trace(x[j], decay, key, first + j)
        x[j] = add_impulse(d, impulse) if s[j] else d


@njit(cache=True, inline="always")
def decay_traces_s(x, n, decay, key, first):
    """Decay the traces ``x[:n]`` (no impulse); trace ``j`` is random element ``first + j``."""
    for j in range(n):
        x[j] = decay_trace(x[j], decay, key, first + j)


@njit(cache=True, inline="always")
def schedule_flags_s(t, sample_steps, stdp2, window_steps):
    """(sample start, learning step) of step ``t`` (0-based); ``sample_steps`` 0 = none."""
    start = sample_start_s(t, sample_steps)
    window_end = (not stdp2) or t % window_steps == window_steps - 1
    return start, window_end


@njit(cache=True, inline="always")
def reset_sample_s(count, x_pre, x_post, x_post2):
    """A sample's start: spike counts and traces to zero."""
    count[:] = 0
    x_pre[:] = 0
    x_post[:] = 0
    x_post2[:] = 0


@njit(cache=True, inline="always")
def mark_spikes_s(count, fired, pre_fired, s_pre, s_post, n_pre, n_post, stdp2):
    """Count the post spikes of this sample; with STDP2, flag the neurons (both sides) that
    spiked in the current window."""
    for i in range(n_post):
        count[i] += s_post[i]
    if stdp2:
        for j in range(n_pre):
            pre_fired[j] |= s_pre[j]
        for i in range(n_post):
            fired[i] |= s_post[i]


@njit(cache=True, inline="always")
def end_window_s(fired, pre_fired):
    """The end of an STDP2 update window: clear the window flags."""
    fired[:] = False
    pre_fired[:] = False


@njit(cache=True, inline="always")
def stdp2_k_s(count, n_post, n_th):
    """STDP2's potentiation factor ``k = ceil(maxN / N_th)`` (int64), ``maxN`` the largest
    spike count ``count[:n_post]`` of the population (0 for none)."""
    max_n = np.int64(0)
    for i in range(n_post):
        max_n = max(max_n, np.int64(count[i]))
    return (max_n + n_th - 1) // n_th
