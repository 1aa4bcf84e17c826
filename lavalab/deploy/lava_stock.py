"""Run a model's stock-Process network (:mod:`lavalab.deploy.stock`) on Lava's own run
configuration ``Loihi2SimCfg(select_tag="fixed_pt")`` from ``lava.magma.core.run_configs``
(CPU simulation, no lavalab ProcessModel anywhere). The chip is reached through a deploy
bundle (:mod:`lavalab.deploy.bundle`), not from here.

Around the network: a stock ``lava.proc.io.source.RingBuffer`` plays lavalab's own Poisson
raster of each sample (precomputed, so the input equals the engine's bit for bit) and stock
``lava.proc.io.sink.RingBuffer`` processes record the excitatory (and inhibitory) spikes of
the sample. The per-sample reset runs on chip (stock ``LIFReset``) or, with
``reset="host"``, the host sets u and v of every LIF to 0 between samples; the next
sample's raster is loaded through ``Var.set`` while the network is paused.
"""

from __future__ import annotations

import numpy as np

from lavalab.deploy.stock import StockLowering, build_stock_network
from lavalab.dynamics.encoding import poisson_raster
from lavalab.engine import EVENT_NAMES, intensities

__all__ = ["run_stock", "simulate_stock", "stock_events"]


def stock_events(low: StockLowering, input_spikes, counts, inh_counts) -> np.ndarray:
    """Engine-layout event rows (S, len(EVENT_NAMES)) of a stock run (no learning)."""
    n = low.n_exc
    exc = np.asarray(counts).sum(axis=1)
    inh = np.asarray(inh_counts).sum(axis=1) if inh_counts is not None else np.zeros_like(exc)
    ev = np.zeros((len(exc), len(EVENT_NAMES)), np.int64)
    ev[:, 0], ev[:, 1], ev[:, 2] = input_spikes, exc, inh
    ev[:, 3] = np.asarray(input_spikes) * n
    ev[:, 4] = (exc + inh * (n - 1) if low.inh is not None else
                exc * (n - 1) if low.w_lat is not None else 0)
    return ev


def _dense(w, s, exp):
    """Lava Dense (fixed point, binary spikes): ``W s`` then its exponent. The sum is
    computed in float32 BLAS, exact while ``|sum| < 2**24`` (checked)."""
    from lavalab.dynamics.stdp import weight_exp_s

    if s.shape[-1] * np.abs(w).max(initial=0) >= 2**24:
        raise ValueError("weight sums may exceed 2**24: not exact in float32")
    a = np.rint(s.astype(np.float32) @ w.T.astype(np.float32)).astype(np.int64)
    return weight_exp_s(a, exp)


def simulate_stock(low: StockLowering, images, seed: int, max_rate_hz: float, dt_ms: float,
                   t0: int = 0, chunk: int = 1000) -> dict:
    """The stock network's spike counts without Lava, ``chunk`` samples at once (fast).

    Same arithmetic as Lava's ``PyLifModelBitAcc`` (lavalab's fixed LIF kernel with theta,
    refractoriness and reset off, which equals it bit for bit) and ``PyDenseModelBitAcc``
    (``W s`` shifted by the exponent, one step of delay), and the same input and
    per-sample reset as :func:`run_stock`; used to choose lowering options on many digits
    and checked against :func:`run_stock` in the tests. Returns what :func:`run_stock`
    returns.
    """
    from lavalab.dynamics.adaptive_lif import AdaptiveLIFFixed, init_state, step_fixed
    from lavalab.dynamics.encoding import poisson_spikes, spike_thresholds

    def params(p):
        b = np.asarray(p.bias_mant)
        if np.any(b != b.flat[0]):
            raise ValueError("simulate_stock supports one bias per population")
        return AdaptiveLIFFixed.from_lava_lif(p.du, p.dv, p.vth, int(b.flat[0]), p.bias_exp)

    x = intensities(images)
    n, period, m = len(x), low.sample_steps, low.n_exc
    pe = params(low.exc)
    pi = params(low.inh) if low.inh is not None else None
    counts = np.zeros((n, m), np.int64)
    inh_counts = np.zeros((n, m), np.int64) if pi is not None else None
    in_spikes = np.zeros(n, np.int64)
    thr = spike_thresholds(x, max_rate_hz, dt_ms)
    for lo in range(0, n, chunk):
        hi = min(n, lo + chunk)
        b = hi - lo
        # one flat population of b * m neurons: nothing here depends on the neuron index
        se, si = init_state((b * m,), "fixed"), init_state((b * m,), "fixed")
        buf_in = np.zeros((b, m), np.int64)
        buf_rec = np.zeros((b, m), np.int64)  # I->E (D&C) or E->E (tinySNN)
        buf_ei = np.zeros((b, m), np.int64)
        tk = t0 + np.arange(lo, hi) * period
        for ph in range(period):
            if ph < low.present_steps:
                s_in = np.stack([poisson_spikes(thr[k], seed, int(tk[k - lo] + ph))
                                 for k in range(lo, hi)])
            else:
                s_in = np.zeros((b, low.n_input), bool)
            in_spikes[lo:hi] += s_in.sum(1)
            se, s_exc = step_fixed(se, pe, (buf_in + buf_rec).reshape(-1), learn=False)
            s_exc = s_exc.reshape(b, m)
            counts[lo:hi] += s_exc
            if pi is not None:
                si, s_inh = step_fixed(si, pi, buf_ei.reshape(-1), learn=False)
                s_inh = s_inh.reshape(b, m)
                inh_counts[lo:hi] += s_inh
                buf_ei = _dense(low.w_ei, s_exc, low.exp_ei)
                buf_rec = _dense(low.w_ie, s_inh, low.exp_ie)
            elif low.w_lat is not None:
                buf_rec = _dense(low.w_lat, s_exc, low.exp_lat)
            buf_in = _dense(low.w_in, s_in, low.exp_in)
    return dict(counts=counts, inh_counts=inh_counts,
                events=stock_events(low, in_spikes, counts, inh_counts))


