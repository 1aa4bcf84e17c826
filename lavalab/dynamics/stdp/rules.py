r"""The learning rules (STDP1, STDP2, triplet), float and Loihi fixed point.

One step ``t`` does, in this order (the order of Lava's learning engine and of BindsNET):
at a sample start, the D&C normalisation (:mod:`~lavalab.dynamics.stdp.normalise`, when
learning with ``norm_total``) and the reset of counts and traces; the traces' decay and
impulses (:mod:`~lavalab.dynamics.stdp.traces`); then learning (when ``learn``), with the
traces of this step (so a pre and a post spike in the same step both count):

*STDP1, pair-based weight-dependent* (Diehl & Cook 2015; TopSpark's first rule), every step:

.. math::

    \Delta w_{ij} = \eta_{post}\, s^{post}_i\, x^{pre}_j\, (w_{max} - w_{ij})^{\mu}
                  - \eta_{pre}\, s^{pre}_j\, x^{post}_i

(``mu = 0``: D&C's code, additive; ``mu = 1``: soft bound.)

*STDP2, adaptive potentiation* (tinySNN eq. 1-2; TopSpark's second rule): only at the end
of each update window of ``window_steps`` steps,

.. math::

    k = \lceil maxN / N_{th} \rceil, \qquad
    \Delta w_{ij} = k\, \eta_{post}\, f^{post}_i\, x^{pre}_j\, (w_{max} - w_{ij})^{\mu}
                  - \eta_{pre}\, f^{pre}_j\, x^{post}_i

where ``maxN`` is the largest post-spike count of the population since the start of the
current sample and ``f`` flags neurons that spiked within the window;

*Triplet* (Diehl & Cook 2015's own code, ``Diehl&Cook_spiking_MNIST.py``: on a pre spike
``w -= nu_pre * post1``, on a post spike ``w += nu_post * pre * post2before``), every step:

.. math::

    \Delta w_{ij} = \eta_{post}\, s^{post}_i\, x^{pre}_j\, y^{2-}_i\,
                     (w_{max} - w_{ij})^{\mu} - \eta_{pre}\, s^{pre}_j\, x^{post}_i

with a second post trace :math:`y^2` (``tau_post2_ms``, D&C: 40 ms) read *before* this
step's impulse (:math:`y^{2-}`; its impulse is added after learning). A neuron's first
spike after a silence potentiates nothing: a learning-side winner-take-all that
rewards the neuron that keeps winning a sample;

then :math:`w \leftarrow \mathrm{clip}(w + \Delta w, 0, w_{max})`.

Fixed point (Loihi learning-engine widths and arithmetic, ``shared/LOIHI.md`` 2d; traces:
:mod:`~lavalab.dynamics.stdp.traces`):

=========== ==================================================================================
weights     unsigned 8-bit mantissa 0..w_max (w_max <= 255, Loihi); the engine accepts
            up to 16 bits (w_max <= 65535; Loihi's 8 bits are a design rule checked
            elsewhere); the synapse output is ``(W s) << weight_exp``
learning    a rate is ``m * 2**e`` (mantissa ``m`` in 0..7, Loihi's [-8, 7]). Terms in the
            accumulator's 1/128 units: depression ``(m x_post) * 2**(e+7)``, potentiation
            ``(k m x_pre) * 2**(e+7)`` for ``mu = 0`` and
            ``floor(k m x_pre (w_max - w) / 32) * 2**(e+12)`` for ``mu = 1`` (Loihi's
            engine drops the 5 low bits of a product with the 9-bit w factor); a right shift
            floors. ``acc = sat16(sat16((w << 7) + pot) - dep)``, rounded ``>> 7``
            (``w_rounding``: Loihi's **stochastic** ``(acc + r) >> 7``, r uniform in
            [0, 2**7); ``"truncate"`` floors ``acc >> 7``; ``"nearest"`` adds half an LSB,
            ``(acc + 2**6) >> 7``), clipped to 0..w_max. (``frac_bits`` replaces the 7 and
            widens the accumulator accordingly; 7 is Loihi. Weights wider than 8 bits widen
            it by their extra bits so that ``w << frac_bits`` always fits:
            ``acc_bits = 16 + frac_bits - 7 + max(0, bits(w_max) - 8)``.)
triplet     ``(k m x_pre y2-) * 2**(e + frac_bits - 7)`` (one floor), i.e. ``y2`` counts in
            units of 1/128 (the trace's 0..127 read as a fraction of 128, a relative error
            of 1/128 against the float rule's 1/127)
=========== ==================================================================================

The rounding bits come from :func:`lavalab.fixed.counter_uniform` on the ``"weight"``
stream, synapse ``(i, j)`` being element ``i * n_pre + j``.

Loihi expressibility. STDP1 (``mu`` in {0, 1}) is the Loihi learning rule
``dw = C1*y0*x1*(WMAX - w) - C2*x0*y1`` (``mu = 1``) or ``C1*y0*x1 - C2*x0*y1`` (``mu = 0``),
where Lava's fixed applier divides multi-factor products by ``2**(sum of widths + 4 - 15)``
(``2**5`` for ``x1*(WMAX-w)``), so ``C1 = m * 2**(e+5)`` there; see
:func:`loihi_rule_string`. With integer rule constants, traces that live one step and no
accumulator saturation, this model and Lava's ``LearningDense`` (``sign_mode=EXCITATORY``)
agree bit for bit (tested); otherwise they differ only in their random streams (Lava: one
number per step shared by all synapses, from numpy) and agree statistically (tested).
STDP2 is **not** expressible on Loihi's learning engine: ``k``
needs the maximum spike count over the population and a division, and the
window-gated update needs per-neuron window flags (a tag could hold them, the max cannot).
The triplet rule's product ``x1 * y2`` is a Loihi form, but Loihi's ``y2`` already holds
this step's impulse when the rule is evaluated and saturates, so "before the spike" has
no exact form there: it is refused by the design rule ``learning_rule_expressible``.

Kernels work on one network (``w`` is (n_post, n_pre)), in place, event-driven: synapses
with no event are skipped (their accumulator is exactly ``w << 7`` and every rounding mode
returns w, so skipping them is exact). :func:`step_stdp_float` / :func:`step_stdp_fixed`
are the functional steps over any leading batch axes.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from lavalab import fixed
from lavalab.dynamics.stdp.normalise import normalize_fixed_kernel, normalize_float_kernel
from lavalab.dynamics.stdp.params import (
    STDPFixed,
    STDPFloat,
    STDPState,
    fixed_args,
    float_args,
)
from lavalab.dynamics.stdp.synapse import weight_exp_s
from lavalab.dynamics.stdp.traces import (
    TRACE_FRAC,
    TRACE_STREAM,
    add_impulse,
    decay_traces_s,
    end_window_s,
    mark_spikes_s,
    reset_sample_s,
    schedule_flags_s,
    stdp2_k_s,
    update_traces_s,
)

__all__ = [
    "W_FACTOR_SHIFT", "WEIGHT_STREAM", "stdp_fixed_kernel", "stdp_fixed_step",
    "stdp_float_kernel", "stdp_float_step", "step_stdp_float", "step_stdp_fixed",
    "loihi_rule_string",
]

W_FACTOR_SHIFT = 5  # Loihi: 7 (trace) + 9 (w) + 4 (mantissa) - 15
WEIGHT_STREAM = fixed.STREAMS["weight"]


# --- fixed-point pieces, shared by stdp_fixed_step and the engine's live step ----------

@njit(cache=True, inline="always")
def _round_offset_s(w_mode, wkey, index, frac_bits, half):
    """What is added to the accumulator before ``>> frac_bits``: 0 (truncate: floor),
    half an LSB (nearest) or ``frac_bits`` random bits (stochastic)."""
    if w_mode == 2:
        return fixed.uniform_s(wkey, index, frac_bits)
    return half if w_mode == 1 else np.int64(0)


@njit(cache=True, inline="always")
def _learn_shifts_s(eta_pre_exp, eta_post_exp, frac_bits, mu, triplet):
    """The exponents of the potentiation and depression terms in accumulator units.

    Loihi's engine shifts a product with the 9-bit w factor right by 5 (floor) before
    scaling: sum of factor widths 7 + 9 + 4 - 15 (LOIHI.md 2d); compensated by +5 here.
    The triplet rule reads ``y2`` as a fraction of 2**7."""
    sh_p = eta_post_exp + frac_bits + (W_FACTOR_SHIFT if mu else 0)
    if triplet:
        sh_p -= TRACE_FRAC
    return sh_p, eta_pre_exp + frac_bits


@njit(cache=True, inline="always")
def _dep_s(x_post, eta_pre_mant, sh_d):
    """Depression of a row with post trace ``x_post``, in accumulator units."""
    return weight_exp_s(np.int64(x_post) * eta_pre_mant, sh_d)


@njit(cache=True, inline="always")
def _pot_dep_s(w, i, j, n_pre, x, spiked, k_i, dep, eta_post_mant, mu, w_max, sh_p, frac_bits,
               acc_max, w_mode, wkey, half):
    """Synapse (i, j) of a post-spike row: potentiation from the pre trace ``x``,
    depression ``dep`` if the input spiked; 1 if it was updated."""
    pot = k_i * x * eta_post_mant
    if mu:
        pot = (pot * (w_max - np.int64(w[i, j]))) >> W_FACTOR_SHIFT
    pot = weight_exp_s(pot, sh_p)
    d = dep if spiked else np.int64(0)
    if pot == 0 and d == 0:
        return 0
    acc = fixed.clip_s((np.int64(w[i, j]) << frac_bits) + pot, -acc_max - 1, acc_max)
    acc = fixed.clip_s(acc - d, -acc_max - 1, acc_max)
    r = _round_offset_s(w_mode, wkey, i * n_pre + j, frac_bits, half)
    w[i, j] = fixed.clip_s((acc + r) >> frac_bits, 0, w_max)
    return 1


@njit(cache=True, inline="always")
def _dep_row_s(w, i, pre_idx, n_pre, dep, w_max, frac_bits, acc_max, w_mode, wkey, half):
    """Depression ``dep`` alone on the synapses ``pre_idx`` (the pre spikes) of row ``i``."""
    for j in pre_idx:
        acc = fixed.clip_s((np.int64(w[i, j]) << frac_bits) - dep, -acc_max - 1, acc_max)
        r = _round_offset_s(w_mode, wkey, i * n_pre + j, frac_bits, half)
        w[i, j] = fixed.clip_s((acc + r) >> frac_bits, 0, w_max)


@njit(cache=True, inline="always")
def _post2_impulse_s(x_post2, s_post, n_post, impulse_post):
    """The second post trace's impulse comes after learning ("post2before")."""
    for i in range(n_post):
        if s_post[i]:
            x_post2[i] = add_impulse(x_post2[i], impulse_post)


