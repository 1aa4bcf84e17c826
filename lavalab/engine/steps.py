"""The pieces of one step of the engine's loop (:func:`lavalab.engine.core.simulate`).

Each function takes plain arrays and scalars (the loop unpacks the typed records of
:mod:`lavalab.engine.state` once per call: reading arrays out of records on every step
costs reference counting in the hot loop) and updates the arrays in place; what a step
carries to the next in scalars is returned. The precision's kernels are those of
:mod:`lavalab.engine.kernels` (selected by the kernel record ``kern``'s type). numba
inlines every piece into the loop (``inline="always"``), so the loop compiles to one
function as before: separate calls passing records cost four times the compile time.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from lavalab.dynamics.encoding import poisson_compact_kernel
from lavalab.dynamics.stdp import accumulate_rows_kernel
from lavalab.engine.kernels import lif_step, live_step, shift, theta_decay

__all__ = ["work", "sample_inputs", "encode", "sum_exc_input", "infer_quiet",
           "flush_buffers", "train_settled", "decay_theta_until", "inh_neurons",
           "input_synapses", "inhibition_buffers", "count"]


@njit(inline="always")
def work(n_in, n_exc):
    """Working memory of one call of the loop for ``n_in`` inputs and ``n_exc`` neurons per
    population: ``(scratch, in_idx, active, thr_active, pre_pos, enc_prev, enc_spk,
    inh_live, learn_live)``.

    scratch : the learning kernel's; its tail ``in_idx`` lists the step's input spikes
    active / thr_active / pre_pos : the sample's inputs that can spike (threshold > 0),
        their thresholds, and each input's position among them
    enc_prev / enc_spk : the encoder's previous spikes and its working memory
    inh_live : the inhibitory neurons not at rest (see :func:`inh_neurons`)
    learn_live : the learning kernel's live lists and rows
        (:func:`lavalab.dynamics.stdp.stdp_fixed_live_step`; zeros: nothing known yet)
    """
    scratch = np.empty(n_exc + n_in + 2, np.int64)
    return (scratch, scratch[n_exc + 1:], np.empty(n_in, np.int64),
            np.empty(n_in, np.int64), np.zeros(n_in, np.int64), np.empty(n_in, np.int64),
            np.empty(n_in + 8, np.uint8), np.empty(n_exc + 1, np.int64),
            np.zeros(3 + 2 * n_exc + n_in, np.int64))


@njit(inline="always")
def sample_inputs(thr_k, active, thr_active, pre_pos):
    """List the inputs that can spike in a sample (threshold ``thr_k`` > 0) in ``active``
    with their thresholds and positions; returns their number."""
    n_active = 0
    for j in range(thr_k.size):
        active[n_active] = j
        n_active += thr_k[j] > 0
    for q in range(n_active):
        thr_active[q] = thr_k[active[q]]
        pre_pos[active[q]] = q
    return n_active


@njit(inline="always")
def encode(present, seed, s_in, thr_active, active, in_idx, enc_prev, enc_spk, n_active, ph,
           t, n_prev):
    """The encoder's spikes of phase ``ph`` into ``s_in`` (listed in ``in_idx``; the
    previous step's ``n_prev`` in ``enc_prev``); returns their number."""
    if ph == 0 or ph == present:
        s_in[:] = False
    if ph < present:
        return poisson_compact_kernel(thr_active[:n_active], active[:n_active], seed, t,
                                      s_in, in_idx, enc_prev, n_prev, enc_spk)
    return 0


@njit(inline="always")
def sum_exc_input(a_exc, a_syn, a_ie, a_lat):
    """The excitatory neurons' input: ``a_exc = a_syn + a_ie + a_lat``."""
    for i in range(a_exc.size):
        a_exc[i] = a_syn[i] + a_ie[i] + a_lat[i]


