"""ProcessModels of :class:`~lavalab.processes.adaptive_lif.AdaptiveLIF`.

Both only receive, call the step function of :mod:`lavalab.dynamics.adaptive_lif`
and send. Precision table of the fixed model: see that module.
"""

from __future__ import annotations

import numpy as np
from lava.magma.core.decorator import implements, requires, tag
from lava.magma.core.model.py.model import PyLoihiProcessModel
from lava.magma.core.model.py.ports import PyInPort, PyOutPort
from lava.magma.core.model.py.type import LavaPyType
from lava.magma.core.resources import CPU
from lava.magma.core.sync.protocols.loihi_protocol import LoihiProtocol

from lavalab.dynamics.adaptive_lif import LIFState, step_fixed, step_float
from lavalab.dynamics.encoding import is_sample_start
from lavalab.processes.adaptive_lif import AdaptiveLIF
from lavalab.procmodels._common import require_precision

__all__ = ["PyAdaptiveLIFModelFloat", "PyAdaptiveLIFModelFixed"]


class _AdaptiveLIFModel(PyLoihiProcessModel):
    _precision = ""
    _step = None

    def __init__(self, proc_params):
        super().__init__(proc_params)
        require_precision(self, self._precision)
        self.p = proc_params["params"]

    def run_spk(self):
        a_in = self.a_in.recv()
        state = LIFState(self.u, self.v, self.theta, self.ref)
        pp = self.proc_params
        t = pp["t_offset"] + self.time_step - 1
        reset = is_sample_start(t, pp["sample_steps"])
        new, s = type(self)._step(state, self.p, a_in, bool(self.learn[0]), reset, t,
                                  pp["seed"])
        self.u[:] = new.u
        self.v[:] = new.v
        self.theta[:] = new.theta
        self.ref[:] = new.ref
        self.s_out.send(s)


@implements(proc=AdaptiveLIF, protocol=LoihiProtocol)
@requires(CPU)
@tag("floating_pt")
class PyAdaptiveLIFModelFloat(_AdaptiveLIFModel):
    """Float model (float64 state)."""

    a_in: PyInPort = LavaPyType(PyInPort.VEC_DENSE, float)
    s_out: PyOutPort = LavaPyType(PyOutPort.VEC_DENSE, float)
    u: np.ndarray = LavaPyType(np.ndarray, float)
    v: np.ndarray = LavaPyType(np.ndarray, float)
    theta: np.ndarray = LavaPyType(np.ndarray, float)
    ref: np.ndarray = LavaPyType(np.ndarray, np.int32)
    learn: np.ndarray = LavaPyType(np.ndarray, np.int32, precision=1)
    _precision = "float"
    _step = staticmethod(step_float)


@implements(proc=AdaptiveLIF, protocol=LoihiProtocol)
@requires(CPU)
@tag("fixed_pt", "bit_accurate_loihi")
class PyAdaptiveLIFModelFixed(_AdaptiveLIFModel):
    """Loihi integer model: u, v signed 24-bit; theta unsigned theta_bits; ref 0..64."""

    a_in: PyInPort = LavaPyType(PyInPort.VEC_DENSE, np.int32, precision=24)
    s_out: PyOutPort = LavaPyType(PyOutPort.VEC_DENSE, np.int32, precision=1)
    u: np.ndarray = LavaPyType(np.ndarray, np.int32, precision=24)
    v: np.ndarray = LavaPyType(np.ndarray, np.int32, precision=24)
    theta: np.ndarray = LavaPyType(np.ndarray, np.int32, precision=24)
    ref: np.ndarray = LavaPyType(np.ndarray, np.int32, precision=7)
    learn: np.ndarray = LavaPyType(np.ndarray, np.int32, precision=1)
    _precision = "fixed"
    _step = staticmethod(step_fixed)
