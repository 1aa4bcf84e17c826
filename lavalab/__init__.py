"""lavalab: Loihi-targeted spiking neural networks on Lava.

Importing :mod:`lavalab` makes lava-nc 0.10.0 importable on Python 3.11+
(see :mod:`lavalab._compat`); it does not import Lava itself. The import's moment is the
origin of the timing every result file reports (:mod:`lavalab.timing`).
"""

from lavalab import _compat, timing  # noqa: F401  (timing: its clock starts here)

_compat.install()

__version__ = "0.1.0"
__all__ = ["__version__"]
