"""Time budget of a continuous-time (exact spike time) network: the dt grid (BATS thesis).

requires
    spike times in seconds (any shape, ``inf`` = no spike).
ensures
    :func:`to_grid` returns new arrays: every finite time delayed to the next multiple of
    ``dt`` strictly after it, ``d(t) = (floor(t / dt) + 1) dt = t + dt - mod(t, dt)``
    (BATS thesis eq. 14: a discrete system cannot emit a spike before its continuous
    crossing); ``dt = 0`` returns the times unchanged (continuous time). Nothing is mutated.

Training uses ``d`` in the forward pass and the straight-through estimator
``d'(t) := 1`` in the backward pass (BATS thesis eq. 15-16); see :mod:`lavalab.exact`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from lavalab import fixed

__all__ = ["SpikeTimeBudget", "to_grid"]


@dataclass(frozen=True)
class SpikeTimeBudget:
    """The time axis of an exact-spike-time network.

    dt_s : grid step (s), 0 = continuous time, else in [1e-6, duration_s]
    duration_s : simulated window per sample (s), (0, 100]
    grid_input : also delay the input spikes to the grid (a chip sees them on steps too)
    """

    dt_s: float = 0.0
    duration_s: float = 0.2
    grid_input: bool = True

    def __post_init__(self):
        fixed.check_real("duration_s", self.duration_s, lo=1e-6, hi=100.0)
        fixed.check_real("dt_s", self.dt_s, lo=0.0, hi=self.duration_s)
        if 0.0 < self.dt_s < 1e-6:
            raise ValueError(f"dt_s={self.dt_s!r} is outside the allowed range: 0 "
                             f"(continuous) or [1e-06, {self.duration_s}]")
        if not isinstance(self.grid_input, bool):
            raise ValueError(f"grid_input={self.grid_input!r} must be a bool")

    @property
    def continuous(self) -> bool:
        return self.dt_s == 0.0

    @property
    def steps(self) -> int:
        """Grid steps per sample (``floor(duration / dt)``, the last grid time inside the
        window); 0 in continuous time."""
        if self.continuous:
            return 0
        return int(math.floor(self.duration_s / self.dt_s + 1e-9))


def to_grid(times, dt_s: float) -> np.ndarray:
    """``d(t) = (floor(t / dt) + 1) dt`` for finite times (``inf`` stays); dt = 0: identity."""
    t = np.array(times, dtype=np.float64, copy=True)
    if dt_s == 0.0:
        return t
    fin = np.isfinite(t)
    t[fin] = (np.floor(t[fin] / dt_s) + 1.0) * dt_s
    return t
