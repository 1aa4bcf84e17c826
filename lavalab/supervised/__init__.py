"""Gradient-trained SNNs through lava-dl (SLAYER training, netx deployment to Lava).

Typed spec (:mod:`~lavalab.networks.supervised`), SLAYER model and encoders
(:mod:`~lavalab.supervised.model`), Yao et al.'s MRF and Omega
(:mod:`~lavalab.networks.mrf`), training (:mod:`~lavalab.supervised.train`), torch and
Lava evaluation (:mod:`~lavalab.supervised.evaluate`). The lowering to the shared IR and the
design rules live in :mod:`lavalab.compile.supervised`.
"""

