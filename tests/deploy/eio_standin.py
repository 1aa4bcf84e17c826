"""Stand-ins for lava-loihi's ``lava.proc.embedded_io.spike`` (not public): identity CPU
Processes with the adapters' constructor and ports (``shape``, ``num_message_bits``;
``inp`` -> ``out``), registered in ``sys.modules`` by :func:`install`."""

from __future__ import annotations

import sys
import types

import numpy as np
from lava.magma.core.decorator import implements, requires, tag
from lava.magma.core.model.py.model import PyLoihiProcessModel
from lava.magma.core.model.py.ports import PyInPort, PyOutPort
from lava.magma.core.model.py.type import LavaPyType
from lava.magma.core.process.ports.ports import InPort, OutPort
from lava.magma.core.process.process import AbstractProcess
from lava.magma.core.resources import CPU
from lava.magma.core.sync.protocols.loihi_protocol import LoihiProtocol


class _Adapter(AbstractProcess):
    def __init__(self, *, shape, num_message_bits: int = 0, name=None):
        super().__init__(shape=shape, num_message_bits=num_message_bits, name=name)
        self.inp = InPort(shape=shape)
        self.out = OutPort(shape=shape)


class PyToNxAdapter(_Adapter):
    """host -> chip (stand-in)"""


class NxToPyAdapter(_Adapter):
    """chip -> host (stand-in)"""


class _Identity(PyLoihiProcessModel):
    inp: PyInPort = LavaPyType(PyInPort.VEC_DENSE, np.int32, precision=24)
    out: PyOutPort = LavaPyType(PyOutPort.VEC_DENSE, np.int32, precision=24)

    def run_spk(self) -> None:
        self.out.send(self.inp.recv())


@implements(proc=PyToNxAdapter, protocol=LoihiProtocol)
@requires(CPU)
@tag("fixed_pt")
class PyToNxIdentityModel(_Identity):
    pass


@implements(proc=NxToPyAdapter, protocol=LoihiProtocol)
@requires(CPU)
@tag("fixed_pt")
class NxToPyIdentityModel(_Identity):
    pass


MODELS = {PyToNxAdapter: PyToNxIdentityModel, NxToPyAdapter: NxToPyIdentityModel}


def install(monkeypatch) -> None:
    """Make ``import lava.proc.embedded_io.spike`` give these stand-ins (undone by
    ``monkeypatch`` at the end of the test)."""
    pkg = types.ModuleType("lava.proc.embedded_io")
    spike = types.ModuleType("lava.proc.embedded_io.spike")
    spike.PyToNxAdapter, spike.NxToPyAdapter = PyToNxAdapter, NxToPyAdapter
    pkg.spike = spike
    monkeypatch.setitem(sys.modules, "lava.proc.embedded_io", pkg)
    monkeypatch.setitem(sys.modules, "lava.proc.embedded_io.spike", spike)