@njit(inline="always")
def _quiet(u, v, theta, vth, bias):
    """No element can spike again without positive input: u <= 0, v <= threshold, bias <= 0
    (then v never increases: v' = decay(v) + u + bias <= max(v, 0))."""
    if bias > 0:
        return False
    for k in range(u.size):
        if u[k] > 0 or v[k] > vth + theta[k]:
            return False
    return True


@njit(inline="always")
def _settled(u, v, vth, bias):
    """No element can spike again without positive input, whatever its theta (>= 0):
    u <= 0, v <= the bare threshold, bias <= 0 (v' = decay(v) + u + bias <= max(v, 0))."""
    if bias > 0:
        return False
    for k in range(u.size):
        if u[k] > 0 or v[k] > vth:
            return False
    return True


@njit(inline="always")
def _all_nonpositive(a):
    for k in range(a.size):
        if a[k] > 0:
            return False
    return True


@njit(inline="always")
def infer_quiet(kern, has_inh, u, v, theta, iu, iv, itheta, a_ei):
    """Inference: no neuron of either population can spike again without input (the
    input synapses' buffer is known empty by the caller). Thresholds and bias are the
    kernels' arguments 2 and 4."""
    return (_quiet(u, v, theta, kern.exc[2], kern.exc[4])
            and (not has_inh
                 or (_all_nonpositive(a_ei)
                     and _quiet(iu, iv, itheta, kern.inh[2], kern.inh[4]))))


@njit(inline="always")
def flush_buffers(a_syn, a_ie, a_ei, a_lat, s_in, s_exc, s_inh):
    """Empty every connection buffer and spike vector (a sample's skipped end)."""
    for i in range(a_syn.size):
        a_syn[i] = 0
        a_ie[i] = 0
        a_ei[i] = 0
        a_lat[i] = 0
        s_exc[i] = False
        s_inh[i] = False
    s_in[:] = False


@njit(inline="always")
def train_settled(kern, has_inh, u, v, iu, iv):
    """Training: no neuron can reach its threshold without input, whatever its theta."""
    return (_settled(u, v, kern.exc[2], kern.exc[4])
            and (not has_inh or _settled(iu, iv, kern.inh[2], kern.inh[4])))


@njit(inline="always")
def decay_theta_until(kern, has_inh, seed, theta, itheta, t, t_end):
    """theta's decay over the skipped steps ``t .. t_end - 1`` (learning), both
    populations (excitatory seed ``seed + 2``, inhibitory ``seed + 3``)."""
    if kern.exc_theta[0] != 0:
        for tt in range(t, t_end):
            theta_decay(kern, kern.exc_theta, theta, tt, seed + 2)
    if has_inh and kern.inh_theta[0] != 0:
        for tt in range(t, t_end):
            theta_decay(kern, kern.inh_theta, itheta, tt, seed + 3)


@njit(inline="always")
def inh_neurons(kern, has_inh, inh_live_ok, learn, seed, u, v, theta, ref, a_ei, s_inh, live,
                reset, t, last_exc, n_live, listed):
    """One step of the inhibitory neurons (state ``u, v, theta, ref``, input ``a_ei``).

    Where allowed (``inh_live_ok``, not a sample start) and few are active, only those
    not at rest are stepped: ``live[:n_live]`` lists them when ``listed`` (else
    ``n_live`` only counts them); the excitatory neurons that spiked in the last step
    (``last_exc`` of them) add the inhibitory neurons they reach. Else every element is
    stepped (vectorised; the same where the others rest). Returns ``(n_live, listed)``.
    """
    n_exc = a_ei.size
    use_live = has_inh and inh_live_ok and not reset
    if use_live and listed and last_exc:
        for i in range(n_exc):  # a_ei is nonzero only where an exc neuron spiked
            # listed = not at rest or spiked (what the live kernel keeps)
            if a_ei[i] != 0 and not ((u[i] != 0) | (v[i] != 0) | (ref[i] != 0) | s_inh[i]):
                live[n_live] = i
                n_live += 1
    if use_live and n_live * 4 <= n_exc:
        if not listed:  # the elements not at rest, spiked or with input
            n_live = 0
            for i in range(n_exc):
                live[n_live] = i
                n_live += (u[i] != 0) | (v[i] != 0) | (ref[i] != 0) | s_inh[i] | (a_ei[i] != 0)
            listed = True
        n_live = live_step(kern, live, n_live, u, v, theta, ref, a_ei, s_inh, learn, t,
                           seed + 3)
    elif has_inh:
        lif_step(kern, kern.inh, u, v, theta, ref, a_ei, s_inh, reset, learn, t, seed + 3)
        n_live = 0  # counted, not listed (a vectorised sum)
        for i in range(n_exc):
            n_live += (u[i] != 0) | (v[i] != 0) | (ref[i] != 0) | s_inh[i]
        listed = False
    return n_live, listed


