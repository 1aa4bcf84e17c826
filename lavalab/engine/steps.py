"""The pieces of one step of the engine's loop (:func:`lavalab.engine.core.simulate`).

Each function takes the typed records of :mod:`lavalab.engine.state` (``p``: Params,
``st``: State, ``w``: :class:`Work`) and updates the arrays in place; what a step carries
to the next in scalars is returned. The precision's kernels are those of
:mod:`lavalab.engine.kernels` (selected by ``p.kernels``' type). numba inlines every
piece into the loop (``inline="always"``), so the loop compiles to one function as
before: separate calls passing the records cost four times the compile time.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numba import njit

from lavalab.dynamics.encoding import poisson_compact_kernel
from lavalab.dynamics.stdp import accumulate_rows_kernel
from lavalab.engine.kernels import lif_step, live_step, shift, theta_decay

__all__ = ["Work", "work", "sample_inputs", "encode", "sum_exc_input", "infer_quiet",
           "flush_buffers", "train_settled", "decay_theta_until", "inh_neurons",
           "input_synapses", "inhibition_buffers", "count"]


class Work(NamedTuple):
    """Working memory of one call of the loop.

    scratch : the learning kernel's; its tail ``in_idx`` lists the step's input spikes
    active / thr_active / pre_pos : the sample's inputs that can spike (threshold > 0),
        their thresholds, and each input's position among them
    enc_prev / enc_spk : the encoder's previous spikes and its working memory
    inh_live : the inhibitory neurons not at rest (see :func:`inh_neurons`)
    learn_live : the learning kernel's live lists and rows
        (:func:`lavalab.dynamics.stdp.stdp_fixed_live_step`; zeros: nothing known yet)
    """

    scratch: np.ndarray
    in_idx: np.ndarray
    active: np.ndarray
    thr_active: np.ndarray
    pre_pos: np.ndarray
    enc_prev: np.ndarray
    enc_spk: np.ndarray
    inh_live: np.ndarray
    learn_live: np.ndarray


@njit(inline="always")
def work(n_in, n_exc):
    """:class:`Work` for ``n_in`` inputs and ``n_exc`` neurons per population."""
    scratch = np.empty(n_exc + n_in + 2, np.int64)
    return Work(scratch, scratch[n_exc + 1:], np.empty(n_in, np.int64),
                np.empty(n_in, np.int64), np.zeros(n_in, np.int64), np.empty(n_in, np.int64),
                np.empty(n_in + 8, np.uint8), np.empty(n_exc + 1, np.int64),
                np.zeros(3 + 2 * n_exc + n_in, np.int64))


@njit(inline="always")
def sample_inputs(thr_k, w):
    """List the inputs that can spike in a sample (threshold ``thr_k`` > 0) in
    ``w.active`` with their thresholds and positions; returns their number."""
    active, thr_active, pre_pos = w.active, w.thr_active, w.pre_pos
    n_active = 0
    for j in range(thr_k.size):
        active[n_active] = j
        n_active += thr_k[j] > 0
    for q in range(n_active):
        thr_active[q] = thr_k[active[q]]
        pre_pos[active[q]] = q
    return n_active


@njit(inline="always")
def encode(p, s_in, w, n_active, ph, t, n_prev):
    """The encoder's spikes of phase ``ph`` into ``s_in`` (listed in ``w.in_idx``; the
    previous step's ``n_prev`` in ``w.enc_prev``); returns their number."""
    if ph == 0 or ph == p.present:
        s_in[:] = False
    if ph < p.present:
        return poisson_compact_kernel(w.thr_active[:n_active], w.active[:n_active], p.seed, t,
                                      s_in, w.in_idx, w.enc_prev, n_prev, w.enc_spk)
    return 0


@njit(inline="always")
def sum_exc_input(buf):
    """The excitatory neurons' input: ``a_exc = a_syn + a_ie + a_lat``."""
    a_exc, a_syn, a_ie, a_lat = buf.a_exc, buf.a_syn, buf.a_ie, buf.a_lat
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
def infer_quiet(p, st):
    """Inference: no neuron of either population can spike again without input (the
    input synapses' buffer is known empty by the caller). Thresholds and bias are the
    kernels' arguments 2 and 4."""
    exc, inh, k = st.exc, st.inh, p.kernels
    return (_quiet(exc.u, exc.v, exc.theta, k.exc[2], k.exc[4])
            and (not p.wiring.has_inh
                 or (_all_nonpositive(st.buf.a_ei)
                     and _quiet(inh.u, inh.v, inh.theta, k.inh[2], k.inh[4]))))


@njit(inline="always")
def flush_buffers(buf):
    """Empty every connection buffer and spike vector (a sample's skipped end)."""
    a_syn, a_ie, a_ei, a_lat, _, s_in, s_exc, s_inh = buf
    for i in range(a_syn.size):
        a_syn[i] = 0
        a_ie[i] = 0
        a_ei[i] = 0
        a_lat[i] = 0
        s_exc[i] = False
        s_inh[i] = False
    s_in[:] = False


