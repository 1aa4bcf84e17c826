"""PoissonEncoder: rate-coded spike trains of a sequence of samples (see
:mod:`lavalab.dynamics.encoding` for the exact, backend-independent definition)."""

from __future__ import annotations

import numpy as np
from lava.magma.core.process.ports.ports import OutPort
from lava.magma.core.process.variable import Var

from lavalab import fixed
from lavalab.dynamics.encoding import spike_thresholds
from lavalab.processes._common import LavalabProcess

__all__ = ["PoissonEncoder"]


class PoissonEncoder(LavalabProcess):
    """Poisson spikes from intensities, one sample after another.

    Parameters
    ----------
    intensities : array (S, n) or (n,)
        Sample intensities in [0, 1] (e.g. pixels / 255).
    max_rate_hz : float
        Rate of intensity 1 (Diehl & Cook: 63.75 Hz); ``max_rate_hz * dt`` must be <= 1.
    dt_ms : float
        Step size in ms.
    present_steps, rest_steps : int
        Steps of input per sample, then steps of silence. After the last sample the
        sequence starts again.
    seed : int
        Key of the counter-based random stream, 0..2**32-1.
    t_offset : int
        Global index of this run's first step (a multiple of ``present_steps + rest_steps``):
        a run continuing an earlier one draws the spikes the single long run would have.

    Ports / Vars
    ------------
    s_out : OutPort (n,)
    thresholds : Var (S, n) integer spike thresholds (``2**24`` = always).
    """

    def __init__(self, *, intensities, max_rate_hz: float, dt_ms: float = 1.0,
                 present_steps: int, rest_steps: int = 0, seed: int = 0, t_offset: int = 0,
                 name: str | None = None):
        x = np.atleast_2d(np.asarray(intensities, np.float64))
        if x.ndim != 2 or x.size == 0:
            raise ValueError(f"intensities must be (S, n) or (n,), got shape {x.shape}")
        thr = spike_thresholds(x, max_rate_hz, dt_ms)
        fixed.check_int_range("present_steps", present_steps, 1, 10**9)
        fixed.check_int_range("rest_steps", rest_steps, 0, 10**9)
        fixed.check_int_range("seed", seed, 0, 2**32 - 1)
        fixed.check_int_range("t_offset", t_offset, 0, 2**62)
        if t_offset % (present_steps + rest_steps):
            raise ValueError(f"t_offset={t_offset} is not a multiple of the sample period "
                             f"{present_steps + rest_steps}")
        super().__init__(present_steps=int(present_steps), rest_steps=int(rest_steps),
                         seed=int(seed), t_offset=int(t_offset), name=name)
        self.s_out = OutPort(shape=(x.shape[1],))
        self.thresholds = Var(shape=thr.shape, init=thr)
