"""ProcessModels of :class:`~lavalab.processes.stdp_dense.STDPDense`.

Per step: send the input computed last step, receive pre and post spikes, compute this
step's input with the current weights, then call the STDP step function of
:mod:`lavalab.dynamics.stdp` (step index ``t = time_step - 1``).
"""

from __future__ import annotations

import numpy as np
from lava.magma.core.decorator import implements, requires, tag
from lava.magma.core.model.py.model import PyLoihiProcessModel
from lava.magma.core.model.py.ports import PyInPort, PyOutPort
from lava.magma.core.model.py.type import LavaPyType
from lava.magma.core.resources import CPU
from lava.magma.core.sync.protocols.loihi_protocol import LoihiProtocol

from lavalab.dynamics.stdp import (
    STDPState,
    step_stdp_fixed,
    step_stdp_float,
    synapse_output_fixed,
    synapse_output_float,
)
from lavalab.processes.stdp_dense import STDPDense
from lavalab.procmodels._common import require_precision

__all__ = ["PySTDPDenseModelFloat", "PySTDPDenseModelFixed"]


class _STDPDenseModel(PyLoihiProcessModel):
    _precision = ""

    def __init__(self, proc_params):
        super().__init__(proc_params)
        require_precision(self, self._precision)
        self.p = proc_params["params"]
        self.seed = proc_params["seed"]
        self.weight_exp = proc_params["weight_exp"]

    def _output(self, s_pre):
        raise NotImplementedError

    def run_spk(self):
        self.a_out.send(self.a_buff)
        s_pre = self.s_in.recv().astype(bool)
        s_post = self.s_post.recv().astype(bool)
        self.a_buff[:] = self._output(s_pre)
        st = STDPState(self.weights, self.x_pre, self.x_post, self.count,
                       self.fired.astype(bool), self.pre_fired.astype(bool), self.x_post2)
        t = self.proc_params["t_offset"] + self.time_step - 1
        new, n_upd = type(self)._step(st, self.p, s_pre, s_post, t, bool(self.learn[0]),
                                      self.seed, True)
        self.n_updates[:] += n_upd
        self.weights[:] = new.w
        self.x_pre[:] = new.x_pre
        self.x_post[:] = new.x_post
        self.count[:] = new.count
        self.fired[:] = new.fired
        self.pre_fired[:] = new.pre_fired
        self.x_post2[:] = new.x_post2


@implements(proc=STDPDense, protocol=LoihiProtocol)
@requires(CPU)
@tag("floating_pt")
class PySTDPDenseModelFloat(_STDPDenseModel):
    """Float model."""

    s_in: PyInPort = LavaPyType(PyInPort.VEC_DENSE, float)
    s_post: PyInPort = LavaPyType(PyInPort.VEC_DENSE, float)
    a_out: PyOutPort = LavaPyType(PyOutPort.VEC_DENSE, float)
    weights: np.ndarray = LavaPyType(np.ndarray, float)
    x_pre: np.ndarray = LavaPyType(np.ndarray, float)
    x_post: np.ndarray = LavaPyType(np.ndarray, float)
    x_post2: np.ndarray = LavaPyType(np.ndarray, float)
    count: np.ndarray = LavaPyType(np.ndarray, np.int32)
    fired: np.ndarray = LavaPyType(np.ndarray, np.int32, precision=1)
    pre_fired: np.ndarray = LavaPyType(np.ndarray, np.int32, precision=1)
    a_buff: np.ndarray = LavaPyType(np.ndarray, float)
    learn: np.ndarray = LavaPyType(np.ndarray, np.int32, precision=1)
    n_updates: np.ndarray = LavaPyType(np.ndarray, np.int64)
    _precision = "float"
    _step = staticmethod(step_stdp_float)

    def _output(self, s_pre):
        return synapse_output_float(self.weights, s_pre)


@implements(proc=STDPDense, protocol=LoihiProtocol)
@requires(CPU)
@tag("fixed_pt", "bit_accurate_loihi")
class PySTDPDenseModelFixed(_STDPDenseModel):
    """Loihi integer model: weights 8-bit unsigned, traces 7-bit, 16-bit learning accumulator."""

    s_in: PyInPort = LavaPyType(PyInPort.VEC_DENSE, np.int32, precision=1)
    s_post: PyInPort = LavaPyType(PyInPort.VEC_DENSE, np.int32, precision=1)
    a_out: PyOutPort = LavaPyType(PyOutPort.VEC_DENSE, np.int32, precision=24)
    weights: np.ndarray = LavaPyType(np.ndarray, np.int32, precision=8)
    x_pre: np.ndarray = LavaPyType(np.ndarray, np.int32, precision=7)
    x_post: np.ndarray = LavaPyType(np.ndarray, np.int32, precision=7)
    x_post2: np.ndarray = LavaPyType(np.ndarray, np.int32, precision=7)
    count: np.ndarray = LavaPyType(np.ndarray, np.int32)
    fired: np.ndarray = LavaPyType(np.ndarray, np.int32, precision=1)
    pre_fired: np.ndarray = LavaPyType(np.ndarray, np.int32, precision=1)
    a_buff: np.ndarray = LavaPyType(np.ndarray, np.int32, precision=24)
    learn: np.ndarray = LavaPyType(np.ndarray, np.int32, precision=1)
    n_updates: np.ndarray = LavaPyType(np.ndarray, np.int64)
    _precision = "fixed"
    _step = staticmethod(step_stdp_fixed)

    def _output(self, s_pre):
        return synapse_output_fixed(self.weights, s_pre, self.weight_exp)
