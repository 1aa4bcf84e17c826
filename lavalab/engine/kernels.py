"""The step loop's kernels of one precision, chosen by the type of its parameters.

The step loop (:mod:`lavalab.engine.core`) is written once. Where the precisions differ it
calls the functions below with the record of kernel arguments, :class:`FixedKernels` or
:class:`FloatKernels`, whose *type* selects the kernels of :mod:`lavalab.dynamics` when
numba compiles the loop: each precision gets its own machine code, calling those kernels
directly. (The loop used to receive the kernels as arguments, which numba cannot cache on
disk.) The Python side chooses the precision by the record it builds
(:func:`lavalab.engine.state.params`).
"""

from __future__ import annotations

from typing import NamedTuple

from numba import types
from numba.extending import overload

from lavalab.dynamics.adaptive_lif import (
    lif_fixed_kernel,
    lif_fixed_live_kernel,
    lif_float_kernel,
    theta_decay_fixed_kernel,
    theta_decay_float_kernel,
)
from lavalab.dynamics.stdp import stdp_fixed_live_step, stdp_float_step, weight_exp_s

__all__ = ["FixedKernels", "FloatKernels", "lif_step", "theta_decay", "live_step",
           "stdp_step", "shift"]


class FixedKernels(NamedTuple):
    """Arguments of the fixed-point kernels (each the tuple after the state arguments).

    exc / inh : :func:`lavalab.dynamics.adaptive_lif.fixed_args` of each population
    exc_theta / inh_theta : :func:`~lavalab.dynamics.adaptive_lif.theta_args`
    inh_live : :func:`~lavalab.dynamics.adaptive_lif.live_args` of the inhibitory neurons
    stdp : :func:`lavalab.dynamics.stdp.fixed_args`
    """

    exc: tuple
    inh: tuple
    exc_theta: tuple
    inh_theta: tuple
    inh_live: tuple
    stdp: tuple


class FloatKernels(FixedKernels):
    """The same fields for the float kernels (``float_args``; ``inh_live`` unused)."""

    __slots__ = ()


def _fixed(kern) -> bool:
    """Whether the numba type ``kern`` is a :class:`FixedKernels` record (else float)."""
    if not (isinstance(kern, types.BaseNamedTuple)
            and kern.instance_class in (FixedKernels, FloatKernels)):
        raise TypeError(f"expected FixedKernels or FloatKernels, got {kern}")
    return kern.instance_class is FixedKernels


# Python stubs: only their compiled overloads below are ever called (from the step loop).
# They take plain arrays, not records: the loop unpacks its records once per call (reading
# an array out of a record on every step costs reference counting in the hot loop).

def lif_step(kern, args, u, v, theta, ref, a_in, s, reset, learn, t, seed):
    """One step of the neurons with state ``u, v, theta, ref`` and input ``a_in``, spikes
    into ``s``; ``args``: ``kern.exc`` or ``kern.inh``."""
    raise NotImplementedError("compiled only")


def theta_decay(kern, args, theta, t, seed):
    """theta's decay at step ``t`` (``args``: ``kern.exc_theta`` or ``kern.inh_theta``)."""
    raise NotImplementedError("compiled only")


def live_step(kern, live, n_live, u, v, theta, ref, a_in, s, learn, t, seed):
    """:func:`~lavalab.dynamics.adaptive_lif.lif_fixed_live_kernel` of the inhibitory
    neurons (fixed point; the float precision has none and returns ``n_live``)."""
    raise NotImplementedError("compiled only")


def stdp_step(kern, w, x_pre, x_post, cnt, fired, pre_fired, x_post2, s_pre, s_post, t,
              learn, seed, scratch, n_pre_spikes, live, n_post_spikes, pre_active, pre_pos):
    """One step of the learning synapses (the arrays of a
    :class:`~lavalab.engine.state.Synapses`, the weights ``w`` as the kernel sees them,
    ``wt.T``); the number of synapses updated."""
    raise NotImplementedError("compiled only")


def shift(kern, a, e):
    """A connection's output ``a`` with exponent ``e`` (floats have no exponent)."""
    raise NotImplementedError("compiled only")


@overload(lif_step, inline="always")
def _lif_step(kern, args, u, v, theta, ref, a_in, s, reset, learn, t, seed):
    kernel = lif_fixed_kernel if _fixed(kern) else lif_float_kernel

    def impl(kern, args, u, v, theta, ref, a_in, s, reset, learn, t, seed):
        kernel(u, v, theta, ref, a_in, s, reset, learn, t, seed, *args)
    return impl


@overload(theta_decay, inline="always")
def _theta_decay(kern, args, theta, t, seed):
    kernel = theta_decay_fixed_kernel if _fixed(kern) else theta_decay_float_kernel

    def impl(kern, args, theta, t, seed):
        kernel(theta, t, seed, *args)
    return impl


@overload(live_step, inline="always")
def _live_step(kern, live, n_live, u, v, theta, ref, a_in, s, learn, t, seed):
    if _fixed(kern):
        def impl(kern, live, n_live, u, v, theta, ref, a_in, s, learn, t, seed):
            return lif_fixed_live_kernel(live, n_live, u, v, theta, ref, a_in, s, learn, t,
                                         seed, *kern.inh_live)
    else:
        def impl(kern, live, n_live, u, v, theta, ref, a_in, s, learn, t, seed):
            return n_live
    return impl


@overload(stdp_step, inline="always")
def _stdp_step(kern, w, x_pre, x_post, cnt, fired, pre_fired, x_post2, s_pre, s_post, t,
               learn, seed, scratch, n_pre_spikes, live, n_post_spikes, pre_active, pre_pos):
    kernel = stdp_fixed_live_step if _fixed(kern) else stdp_float_step

    def impl(kern, w, x_pre, x_post, cnt, fired, pre_fired, x_post2, s_pre, s_post, t,
             learn, seed, scratch, n_pre_spikes, live, n_post_spikes, pre_active, pre_pos):
        return kernel(w, x_pre, x_post, cnt, fired, pre_fired, x_post2, s_pre, s_post, t,
                      learn, seed, scratch, n_pre_spikes, live, n_post_spikes, pre_active,
                      pre_pos, *kern.stdp)
    return impl


@overload(shift, inline="always")
def _shift(kern, a, e):
    if _fixed(kern):
        return lambda kern, a, e: weight_exp_s(a, e)
    return lambda kern, a, e: a