# --- kernels ---------------------------------------------------------------------------

@njit(cache=True)
def stdp_fixed_kernel(w, x_pre, x_post, count, fired, pre_fired, x_post2, s_pre, s_post, t,
                      learn, seed, decay_pre, decay_post, impulse_pre, impulse_post,
                      eta_pre_mant, eta_pre_exp, eta_post_mant, eta_post_exp, w_max, mu, stdp2,
                      n_th, norm_total, sample_steps, window_steps, frac_bits, acc_max, w_mode,
                      triplet, decay_post2):
    """One step of one network, in place. Returns the number of synapses updated.

    ``acc_max`` = 2**(acc_bits - 1) - 1 bounds the accumulator; ``w_mode`` is the weight
    rounding (0 truncate = floor, 1 nearest = +half LSB, 2 stochastic)."""
    n_post, n_pre = w.shape
    scratch = np.empty(n_post + n_pre + 2, np.int64)
    return stdp_fixed_step(w, x_pre, x_post, count, fired, pre_fired, x_post2, s_pre, s_post, t,
                           learn, seed, scratch, -1, decay_pre, decay_post, impulse_pre,
                           impulse_post, eta_pre_mant, eta_pre_exp, eta_post_mant, eta_post_exp,
                           w_max, mu, stdp2, n_th, norm_total, sample_steps, window_steps,
                           frac_bits, acc_max, w_mode, triplet, decay_post2)


