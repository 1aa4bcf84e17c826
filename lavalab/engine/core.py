"""The batched engine's compiled loop.

:func:`simulate` runs one network over a sequence of samples exactly as the Lava network
built by :mod:`lavalab.backends.lava` does, step by step, calling the same kernels of
:mod:`lavalab.dynamics` (the precision's, selected by the type of the parameter record:
:mod:`lavalab.engine.kernels`). It takes typed records (:mod:`lavalab.engine.state`) and
is cached on disk like every lavalab kernel (:mod:`lavalab.kernel_cache`); the pieces of
a step are in :mod:`lavalab.engine.steps`. Pipeline: every
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

from llvmlite import ir
from numba import njit, types
from numba.core import cgutils
from numba.extending import intrinsic

from lavalab.dynamics.stdp import stdp_live_sync
from lavalab.engine import steps
from lavalab.engine.kernels import lif_step, stdp_step

__all__ = ["EVENT_NAMES", "simulate", "N_EVENTS", "PROFILE_SECTIONS", "cycle_counter"]

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


_ENCODE, _EXC, _INH, _INPUT, _INHIBITION, _LEARN, _LEARN_START, _QUIET, _BOOKKEEPING = range(
    len(PROFILE_SECTIONS))


@njit(cache=True, nogil=True)
def simulate(thr, t0, p, st, out):
    """Run samples ``thr`` (S, n_in) from global step ``t0`` (a multiple of the period).

    ``p``, ``st``, ``out``: :class:`~lavalab.engine.state.Params`,
    :class:`~lavalab.engine.state.State` (updated in place) and
    :class:`~lavalab.engine.state.Output`; the type of ``p.kernels`` selects the
    precision. Returns the number of steps skipped (``p.skip_quiet``).

    The records are unpacked once here and the loops run on plain arrays (reading arrays
    out of records on every step costs reference counting in the hot loop).
    """
    kern, c = p.kernels, p.wiring
    present, seed, learn, skip_quiet, skip_learn = p.present, p.seed, p.learn, p.skip_quiet, \
        p.skip_learn
    inh_live_ok, has_inh = p.inh_live_ok, c.has_inh
    compact_pre = p.compact_pre and learn
    wt, x_pre, x_post, cnt, fired, pre_fired, x_post2 = st.syn
    u, v, theta, ref = st.exc
    iu, iv, itheta, iref = st.inh
    a_syn, a_ie, a_ei, a_lat, a_exc, s_in, s_exc, s_inh = st.buf
    counts, events, record, prof = out
    w = wt.T
    n_exc = u.size
    (scratch, in_idx, active, thr_active, pre_pos, enc_prev, enc_spk, inh_live,
     learn_live) = steps.work(s_in.size, n_exc)
    period = present + p.rest
    n_samples = thr.shape[0]
    n_skipped = 0
    n_active = 0
    n_inh_live = 0  # inhibitory neurons not at rest (steps.inh_neurons)
    inh_listed = False  # inh_live lists them (else n_inh_live only counts them)
    inh_zero = False  # a_ei and a_ie (a_lat) known to be all zero
    for k in range(n_samples):
        n_active = steps.sample_inputs(thr[k], active, thr_active, pre_pos)
        t_start = t0 + k * period
        n_prev = 0  # encoder spikes of the previous step
        a_syn_zero = False
        last_exc = 1  # spikes of the previous step (none known yet)
        last_inh = 1
        for ph in range(period):
            t = t_start + ph
            reset = ph == 0
            tick = _cycles() if prof.size else 0
            n_in_spk = steps.encode(present, seed, s_in, thr_active, active, in_idx, enc_prev,
                                    enc_spk, n_active, ph, t, n_prev)
            n_prev = n_in_spk
            tick = _lap(prof, _ENCODE, tick)
            if not inh_zero:  # (else a_ie and a_lat are zero: a_syn is the input)
                steps.sum_exc_input(a_exc, a_syn, a_ie, a_lat)
            tick = _lap(prof, _EXC, tick)
            if (skip_quiet and not learn and ph > present and a_syn_zero
                    and steps.infer_quiet(kern, has_inh, u, v, theta, iu, iv, itheta, a_ei)):
                # Inference fast-forward (exact): input has stopped and nothing can spike
                # until the sample ends, so the remaining rest steps add no spike and the
                # connection buffers would be empty at the next sample. Skipped steps leave
                # u and v where they are (they are reset at the next sample start).
                steps.flush_buffers(a_syn, a_ie, a_ei, a_lat, s_in, s_exc, s_inh)
                n_skipped += period - ph
                _lap(prof, _QUIET, tick)
                break
            if (skip_quiet and learn and skip_learn and ph >= present and k < n_samples - 1
                    and a_syn_zero and last_exc == 0 and last_inh == 0
                    and steps.train_settled(kern, has_inh, u, v, iu, iv)):
                # Training fast-forward (exact): no input from now to the sample's end, no
                # spike in flight (every buffer is empty), and no neuron can reach its
                # threshold without input (u <= 0, v <= the threshold without theta, which
                # is >= 0, bias <= 0: v never rises). So no spike, no synaptic event and no
                # weight update (no pre and no post spike) until the next sample, which
                # resets u, v, the refractory counters and the learning synapses' traces
                # and counts. What remains is theta's decay of the skipped steps (its
                # random stream is keyed by step and neuron, so nothing else moves). Never
                # on a call's last sample, so the state a call returns is the full one.
                steps.decay_theta_until(kern, has_inh, seed, theta, itheta, t,
                                        t_start + period)
                s_in[:] = False
                n_skipped += period - ph
                _lap(prof, _QUIET, tick)
                break
            tick = _lap(prof, _QUIET, tick)
            if inh_zero:  # (a_syn may be narrower than a_exc: two calls)
                lif_step(kern, kern.exc, u, v, theta, ref, a_syn, s_exc, reset, learn, t,
                         seed + 2)
            else:
                lif_step(kern, kern.exc, u, v, theta, ref, a_exc, s_exc, reset, learn, t,
                         seed + 2)
            tick = _lap(prof, _EXC, tick)
            n_inh_live, inh_listed = steps.inh_neurons(
                kern, has_inh, inh_live_ok, learn, seed, iu, iv, itheta, iref, a_ei, s_inh,
                inh_live, reset, t, last_exc, n_inh_live, inh_listed)
            tick = _lap(prof, _INH, tick)
            a_syn_zero = steps.input_synapses(kern, c.exp_in, wt, in_idx, a_syn, n_in_spk,
                                              a_syn_zero)
            tick = _lap(prof, _INPUT, tick)
            n_exc_spk, n_inh_spk, syn_inh, inh_zero = steps.inhibition_buffers(
                kern, c, a_ie, a_ei, a_lat, s_exc, s_inh, inh_zero)
            tick = _lap(prof, _INHIBITION, tick)
            n_upd = 0
            if learn:
                n_upd = stdp_step(kern, w, x_pre, x_post, cnt, fired, pre_fired, x_post2, s_in,
                                  s_exc, t, learn, seed + 1, scratch, n_in_spk, learn_live,
                                  n_exc_spk, active[:n_active if compact_pre else 0], pre_pos)
            tick = _lap(prof, _LEARN_START if reset else _LEARN, tick)
            steps.count(counts, events, record, k, k * period + ph, s_exc, n_in_spk, n_exc_spk,
                        n_inh_spk, syn_inh, n_upd)
            last_exc = n_exc_spk
            last_inh = n_inh_spk
            tick = _lap(prof, _BOOKKEEPING, tick)
    if compact_pre and n_samples:
        stdp_live_sync(x_pre, learn_live, active[:n_active])
    return n_skipped
