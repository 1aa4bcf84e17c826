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
    """
    n_exc = st.exc.u.size
    w = steps.work(st.buf.s_in.size, n_exc)
    period = p.present + p.rest
    n_samples = thr.shape[0]
    n_skipped = 0
    n_active = 0
    n_inh_live = 0  # inhibitory neurons not at rest (steps.inh_neurons)
    inh_listed = False  # w.inh_live lists them (else n_inh_live only counts them)
    inh_zero = False  # a_ei and a_ie (a_lat) known to be all zero
    for k in range(n_samples):
        n_active = steps.sample_inputs(thr[k], w)
        ph, n_inh_live, inh_listed, inh_zero = _sample(
            k, t0 + k * period, k == n_samples - 1, p, st, out, w, n_active, n_inh_live,
            inh_listed, inh_zero)
        n_skipped += period - ph
    if p.compact_pre and p.learn and n_samples:
        stdp_live_sync(st.syn.x_pre, w.learn_live, w.active[:n_active])
    return n_skipped


@njit(nogil=True, inline="always")
def _sample(k, t_start, last, p, st, out, w, n_active, n_inh_live, inh_listed, inh_zero):
    """The steps of sample ``k`` (from global step ``t_start``; ``last``: the call's last
    sample), in Lava's order, until its end or a fast-forward (exact).

    Returns ``(steps run, n_inh_live, inh_listed, inh_zero)``: what the next sample
    continues from (``inh_zero``: the inhibition buffers are known to be all zero).
    """
    kern, syn, exc, buf, prof = p.kernels, st.syn, st.exc, st.buf, out.prof
    period = p.present + p.rest
    compact_pre = p.compact_pre and p.learn
    n_prev = 0  # encoder spikes of the previous step
    a_syn_zero = False
    last_exc = 1  # spikes of the previous step (none known yet)
    last_inh = 1
    for ph in range(period):
        t = t_start + ph
        reset = ph == 0
        tick = _cycles() if prof.size else 0
        n_in_spk = steps.encode(p, buf.s_in, w, n_active, ph, t, n_prev)
        n_prev = n_in_spk
        tick = _lap(prof, _ENCODE, tick)
        if not inh_zero:  # (else a_ie and a_lat are zero: a_syn is the input)
            steps.sum_exc_input(buf)
        tick = _lap(prof, _EXC, tick)
        if (p.skip_quiet and not p.learn and ph > p.present and a_syn_zero
                and steps.infer_quiet(p, st)):
            # Inference fast-forward (exact): input has stopped and nothing can spike
            # until the sample ends, so the remaining rest steps add no spike and the
            # connection buffers would be empty at the next sample. Skipped steps leave
            # u and v where they are (they are reset at the next sample start).
            steps.flush_buffers(buf)
            _lap(prof, _QUIET, tick)
            return ph, n_inh_live, inh_listed, inh_zero
        if (p.skip_quiet and p.learn and p.skip_learn and ph >= p.present and not last
                and a_syn_zero and last_exc == 0 and last_inh == 0
                and steps.train_settled(p, st)):
            # Training fast-forward (exact): no input from now to the sample's end, no
            # spike in flight (every buffer is empty), and no neuron can reach its
            # threshold without input (u <= 0, v <= the threshold without theta, which
            # is >= 0, bias <= 0: v never rises). So no spike, no synaptic event and no
            # weight update (no pre and no post spike) until the next sample, which
            # resets u, v, the refractory counters and the learning synapses' traces
            # and counts. What remains is theta's decay of the skipped steps (its
            # random stream is keyed by step and neuron, so nothing else moves). Never
            # on a call's last sample, so the state a call returns is the full one.
            steps.decay_theta_until(p, st, t, t_start + period)
            buf.s_in[:] = False
            _lap(prof, _QUIET, tick)
            return ph, n_inh_live, inh_listed, inh_zero
        tick = _lap(prof, _QUIET, tick)
        if inh_zero:  # (a_syn may be narrower than a_exc: two calls)
            lif_step(kern, kern.exc, exc, buf.a_syn, buf.s_exc, reset, p.learn, t, p.seed + 2)
        else:
            lif_step(kern, kern.exc, exc, buf.a_exc, buf.s_exc, reset, p.learn, t, p.seed + 2)
        tick = _lap(prof, _EXC, tick)
        n_inh_live, inh_listed = steps.inh_neurons(p, st, w, reset, t, last_exc, n_inh_live,
                                                   inh_listed)
        tick = _lap(prof, _INH, tick)
        a_syn_zero = steps.input_synapses(p, st, w, n_in_spk, a_syn_zero)
        tick = _lap(prof, _INPUT, tick)
        n_exc_spk, n_inh_spk, syn_inh, inh_zero = steps.inhibition_buffers(p, buf, inh_zero)
        tick = _lap(prof, _INHIBITION, tick)
        n_upd = 0
        if p.learn:
            n_upd = stdp_step(kern, syn, buf.s_in, buf.s_exc, t, p.learn, p.seed + 1,
                              w.scratch, n_in_spk, w.learn_live, n_exc_spk,
                              w.active[:n_active if compact_pre else 0], w.pre_pos)
        tick = _lap(prof, _LEARN_START if reset else _LEARN, tick)
        steps.count(out, k, k * period + ph, buf.s_exc, n_in_spk, n_exc_spk, n_inh_spk,
                    syn_inh, n_upd)
        last_exc = n_exc_spk
        last_inh = n_inh_spk
        tick = _lap(prof, _BOOKKEEPING, tick)
    return period, n_inh_live, inh_listed, inh_zero
