"""The fixed-point learning step on live elements only, for the engine's step loop.

:func:`stdp_fixed_live_step` is :func:`~lavalab.dynamics.stdp.rules.stdp_fixed_step` (the
same arithmetic, documented in :mod:`~lavalab.dynamics.stdp.rules` and
:mod:`~lavalab.dynamics.stdp.traces`) restricted to the traces and rows that can change,
which is exact: a zero trace stays zero and a synapse without an event keeps its weight.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from lavalab import fixed
from lavalab.dynamics.encoding import sample_start_s
from lavalab.dynamics.stdp.normalise import normalize_fixed_dirty_kernel
from lavalab.dynamics.stdp.rules import (
    WEIGHT_STREAM,
    _dep_row_s,
    _dep_s,
    _learn_shifts_s,
    _post2_impulse_s,
    _pot_dep_s,
    stdp_fixed_step,
)
from lavalab.dynamics.stdp.traces import (
    TRACE_STREAM,
    add_impulse,
    decay_trace,
    reset_sample_s,
    update_traces_s,
)

__all__ = ["stdp_fixed_live_step", "stdp_live_sync"]


@njit(cache=True)
def stdp_live_sync(x_pre, live, pre_active):
    """Write the compact pre traces of :func:`stdp_fixed_live_step` to ``x_pre`` (whose
    other elements are zero since the sample's start)."""
    n_post = (live.size - 3 - x_pre.size) // 2
    for q in range(pre_active.size):
        x_pre[pre_active[q]] = live[3 + 2 * n_post + q]


@njit(cache=True)
def stdp_fixed_live_step(w, x_pre, x_post, count, fired, pre_fired, x_post2, s_pre, s_post, t,
                         learn, seed, scratch, n_pre_spikes, live, n_post_spikes, pre_active,
                         pre_pos, decay_pre,
                         decay_post, impulse_pre, impulse_post, eta_pre_mant, eta_pre_exp,
                         eta_post_mant, eta_post_exp, w_max, mu, stdp2, n_th, norm_total,
                         sample_steps, window_steps, frac_bits, acc_max, w_mode, triplet,
                         decay_post2):
    """:func:`~lavalab.dynamics.stdp.rules.stdp_fixed_step` for a step loop that also keeps
    ``live`` (int64, ``3 + 2 * n_post``, zeros before the loop's first step) and passes the
    number of post spikes ``n_post_spikes``: the same arithmetic on fewer elements (exact).

    - Pre side, when ``pre_active`` is not empty: the caller guarantees that only the inputs
      ``pre_active`` (increasing; ``pre_pos[j]`` is the position of input ``j`` in it) can
      spike from this sample's start (where the traces reset) to its end. Their traces are
      then kept compactly in ``live[3 + 2 * n_post:]`` (same order), decayed in one dense
      loop, and ``x_pre`` is *not* written during the sample: call
      :func:`stdp_live_sync` before reading it (the other traces are zero).

    - Post side: only the post neurons with a nonzero trace (``x_post`` or ``x_post2``) are
      decayed and visited for learning (a zero trace stays zero and gives no depression;
      a post spike puts the neuron on the list). ``live[1]`` counts them, listed in
      ``live[3:3 + n_post]`` (``live[2]`` = 1 once the list is built from the traces).
    - D&C normalisation at a sample start visits only the rows not known to be fixed
      points (``live[3 + n_post:]``, 1 = the row is unchanged by the normalisation and
      has not been learned since; see
      :func:`~lavalab.dynamics.stdp.normalise.normalize_fixed_dirty_kernel`).

    Rows are independent (each synapse's update depends on its own weight, traces and
    random index only), so visiting them in another order gives the same weights and
    count. STDP2 (update windows), or pre spikes not listed (``n_pre_spikes < 0``), run
    :func:`~lavalab.dynamics.stdp.rules.stdp_fixed_step` itself.
    """
    n_post, n_pre = w.shape
    if stdp2 or n_pre_spikes < 0:
        live[2] = 0
        return stdp_fixed_step(w, x_pre, x_post, count, fired, pre_fired, x_post2, s_pre,
                               s_post, t, learn, seed, scratch, n_pre_spikes, decay_pre,
                               decay_post, impulse_pre, impulse_post, eta_pre_mant,
                               eta_pre_exp, eta_post_mant, eta_post_exp, w_max, mu, stdp2,
                               n_th, norm_total, sample_steps, window_steps, frac_bits,
                               acc_max, w_mode, triplet, decay_post2)
    lq = live[3:3 + n_post]
    clean = live[3 + n_post:3 + 2 * n_post]
    n_act = pre_active.size
    xa = live[3 + 2 * n_post:3 + 2 * n_post + n_act]
    if sample_start_s(t, sample_steps):
        if learn and norm_total > 0:
            normalize_fixed_dirty_kernel(w, norm_total, w_max, clean)
        reset_sample_s(count, x_pre, x_post, x_post2)
        xa[:] = 0
        live[1] = 0
        live[2] = 1
    elif live[2] == 0:
        m = 0
        for i in range(n_post):
            lq[m] = i
            m += (x_post[i] != 0) | (x_post2[i] != 0)
        live[1] = m
        live[2] = 1
    key = fixed.step_key_s(seed, TRACE_STREAM, t)
    pre_idx = scratch[n_post + 1:n_post + 1 + n_pre_spikes]
    if n_act:  # compact: the inputs that can spike in this sample (vectorised)
        for q in range(n_act):
            xa[q] = decay_trace(xa[q], decay_pre, key, pre_active[q])
        for j in pre_idx:
            q = pre_pos[j]
            xa[q] = add_impulse(xa[q], impulse_pre)
    else:
        update_traces_s(x_pre, n_pre, decay_pre, impulse_pre, s_pre, key, 0)
    m = 0
    for q in range(live[1]):  # the live post traces, then the list without the zero ones
        i = lq[q]
        xp = decay_trace(x_post[i], decay_post, key, n_pre + i)
        x2 = np.int64(0)
        if triplet:
            x2 = decay_trace(x_post2[i], decay_post2, key, n_pre + n_post + i)
            x_post2[i] = x2
        x_post[i] = xp
        lq[m] = i
        m += (xp != 0) | (x2 != 0)
    if n_post_spikes:
        for i in range(n_post):
            if s_post[i]:
                if x_post[i] == 0 and x_post2[i] == 0:  # not listed
                    lq[m] = i
                    m += 1
                x_post[i] = add_impulse(x_post[i], impulse_post)
                count[i] += 1
    live[1] = m
    n_upd = 0
    if learn:
        sh_p, sh_d = _learn_shifts_s(eta_pre_exp, eta_post_exp, frac_bits, mu, triplet)
        wkey = fixed.step_key_s(seed, WEIGHT_STREAM, t)
        half = np.int64(1) << (frac_bits - 1)
        for q in range(m):
            i = lq[q]
            dep = _dep_s(x_post[i], eta_pre_mant, sh_d)
            if s_post[i]:
                clean[i] = 0
                k_i = np.int64(x_post2[i]) if triplet else np.int64(1)
                if n_act:  # the other inputs have a zero trace and no spike: no update
                    for q in range(n_act):
                        j = pre_active[q]
                        n_upd += _pot_dep_s(w, i, j, n_pre, np.int64(xa[q]), s_pre[j], k_i,
                                            dep, eta_post_mant, mu, w_max, sh_p, frac_bits,
                                            acc_max, w_mode, wkey, half)
                else:
                    for j in range(n_pre):
                        n_upd += _pot_dep_s(w, i, j, n_pre, np.int64(x_pre[j]), s_pre[j], k_i,
                                            dep, eta_post_mant, mu, w_max, sh_p, frac_bits,
                                            acc_max, w_mode, wkey, half)
            elif dep != 0 and n_pre_spikes > 0:
                clean[i] = 0
                n_upd += n_pre_spikes
                _dep_row_s(w, i, pre_idx, n_pre, dep, w_max, frac_bits, acc_max, w_mode, wkey,
                           half)
    if triplet and n_post_spikes:  # the second post trace's impulse comes after learning
        _post2_impulse_s(x_post2, s_post, n_post, impulse_post)
    return n_upd