@njit(inline="always")
def train_settled(p, st):
    """Training: no neuron can reach its threshold without input, whatever its theta."""
    exc, inh, k = st.exc, st.inh, p.kernels
    return (_settled(exc.u, exc.v, k.exc[2], k.exc[4])
            and (not p.wiring.has_inh or _settled(inh.u, inh.v, k.inh[2], k.inh[4])))


@njit(inline="always")
def decay_theta_until(p, st, t, t_end):
    """theta's decay over the skipped steps ``t .. t_end - 1`` (learning), both
    populations (excitatory seed ``p.seed + 2``, inhibitory ``p.seed + 3``)."""
    k = p.kernels
    if k.exc_theta[0] != 0:
        for tt in range(t, t_end):
            theta_decay(k, k.exc_theta, st.exc.theta, tt, p.seed + 2)
    if p.wiring.has_inh and k.inh_theta[0] != 0:
        for tt in range(t, t_end):
            theta_decay(k, k.inh_theta, st.inh.theta, tt, p.seed + 3)


@njit(inline="always")
def inh_neurons(p, st, w, reset, t, last_exc, n_live, listed):
    """One step of the inhibitory neurons (input ``a_ei``).

    Where allowed (``p.inh_live_ok``, not a sample start) and few are active, only those
    not at rest are stepped: ``w.inh_live[:n_live]`` lists them when ``listed`` (else
    ``n_live`` only counts them); the excitatory neurons that spiked in the last step
    (``last_exc`` of them) add the inhibitory neurons they reach. Else every element is
    stepped (vectorised; the same where the others rest). Returns ``(n_live, listed)``.
    """
    inh, k = st.inh, p.kernels
    u, v, ref, a_ei, s_inh, live = inh.u, inh.v, inh.ref, st.buf.a_ei, st.buf.s_inh, w.inh_live
    n_exc = a_ei.size
    use_live = p.wiring.has_inh and p.inh_live_ok and not reset
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
        n_live = live_step(k, live, n_live, inh, a_ei, s_inh, p.learn, t, p.seed + 3)
    elif p.wiring.has_inh:
        lif_step(k, k.inh, inh, a_ei, s_inh, reset, p.learn, t, p.seed + 3)
        n_live = 0  # counted, not listed (a vectorised sum)
        for i in range(n_exc):
            n_live += (u[i] != 0) | (v[i] != 0) | (ref[i] != 0) | s_inh[i]
        listed = False
    return n_live, listed


@njit(inline="always")
def input_synapses(p, st, w, n_in_spk, a_syn_zero):
    """The input synapses' buffer for the next step from this step's input spikes (with
    the weights before this step's learning); returns whether it is all zero."""
    a_syn = st.buf.a_syn
    if n_in_spk:
        accumulate_rows_kernel(st.syn.wt, w.in_idx, n_in_spk, a_syn, True)
        exp_in = p.wiring.exp_in
        if exp_in != 0:  # (a << 0 = a; float connections have exp_in = 0)
            for i in range(a_syn.size):
                a_syn[i] = shift(p.kernels, a_syn[i], exp_in)
    elif not a_syn_zero:
        a_syn[:] = 0
    return n_in_spk == 0


@njit(inline="always")
def inhibition_buffers(p, buf, zero):
    """The inhibition connections' buffers for the next step from this step's spikes
    (``zero``: they are all zero now). Returns ``(n_exc_spk, n_inh_spk, syn_inh, zero)``:
    the spike counts, the inhibition's synaptic events, whether the buffers are zero."""
    k, c = p.kernels, p.wiring
    a_ie, a_ei, a_lat, s_exc, s_inh = buf.a_ie, buf.a_ei, buf.a_lat, buf.s_exc, buf.s_inh
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
                a_ei[i] = shift(k, w_ei * s_exc[i], exp_ei)
                a_ie[i] = shift(k, -w_ie * (n_inh_spk - s_inh[i]), exp_ie)
        if c.has_lat:
            w_lat, exp_lat = c.w_lat, c.exp_lat
            for i in range(n_exc):
                a_lat[i] = shift(k, -w_lat * (n_exc_spk - s_exc[i]), exp_lat)
    if c.has_inh:
        syn_inh = n_exc_spk + n_inh_spk * (n_exc - 1)
    if c.has_lat:
        syn_inh = n_exc_spk * (n_exc - 1)
    return n_exc_spk, n_inh_spk, syn_inh, n_exc_spk == 0 and n_inh_spk == 0


@njit(inline="always")
def count(out, k, row, s_exc, n_in_spk, n_exc_spk, n_inh_spk, syn_inh, n_upd):
    """Add a step to sample ``k``'s counts and events (and raster ``row``)."""
    counts, events, record = out.counts, out.events, out.record
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
