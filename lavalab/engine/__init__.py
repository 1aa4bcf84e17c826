"""The batched engine: the same kernels as the Lava ProcessModels, compiled loops.

:class:`EngineNet` holds one network's complete state (weights, theta, traces, neuron
state, connection buffers, step counter), so training can stop and resume anywhere with
bit-identical results. :func:`run` continues a network over samples (training or a
sequential evaluation); :func:`infer` evaluates many samples in parallel with frozen
weights and theta.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from lavalab import validate
from lavalab.dynamics.encoding import spike_thresholds
from lavalab.engine import state
from lavalab.engine.core import EVENT_NAMES, N_EVENTS, PROFILE_SECTIONS, simulate
from lavalab.networks.snn import FixedNetwork, NetworkSpec, lower_network

__all__ = ["EngineNet", "make_net", "run", "run_many", "infer", "EVENT_NAMES", "intensities",
           "PROFILE_SECTIONS"]


def intensities(images) -> np.ndarray:
    """uint8 images (N, H, W) or (N, n) -> float intensities (N, n) in [0, 1]."""
    x = np.asarray(images)
    return x.reshape(len(x), -1) / 255.0


@dataclass
class EngineNet:
    """Complete mutable state of one network (arrays named as in the Lava Vars)."""

    spec: NetworkSpec
    precision: str
    fixed: FixedNetwork | None
    seed: int
    t: int
    arrays: dict
    #: steps the quiet fast-forward skipped so far (see :func:`run`); diagnostics only
    skipped_steps: int = 0

    def __getattr__(self, name):
        arrays = self.__dict__.get("arrays", {})
        if name in arrays:
            return arrays[name]
        raise AttributeError(name)

    @property
    def dtype(self):
        return np.int64 if self.precision == "fixed" else np.float64


def make_net(spec: NetworkSpec, precision: str, w, theta=None, seed: int = 0,
             fixed: FixedNetwork | None = None, t: int = 0) -> EngineNet:
    """A network at step ``t`` with weights ``w`` (n_exc, n_input) and theta, all else zero.

    ``w`` and ``theta`` are integers for ``precision="fixed"`` (see :func:`lower_network`),
    floats (mV) for ``"float"``.
    """
    if precision not in ("fixed", "float"):
        raise ValueError(f"precision={precision!r} is not one of ('fixed', 'float')")
    if not isinstance(spec, NetworkSpec):
        raise ValueError(f"spec must be a NetworkSpec, got {type(spec).__name__}")
    if precision == "fixed" and fixed is None:
        fixed = lower_network(spec)
    seed, t = validate.seed(seed), validate.step(t)
    dt = np.int64 if precision == "fixed" else np.float64
    n, m = spec.n_exc, spec.n_input
    # checked before anything reaches the compiled kernels (no bounds checks there)
    w = np.array(validate.weights(w, spec, precision, fixed), dtype=dt, order="C", copy=True)
    theta = None if theta is None else validate.theta(theta, spec, precision, fixed)
    z = lambda k, d=dt: np.zeros(k, d)  # noqa: E731
    arrays = dict(
        w=w, theta=z(n) if theta is None else np.array(theta, dt),
        x_pre=z(m), x_post=z(n), cnt=z(n, np.int64), fired=z(n, bool), pre_fired=z(m, bool),
        x_post2=z(n),
        u=z(n), v=z(n), ref=z(n, np.int64), iu=z(n), iv=z(n), itheta=z(n),
        iref=z(n, np.int64), a_syn=z(n), a_ie=z(n), a_ei=z(n), a_lat=z(n), a_exc=z(n),
        s_in=z(m, bool), s_exc=z(n, bool), s_inh=z(n, bool),
    )
    return EngineNet(spec, precision, fixed, int(seed), int(t), arrays)


def _thresholds(spec: NetworkSpec, images) -> np.ndarray:
    images = validate.images(images, spec.n_input)
    return np.ascontiguousarray(spike_thresholds(intensities(images), spec.max_rate_hz,
                                                 spec.dt_ms))


_NO_PROF = np.zeros(0, np.int64)


def _transposed(net: EngineNet) -> np.ndarray:
    """The input weights as the step loop keeps them: (n_input, n_exc), C order; uint16 in
    fixed point (weights are 0..w_max <= 65535, checked here), float64 in float."""
    w = net.arrays["w"]
    if net.precision == "float":
        return np.ascontiguousarray(w.T)
    w_max = int(net.fixed.stdp.w_max)
    if w.size and (w.min() < 0 or w.max() > w_max):
        raise ValueError(f"net.w spans {w.min()}..{w.max()}, outside the allowed range "
                         f"0..{w_max}")
    return np.ascontiguousarray(w.T, dtype=np.uint16)


def _simulate(net: EngineNet, thr, learn: bool, counts, events, rec, prof=_NO_PROF,
              skip_quiet: bool = True) -> None:
    s = net.spec
    a = net.arrays
    for name, shape in (("w", (s.n_exc, s.n_input)), ("theta", (s.n_exc,))):
        if a[name].shape != shape or a[name].dtype != net.dtype:  # replaced by the caller
            raise ValueError(f"net.{name} has shape {a[name].shape} and dtype "
                             f"{a[name].dtype}, expected {shape} {np.dtype(net.dtype)}")
    p = state.params(s, net.precision, net.fixed, net.seed, learn, skip_quiet)
    wt = _transposed(net)
    a_syn = a["a_syn"]
    if (net.precision == "fixed" and p.wiring.exp_in == 0
            and s.n_input * int(net.fixed.stdp.w_max) < 2**31):
        a_syn = a["a_syn"].astype(np.int32)  # every sum of input weights fits
    st = state.State(
        state.Synapses(wt, a["x_pre"], a["x_post"], a["cnt"], a["fired"], a["pre_fired"],
                       a["x_post2"]),
        state.LIFState(a["u"], a["v"], a["theta"], a["ref"]),
        state.LIFState(a["iu"], a["iv"], a["itheta"], a["iref"]),
        state.Buffers(a_syn, a["a_ie"], a["a_ei"], a["a_lat"], a["a_exc"], a["s_in"],
                      a["s_exc"], a["s_inh"]))
    net.skipped_steps += simulate(thr, net.t, p, st, state.Output(counts, events, rec, prof))
    if a_syn is not a["a_syn"]:
        a["a_syn"][...] = a_syn
    if learn:
        a["w"][...] = wt.T
    net.t += len(thr) * s.sample_steps


def run(net: EngineNet, images, learn: bool = True, record: bool = False,
        profile: np.ndarray | None = None, skip_quiet: bool = True):
    """Continue ``net`` over ``images`` (one sample each), in place.

    Returns ``(counts (S, n_exc), events (S, len(EVENT_NAMES)), spikes)`` where ``spikes``
    is the (S * period, n_exc) bool raster when ``record`` else None. ``profile``: an int64
    array of ``len(PROFILE_SECTIONS)`` that receives the CPU cycles spent in each section
    of the step (see :data:`lavalab.engine.core.PROFILE_SECTIONS`; ``bench/profile_engine.py``).

    ``skip_quiet`` (default) ends a sample early once provably nothing can happen until
    its end: the counts, events, raster, weights and theta are those of the full
    simulation (tested), and so is the state the call ends in (a call's last sample is
    never cut short while learning; in inference the skipped steps leave u and v as they
    were, which the next sample resets). ``False`` simulates every step.
    """
    if profile is not None and (not isinstance(profile, np.ndarray) or profile.dtype != np.int64
                                or profile.shape != (len(PROFILE_SECTIONS),)):
        raise ValueError(f"profile must be an int64 array of shape ({len(PROFILE_SECTIONS)},)")
    s = net.spec
    if net.t % s.sample_steps:
        raise ValueError(f"net.t={net.t} is not at a sample boundary (period {s.sample_steps})")
    thr = _thresholds(s, images)
    counts = np.zeros((len(thr), s.n_exc), np.int64)
    events = np.zeros((len(thr), N_EVENTS), np.int64)
    rec = np.zeros((len(thr) * s.sample_steps if record else 0, s.n_exc), bool)
    _simulate(net, thr, learn, counts, events, rec, _NO_PROF if profile is None else profile,
              skip_quiet)
    return counts, events, (rec if record else None)


def infer(net: EngineNet, images, t0: int | None = None, threads: int | None = None):
    """Evaluate ``images`` with ``net``'s frozen weights and theta, in parallel threads.

    Sample ``k`` runs at global step ``t0 + k * period`` (default ``net.t``); every sample
    starts from a fresh neuron state, so chunks of samples run independently (the compiled
    loop releases the GIL). Equals :func:`run` with ``learn=False`` whenever nothing is in
    flight at a sample boundary, which holds for the default protocol (rest >= 2 steps, no
    bias: input stops, so v can only decay). ``net`` is not changed.
    Returns ``(counts, events)``.
    """
    import os
    from concurrent.futures import ThreadPoolExecutor

    s = net.spec
    t0 = net.t if t0 is None else validate.step(t0, "t0")
    if s.rest_steps < 2:
        raise ValueError(f"rest_steps={s.rest_steps}: parallel inference needs >= 2 rest steps "
                         "so that no spike is in flight at a sample boundary; use run()")
    if t0 % s.sample_steps:
        raise ValueError(f"t0={t0} is not at a sample boundary (period {s.sample_steps})")
    thr = _thresholds(s, images)
    n = len(thr)
    counts = np.zeros((n, s.n_exc), np.int64)
    events = np.zeros((n, N_EVENTS), np.int64)
    threads = (validate.integer("threads", threads, 1, 4096) if threads is not None
               else min(os.cpu_count() or 1, max(1, n // 8)))
    bounds = np.linspace(0, n, threads + 1).astype(int)
    no_rec = np.zeros((0, s.n_exc), bool)

    def job(lo, hi):
        part = make_net(s, net.precision, net.w, net.theta, net.seed, net.fixed,
                        t0 + lo * s.sample_steps)
        _simulate(part, thr[lo:hi], False, counts[lo:hi], events[lo:hi], no_rec)

    with ThreadPoolExecutor(max_workers=threads) as pool:
        futures = [pool.submit(job, lo, hi) for lo, hi in zip(bounds[:-1], bounds[1:],
                                                               strict=True) if hi > lo]
        for f in futures:
            f.result()
    return counts, events


def run_many(nets: list[EngineNet], images, learn: bool = True, threads: int | None = None):
    """Train (or run) independent networks (e.g. seeds or budgets) on ``images`` at once.

    Each network is advanced exactly as by :func:`run` (results do not depend on the
    thread count); the compiled loop releases the GIL, so networks run in parallel on the
    local cores. ``images`` is one array for all networks or one per network.
    Returns a list of ``(counts, events)``.
    """
    import os
    from concurrent.futures import ThreadPoolExecutor

    per_net = images if isinstance(images, (list, tuple)) else [images] * len(nets)
    if len(per_net) != len(nets):
        raise ValueError(f"{len(per_net)} image sets for {len(nets)} networks")
    threads = (validate.integer("threads", threads, 1, 4096) if threads is not None
               else min(os.cpu_count() or 1, max(1, len(nets))))
    with ThreadPoolExecutor(max_workers=threads) as pool:
        futures = [pool.submit(run, net, imgs, learn) for net, imgs in zip(nets, per_net,
                                                                           strict=True)]
        return [f.result()[:2] for f in futures]
