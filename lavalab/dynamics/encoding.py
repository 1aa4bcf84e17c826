r"""Poisson rate encoding, reproducible by any backend, and the per-sample schedule.

Input ``j`` spikes at step ``t`` when

.. math:: U(seed, t, j) < \mathrm{round}(\min(1, x_j \cdot r_{max} \cdot dt) \cdot 2^{24})

with ``U`` the 24-bit counter-based uniform integer of :func:`lavalab.fixed.counter_uniform`
(stream ``"poisson"``), ``x_j`` in [0, 1] the intensity, ``r_max`` the maximal rate (Hz) and
``dt`` the step (s). The comparison is on integers, so float and fixed models, Lava and the
engine produce the identical raster. Samples follow one another: ``present_steps`` steps
of input, then ``rest_steps`` steps of silence.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from lavalab import fixed

__all__ = ["PROB_BITS", "spike_thresholds", "poisson_spikes", "schedule", "poisson_raster",
           "is_sample_start", "sample_start_s", "poisson_kernel", "poisson_active_kernel",
           "poisson_compact_kernel"]

PROB_BITS = 24
POISSON_STREAM = fixed.STREAMS["poisson"]


def spike_thresholds(intensity, max_rate_hz: float, dt_ms: float) -> np.ndarray:
    """Integer thresholds ``round(x * rate * dt * 2**24)`` for intensities in [0, 1]."""
    if not (math.isfinite(max_rate_hz) and max_rate_hz >= 0):
        raise ValueError(f"max_rate_hz={max_rate_hz!r} must be >= 0")
    if not (math.isfinite(dt_ms) and dt_ms > 0):
        raise ValueError(f"dt_ms={dt_ms!r} must be > 0")
    p_max = max_rate_hz * dt_ms * 1e-3
    if p_max > 1:
        raise ValueError(
            f"max_rate_hz={max_rate_hz} with dt_ms={dt_ms} gives a spike probability "
            f"{p_max:.3g} per step; the allowed range is 0..1 (max_rate_hz <= {1e3 / dt_ms:g})"
        )
    x = np.asarray(intensity, np.float64)
    if x.size and (not np.all(np.isfinite(x)) or x.min() < 0 or x.max() > 1):
        raise ValueError(f"intensities span {x.min()}..{x.max()}, outside the allowed range [0, 1]")
    return np.rint(x * p_max * 2.0**PROB_BITS).astype(np.int64)


@njit(cache=True, inline="always")
def _spike_s(threshold, key, j):
    """Whether input ``j`` with integer ``threshold`` spikes under the step's ``key``."""
    return threshold > 0 and fixed.uniform_s(key, j, PROB_BITS) < threshold


@njit(cache=True)
def poisson_kernel(thresholds, seed, t, out):
    """Spikes of step ``t`` into ``out`` (bool, same length as ``thresholds``)."""
    key = fixed.step_key_s(seed, POISSON_STREAM, t)
    for j in range(thresholds.size):
        out[j] = _spike_s(thresholds[j], key, j)


@njit(cache=True)
def poisson_active_kernel(thresholds, active, seed, t, out, idx):
    """:func:`poisson_kernel` for the inputs ``active`` (increasing indices: all inputs
    whose threshold is > 0; ``out`` must be False elsewhere, as no other input can spike).
    Writes the spiking inputs' indices, increasing, to ``idx`` and returns their number."""
    key = fixed.step_key_s(seed, POISSON_STREAM, t)
    n = 0
    for q in range(active.size):
        j = active[q]
        spike = _spike_s(thresholds[j], key, j)
        out[j] = spike
        idx[n] = j
        n += spike
    return n


@njit(cache=True)
def poisson_compact_kernel(thr_active, active, seed, t, out, idx, prev, n_prev, spk):
    """:func:`poisson_active_kernel` with the active inputs' thresholds given compactly
    (``thr_active[q]`` of input ``active[q]``, all > 0) and ``out`` False except at the
    ``n_prev`` inputs ``prev[:n_prev]`` (the previous step's spikes, which are cleared
    here; this step's are written to ``prev`` too). ``spk`` (uint8, at least
    ``len(active)``) is working memory. The draws are one branch-free loop over the active
    inputs (vectorised) and the listing another (a compaction without branches), so no
    spike costs a mispredicted branch. Writes the spiking inputs' indices, increasing, to
    ``idx`` and returns their number."""
    key = fixed.step_key_s(seed, POISSON_STREAM, t)
    for q in range(n_prev):
        out[prev[q]] = False
    m = active.size
    for q in range(m):
        spk[q] = fixed.uniform_s(key, active[q], PROB_BITS) < thr_active[q]
    n = 0
    for q in range(m):
        idx[n] = active[q]
        n += spk[q]
    for q in range(n):
        j = idx[q]
        out[j] = True
        prev[q] = j
    return n


def poisson_spikes(thresholds, seed: int, t: int) -> np.ndarray:
    """Spikes (bool, shape of ``thresholds``; leading axes batch) at step ``t``.

    The element index of the random stream is the index along the last axis.
    """
    thr = np.asarray(thresholds, np.int64)
    flat = np.ascontiguousarray(thr.reshape(-1, thr.shape[-1]))
    out = np.zeros(flat.shape, bool)
    for b in range(flat.shape[0]):
        poisson_kernel(flat[b], seed, t, out[b])
    return out.reshape(thr.shape)


@njit(cache=True, inline="always")
def sample_start_s(t, sample_steps):
    """Whether step ``t`` (0-based) starts a sample; ``sample_steps`` 0 means never."""
    return sample_steps > 0 and t % sample_steps == 0


def is_sample_start(t: int, sample_steps: int | None) -> bool:
    """Whether step ``t`` (0-based) starts a sample (never when ``sample_steps`` is None)."""
    return bool(sample_start_s(t, sample_steps or 0))


def schedule(t: int, present_steps: int, rest_steps: int) -> tuple[int, bool]:
    """(sample index, presenting?) at step ``t`` (0-based)."""
    period = present_steps + rest_steps
    return t // period, (t % period) < present_steps


def poisson_raster(intensities, max_rate_hz: float, dt_ms: float, present_steps: int,
                   rest_steps: int, seed: int, t_offset: int = 0) -> np.ndarray:
    """Whole raster (bool, (S * (present + rest), n)) for samples ``intensities`` (S, n),
    the first step being global step ``t_offset``."""
    thr = spike_thresholds(np.atleast_2d(intensities), max_rate_hz, dt_ms)
    period = present_steps + rest_steps
    out = np.zeros((thr.shape[0] * period, thr.shape[1]), bool)
    for t in range(out.shape[0]):
        k, on = schedule(t, present_steps, rest_steps)
        if on:
            out[t] = poisson_spikes(thr[k], seed, t_offset + t)
    return out
