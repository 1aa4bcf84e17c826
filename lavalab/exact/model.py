"""Forward / backward of an exact-spike-time network over a batch (numpy + numba kernels).

Spike trains are ``(times, counts)``: times float64 (B, N, K) with ``inf`` in unused
slots, counts int64 (B, N). Weights are a list of float64 (n_out, n_in) matrices.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from lavalab.compile.spike_grid import SpikeTimeBudget, to_grid
from lavalab.exact import kernels
from lavalab.exact.spec import ExactSpec

__all__ = ["encode_images", "init_weights", "Trace", "forward", "backward", "count_loss"]


def encode_images(images, window: float) -> tuple[np.ndarray, np.ndarray]:
    """One spike per pixel at ``window (1 - p / 255)``; p = 0 emits none.

    images : uint8 (B, ...) in 0..255. Returns times (B, n_pixels, 1), counts (B, n_pixels).
    """
    x = np.asarray(images)
    if x.dtype != np.uint8:
        raise ValueError(f"images dtype={x.dtype} must be uint8 (0..255)")
    x = x.reshape(x.shape[0], -1).astype(np.float64)
    t = window * (1.0 - x / 255.0)
    t[x == 0] = np.inf
    return t[:, :, None], (x > 0).astype(np.int64)


def init_weights(spec: ExactSpec, seed: int) -> list[np.ndarray]:
    """U(-weight_init, weight_init) weights, (n_out, n_in) per layer, from ``seed``."""
    rng = np.random.default_rng(seed)
    return [rng.uniform(-spec.weight_init, spec.weight_init, size=(n_out, n_in))
            for n_in, n_out in zip(spec.sizes[:-1], spec.sizes[1:], strict=True)]


@dataclass
class Trace:
    """What the backward pass needs: per layer the sorted inputs and the forward record."""

    pre: list
    fwd: list

    def spikes(self, layer: int) -> tuple[np.ndarray, np.ndarray]:
        """(emitted times (B, N, K), counts (B, N)) of a non-input layer (0 = first hidden)."""
        f = self.fwd[layer]
        return f[1], f[0]

    def continuous_times(self, layer: int) -> np.ndarray:
        """The continuous roots t_k behind the emitted (grid) times of ``layer``."""
        return self.fwd[layer][2]


def forward(spec: ExactSpec, weights, times, counts, budget: SpikeTimeBudget) -> Trace:
    """Run all layers on input spike trains; spikes emitted on the budget's dt grid."""
    if len(weights) != spec.n_layers:
        raise ValueError(f"weights: {len(weights)} matrices for {spec.n_layers} layers")
    times = np.asarray(times, dtype=np.float64)
    counts = np.asarray(counts, dtype=np.int64)
    if budget.grid_input:
        times = to_grid(times, budget.dt_s)
        # inputs delayed past the window are lost like any other late spike
        late = np.isfinite(times) & (times > budget.duration_s)
        if late.any():
            times = times.copy()
            times[late] = np.inf
            counts = np.isfinite(times).sum(axis=2).astype(np.int64)
    pres, fwds = [], []
    for layer, W in enumerate(weights):
        pre = kernels.sort_spikes(times, counts, spec.tau_s, spec.tau)
        pre_t, pre_i, _, pre_es, pre_e, pre_n = pre
        fwd = kernels.layer_forward(pre_t, pre_i, pre_es, pre_e, pre_n,
                                    np.ascontiguousarray(W, dtype=np.float64), spec.tau,
                                    spec.thresholds[layer], budget.dt_s, budget.duration_s,
                                    spec.max_spikes[layer])
        pres.append(pre)
        fwds.append(fwd)
        times, counts = fwd[1], fwd[0]
    return Trace(pres, fwds)


def backward(spec: ExactSpec, weights, trace: Trace, g_out) -> list[np.ndarray]:
    """dL/dW (mean over the batch) from ``g_out`` = dL/dt of the output spikes (B, N, K).

    Spike errors flow through the grid delay unchanged (straight-through estimator).
    """
    B = g_out.shape[0]
    grads = [None] * spec.n_layers
    g = g_out
    for layer in range(spec.n_layers - 1, -1, -1):
        n_pre = spec.sizes[layer]
        k_pre = 1 if layer == 0 else spec.max_spikes[layer - 1]
        grads[layer], g = kernels.layer_backward(
            g, trace.fwd[layer], trace.pre[layer], np.ascontiguousarray(weights[layer]),
            spec.tau_s, spec.tau, spec.thresholds[layer], n_pre, k_pre, 1.0 / B,
            need_pre=layer > 0)
    return grads


def count_loss(spec: ExactSpec, counts, labels) -> tuple[np.ndarray, np.ndarray]:
    """Spike-count loss ``1/2 sum_j (n_j - y_j)^2`` per sample and the BATS spike errors.

    Returns (loss (B,), g (B, N)): every output spike of neuron j gets the error
    ``g_j = y_j - n_j`` as its dL/dt (BATS: one more spike ~ an earlier spike).
    """
    counts = np.asarray(counts, dtype=np.float64)
    y = np.full(counts.shape, spec.target_false)
    y[np.arange(len(labels)), np.asarray(labels)] = spec.target_true
    return 0.5 * ((counts - y) ** 2).sum(axis=1), y - counts
