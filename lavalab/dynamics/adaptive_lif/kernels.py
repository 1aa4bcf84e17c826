"""The adaptive LIF neuron's kernels: one element loop per precision, in place, used by the
ProcessModels and the engine, and the functional steps built on them (equations and
precision table in :mod:`lavalab.dynamics.adaptive_lif`)."""

from __future__ import annotations

import numpy as np
from numba import njit

from lavalab import fixed
from lavalab import loihi_spec as spec
from lavalab.dynamics.adaptive_lif.params import (
    AdaptiveLIFFixed,
    AdaptiveLIFFloat,
    LIFState,
)

THETA_STREAM = fixed.STREAMS["theta"]
THETA_QUANTIZE_STREAM = fixed.STREAMS["theta_quantize"]
QUANTIZE_STREAM = fixed.STREAMS["quantize"]
ONE_SPIKE_STREAM = fixed.STREAMS["one_spike"]

__all__ = ["keep_one_spike", "lif_float_kernel", "lif_fixed_kernel", "lif_fixed_live_kernel",
           "theta_decay_fixed_kernel", "theta_decay_float_kernel", "float_args", "fixed_args",
           "theta_args", "live_args", "step_float", "step_fixed"]


# --- kernels: one element loop per precision, in place; used by models and the engine ---

@njit(cache=True)
def keep_one_spike(s, t, seed):
    """One spike per step: of the neurons that spiked in ``s`` keep one, drawn uniformly
    from the counter stream "one_spike" (seed, step). Returns how many were dropped."""
    n_s = 0
    for k in range(s.size):
        n_s += s[k]
    if n_s < 2:
        return 0
    r = fixed.uniform_s(fixed.step_key_s(seed, ONE_SPIKE_STREAM, t), 0, 31)
    pick = (r * n_s) >> 31
    for k in range(s.size):
        if s[k]:
            s[k] = pick == 0
            pick -= 1
    return n_s - 1


@njit(cache=True)
def lif_float_kernel(u, v, theta, ref, a_in, s, reset, learn, t, seed, decay_u, decay_v, vth,
                     v_reset, bias, theta_plus, decay_theta, ref_steps, one_spike,
                     one_spike_infer):
    """One float step of every element of the flat arrays (in place); spikes into ``s``."""
    for k in range(u.size):
        if reset:
            u[k] = 0.0
            v[k] = 0.0
            ref[k] = 0
        uu = u[k] * (1.0 - decay_u) + a_in[k]
        th = _theta_decay_float_s(theta[k], decay_theta) if learn else theta[k]
        vv = v[k]
        spike = False
        if ref[k] > 0:
            ref[k] -= 1
        else:
            vv = v[k] * (1.0 - decay_v) + uu + bias
            if vv > vth + th:
                spike = True
                vv = v_reset
                ref[k] = ref_steps
        if learn and spike:
            th += theta_plus
        u[k] = uu
        v[k] = vv
        theta[k] = th
        s[k] = spike
    if (one_spike and learn) or (one_spike_infer and not learn):
        keep_one_spike(s, t, seed)


@njit(cache=True)
def theta_decay_fixed_kernel(theta, t, seed, decay_theta, theta_decay_bits, v_lsb):
    """theta's stochastic decay at step ``t`` (learning only), in place: in grid units,
    ``tg - ((tg * decay_theta + r) >> theta_decay_bits)`` with ``r`` from the stream
    "theta" (seed, step, neuron). theta = 0 stays 0 (``r < 2**theta_decay_bits``), so no
    element is tested and the loop vectorises."""
    tkey = fixed.step_key_s(seed, THETA_STREAM, t)
    for k in range(theta.size):
        r = fixed.uniform_s(tkey, k, theta_decay_bits)
        tg = np.int64(theta[k]) >> v_lsb  # grid units: the stochastic decay stays unbiased
        theta[k] = (tg - ((tg * decay_theta + r) >> theta_decay_bits)) << v_lsb


