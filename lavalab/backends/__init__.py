"""Execution backends: ``engine`` (batched, compiled), ``lava`` (Lava CPU simulation,
Loihi2SimCfg) and ``loihi`` (Lava on Loihi hardware via Intel's lava-loihi)."""

BACKENDS = ("engine", "lava", "loihi")
