"""Numba kernels of the exact-spike-time (BATS) layer: forward and backward, one layer.

Neuron (CUBA LIF with soft reset, tau = 2 tau_s, Bacho & Chu 2022; BATS thesis eq. 1-9)::

    u(t) = tau * (b z - a z^2),   z = exp(-t / tau)
    a = sum_i w_i exp(t_i / tau_s)            (pre spikes received so far)
    b = sum_i w_i exp(t_i / tau) - c sum_k exp(t~_k / tau)   (own earlier spikes, reset)
    c = theta / tau
    u(t) = theta  <=>  t = tau ln(2a / (b + sqrt(b^2 - 4ac)))

The kernel walks a sample's pre spikes in time order and re-solves after each event: a
root in ``(last event, next pre spike]`` and ``<= duration`` is a spike. With a grid step
``dt > 0`` the spike is emitted (and the neuron reset) at ``t~ = d(t)``, the next multiple
of ``dt`` strictly after ``t`` (BATS thesis eq. 14); ``dt = 0`` is continuous time.

Backward (BATS exact gradients; straight-through estimator for ``d``: dt~/dt = 1)::

    f1_k = dt_k/da_k = tau / a_k (1 + c exp(t_k/tau) / x_k),   f2_k = -dt_k/db_k = tau / x_k
    dt_k/dw_i = sum_{pre z of i before k} f1_k exp(t_z/tau_s) - f2_k exp(t_z/tau)
    dt_k/dt_z = w_i (f1_k exp(t_z/tau_s) / tau_s - f2_k exp(t_z/tau) / tau)
    dt_m/dt~_k = c exp(t~_k/tau) / x_m  for the neuron's later spikes m > k (reset)

"Before k" is exactly the set of pre spikes the forward pass had added when it found
spike k (stored as ``n_in``), so forward and backward never disagree on ties.

Array shapes (B samples, P sorted pre spikes per sample, N neurons, K spike slots):
pre_t, pre_es, pre_e: float64 (B, P), ``inf`` / 0 past ``pre_n[b]``; pre_i: int64 (B, P)
pre neuron index; W: float64 (N, N_pre). Per post spike outputs are (B, N, K).
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit, prange

__all__ = ["grid_time", "layer_forward", "layer_backward", "sort_spikes"]


@njit(cache=True, inline="always")
def grid_time(t, dt):
    """BATS thesis eq. 14: ``t + dt - mod(t, dt)``, the next multiple of dt after t (dt = 0: t),
    computed as ``(floor(t / dt) + 1) dt`` so that it lies exactly on the float grid."""
    if dt <= 0.0:
        return t
    return (math.floor(t / dt) + 1.0) * dt


@njit(cache=True, parallel=True)
def sort_spikes(times, counts, tau_s, tau):
    """Flatten per-neuron spike trains (B, N, K) into time-sorted lists per sample.

    Returns pre_t (B, P), pre_i, pre_k (neuron and slot of each sorted spike), pre_es =
    exp(t / tau_s), pre_e = exp(t / tau), pre_n (B,). P = the largest spike count.
    """
    B, N, K = times.shape
    tot = np.zeros(B, np.int64)
    for b in range(B):
        s = 0
        for n in range(N):
            s += counts[b, n]
        tot[b] = s
    P = max(1, tot.max()) if B > 0 else 1
    pre_t = np.full((B, P), np.inf)
    pre_i = np.zeros((B, P), np.int64)
    pre_k = np.zeros((B, P), np.int64)
    pre_es = np.zeros((B, P))
    pre_e = np.zeros((B, P))
    for b in prange(B):
        tt = np.empty(tot[b])
        ii = np.empty(tot[b], np.int64)
        kk = np.empty(tot[b], np.int64)
        s = 0
        for n in range(N):
            for k in range(counts[b, n]):
                tt[s] = times[b, n, k]
                ii[s] = n
                kk[s] = k
                s += 1
        order = np.argsort(tt, kind="mergesort")
        for s in range(tot[b]):
            o = order[s]
            pre_t[b, s] = tt[o]
            pre_i[b, s] = ii[o]
            pre_k[b, s] = kk[o]
            pre_es[b, s] = math.exp(tt[o] / tau_s)
            pre_e[b, s] = math.exp(tt[o] / tau)
    return pre_t, pre_i, pre_k, pre_es, pre_e, tot


@njit(cache=True, parallel=True)
def layer_forward(pre_t, pre_i, pre_es, pre_e, pre_n, W, tau, theta, dt, duration, K):
    """Spike times of one layer for a batch (see the module docstring).

    Returns n (B, N) int64 spike counts, t_grid (B, N, K) emitted (grid) times, t_cont
    (continuous roots), a, x, e_cont = exp(t/tau), e_grid = exp(t~/tau), n_in (int64: pre
    spikes included at the root). Unused slots hold ``inf`` (times) or 0.
    """
    B = pre_t.shape[0]
    N = W.shape[0]
    c = theta / tau
    n_out = np.zeros((B, N), np.int64)
    t_grid = np.full((B, N, K), np.inf)
    t_cont = np.full((B, N, K), np.inf)
    a_out = np.zeros((B, N, K))
    x_out = np.zeros((B, N, K))
    ec_out = np.zeros((B, N, K))
    eg_out = np.zeros((B, N, K))
    nin_out = np.zeros((B, N, K), np.int64)
    for bj in prange(B * N):
        b = bj // N
        j = bj % N
        P = pre_n[b]
        a = 0.0
        bb = 0.0
        last = -np.inf
        i = 0
        ns = 0
        while ns < K:
            nxt = pre_t[b, i] if i < P else np.inf
            spiked = False
            if i > 0:
                disc = bb * bb - 4.0 * a * c
                if disc >= 0.0:
                    x = math.sqrt(disc)
                    den = bb + x
                    if den != 0.0:
                        il = 2.0 * a / den
                        if il > 0.0:
                            t = tau * math.log(il)
                            if t > last and t <= nxt and t <= duration:
                                tg = grid_time(t, dt)
                                if tg > duration:
                                    break  # emitted after the window: lost, and so are later ones
                                n_out[b, j] = ns + 1
                                t_grid[b, j, ns] = tg
                                t_cont[b, j, ns] = t
                                a_out[b, j, ns] = a
                                x_out[b, j, ns] = x
                                ec_out[b, j, ns] = il
                                eg = math.exp(tg / tau) if dt > 0.0 else il
                                eg_out[b, j, ns] = eg
                                nin_out[b, j, ns] = i
                                bb -= c * eg
                                last = tg
                                ns += 1
                                spiked = True
            if spiked:
                continue
            if i >= P:
                break
            w = W[j, pre_i[b, i]]
            a += w * pre_es[b, i]
            bb += w * pre_e[b, i]
            if pre_t[b, i] > last:
                last = pre_t[b, i]
            i += 1
    return n_out, t_grid, t_cont, a_out, x_out, ec_out, eg_out, nin_out


@njit(cache=True, parallel=True)
def _post_factors(g, n_out, a_out, x_out, ec_out, eg_out, tau, theta):
    """Adds the intra-neuron (reset) errors to g in place; returns f1*g, f2*g (B, N, K)."""
    B, N, K = g.shape
    c = theta / tau
    g1 = np.zeros((B, N, K))
    g2 = np.zeros((B, N, K))
    for bj in prange(B * N):
        b = bj // N
        j = bj % N
        cum = 0.0
        for k in range(n_out[b, j] - 1, -1, -1):
            g[b, j, k] += cum * eg_out[b, j, k]
            cum += g[b, j, k] * c / x_out[b, j, k]
        for k in range(n_out[b, j]):
            f1 = tau / a_out[b, j, k] * (1.0 + c * ec_out[b, j, k] / x_out[b, j, k])
            f2 = tau / x_out[b, j, k]
            g1[b, j, k] = g[b, j, k] * f1
            g2[b, j, k] = g[b, j, k] * f2
    return g1, g2


@njit(cache=True, parallel=True)
def _weight_grad(g1, g2, n_out, nin_out, pre_i, pre_es, pre_e, n_pre, scale):
    """dL/dW (N, N_pre) summed over the batch (times ``scale``), rows in parallel."""
    B, N, K = g1.shape
    grad = np.zeros((N, n_pre))
    for j in prange(N):
        for b in range(B):
            nj = n_out[b, j]
            if nj == 0:
                continue
            F1 = 0.0
            F2 = 0.0
            for k in range(nj):
                F1 += g1[b, j, k]
                F2 += g2[b, j, k]
            k = 0
            for s in range(nin_out[b, j, nj - 1]):
                while s >= nin_out[b, j, k]:  # spikes k found before pre spike s: drop them
                    F1 -= g1[b, j, k]
                    F2 -= g2[b, j, k]
                    k += 1
                grad[j, pre_i[b, s]] += scale * (F1 * pre_es[b, s] - F2 * pre_e[b, s])
    return grad


@njit(cache=True, parallel=True)
def _pre_errors(g1, g2, n_out, nin_out, pre_i, pre_es, pre_e, pre_n, W, tau_s, tau):
    """dL/dt of every sorted pre spike (B, P)."""
    B, N, K = g1.shape
    P = pre_i.shape[1]
    err = np.zeros((B, P))
    for b in prange(B):
        for j in range(N):
            nj = n_out[b, j]
            if nj == 0:
                continue
            F1 = 0.0
            F2 = 0.0
            for k in range(nj):
                F1 += g1[b, j, k]
                F2 += g2[b, j, k]
            k = 0
            for s in range(nin_out[b, j, nj - 1]):
                while s >= nin_out[b, j, k]:
                    F1 -= g1[b, j, k]
                    F2 -= g2[b, j, k]
                    k += 1
                w = W[j, pre_i[b, s]]
                err[b, s] += w * (F1 * pre_es[b, s] / tau_s - F2 * pre_e[b, s] / tau)
    return err


@njit(cache=True)
def _unsort(err, pre_i, pre_k, pre_n, N, K):
    B = err.shape[0]
    out = np.zeros((B, N, K))
    for b in range(B):
        for s in range(pre_n[b]):
            out[b, pre_i[b, s], pre_k[b, s]] += err[b, s]
    return out


def layer_backward(g, fwd, pre, W, tau_s, tau, theta, n_pre, k_pre, scale, need_pre=True):
    """Gradients of one layer from g = dL/dt of its spikes (B, N, K).

    ``fwd`` = the tuple returned by :func:`layer_forward`, ``pre`` = the tuple returned by
    :func:`sort_spikes` for its inputs. Returns (dL/dW * scale, dL/dt of the pre spikes as
    (B, n_pre, k_pre) or None).
    """
    n_out, _, _, a_out, x_out, ec_out, eg_out, nin_out = fwd
    pre_t, pre_i, pre_k, pre_es, pre_e, pre_n = pre
    g = np.array(g, dtype=np.float64, copy=True)
    g1, g2 = _post_factors(g, n_out, a_out, x_out, ec_out, eg_out, tau, theta)
    grad = _weight_grad(g1, g2, n_out, nin_out, pre_i, pre_es, pre_e, n_pre, scale)
    if not need_pre:
        return grad, None
    err = _pre_errors(g1, g2, n_out, nin_out, pre_i, pre_es, pre_e, pre_n, W, tau_s, tau)
    return grad, _unsort(err, pre_i, pre_k, pre_n, n_pre, k_pre)
