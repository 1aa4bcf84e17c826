"""Host-side Processes of a lavalab deploy bundle (they run on the host CPU next to the
chip, never on a neuro-core; imports only numpy and Lava).

:class:`RasterSource` plays the input raster of every test digit in one Lava run;
:class:`SampleCounter` counts spikes per digit. On Loihi 2 they are joined to the chip
through lava-loihi's embedded-I/O adapters (``run.py``).
"""

from __future__ import annotations

import sys
import time

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
    of ``bits`` (``np.packbits`` of the (steps, n) raster along n), then zeros.

    ``progress``: every this many steps (0: never), one line on stderr with the steps
    and digits done and the time left at the rate so far (the run is one Lava ``run``:
    this is the only sign of life a long simulation gives)."""

    def __init__(self, *, bits: np.ndarray, n: int, progress: int = 0, period: int = 1,
                 name: str = "raster_source"):
        super().__init__(bits=bits, n=n, progress=progress, period=period, name=name)
        self.s_out = OutPort(shape=(n,))
        self.bits = Var(shape=bits.shape, init=bits)
        self.progress = Var(shape=(2,), init=np.array([progress, period]))


@implements(proc=RasterSource, protocol=LoihiProtocol)
@requires(CPU)
@tag("fixed_pt")
class PyRasterSourceModel(PyLoihiProcessModel):
    s_out: PyOutPort = LavaPyType(PyOutPort.VEC_DENSE, np.int32, precision=1)
    bits: np.ndarray = LavaPyType(np.ndarray, np.uint8, precision=8)
    progress: np.ndarray = LavaPyType(np.ndarray, np.int64, precision=32)

    def run_spk(self) -> None:
        n = self.s_out.shape[0]
        t = self.time_step - 1
        every, period = int(self.progress[0]), int(self.progress[1])
        if every and t % every == 0:
            self._report(t, period)
        if t < self.bits.shape[0]:
            row = np.unpackbits(np.asarray(self.bits[t], np.uint8))[:n]
        else:
            row = np.zeros(n)
        self.s_out.send(row.astype(np.int32))

    def _report(self, t: int, period: int) -> None:
        total = self.bits.shape[0]
        now = time.perf_counter()
        if t == 0 or not hasattr(self, "_t0"):
            self._t0 = (now, t)
        t_start, step0 = self._t0
        left = ""
        if t > step0:
            left = f", about {(now - t_start) / (t - step0) * (total - t):.0f} s left"
        print(f"run.py: step {t}/{total}, digit {t // period}/{total // period}{left}",
              file=sys.stderr, flush=True)


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