def run_stock(low: StockLowering, images, seed: int, max_rate_hz: float, dt_ms: float,
              t0: int = 0, copies: int = 1, reset: str = "chip",
              progress=None) -> dict:
    """Spike counts of ``images`` on the stock network of ``low``.

    Sample ``k`` gets lavalab's Poisson raster for global step ``t0 + k * period`` with
    ``seed`` (as :func:`lavalab.engine.infer`). ``copies`` samples run at once in that many
    copies of the network (:func:`~lavalab.deploy.stock.build_stock_network`; the last
    group is padded with blank inputs). ``progress`` is called with the number of finished
    samples. Returns ``dict(counts (S, n_exc), inh_counts or None, events)``.
    """
    from lava.magma.core.run_conditions import RunSteps
    from lava.proc.io.sink import RingBuffer as Sink
    from lava.proc.io.source import RingBuffer as Source

    x = intensities(images)
    n = len(x)
    period, n_in, n_out = low.sample_steps, low.n_input, low.n_exc
    copies = max(1, min(copies, n))
    net = build_stock_network(low, copies=copies, reset=reset)
    src = Source(data=np.zeros((n_in * copies, period), np.int32))
    src.s_out.connect(net.s_in)
    sink = Sink(shape=(n_out * copies,), buffer=period)
    net.s_out.connect(sink.a_in)
    isink = None
    if net.inh_s_out is not None:
        isink = Sink(shape=(n_out * copies,), buffer=period)
        net.inh_s_out.connect(isink.a_in)
    from lava.magma.core.run_configs import Loihi2SimCfg

    cfg = Loihi2SimCfg(select_tag="fixed_pt")
    counts = np.zeros((n, n_out), np.int64)
    inh_counts = np.zeros((n, n_out), np.int64) if isink is not None else None
    in_spikes = np.zeros(n, np.int64)
    zeros = np.zeros(n_out * copies)
    started = False
    # Lava's worker processes are killed with this one (a kill -9 leaves none behind)
    from lavalab.backends.lava import _children_die_with_parent

    with _children_die_with_parent():
        try:
            for lo in range(0, n, copies):
                hi = min(n, lo + copies)
                data = np.zeros((copies, n_in, period), np.int32)
                for k in range(lo, hi):
                    raster = poisson_raster(x[k:k + 1], max_rate_hz, dt_ms, low.present_steps,
                                            low.rest_steps, seed, t0 + k * period)
                    in_spikes[k] = int(raster.sum())
                    data[k - lo] = raster.T
                data = data.reshape(copies * n_in, period)
                if not started:  # compile with the first group's data as the initial value
                    src.data.init = data
                else:
                    src.data.set(data)
                    if reset == "host":  # per-sample reset (lavalab's neurons reset u, v)
                        for lif in net.lifs:
                            lif.u.set(zeros)
                            lif.v.set(zeros)
                src.run(condition=RunSteps(num_steps=period), run_cfg=cfg)
                started = True
                counts[lo:hi] = sink.data.get().reshape(copies, n_out, period).sum(2)[:hi - lo]
                if isink is not None:
                    inh_counts[lo:hi] = (isink.data.get().reshape(copies, n_out, period)
                                         .sum(2)[:hi - lo])
                if progress is not None:
                    progress(hi - lo)
        finally:
            if started:
                src.stop()
    return dict(counts=counts, inh_counts=inh_counts,
                events=stock_events(low, in_spikes, counts, inh_counts))
