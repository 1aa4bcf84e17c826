"""The typed records the step loop takes: parameters, state arrays, outputs.

:func:`lavalab.engine.core.simulate` receives four records (numba-friendly named tuples of
scalars, tuples and arrays) instead of 50 positional arguments:

- :class:`Params`: what stays fixed during a call (the kernels' arguments of one
  precision, :class:`Wiring`, the sample schedule, seeds and switches);
- :class:`State`: the network's arrays, updated in place (:class:`Synapses`, the two
  populations' :class:`~lavalab.dynamics.adaptive_lif.LIFState`, :class:`Buffers`);
- :class:`Output`: per-sample counts and events, the raster, the profile counters;
- the input thresholds and the first step (plain arguments).

:func:`params` builds the parameters of a network at one precision (the record type of
``Params.kernels`` selects the compiled kernels, see :mod:`lavalab.engine.kernels`).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from lavalab.dynamics import adaptive_lif as lif
from lavalab.dynamics import stdp
from lavalab.dynamics.adaptive_lif import LIFState
from lavalab.engine.kernels import FixedKernels, FloatKernels
from lavalab.networks.snn import FixedNetwork, NetworkSpec

__all__ = ["Synapses", "Buffers", "State", "Output", "Wiring", "Params", "params",
           "LIFState"]


class Synapses(NamedTuple):
    """The learning (input) synapses, as in the Lava Vars except ``wt``: the weights
    transposed, (n_input, n_exc) C-contiguous (a spike's accumulation reads one row; the
    learning kernel sees ``wt.T``); uint16 in fixed point, float64 in float."""

    wt: np.ndarray
    x_pre: np.ndarray
    x_post: np.ndarray
    cnt: np.ndarray
    fired: np.ndarray
    pre_fired: np.ndarray
    x_post2: np.ndarray


class Buffers(NamedTuple):
    """The connections' one-step delays and the spikes of the last step.

    a_syn : input synapses -> excitatory (the loop's working copy: int32 where every sum
        of input weights fits, written back by the caller)
    a_ie / a_ei : inhibitory -> excitatory / excitatory -> inhibitory
    a_lat : lateral excitatory -> excitatory inhibition (tinySNN)
    a_exc : working memory: the excitatory neurons' summed input
    s_in / s_exc / s_inh : spikes of the encoder and of the two populations
    """

    a_syn: np.ndarray
    a_ie: np.ndarray
    a_ei: np.ndarray
    a_lat: np.ndarray
    a_exc: np.ndarray
    s_in: np.ndarray
    s_exc: np.ndarray
    s_inh: np.ndarray


class State(NamedTuple):
    """Everything the step loop updates in place."""

    syn: Synapses
    exc: LIFState
    inh: LIFState
    buf: Buffers


class Output(NamedTuple):
    """counts (S, n_exc) and events (S, N_EVENTS) per sample (added to); record
    (steps, n_exc): the excitatory raster when it has rows; prof (int64,
    ``len(PROFILE_SECTIONS)``): CPU cycles per section when it has elements."""

    counts: np.ndarray
    events: np.ndarray
    record: np.ndarray
    prof: np.ndarray


class Wiring(NamedTuple):
    """The inhibition: which connections exist and their weight mantissas and exponents
    (integers in fixed point; floats in mV with exponents 0), and the input exponent."""

    has_inh: bool
    has_lat: bool
    w_ei: int | float
    exp_ei: int
    w_ie: int | float
    exp_ie: int
    w_lat: int | float
    exp_lat: int
    exp_in: int


class Params(NamedTuple):
    """What stays fixed during one call of the step loop.

    seed : the encoder draws with ``seed``, the learning synapses with ``seed + 1``, the
        excitatory neurons with ``seed + 2`` and the inhibitory ones with ``seed + 3`` (as
        the Lava backend)
    learn : step the learning synapses (else their traces influence nothing)
    skip_quiet : end a sample early once nothing can happen until its end (exact)
    skip_learn : allow that while learning (the rule has no update window and the learning
        synapses reset at each sample start)
    inh_live_ok : step only the inhibitory neurons not at rest (the conditions of
        :func:`lavalab.dynamics.adaptive_lif.lif_fixed_live_kernel` hold)
    compact_pre : the learning kernel may keep only the sample's active inputs' traces
        (fixed point, learning synapses reset at each sample start)
    """

    kernels: FixedKernels | FloatKernels
    wiring: Wiring
    present: int
    rest: int
    seed: int
    learn: bool
    skip_quiet: bool
    skip_learn: bool
    inh_live_ok: bool
    compact_pre: bool


def _can_skip_learning(s: NetworkSpec, rule: str, sample_steps) -> bool:
    """Whether training may end a quiet sample early: every step is a learning step (no
    STDP2 window whose flags outlive the input) and the learning synapses reset at every
    sample start (their schedule is the network's)."""
    return rule != "stdp2" and sample_steps == s.sample_steps


def params(s: NetworkSpec, precision: str, fixed: FixedNetwork | None, seed: int,
           learn: bool, skip_quiet: bool) -> Params:
    """The step loop's parameters of network ``s`` at ``precision`` (``fixed``: its
    lowering, for ``"fixed"``)."""
    if precision == "fixed":
        f = fixed
        inh_p = f.inh if f.inh is not None else f.exc
        exc = lif.fixed_args(f.exc)
        kernels = FixedKernels(
            exc=exc, inh=lif.fixed_args(f.inh) if f.inh is not None else exc,
            exc_theta=lif.theta_args(f.exc), inh_theta=lif.theta_args(inh_p),
            inh_live=lif.live_args(inh_p), stdp=stdp.fixed_args(f.stdp))
        wiring = Wiring(s.has_inh, s.kind == "tinysnn", f.w_ei, f.exp_ei, f.w_ie, f.exp_ie,
                        f.w_lat, f.exp_lat, f.exp_in)
        skip_learn = _can_skip_learning(s, f.stdp.rule, f.stdp.sample_steps)
        inh_live_ok = (f.inh is not None and f.inh.bias_mant == 0 and f.inh.decay_theta == 0
                       and not f.inh.one_spike and not f.inh.one_spike_infer)
        compact_pre = skip_learn
    else:
        exc_p, inh_p, w_ei, w_ie, w_lat = s.in_weight_units()
        exc_f = exc_p.per_step()
        inh_f = inh_p.per_step() if inh_p is not None else exc_f
        kernels = FloatKernels(
            exc=lif.float_args(exc_f), inh=lif.float_args(inh_f),
            exc_theta=lif.theta_args(exc_f), inh_theta=lif.theta_args(inh_f), inh_live=(0,),
            stdp=stdp.float_args(s.stdp.per_step()))
        wiring = Wiring(s.has_inh, s.kind == "tinysnn", float(w_ei), 0, float(w_ie), 0,
                        float(w_lat), 0, 0)
        skip_learn = _can_skip_learning(s, s.stdp.rule, s.stdp.sample_steps)
        inh_live_ok = compact_pre = False
    return Params(kernels, wiring, s.present_steps, s.rest_steps, int(seed), bool(learn),
                  bool(skip_quiet), skip_learn, inh_live_ok, compact_pre)
