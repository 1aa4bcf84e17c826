"""Inhibition wiring: Diehl & Cook's inhibitory population and tinySNN's direct lateral
inhibition, as weight matrices and as connected Lava ``Dense`` processes.

Weight matrices are ``(n_post, n_pre)`` like Lava's ``Dense``.
"""

from __future__ import annotations

import numpy as np

__all__ = ["dc_inhibition_weights", "lateral_inhibition_weights", "connect_dense"]


def _check_n(n):
    if not (isinstance(n, (int, np.integer)) and n >= 1):
        raise ValueError(f"n={n!r} must be a positive integer")


def dc_inhibition_weights(n: int, w_exc_inh, w_inh_exc) -> tuple[np.ndarray, np.ndarray]:
    """Diehl & Cook: excitatory ``i`` -> inhibitory ``i`` (1:1, weight ``w_exc_inh`` >= 0) and
    inhibitory ``i`` -> every excitatory ``k != i`` (weight ``-w_inh_exc`` <= 0).

    Returns ``(W_exc_to_inh, W_inh_to_exc)``, both (n, n).
    """
    _check_n(n)
    if w_exc_inh < 0 or w_inh_exc < 0:
        raise ValueError(f"w_exc_inh={w_exc_inh} and w_inh_exc={w_inh_exc} are magnitudes: "
                         "allowed range >= 0")
    dt = np.result_type(w_exc_inh, w_inh_exc)
    w_ei = np.eye(n, dtype=dt) * w_exc_inh
    return w_ei, lateral_inhibition_weights(n, w_inh_exc)


def lateral_inhibition_weights(n: int, w_inh) -> np.ndarray:
    """tinySNN's direct lateral inhibition: excitatory ``i`` -> excitatory ``k != i`` with
    weight ``-w_inh`` (``w_inh`` >= 0, a magnitude); no inhibitory neurons."""
    _check_n(n)
    if w_inh < 0:
        raise ValueError(f"w_inh={w_inh} is a magnitude: allowed range >= 0")
    w = np.full((n, n), -w_inh, dtype=np.result_type(w_inh, np.int8))
    np.fill_diagonal(w, 0)
    return w


def connect_dense(src_port, dst_port, weights, num_weight_bits: int = 8, weight_exp: int = 0,
                  name: str | None = None):
    """A Lava ``Dense`` with ``weights`` from ``src_port`` (spikes) to ``dst_port``.

    Fixed-point runs use Lava's bit-accurate Dense: weights are integers in the 8-bit
    (+ sign) range and the output is shifted by ``weight_exp``.
    """
    from lava.proc.dense.process import Dense

    dense = Dense(weights=np.asarray(weights), num_weight_bits=num_weight_bits,
                  weight_exp=weight_exp, name=name)
    src_port.connect(dense.s_in)
    dense.a_out.connect(dst_port)
    return dense