@njit(inline="always")
def input_synapses(kern, exp_in, wt, in_idx, a_syn, n_in_spk, a_syn_zero):
    """The input synapses' buffer for the next step from this step's input spikes (with
    the weights before this step's learning); returns whether it is all zero."""
    if n_in_spk:
        accumulate_rows_kernel(wt, in_idx, n_in_spk, a_syn, True)
        if exp_in != 0:  # (a << 0 = a; float connections have exp_in = 0)
            for i in range(a_syn.size):
                a_syn[i] = shift(kern, a_syn[i], exp_in)
    elif not a_syn_zero:
        a_syn[:] = 0
    return n_in_spk == 0


@njit(inline="always")
def inhibition_buffers(kern, c, a_ie, a_ei, a_lat, s_exc, s_inh, zero):
    """The inhibition connections' buffers for the next step from this step's spikes
    (``c``: the :class:`~lavalab.engine.state.Wiring`; ``zero``: they are all zero now).
    Returns ``(n_exc_spk, n_inh_spk, syn_inh, zero)``: the spike counts, the inhibition's
    synaptic events, whether the buffers are zero."""
    n_exc = s_exc.size
    n_exc_spk = 0
    for i in range(n_exc):
        n_exc_spk += s_exc[i]
    n_inh_spk = 0
    syn_inh = 0
    if c.has_inh:
        for i in range(n_exc):
            n_inh_spk += s_inh[i]
    # without spikes the buffers are what they were after a step without spikes
    if not (zero and n_exc_spk == 0 and n_inh_spk == 0):
        if c.has_inh:
            w_ei, exp_ei, w_ie, exp_ie = c.w_ei, c.exp_ei, c.w_ie, c.exp_ie
            for i in range(n_exc):
                a_ei[i] = shift(kern, w_ei * s_exc[i], exp_ei)
                a_ie[i] = shift(kern, -w_ie * (n_inh_spk - s_inh[i]), exp_ie)
        if c.has_lat:
            w_lat, exp_lat = c.w_lat, c.exp_lat
            for i in range(n_exc):
                a_lat[i] = shift(kern, -w_lat * (n_exc_spk - s_exc[i]), exp_lat)
    if c.has_inh:
        syn_inh = n_exc_spk + n_inh_spk * (n_exc - 1)
    if c.has_lat:
        syn_inh = n_exc_spk * (n_exc - 1)
    return n_exc_spk, n_inh_spk, syn_inh, n_exc_spk == 0 and n_inh_spk == 0


@njit(inline="always")
def count(counts, events, record, k, row, s_exc, n_in_spk, n_exc_spk, n_inh_spk, syn_inh,
          n_upd):
    """Add a step to sample ``k``'s counts and events (and raster ``row``)."""
    n_exc = s_exc.size
    if n_exc_spk:
        for i in range(n_exc):
            counts[k, i] += s_exc[i]
    if record.shape[0]:
        record[row, :] = s_exc
    events[k, 0] += n_in_spk
    events[k, 1] += n_exc_spk
    events[k, 2] += n_inh_spk
    events[k, 3] += n_in_spk * n_exc
    events[k, 4] += syn_inh
    events[k, 5] += n_upd