@njit(cache=True)
def theta_decay_float_kernel(theta, t, seed, decay_theta):
    """theta's decay at one step (learning only), in place (``t``, ``seed`` unused)."""
    for k in range(theta.size):
        theta[k] = _theta_decay_float_s(theta[k], decay_theta)


@njit(cache=True, inline="always")
def _theta_decay_float_s(th, decay_theta):
    return th * (1.0 - decay_theta)


@njit(cache=True, inline="always")
def _v_step_s(v0, uu, th, rf, k, decay_v, bias, v_lsb, v_mode, qkey, round_v, stoch, v_lim,
              vth_eff):
    """(new v before a spike's reset, spike) of one element (refractory: v held, no spike)."""
    vd = fixed.decay_s(v0, decay_v) + uu + bias
    if round_v:
        r = fixed.uniform_s(qkey, k, v_lsb) if stoch else np.int64(0)
        vd = fixed.round_shift_s(vd, v_lsb, v_mode, r) << v_lsb
    vd = fixed.clip_s(vd, -v_lim, v_lim)
    refractory = rf > 0
    return (v0 if refractory else vd), (not refractory) and vd > vth_eff + th


@njit(cache=True, inline="always")
def _theta_spike_s(th, k, theta_plus, theta_max, v_lsb, v_mode, tqkey, round_v, stoch):
    """theta after a spike: ``+ theta_plus``, back onto the grid, saturated."""
    tp = th + theta_plus
    if round_v:  # theta_plus is a constant at full resolution; theta lives on the grid
        r = fixed.uniform_s(tqkey, k, v_lsb) if stoch else np.int64(0)
        tp = fixed.round_shift_s(tp, v_lsb, v_mode, r) << v_lsb
    return min(tp, theta_max)


@njit(cache=True, inline="always")
def _lif_fixed_elem(k, u, v, theta, ref, a_in, s, learn, round_v, stoch, qkey, tqkey, decay_u,
                    decay_v, vth_eff, v_reset, bias, theta_plus, theta_max, v_lim, v_lsb,
                    v_mode, ref_steps):
    """The loops of :func:`lif_fixed_kernel` after theta's decay, for element ``k``."""
    a = np.int64(a_in[k]) << spec.ACT_SHIFT
    uu = fixed.wrap_once_s(fixed.decay_s(np.int64(u[k]), decay_u) + a, spec.UV_BITS)
    u[k] = uu
    rf = np.int64(ref[k])
    vv, sp = _v_step_s(np.int64(v[k]), uu, np.int64(theta[k]), rf, k, decay_v, bias, v_lsb,
                       v_mode, qkey, round_v, stoch, v_lim, vth_eff)
    v[k] = v_reset if sp else vv
    s[k] = sp
    ref[k] = rf - 1 if rf > 0 else (ref_steps if sp else rf)
    if learn and sp:
        theta[k] = _theta_spike_s(np.int64(theta[k]), k, theta_plus, theta_max, v_lsb, v_mode,
                                  tqkey, round_v, stoch)


@njit(cache=True)
def lif_fixed_live_kernel(live, n_live, u, v, theta, ref, a_in, s, learn, t, seed, decay_u,
                          decay_v, vth_eff, v_reset, bias, theta_plus, theta_max, v_lim, v_lsb,
                          v_mode, ref_steps):
    """:func:`lif_fixed_kernel` (no reset) stepping only the elements ``live[:n_live]``.

    Exact when every other element is at rest (u = v = r = 0) without input and did not
    spike in the previous step, ``bias = 0``, theta does not decay in this step and there
    is no one-spike choice: such an element stays at rest and does not spike (v stays 0
    in every rounding mode; ``0 > vth + theta`` is false for theta >= 0), and its ``s``
    stays False. Steps the live elements with the arithmetic and element indices of
    :func:`lif_fixed_kernel`, then keeps in ``live`` those not at rest or that spiked;
    returns their number.
    """
    round_v = v_lsb > 0
    stoch = round_v and v_mode == 2
    qkey = fixed.step_key_s(seed, QUANTIZE_STREAM, t) if stoch else np.uint64(0)
    tqkey = fixed.step_key_s(seed, THETA_QUANTIZE_STREAM, t) if stoch else np.uint64(0)
    n = 0
    for q in range(n_live):
        k = live[q]
        _lif_fixed_elem(k, u, v, theta, ref, a_in, s, learn, round_v, stoch, qkey, tqkey,
                        decay_u, decay_v, vth_eff, v_reset, bias, theta_plus, theta_max, v_lim,
                        v_lsb, v_mode, ref_steps)
        live[n] = k
        n += (u[k] != 0) | (v[k] != 0) | (ref[k] != 0) | s[k]
    return n


