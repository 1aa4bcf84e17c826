"""Time discretisation shared by every model: one place that maps a time constant to a
per-step decay."""

from __future__ import annotations

import math

__all__ = ["decay_fraction"]


def decay_fraction(tau_ms: float, dt_ms: float) -> float:
    """Fraction of a state removed per step of ``dt_ms`` by exponential decay with ``tau_ms``:
    ``1 - exp(-dt / tau)``; ``tau = 0`` gives 1 (the state lasts one step), ``tau = inf``
    gives 0 (no decay)."""
    if tau_ms == 0:
        return 1.0
    return 0.0 if math.isinf(tau_ms) else 1.0 - math.exp(-dt_ms / tau_ms)
