"""ProcessModels of :class:`~lavalab.processes.poisson_encoder.PoissonEncoder`: both draw the
identical raster (integer comparison); they differ only in the type they send."""

from __future__ import annotations

import numpy as np
from lava.magma.core.decorator import implements, requires, tag
from lava.magma.core.model.py.model import PyLoihiProcessModel
from lava.magma.core.model.py.ports import PyOutPort
from lava.magma.core.model.py.type import LavaPyType
from lava.magma.core.resources import CPU
from lava.magma.core.sync.protocols.loihi_protocol import LoihiProtocol

from lavalab.dynamics.encoding import poisson_spikes, schedule
from lavalab.processes.poisson_encoder import PoissonEncoder

__all__ = ["PyPoissonEncoderModelFloat", "PyPoissonEncoderModelFixed"]


class _PoissonModel(PyLoihiProcessModel):
    def run_spk(self):
        p = self.proc_params
        local = self.time_step - 1
        k, on = schedule(local, p["present_steps"], p["rest_steps"])
        thr = self.thresholds[k % self.thresholds.shape[0]]
        t = p["t_offset"] + local
        s = poisson_spikes(thr, p["seed"], t) if on else np.zeros(thr.shape, bool)
        self.s_out.send(s)


@implements(proc=PoissonEncoder, protocol=LoihiProtocol)
@requires(CPU)
@tag("floating_pt")
class PyPoissonEncoderModelFloat(_PoissonModel):
    s_out: PyOutPort = LavaPyType(PyOutPort.VEC_DENSE, float)
    thresholds: np.ndarray = LavaPyType(np.ndarray, np.int64)


@implements(proc=PoissonEncoder, protocol=LoihiProtocol)
@requires(CPU)
@tag("fixed_pt", "bit_accurate_loihi")
class PyPoissonEncoderModelFixed(_PoissonModel):
    s_out: PyOutPort = LavaPyType(PyOutPort.VEC_DENSE, np.int32, precision=1)
    thresholds: np.ndarray = LavaPyType(np.ndarray, np.int64)
