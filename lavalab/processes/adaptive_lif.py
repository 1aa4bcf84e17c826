"""AdaptiveLIF: current-based LIF with a Diehl & Cook adaptive threshold.

The equations and the integer semantics are documented once, in
:mod:`lavalab.dynamics.adaptive_lif`.
"""

from __future__ import annotations

import numpy as np
from lava.magma.core.process.ports.ports import InPort, OutPort
from lava.magma.core.process.variable import Var

from lavalab import fixed, validate
from lavalab.dynamics.adaptive_lif import AdaptiveLIFFixed, AdaptiveLIFFloat, AdaptiveLIFParams
from lavalab.processes._common import LavalabProcess, check_shape

__all__ = ["AdaptiveLIF"]


class AdaptiveLIF(LavalabProcess):
    """A population of adaptive-threshold LIF neurons.

    Parameters
    ----------
    shape : tuple of int
        Population shape.
    params : AdaptiveLIFParams | AdaptiveLIFFloat | AdaptiveLIFFixed
        Physical (converted with ``per_step()``) or per-step float parameters: run with
        ``select_tag="floating_pt"``. Loihi integer parameters: run with ``"fixed_pt"``.
    learn : bool
        Initial value of the ``learn`` Var: when 0, theta is frozen (inference).
    theta : float or array, optional
        Initial threshold adaptation (e.g. from a trained network), same units as v.
    sample_steps : int, optional
        Steps per sample: u, v and the refractory counter are reset to 0 at every
        multiple of it (a new sample). ``None``: never.
    seed, t_offset : key of the stochastic rounding of theta's decay (fixed point), and the
        global index of this run's first step (see ``PoissonEncoder``).
    name : str, optional

    Ports
    -----
    a_in : InPort, shape ``shape``: synaptic input to u.
    s_out : OutPort, shape ``shape``: spikes (0/1).

    Vars
    ----
    u, v, theta : neuron state (float, or integers in Loihi units).
    ref : remaining refractory steps.
    learn : (1,) 1 = adapt theta, 0 = frozen.
    """

    def __init__(self, *, shape: tuple[int, ...],
                 params: AdaptiveLIFParams | AdaptiveLIFFloat | AdaptiveLIFFixed,
                 learn: bool = True, theta=0, sample_steps: int | None = None,
                 seed: int = 0, t_offset: int = 0, name: str | None = None):
        shape = check_shape(shape)
        if isinstance(params, AdaptiveLIFParams):
            params = params.per_step()
        if not isinstance(params, (AdaptiveLIFFloat, AdaptiveLIFFixed)):
            raise TypeError(
                f"params must be AdaptiveLIFParams, AdaptiveLIFFloat or AdaptiveLIFFixed, "
                f"got {type(params).__name__}"
            )
        precision = "fixed" if isinstance(params, AdaptiveLIFFixed) else "float"
        learn = validate.flag("learn", learn)
        try:
            theta = np.broadcast_to(np.asarray(theta), shape).copy()
        except ValueError:
            raise ValueError(f"theta of shape {np.shape(theta)} does not fit the population "
                             f"shape {shape}") from None
        if theta.dtype.kind not in "uifb" or (theta.dtype.kind == "f"
                                              and not np.all(np.isfinite(theta))):
            raise ValueError(f"theta must be finite real numbers, got {theta.dtype} "
                             f"{theta.ravel()[:3]}")
        if precision == "float" and theta.size and theta.min() < 0:
            raise ValueError(f"theta={theta.min()} is negative (allowed: >= 0)")
        if precision == "fixed":
            fixed.check_int_range("theta", theta, 0, params.theta_max)
            if params.v_lsb and np.any(theta % (1 << params.v_lsb)):
                raise ValueError(f"theta must lie on the neuron grid (multiples of "
                                 f"2**v_lsb = {1 << params.v_lsb})")
        if sample_steps is not None:
            fixed.check_int_range("sample_steps", sample_steps, 1, 10**12)
        fixed.check_int_range("seed", seed, 0, 2**32 - 1)
        fixed.check_int_range("t_offset", t_offset, 0, 2**62)
        super().__init__(shape=shape, params=params, precision=precision,
                         sample_steps=sample_steps, seed=int(seed), t_offset=int(t_offset),
                         name=name)
        self.a_in = InPort(shape=shape)
        self.s_out = OutPort(shape=shape)
        self.u = Var(shape=shape, init=0)
        self.v = Var(shape=shape, init=0)
        self.theta = Var(shape=shape, init=theta)
        self.ref = Var(shape=shape, init=0)
        self.learn = Var(shape=(1,), init=int(bool(learn)))

    @property
    def params(self):
        return self.proc_params["params"]

    @property
    def precision(self) -> str:
        return self.proc_params["precision"]
