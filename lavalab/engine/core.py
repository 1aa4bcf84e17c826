"""The batched engine's compiled loops.

:func:`simulate` runs one network over a sequence of samples exactly as the Lava network
built by :mod:`lavalab.backends.lava` does, step by step, calling the same kernels of
:mod:`lavalab.dynamics` (precision is chosen by the kernels passed in). Pipeline: every
``Dense``-like connection delivers at step ``t`` what its source emitted at ``t - 1``
(Lava's Dense / STDPDense buffer); the learning synapses see the pre spikes and the
excitatory spikes of step ``t``.

Per sample and step, in Lava's order: encoder spikes ``s_in(t)``; excitatory neurons get
``a_syn + a_ie + a_lat`` (from ``t - 1``); inhibitory neurons get ``a_ei`` (from ``t - 1``);
then the buffers are recomputed from the spikes of ``t`` (input synapses with the weights
*before* this step's learning) and the STDP kernel updates the weights.

Event counters per sample (columns of ``events``): see :data:`EVENT_NAMES`.
"""

from __future__ import annotations

import numpy as np
from llvmlite import ir
from numba import njit, types
from numba.core import cgutils
from numba.extending import intrinsic

from lavalab.dynamics.encoding import poisson_compact_kernel
from lavalab.dynamics.stdp import accumulate_rows_kernel, stdp_live_sync

__all__ = ["EVENT_NAMES", "simulate", "no_shift", "N_EVENTS", "PROFILE_SECTIONS",
           "cycle_counter", "no_live_kernel"]

#: input spikes, excitatory spikes, inhibitory spikes, synaptic events of the input
#: synapses (input spikes x n_exc), synaptic events of the inhibition connections,
#: synapse (weight) updates.
EVENT_NAMES = ("input_spikes", "exc_spikes", "inh_spikes", "syn_events_input",
               "syn_events_inhibition", "weight_updates")
N_EVENTS = len(EVENT_NAMES)

#: Sections of one step timed by :func:`simulate` when given a ``prof`` array (CPU cycles
#: of the time-stamp counter, summed over steps): encoder, excitatory neurons (with their
#: input sum), inhibitory neurons, input synapses (event-driven accumulation), inhibition
#: buffers, learning (steps inside a sample), learning at a sample start (the D&C weight
#: normalisation), the inference fast-forward check, bookkeeping (counts, events, raster).
PROFILE_SECTIONS = ("encode", "exc_neurons", "inh_neurons", "input_synapses",
                    "inhibition_buffers", "learning", "learning_sample_start",
                    "quiet_check", "bookkeeping")


@intrinsic
def _cycles(typingctx):
    """The CPU's time-stamp counter (LLVM ``readcyclecounter``), for :data:`PROFILE_SECTIONS`."""
    def codegen(context, builder, signature, args):
        fn = cgutils.get_or_insert_function(builder.module, ir.FunctionType(ir.IntType(64), []),
                                            "llvm.readcyclecounter")
        return builder.call(fn, [])
    return types.int64(), codegen


@njit(cache=True)
def cycle_counter():
    """The time-stamp counter now (for calibrating :data:`PROFILE_SECTIONS` cycles)."""
    return _cycles()


@njit(cache=True, inline="always")
def _lap(prof, section, tick):
    """Add the cycles since ``tick`` to ``prof[section]`` (when profiling); the new tick."""
    if prof.size == 0:
        return tick
    now = _cycles()
    prof[section] += now - tick
    return now


@njit(cache=True, inline="always")
def no_shift(a, e):
    """Float connections have no exponent."""
    return a


@njit(cache=True, inline="always")
def _quiet(u, v, theta, vth, bias):
    """No element can spike again without positive input: u <= 0, v <= threshold, bias <= 0
    (then v never increases: v' = decay(v) + u + bias <= max(v, 0))."""
    if bias > 0:
        return False
    for k in range(u.size):
        if u[k] > 0 or v[k] > vth + theta[k]:
            return False
    return True


@njit(cache=True)
def no_live_kernel(live, n_live, u, v, theta, ref, a_in, s, learn, t, seed, *args):
    """Placeholder for the float precision (which has no live-element kernel)."""
    return n_live


@njit(cache=True, inline="always")
def _settled(u, v, vth, bias):
    """No element can spike again without positive input, whatever its theta (>= 0):
    u <= 0, v <= the bare threshold, bias <= 0 (v' = decay(v) + u + bias <= max(v, 0))."""
    if bias > 0:
        return False
    for k in range(u.size):
        if u[k] > 0 or v[k] > vth:
            return False
    return True


