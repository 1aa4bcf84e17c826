"""SpikeCounter: per-sample spike counts of a population (the readout)."""

from __future__ import annotations

from lava.magma.core.process.ports.ports import InPort
from lava.magma.core.process.variable import Var

from lavalab import fixed
from lavalab.processes._common import LavalabProcess

__all__ = ["SpikeCounter"]


class SpikeCounter(LavalabProcess):
    """Counts spikes of ``n`` neurons per sample of ``sample_steps`` steps.

    Ports / Vars
    ------------
    a_in : InPort (n,) spikes.
    count : Var (n,) spikes so far in the current sample (reset at each sample start).
    counts : Var (num_samples, n) the count of each finished sample, in order.
    """

    def __init__(self, *, n: int, sample_steps: int, num_samples: int,
                 name: str | None = None):
        fixed.check_int_range("n", n, 1, 10**7)
        fixed.check_int_range("sample_steps", sample_steps, 1, 10**9)
        fixed.check_int_range("num_samples", num_samples, 1, 10**7)
        super().__init__(sample_steps=int(sample_steps), name=name)
        self.a_in = InPort(shape=(n,))
        self.count = Var(shape=(n,), init=0)
        self.counts = Var(shape=(num_samples, n), init=0)