def live_args(p: AdaptiveLIFFixed) -> tuple:
    """Arguments of :func:`lif_fixed_live_kernel` (after ``learn, t, seed``)."""
    return (p.decay_u, p.decay_v, p.vth << spec.VTH_SHIFT, p.v_reset,
            p.bias_mant << p.bias_exp, p.theta_plus, p.theta_max, p.v_max, p.v_lsb,
            fixed.rounding_code(p.v_rounding), p.ref_steps)


@njit(cache=True)
def lif_fixed_kernel(u, v, theta, ref, a_in, s, reset, learn, t, seed, decay_u, decay_v,
                     vth_eff, v_reset, bias, theta_plus, decay_theta, theta_decay_bits,
                     ref_steps, theta_max, v_lim, v_lsb, v_mode, one_spike, one_spike_infer):
    """One Loihi-integer step of every element of the flat arrays (in place).

    All arithmetic in int64 whatever the storage type (Lava keeps int32 Vars). ``t`` and
    ``seed`` key the stochastic rounding of the theta decay (and of v when ``v_mode`` is
    stochastic and ``v_lsb > 0``). Each element's update is split over several loops
    (u; theta decay; v and spike; refractory counter; theta on a spike), each touching
    few arrays and written with selects, so that every loop vectorises; the elements are
    independent, so this is the same arithmetic as one loop per element.
    """
    round_v = v_lsb > 0
    stoch = round_v and v_mode == 2
    qkey = fixed.step_key_s(seed, QUANTIZE_STREAM, t) if stoch else np.uint64(0)
    tqkey = fixed.step_key_s(seed, THETA_QUANTIZE_STREAM, t) if stoch else np.uint64(0)
    n = u.size
    if reset:
        u[:] = 0
        v[:] = 0
        ref[:] = 0
    if decay_u == spec.DECAY_UNITY:  # u keeps nothing of its past: decay_s(u, 4096) = 0
        for k in range(n):
            u[k] = fixed.wrap_once_s(np.int64(a_in[k]) << spec.ACT_SHIFT, spec.UV_BITS)
    else:
        for k in range(n):
            a = np.int64(a_in[k]) << spec.ACT_SHIFT
            u[k] = fixed.wrap_once_s(fixed.decay_s(np.int64(u[k]), decay_u) + a, spec.UV_BITS)
    if learn and decay_theta != 0:
        theta_decay_fixed_kernel(theta, t, seed, decay_theta, theta_decay_bits, v_lsb)
    if round_v:
        for k in range(n):
            vv, sp = _v_step_s(np.int64(v[k]), np.int64(u[k]), np.int64(theta[k]),
                               np.int64(ref[k]), k, decay_v, bias, v_lsb, v_mode, qkey, True,
                               stoch, v_lim, vth_eff)
            v[k] = v_reset if sp else vv
            s[k] = sp
    else:
        for k in range(n):
            vv, sp = _v_step_s(np.int64(v[k]), np.int64(u[k]), np.int64(theta[k]),
                               np.int64(ref[k]), k, decay_v, bias, 0, 0, qkey, False, False,
                               v_lim, vth_eff)
            v[k] = v_reset if sp else vv
            s[k] = sp
    n_s = 0
    for k in range(n):  # refractory: count down; a spike starts the period
        rf = np.int64(ref[k])
        ref[k] = rf - 1 if rf > 0 else (ref_steps if s[k] else rf)
        n_s += s[k]
    if learn and n_s:  # theta rises where a neuron spiked
        if round_v:
            for k in range(n):
                if s[k]:
                    theta[k] = _theta_spike_s(np.int64(theta[k]), k, theta_plus, theta_max,
                                              v_lsb, v_mode, tqkey, True, stoch)
        else:
            for k in range(n):
                th = np.int64(theta[k])
                theta[k] = _theta_spike_s(th, k, theta_plus, theta_max, 0, 0, tqkey, False,
                                          False) if s[k] else th
    if ((one_spike and learn) or (one_spike_infer and not learn)) and n_s > 1:
        keep_one_spike(s, t, seed)


