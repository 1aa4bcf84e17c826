"""STDPDense: all-to-all learning synapses (STDP1 or STDP2).

The rules, their integer semantics and Loihi expressibility are documented once, in
:mod:`lavalab.dynamics.stdp`.
"""

from __future__ import annotations

import numpy as np
from lava.magma.core.process.ports.ports import InPort, OutPort
from lava.magma.core.process.variable import Var

from lavalab import fixed, validate
from lavalab import loihi_spec as spec
from lavalab.dynamics.stdp import STDPFixed, STDPFloat, STDPParams
from lavalab.processes._common import LavalabProcess

__all__ = ["STDPDense"]


class STDPDense(LavalabProcess):
    """Dense synapses from ``n_pre`` to ``n_post`` neurons that learn with STDP.

    Parameters
    ----------
    weights : array (n_post, n_pre)
        Initial weights: floats in [0, w_max] with float parameters, integers 0..w_max with
        :class:`STDPFixed`.
    params : STDPParams | STDPFloat | STDPFixed
        Run float parameters with ``select_tag="floating_pt"``, fixed with ``"fixed_pt"``.
    learn : bool
        Initial value of the ``learn`` Var (0 = weights, traces' learning frozen).
    weight_exp : int
        Fixed point only: output ``(W s) << weight_exp``, -8..7 (as Lava's Dense).
    seed : int
        Key of the counter-based random stream (stochastic rounding), 0..2**32-1.
    t_offset : int
        Global index of this run's first step (see ``PoissonEncoder``): keys the random
        stream and the sample / window schedule.

    Ports
    -----
    s_in : InPort (n_pre,) pre-synaptic spikes.
    s_post : InPort (n_post,) post-synaptic spikes (connect the post population's s_out).
    a_out : OutPort (n_post,) synaptic input; like Lava's Dense, what is sent at step t was
        computed from the spikes of step t-1 (one step of pipeline delay).

    Vars
    ----
    weights, x_pre, x_post, count, fired, pre_fired, x_post2 : see
        ``lavalab.dynamics.stdp.STDPState``.
    a_buff : (n_post,) the input to be sent next step.
    learn : (1,)
    n_updates : (1,) synapse (weight) updates so far, for the energy model.
    """

    def __init__(self, *, weights, params: STDPParams | STDPFloat | STDPFixed,
                 learn: bool = True, weight_exp: int = 0, seed: int = 0, t_offset: int = 0,
                 name: str | None = None):
        if isinstance(params, STDPParams):
            params = params.per_step()
        if not isinstance(params, (STDPFloat, STDPFixed)):
            raise TypeError(f"params must be STDPParams, STDPFloat or STDPFixed, got "
                            f"{type(params).__name__}")
        learn = validate.flag("learn", learn)
        w = np.asarray(weights)
        if w.dtype.kind not in "uif":
            raise ValueError(f"weights must be real numbers, got dtype {w.dtype}")
        if w.ndim != 2 or w.size == 0:
            raise ValueError(f"weights must be a non-empty (n_post, n_pre) matrix, got shape "
                             f"{w.shape}")
        precision = "fixed" if isinstance(params, STDPFixed) else "float"
        if precision == "fixed":
            fixed.check_int_range("weights", w, 0, params.w_max)
            fixed.check_int_range("weight_exp", weight_exp, spec.WEIGHT_EXP_MIN,
                                  spec.WEIGHT_EXP_MAX)
        else:
            if not np.all(np.isfinite(w)) or w.min() < 0 or w.max() > params.w_max:
                raise ValueError(f"weights span {w.min()}..{w.max()}, outside the allowed "
                                 f"range [0, {params.w_max}]")
            if weight_exp != 0:
                raise ValueError(f"weight_exp={weight_exp} applies to fixed point only (use 0)")
        fixed.check_int_range("seed", seed, 0, 2**32 - 1)
        fixed.check_int_range("t_offset", t_offset, 0, 2**62)
        n_post, n_pre = w.shape
        super().__init__(params=params, precision=precision, weight_exp=int(weight_exp),
                         seed=int(seed), t_offset=int(t_offset), name=name)
        self.s_in = InPort(shape=(n_pre,))
        self.s_post = InPort(shape=(n_post,))
        self.a_out = OutPort(shape=(n_post,))
        self.weights = Var(shape=(n_post, n_pre), init=w)
        self.x_pre = Var(shape=(n_pre,), init=0)
        self.x_post = Var(shape=(n_post,), init=0)
        self.x_post2 = Var(shape=(n_post,), init=0)
        self.count = Var(shape=(n_post,), init=0)
        self.fired = Var(shape=(n_post,), init=0)
        self.pre_fired = Var(shape=(n_pre,), init=0)
        self.a_buff = Var(shape=(n_post,), init=0)
        self.learn = Var(shape=(1,), init=int(bool(learn)))
        self.n_updates = Var(shape=(1,), init=0)
