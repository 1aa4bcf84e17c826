"""Host-side Processes of a lavalab deploy bundle (they run on the host CPU next to the
chip, never on a neuro-core; imports only numpy and Lava).

:class:`RasterSource` plays the input raster of every test digit in one Lava run;
:class:`SampleCounter` counts spikes per digit. On Loihi 2 they are joined to the chip
through lava-loihi's embedded-I/O adapters (``run.py``).
"""

from __future__ import annotations

import numpy as np
from lava.magma.core.decorator import implements, requires, tag
from lava.magma.core.model.py.model import PyLoihiProcessModel
from lava.magma.core.model.py.ports import PyInPort, PyOutPort
from lava.magma.core.model.py.type import LavaPyType
from lava.magma.core.process.ports.ports import InPort, OutPort
from lava.magma.core.process.process import AbstractProcess
from lava.magma.core.process.variable import Var
from lava.magma.core.resources import CPU
from lava.magma.core.sync.protocols.loihi_protocol import LoihiProtocol


class RasterSource(AbstractProcess):
    """Binary spikes of a whole test set: at Lava step ``t`` (from 1) sends row ``t - 1``
    of ``bits`` (``np.packbits`` of the (steps, n) raster along n), then zeros."""

    def __init__(self, *, bits: np.ndarray, n: int, name: str = "raster_source"):
        super().__init__(bits=bits, n=n, name=name)
        self.s_out = OutPort(shape=(n,))
        self.bits = Var(shape=bits.shape, init=bits)


@implements(proc=RasterSource, protocol=LoihiProtocol)
@requires(CPU)
@tag("fixed_pt")
class PyRasterSourceModel(PyLoihiProcessModel):
    s_out: PyOutPort = LavaPyType(PyOutPort.VEC_DENSE, np.int32, precision=1)
    bits: np.ndarray = LavaPyType(np.ndarray, np.uint8, precision=8)

    def run_spk(self) -> None:
        n = self.s_out.shape[0]
        t = self.time_step - 1
        if t < self.bits.shape[0]:
            row = np.unpackbits(np.asarray(self.bits[t], np.uint8))[:n]
        else:
            row = np.zeros(n)
        self.s_out.send(row.astype(np.int32))


class SampleCounter(AbstractProcess):
    """Spikes per sample: step ``t`` (from 1) adds its spikes to row
    ``(t - 1 - offset) // period`` of ``counts`` (samples, n)."""

    def __init__(self, *, n: int, period: int, samples: int, offset: int = 0,
                 name: str = "counter"):
        super().__init__(n=n, period=period, samples=samples, offset=offset, name=name)
        self.a_in = InPort(shape=(n,))
        self.counts = Var(shape=(samples, n), init=0)
        self.period = Var(shape=(1,), init=period)
        self.offset = Var(shape=(1,), init=offset)


@implements(proc=SampleCounter, protocol=LoihiProtocol)
@requires(CPU)
@tag("fixed_pt")
class PySampleCounterModel(PyLoihiProcessModel):
    a_in: PyInPort = LavaPyType(PyInPort.VEC_DENSE, np.int32, precision=24)
    counts: np.ndarray = LavaPyType(np.ndarray, np.int64, precision=32)
    period: np.ndarray = LavaPyType(np.ndarray, np.int64, precision=32)
    offset: np.ndarray = LavaPyType(np.ndarray, np.int64, precision=32)

    def run_spk(self) -> None:
        s = self.a_in.recv()
        k = (self.time_step - 1 - int(self.offset[0])) // int(self.period[0])
        if 0 <= k < self.counts.shape[0]:
            self.counts[k] += (np.asarray(s) != 0)


#: the host models, for ``exception_proc_model_map`` of either run configuration
HOST_MODELS = {RasterSource: PyRasterSourceModel, SampleCounter: PySampleCounterModel}
