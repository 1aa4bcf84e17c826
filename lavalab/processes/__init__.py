"""lavalab's Lava Processes (interfaces; their models are in :mod:`lavalab.procmodels`).

Run them with :class:`lavalab.backends.run_configs.Loihi2SimCfg` (Lava's own run
configurations do not find lavalab's ProcessModels; a ``NoProcessModelFound`` then carries
that hint).
"""

from lavalab.processes.adaptive_lif import AdaptiveLIF
from lavalab.processes.poisson_encoder import PoissonEncoder
from lavalab.processes.spike_counter import SpikeCounter
from lavalab.processes.stdp_dense import STDPDense

__all__ = ["AdaptiveLIF", "PoissonEncoder", "SpikeCounter", "STDPDense"]