def float_args(p: AdaptiveLIFFloat) -> tuple:
    """Kernel arguments of float parameters (after ``reset, learn, t, seed``)."""
    return (p.decay_u, p.decay_v, p.vth, p.v_reset, p.bias, p.theta_plus, p.decay_theta,
            p.ref_steps, bool(p.one_spike), bool(p.one_spike_infer))


def fixed_args(p: AdaptiveLIFFixed) -> tuple:
    """Kernel arguments of integer parameters (after ``reset, learn, t, seed``)."""
    return (p.decay_u, p.decay_v, p.vth << spec.VTH_SHIFT, p.v_reset,
            p.bias_mant << p.bias_exp, p.theta_plus, p.decay_theta, p.theta_decay_bits,
            p.ref_steps, p.theta_max, p.v_max, p.v_lsb, fixed.rounding_code(p.v_rounding),
            bool(p.one_spike), bool(p.one_spike_infer))


def theta_args(p: AdaptiveLIFFixed | AdaptiveLIFFloat) -> tuple:
    """Arguments of :func:`theta_decay_fixed_kernel` / :func:`theta_decay_float_kernel`
    (after ``theta, t, seed``)."""
    if isinstance(p, AdaptiveLIFFixed):
        return (p.decay_theta, p.theta_decay_bits, p.v_lsb)
    return (p.decay_theta,)


def _step(kernel, args, state, a_in, learn, reset, t, seed):
    shape = np.broadcast_shapes(state.u.shape, np.shape(a_in))
    n = shape[-1] if shape else 1
    new = [np.array(np.broadcast_to(x, shape)).reshape(-1, n) for x in state]
    a = np.ascontiguousarray(np.broadcast_to(a_in, shape), dtype=new[0].dtype).reshape(-1, n)
    s = np.zeros(new[0].shape, bool)
    for b in range(new[0].shape[0]):  # each batch row is one population (neuron index = k)
        kernel(new[0][b], new[1][b], new[2][b], new[3][b], a[b], s[b], bool(reset),
               bool(learn), t, seed, *args)
    return LIFState(*(x.reshape(shape) for x in new)), s.reshape(shape)


def step_float(state: LIFState, p: AdaptiveLIFFloat, a_in, learn: bool = True,
               reset: bool = False, t: int = 0, seed: int = 0) -> tuple[LIFState, np.ndarray]:
    """One float step (functional: returns a new state). ``a_in``: input to u, same unit as
    v. ``reset`` zeroes u, v and the refractory counter first (a new sample). ``t`` and
    ``seed`` are unused (nothing is rounded)."""
    return _step(lif_float_kernel, float_args(p), state, a_in, learn, reset, t, seed)


def step_fixed(state: LIFState, p: AdaptiveLIFFixed, a_in, learn: bool = True,
               reset: bool = False, t: int = 0, seed: int = 0) -> tuple[LIFState, np.ndarray]:
    """One Loihi-integer step (functional). ``a_in``: integer dendritic input (before the
    ``<< 6``); inputs must satisfy ``|a_in << 6| < 2**31`` (Lava's int32 arithmetic).
    ``t`` (global step) and ``seed`` key the stochastic rounding of the theta decay; the
    element index is the neuron's index along the last axis."""
    return _step(lif_fixed_kernel, fixed_args(p), state, a_in, learn, reset, t, seed)