@njit(cache=True)
def stdp_fixed_step(w, x_pre, x_post, count, fired, pre_fired, x_post2, s_pre, s_post, t, learn,
                    seed, scratch, n_pre_spikes, decay_pre, decay_post, impulse_pre, impulse_post,
                    eta_pre_mant, eta_pre_exp, eta_post_mant, eta_post_exp, w_max, mu, stdp2, n_th,
                    norm_total, sample_steps, window_steps, frac_bits, acc_max, w_mode, triplet,
                    decay_post2):
    """:func:`stdp_fixed_kernel` with caller-owned working memory, for a step loop:
    ``scratch`` int64 of ``n_post + n_pre + 2``; ``n_pre_spikes >= 0`` says that
    ``scratch[n_post + 1:][:n_pre_spikes]`` already lists the pre spikes ``s_pre``
    (increasing indices), as the engine's encoder writes them (-1: not given)."""
    n_post, n_pre = w.shape
    start, window_end = schedule_flags_s(t, sample_steps, stdp2, window_steps)
    n_upd = 0
    if start:
        if learn and norm_total > 0:
            normalize_fixed_kernel(w, norm_total, w_max)
        reset_sample_s(count, x_pre, x_post, x_post2)
    key = fixed.step_key_s(seed, TRACE_STREAM, t)
    update_traces_s(x_pre, n_pre, decay_pre, impulse_pre, s_pre, key, 0)
    update_traces_s(x_post, n_post, decay_post, impulse_post, s_post, key, n_pre)
    if triplet:
        decay_traces_s(x_post2, n_post, decay_post2, key, n_pre + n_post)
    mark_spikes_s(count, fired, pre_fired, s_pre, s_post, n_pre, n_post, stdp2)
    if learn and window_end:
        k = stdp2_k_s(count, n_post, n_th) if stdp2 else np.int64(1)
        g_pre = pre_fired if stdp2 else s_pre
        g_post = fired if stdp2 else s_post
        sh_p, sh_d = _learn_shifts_s(eta_pre_exp, eta_post_exp, frac_bits, mu, triplet)
        listed = n_pre_spikes >= 0 and not stdp2
        n_g_pre = n_pre_spikes if listed else 0
        if not listed:
            for j in range(n_pre):
                n_g_pre += g_pre[j]
        has_pre = np.int64(n_g_pre > 0)
        # Rows with an event: a post spike (potentiation), or a nonzero depression and a pre
        # spike. Every other synapse keeps its weight, so only these rows are visited;
        # found by a branch-free compaction (idx: rows, then the pre spikes).
        n_rows = 0
        for i in range(n_post):
            dep_nz = np.int64(_dep_s(x_post[i], eta_pre_mant, sh_d) != 0)
            n_rows += np.int64(g_post[i]) | (dep_nz & has_pre)
        if n_rows:
            idx = scratch
            q = 0
            for i in range(n_post):
                dep_nz = np.int64(_dep_s(x_post[i], eta_pre_mant, sh_d) != 0)
                idx[q] = i
                q += np.int64(g_post[i]) | (dep_nz & has_pre)
            pre_idx = idx[n_post + 1:]
            if not listed:
                q = 0
                for j in range(n_pre):
                    pre_idx[q] = j
                    q += g_pre[j]
            pre_idx = pre_idx[:n_g_pre]
            wkey = fixed.step_key_s(seed, WEIGHT_STREAM, t)
            half = np.int64(1) << (frac_bits - 1)
            for r_ in range(n_rows):
                i = idx[r_]
                dep = _dep_s(x_post[i], eta_pre_mant, sh_d)
                if g_post[i]:
                    k_i = k * np.int64(x_post2[i]) if triplet else k
                    for j in range(n_pre):
                        n_upd += _pot_dep_s(w, i, j, n_pre, np.int64(x_pre[j]), g_pre[j], k_i,
                                            dep, eta_post_mant, mu, w_max, sh_p, frac_bits,
                                            acc_max, w_mode, wkey, half)
                elif dep != 0:
                    n_upd += n_g_pre
                    _dep_row_s(w, i, pre_idx, n_pre, dep, w_max, frac_bits, acc_max, w_mode,
                               wkey, half)
    if triplet:
        _post2_impulse_s(x_post2, s_post, n_post, impulse_post)
    if stdp2 and window_end:
        end_window_s(fired, pre_fired)
    return n_upd


