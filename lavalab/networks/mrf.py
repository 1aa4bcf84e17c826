"""Yao et al. 2024 (arXiv 2401.10843): the multi-receptive-field membrane
potential and the projection function Omega.

The paper partitions the membrane potential into groups with non-dilated and dilated
windows, so that within one step a neuron accumulates input from several receptive fields
and from neighbouring neurons, and merges the stimulus with this "recurrence information"
through a sine-based projection Omega with a radian factor theta. The summary we have
does not give the formulas; our choices (documented, measured in ``lavalab study
latency``):

MRF (:func:`mrf_matrix`)
    a fixed linear map ``G`` (n x n) of a hidden layer's synaptic input ``z = W x``:
    ``m = G z`` with ``G[i, i + j*d_g] = 1/window`` for the window positions inside neuron
    i's group g (:class:`~lavalab.networks.supervised.MRFSpec`). It acts on the synaptic input,
    not on the stored potential, so it commutes with the CUBA decays and the reset and
    **folds exactly into the weights**: ``m = (G W) x``. The folded matrix is what is
    trained (through SLAYER's weight hook) and exported; it has the same shape as W.

Omega (:func:`omega`)
    ``Omega(m) = (V / theta) * sin(theta * m / V)`` with V the layer's threshold, applied
    to the MRF-mixed input before the neuron integrates it. For small ``m / V`` it is the
    identity; it bounds the drive to ``V / theta`` and bends it back beyond
    ``m = pi V / (2 theta)`` (the "smoothing, prevents over-activation" of the paper).
    theta in the paper's sweep: 0.1 .. 0.9. A sine of the input current is not a stock
    Loihi neuron: networks with Omega are not deployable
    (:func:`lavalab.compile.supervised.projection_is_stock_neuron`).
"""

from __future__ import annotations

import numpy as np

from lavalab.networks.supervised import MRFSpec

__all__ = ["group_bounds", "mrf_matrix", "omega"]


def group_bounds(n: int, mrf: MRFSpec) -> list[tuple[int, int]]:
    """``[(start, stop), ...]`` of the MRF groups of an ``n``-neuron layer."""
    k = len(mrf.dilations)
    if mrf.group_sizes is not None:
        sizes = list(mrf.group_sizes)
        if sum(sizes) != n:
            raise ValueError(f"mrf.group_sizes={mrf.group_sizes} do not add up to {n}")
    else:
        if n < k:
            raise ValueError(f"a layer of {n} neurons cannot hold {k} MRF groups")
        sizes = [n // k] * (k - 1) + [n - (n // k) * (k - 1)]
    out, a = [], 0
    for s in sizes:
        out.append((a, a + s))
        a += s
    return out


def mrf_matrix(n: int, mrf: MRFSpec) -> np.ndarray:
    """The MRF map ``G`` (float64, n x n) of an ``n``-neuron layer (module doc)."""
    g = np.zeros((n, n))
    half = (mrf.window - 1) // 2
    for (a, b), d in zip(group_bounds(n, mrf), mrf.dilations, strict=True):
        for i in range(a, b):
            for j in range(-half, half + 1):
                k = i + j * d
                if a <= k < b:
                    g[i, k] += 1.0 / mrf.window
    return g


def omega(m, theta: float, v_th: float):
    """``(v_th / theta) * sin(theta * m / v_th)`` of a torch tensor or numpy array."""
    lib = np
    if not isinstance(m, np.ndarray):
        import torch

        lib = torch
    return (v_th / theta) * lib.sin(theta * m / v_th)
