"""Gradient-trained SNNs through lava-dl (SLAYER training, netx deployment to Lava).

Typed spec (:mod:`~lavalab.supervised.spec`), SLAYER model and encoders
(:mod:`~lavalab.supervised.model`), seed 002's MRF and Omega
(:mod:`~lavalab.supervised.mrf`), training (:mod:`~lavalab.supervised.train`), torch and
Lava evaluation (:mod:`~lavalab.supervised.evaluate`). The lowering to the shared IR and the
design rules live in :mod:`lavalab.compile.supervised`.
"""

# Lava's runtime calls multiprocessing.set_start_method("fork") when it is first imported,
# which raises once anything has fixed the start method (a torch training run does):
# import it before any training so evaluation on Lava works in the same process.
import lava.magma.runtime.runtime  # noqa: E402, F401
