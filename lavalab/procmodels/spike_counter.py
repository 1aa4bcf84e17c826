"""ProcessModels of :class:`~lavalab.processes.spike_counter.SpikeCounter` (integer counts in
both; the float model accepts float 0/1 spikes)."""

from __future__ import annotations

import numpy as np
from lava.magma.core.decorator import implements, requires, tag
from lava.magma.core.model.py.model import PyLoihiProcessModel
from lava.magma.core.model.py.ports import PyInPort
from lava.magma.core.model.py.type import LavaPyType
from lava.magma.core.resources import CPU
from lava.magma.core.sync.protocols.loihi_protocol import LoihiProtocol

from lavalab.dynamics.readout import count_step
from lavalab.processes.spike_counter import SpikeCounter

__all__ = ["PySpikeCounterModelFloat", "PySpikeCounterModelFixed"]


class _CounterModel(PyLoihiProcessModel):
    def run_spk(self):
        s = self.a_in.recv() != 0
        count, _ = count_step(self.count, self.counts, s, self.time_step - 1,
                              self.proc_params["sample_steps"])
        self.count[:] = count


@implements(proc=SpikeCounter, protocol=LoihiProtocol)
@requires(CPU)
@tag("floating_pt")
class PySpikeCounterModelFloat(_CounterModel):
    a_in: PyInPort = LavaPyType(PyInPort.VEC_DENSE, float)
    count: np.ndarray = LavaPyType(np.ndarray, np.int32)
    counts: np.ndarray = LavaPyType(np.ndarray, np.int32)


@implements(proc=SpikeCounter, protocol=LoihiProtocol)
@requires(CPU)
@tag("fixed_pt", "bit_accurate_loihi")
class PySpikeCounterModelFixed(_CounterModel):
    a_in: PyInPort = LavaPyType(PyInPort.VEC_DENSE, np.int32, precision=1)
    count: np.ndarray = LavaPyType(np.ndarray, np.int32)
    counts: np.ndarray = LavaPyType(np.ndarray, np.int32)