@njit(cache=True)
def stdp_float_kernel(w, x_pre, x_post, count, fired, pre_fired, x_post2, s_pre, s_post, t,
                      learn, seed, decay_pre, decay_post, impulse_pre, impulse_post, eta_pre,
                      eta_post, w_max, mu, stdp2, n_th, norm_total, sample_steps, window_steps,
                      triplet, decay_post2):
    """One float step of one network, in place. Returns the number of synapses updated."""
    n_post, n_pre = w.shape
    start, window_end = schedule_flags_s(t, sample_steps, stdp2, window_steps)
    n_upd = 0
    if start:
        if learn and norm_total > 0:
            normalize_float_kernel(w, norm_total, w_max)
        reset_sample_s(count, x_pre, x_post, x_post2)
    key = np.uint64(0)  # float traces round nothing
    update_traces_s(x_pre, n_pre, decay_pre, impulse_pre, s_pre, key, 0)
    update_traces_s(x_post, n_post, decay_post, impulse_post, s_post, key, n_pre)
    if triplet:
        decay_traces_s(x_post2, n_post, decay_post2, key, n_pre + n_post)
    mark_spikes_s(count, fired, pre_fired, s_pre, s_post, n_pre, n_post, stdp2)
    if learn and window_end:
        k = float(stdp2_k_s(count, n_post, n_th)) if stdp2 else 1.0
        g_pre = pre_fired if stdp2 else s_pre
        g_post = fired if stdp2 else s_post
        pre_idx = np.nonzero(g_pre)[0]
        for i in range(n_post):
            dep = eta_pre * x_post[i]
            if g_post[i]:
                k_i = k * x_post2[i] if triplet else k
                for j in range(n_pre):
                    dw = k_i * eta_post * x_pre[j]
                    if mu != 0.0:
                        dw *= (w_max - w[i, j]) ** mu
                    if g_pre[j]:
                        dw -= dep
                    if dw != 0.0:
                        n_upd += 1
                        w[i, j] = min(max(w[i, j] + dw, 0.0), w_max)
            elif dep != 0.0:
                for j in pre_idx:
                    n_upd += 1
                    w[i, j] = min(max(w[i, j] - dep, 0.0), w_max)
    if triplet:
        _post2_impulse_s(x_post2, s_post, n_post, impulse_post)
    if stdp2 and window_end:
        end_window_s(fired, pre_fired)
    return n_upd


