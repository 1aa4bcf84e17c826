"""lavalab: Loihi-targeted spiking neural networks on Lava.

Importing :mod:`lavalab` makes lava-nc 0.10.0 importable on Python 3.11+
(see :mod:`lavalab._compat`); it does not import Lava itself. It also routes the numba
cache of lavalab's compiled kernels to one folder per machine and state of their sources
(see :mod:`lavalab.kernel_cache`), as soon as numba is imported and before any of them is
defined; it does not import numba itself. The import's moment is the origin of the timing
every result file reports (:mod:`lavalab.timing`).
"""

from lavalab import _compat, kernel_cache, timing  # noqa: F401  (timing: its clock starts here)

_compat.install()
kernel_cache.install_when_numba_loads()

__version__ = "0.1.0"
__all__ = ["__version__"]