@njit(cache=True, inline="always")
def _all_nonpositive(a):
    for k in range(a.size):
        if a[k] > 0:
            return False
    return True


# Not cached: numba cannot reliably cache a function taking other functions as arguments
# (its index pickling fails with "underlying object has vanished"); the kernels it calls
# are cached, so compiling this loop takes a few seconds once per process and precision.
@njit(cache=False, nogil=True)
def simulate(thr, enc_seed, syn_seed, neuron_seed, t0, present, rest, learn,
             wt, x_pre, x_post, cnt, fired, pre_fired, x_post2, stdp_kernel, stdp_args,
             u, v, theta, ref, lif_kernel, exc_args,
             has_inh, iu, iv, itheta, iref, inh_args,
             w_ei, exp_ei, w_ie, exp_ie, has_lat, w_lat, exp_lat, exp_in, shift,
             bufs, counts, events, record, prof, skip_quiet, skip_learn, theta_kernel,
             exc_theta_args, inh_theta_args, inh_live_ok, live_kernel, inh_live_args,
             compact_pre, a_syn_work):
    """Run samples ``thr`` (S, n_in) from global step ``t0`` (a multiple of the period).

    ``wt`` are the input weights transposed, (n_in, n_exc) C-contiguous (one row per input:
    the accumulation of a spike reads one contiguous row); the learning kernel sees them as
    ``wt.T``, the (n_exc, n_in) matrix of the Lava Var.

    Seeds: encoder ``enc_seed``, learning synapses ``syn_seed``, excitatory neurons
    ``neuron_seed`` and inhibitory ones ``neuron_seed + 1`` (as the Lava backend).

    All state arrays are updated in place; ``counts`` (S, n_exc) and ``events``
    (S, N_EVENTS) receive per-sample excitatory spike counts and event counts.
    ``bufs`` = (a_syn, a_ie, a_ei, a_lat, a_exc, s_in, s_exc, s_inh) carry the
    connections' one-step delay across calls (``a_exc`` is working memory: the excitatory
    neurons' summed input, written on the steps where inhibition arrives). ``record``
    (steps, n_exc) receives the excitatory spikes of every step when it has rows (pass a
    (0, n_exc) array to skip).
    Without ``learn`` the learning synapses are not stepped (their traces do not influence
    spikes or weights then). ``prof`` (int64, ``len(PROFILE_SECTIONS)``) accumulates the
    CPU cycles of each section when it has elements (pass an empty array to skip).

    ``skip_quiet`` ends a sample early once nothing can happen until its end (exact, see
    the comments below); ``skip_learn`` allows it while learning (the caller checks that
    the rule has no update window and that the learning synapses reset at each sample
    start); ``theta_kernel`` with ``exc_theta_args`` / ``inh_theta_args`` then carries the
    theta decay of the skipped steps. ``inh_live_ok`` (the caller checks the conditions
    of ``live_kernel``, :func:`lavalab.dynamics.adaptive_lif.lif_fixed_live_kernel`) steps
    only the inhibitory neurons not at rest. ``a_syn_work`` is a copy of ``a_syn`` the loop
    works in (int32 where the caller checked that every sum of input weights fits,
    ``exp_in = 0``), written back at the end. ``compact_pre`` (fixed point, the caller checks
    that the learning synapses reset at each sample start) lets the learning kernel keep
    only the sample's active inputs' traces (see
    :func:`lavalab.dynamics.stdp.stdp_fixed_live_step`). Returns the number of steps
    skipped.
    """
    a_syn_state, a_ie, a_ei, a_lat, a_exc, s_in, s_exc, s_inh = bufs
    a_syn = a_syn_work  # a copy of a_syn_state (narrower where sums fit), written back
    n_exc = u.size
    w = wt.T
    # working memory of the learning step; the encoder lists the input spikes in its tail
    scratch = np.empty(n_exc + s_in.size + 2, np.int64)
    in_idx = scratch[n_exc + 1:]
    period = present + rest
    n_samples = thr.shape[0]
    n_skipped = 0
    active = np.empty(s_in.size, np.int64)
    thr_active = np.empty(s_in.size, np.int64)
    enc_prev = np.empty(s_in.size, np.int64)
    enc_spk = np.empty(s_in.size + 8, np.uint8)
    inh_live = np.empty(n_exc + 1, np.int64)  # inhibitory neurons not at rest
    n_inh_live = 0
    inh_listed = False  # inh_live lists them (else n_inh_live only counts them)
    # the learning kernel's live lists and fixed-point rows (stdp_fixed_live_step); zeros:
    # nothing known yet
    learn_live = np.zeros(3 + 2 * n_exc + s_in.size, np.int64)
    compact_pre = compact_pre and learn
    n_active = 0
    pre_pos = np.zeros(s_in.size, np.int64)
    inh_bufs_zero = False  # a_ei and a_ie (a_lat) known to be all zero
    for k in range(n_samples):
        n_active = 0  # the inputs that can spike in this sample (threshold > 0)
        for j in range(s_in.size):
            active[n_active] = j
            n_active += thr[k, j] > 0
        for q in range(n_active):
            thr_active[q] = thr[k, active[q]]
            pre_pos[active[q]] = q
        n_prev = 0
        a_syn_zero = False
        last_exc = 1  # spikes of the previous step (none known yet)
        last_inh = 1
        for ph in range(period):
            t = t0 + k * period + ph
            reset = ph == 0
            tick = _cycles() if prof.size else 0
            n_in_spk = 0
            if ph == 0 or ph == present:
                s_in[:] = False
            if ph < present:
                n_in_spk = poisson_compact_kernel(thr_active[:n_active], active[:n_active],
                                                  enc_seed, t, s_in, in_idx, enc_prev, n_prev,
                                                  enc_spk)
                n_prev = n_in_spk
            tick = _lap(prof, 0, tick)
            if not inh_bufs_zero:  # (else a_ie and a_lat are zero: a_syn is the input)
                for i in range(n_exc):
                    a_exc[i] = a_syn[i] + a_ie[i] + a_lat[i]
            tick = _lap(prof, 1, tick)
            if (skip_quiet and not learn and ph > present and a_syn_zero
                    and _quiet(u, v, theta, exc_args[2], exc_args[4])
                    and (not has_inh or (_all_nonpositive(a_ei)
                                         and _quiet(iu, iv, itheta, inh_args[2], inh_args[4])))):
                # Inference fast-forward (exact): input has stopped and nothing can spike
                # until the sample ends, so the remaining rest steps add no spike and the
                # connection buffers would be empty at the next sample. Skipped steps leave
                # u and v where they are (they are reset at the next sample start).
                for i in range(n_exc):
                    a_syn[i] = 0
                    a_ie[i] = 0
                    a_ei[i] = 0
                    a_lat[i] = 0
                    s_exc[i] = False
                    s_inh[i] = False
                s_in[:] = False
                n_skipped += period - ph
                tick = _lap(prof, 7, tick)
                break
            if (skip_quiet and learn and skip_learn and ph >= present and k < n_samples - 1
                    and a_syn_zero and last_exc == 0 and last_inh == 0
                    and _settled(u, v, exc_args[2], exc_args[4])
                    and (not has_inh or _settled(iu, iv, inh_args[2], inh_args[4]))):
                # Training fast-forward (exact): no input from now to the sample's end, no
                # spike in flight (every buffer is empty), and no neuron can reach its
                # threshold without input (u <= 0, v <= the threshold without theta, which
                # is >= 0, bias <= 0: v never rises). So no spike, no synaptic event and no
                # weight update (no pre and no post spike) until the next sample, which
                # resets u, v, the refractory counters and the learning synapses' traces
                # and counts. What remains is theta's decay of the skipped steps (its
                # random stream is keyed by step and neuron, so nothing else moves). Never
                # on a call's last sample, so the state a call returns is the full one.
                if learn and exc_theta_args[0] != 0:
                    for tt in range(t, t0 + (k + 1) * period):
                        theta_kernel(theta, tt, neuron_seed, *exc_theta_args)
                if learn and has_inh and inh_theta_args[0] != 0:
                    for tt in range(t, t0 + (k + 1) * period):
                        theta_kernel(itheta, tt, neuron_seed + 1, *inh_theta_args)
                s_in[:] = False
                n_skipped += period - ph
                tick = _lap(prof, 7, tick)
                break
            tick = _lap(prof, 7, tick)
            if inh_bufs_zero:
                lif_kernel(u, v, theta, ref, a_syn, s_exc, reset, learn, t, neuron_seed,
                           *exc_args)
            else:
                lif_kernel(u, v, theta, ref, a_exc, s_exc, reset, learn, t, neuron_seed,
                           *exc_args)
            tick = _lap(prof, 1, tick)
            use_live = has_inh and inh_live_ok and not reset
            if use_live and inh_listed and last_exc:
                for i in range(n_exc):  # a_ei is nonzero only where an exc neuron spiked
                    # listed = not at rest or spiked (what the live kernel keeps)
                    if a_ei[i] != 0 and not ((iu[i] != 0) | (iv[i] != 0) | (iref[i] != 0)
                                             | s_inh[i]):
                        inh_live[n_inh_live] = i
                        n_inh_live += 1
            if use_live and n_inh_live * 4 <= n_exc:
                if not inh_listed:  # the elements not at rest, spiked or with input
                    n_inh_live = 0
                    for i in range(n_exc):
                        inh_live[n_inh_live] = i
                        n_inh_live += ((iu[i] != 0) | (iv[i] != 0) | (iref[i] != 0) | s_inh[i]
                                       | (a_ei[i] != 0))
                    inh_listed = True
                n_inh_live = live_kernel(inh_live, n_inh_live, iu, iv, itheta, iref, a_ei, s_inh,
                                         learn, t, neuron_seed + 1, *inh_live_args)
            elif has_inh:  # every element (vectorised; the same where the others rest)
                lif_kernel(iu, iv, itheta, iref, a_ei, s_inh, reset, learn, t, neuron_seed + 1,
                           *inh_args)
                n_inh_live = 0  # counted, not listed (a vectorised sum)
                for i in range(n_exc):
                    n_inh_live += (iu[i] != 0) | (iv[i] != 0) | (iref[i] != 0) | s_inh[i]
                inh_listed = False
            tick = _lap(prof, 2, tick)
            # buffers for t + 1 (weights before this step's learning)
            if n_in_spk:
                accumulate_rows_kernel(wt, in_idx, n_in_spk, a_syn, True)
                if exp_in != 0:  # (a << 0 = a; float connections have exp_in = 0)
                    for i in range(n_exc):
                        a_syn[i] = shift(a_syn[i], exp_in)
            elif not a_syn_zero:
                a_syn[:] = 0
            a_syn_zero = n_in_spk == 0
            tick = _lap(prof, 3, tick)
            n_exc_spk = 0
            for i in range(n_exc):
                n_exc_spk += s_exc[i]
            n_inh_spk = 0
            syn_inh = 0
            if has_inh:
                for i in range(n_exc):
                    n_inh_spk += s_inh[i]
            # without spikes the buffers are what they were after a step without spikes
            if not (inh_bufs_zero and n_exc_spk == 0 and n_inh_spk == 0):
                if has_inh:
                    for i in range(n_exc):
                        a_ei[i] = shift(w_ei * s_exc[i], exp_ei)
                        a_ie[i] = shift(-w_ie * (n_inh_spk - s_inh[i]), exp_ie)
                if has_lat:
                    for i in range(n_exc):
                        a_lat[i] = shift(-w_lat * (n_exc_spk - s_exc[i]), exp_lat)
            inh_bufs_zero = n_exc_spk == 0 and n_inh_spk == 0
            if has_inh:
                syn_inh = n_exc_spk + n_inh_spk * (n_exc - 1)
            if has_lat:
                syn_inh = n_exc_spk * (n_exc - 1)
            tick = _lap(prof, 4, tick)
            n_upd = 0
            if learn:
                n_upd = stdp_kernel(w, x_pre, x_post, cnt, fired, pre_fired, x_post2, s_in,
                                    s_exc, t, learn, syn_seed, scratch, n_in_spk, learn_live,
                                    n_exc_spk, active[:n_active if compact_pre else 0],
                                    pre_pos, *stdp_args)
            tick = _lap(prof, 6 if reset else 5, tick)
            if n_exc_spk:
                for i in range(n_exc):
                    counts[k, i] += s_exc[i]
            if record.shape[0]:
                record[k * period + ph, :] = s_exc
            events[k, 0] += n_in_spk
            events[k, 1] += n_exc_spk
            events[k, 2] += n_inh_spk
            events[k, 3] += n_in_spk * n_exc
            events[k, 4] += syn_inh
            events[k, 5] += n_upd
            last_exc = n_exc_spk
            last_inh = n_inh_spk
            tick = _lap(prof, 8, tick)
    if compact_pre and n_samples:
        stdp_live_sync(x_pre, learn_live, active[:n_active])
    for i in range(n_exc):
        a_syn_state[i] = a_syn[i]
    return n_skipped
