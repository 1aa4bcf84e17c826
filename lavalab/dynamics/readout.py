"""Spike-count readout with a per-sample reset."""

from __future__ import annotations

import numpy as np

__all__ = ["count_step"]


def count_step(count, history, s, t: int, sample_steps: int):
    """Add spikes ``s`` at step ``t`` (0-based) to ``count``; reset at each sample start.

    At the last step of sample ``k`` the count is stored in ``history[..., k, :]`` (when
    ``k`` is within ``history``). Returns ``(count, history)``; ``history`` is updated in
    place.
    """
    count = np.where(t % sample_steps == 0, 0, count) + np.asarray(s, np.int64)
    k = t // sample_steps
    if t % sample_steps == sample_steps - 1 and k < history.shape[-2]:
        history[..., k, :] = count
    return count, history