@njit(cache=True)
def stdp_float_step(w, x_pre, x_post, count, fired, pre_fired, x_post2, s_pre, s_post, t, learn,
                    seed, scratch, n_pre_spikes, live, n_post_spikes, pre_active, pre_pos,
                    decay_pre, decay_post, impulse_pre, impulse_post, eta_pre, eta_post, w_max,
                    mu, stdp2, n_th, norm_total, sample_steps, window_steps, triplet,
                    decay_post2):
    """:func:`stdp_float_kernel` with the signature of
    :func:`~lavalab.dynamics.stdp.live.stdp_fixed_live_step` (``scratch``, ``n_pre_spikes``,
    ``live``, ``n_post_spikes``, ``pre_active`` and ``pre_pos`` are not needed)."""
    return stdp_float_kernel(w, x_pre, x_post, count, fired, pre_fired, x_post2, s_pre, s_post, t,
                             learn, seed, decay_pre, decay_post, impulse_pre, impulse_post, eta_pre,
                             eta_post, w_max, mu, stdp2, n_th, norm_total, sample_steps,
                             window_steps, triplet, decay_post2)


# --- functional steps (any leading batch axes) -----------------------------------------

def _step(kernel, args, st, p, s_pre, s_post, t, learn, seed, return_updates):
    new = [x.copy() for x in st]
    batch = new[0].shape[:-2]
    s_pre = np.broadcast_to(np.asarray(s_pre, bool), batch + new[1].shape[-1:])
    s_post = np.broadcast_to(np.asarray(s_post, bool), batch + new[2].shape[-1:])
    n_upd = 0
    for b in np.ndindex(*batch):
        n_upd += kernel(new[0][b], new[1][b], new[2][b], new[3][b], new[4][b], new[5][b],
                        new[6][b], np.ascontiguousarray(s_pre[b]),
                        np.ascontiguousarray(s_post[b]), t, bool(learn), seed, *args)
    return (STDPState(*new), n_upd) if return_updates else STDPState(*new)


def step_stdp_float(st: STDPState, p: STDPFloat, s_pre, s_post, t: int, learn: bool = True,
                    seed: int = 0, return_updates: bool = False):
    """One float step (functional; ``seed`` unused: nothing is rounded). With
    ``return_updates``, returns ``(state, number of synapses updated)``."""
    return _step(stdp_float_kernel, float_args(p), st, p, s_pre, s_post, t, learn, seed,
                 return_updates)


def step_stdp_fixed(st: STDPState, p: STDPFixed, s_pre, s_post, t: int, learn: bool = True,
                    seed: int = 0, return_updates: bool = False):
    """One Loihi-integer step (functional; see the module docstring for the arithmetic).
    With ``return_updates``, returns ``(state, number of synapses updated)``."""
    return _step(stdp_fixed_kernel, fixed_args(p), st, p, s_pre, s_post, t, learn, seed,
                 return_updates)


def loihi_rule_string(p: STDPFixed) -> str:
    """The Loihi / Lava learning-rule string equivalent to STDP1 with these parameters.

    Uses Lava's factor naming: x0/y0 pre/post spikes, x1/y1 pre/post traces. The
    ``(WMAX - w)`` product carries Lava's implicit ``2**-5`` (LOIHI.md 2d), compensated
    in the literal.
    """
    if p.rule != "stdp1":
        raise ValueError(f"only STDP1 is expressible as a Loihi learning rule, not "
                         f"{p.rule!r} (STDP2's k and the triplet's y2 before the impulse "
                         "have no form)")
    pot_exp = p.eta_post_exp + (W_FACTOR_SHIFT if p.mu else 0)
    pot = f"{p.eta_post_mant}*2^{pot_exp}*y0*x1" + (f"*({p.w_max}-w)" if p.mu else "")
    dep = f"{p.eta_pre_mant}*2^{p.eta_pre_exp}*x0*y1"
    return f"{pot} - {dep}"
