"""Running an STDP network on a backend (the engine, Lava on CPU, Loihi): the backend check,
Lava's runs as engine event rows, frozen-network spike counts, event summaries, the
epoch-cycled training stream and the kernels' warm-up."""

from __future__ import annotations

import numpy as np

from lavalab.backends import BackendUnavailable
from lavalab.engine import EVENT_NAMES, infer, make_net, run
from lavalab.networks.snn import (
    NetworkSpec,
)


def event_summary(events: np.ndarray, spec: NetworkSpec, inh_spikes=None) -> dict:
    """Per-layer event counts, per sample (mean) and in total, from engine event rows."""
    ev = np.asarray(events, np.int64)
    s = len(ev)
    col = {n: ev[:, i] for i, n in enumerate(EVENT_NAMES)}
    steps = spec.sample_steps
    layers = {
        "input": {"spikes": col["input_spikes"]},
        "exc": {"neuron_updates": np.full(s, spec.n_exc * steps), "spikes": col["exc_spikes"]},
        "synapses_input": {"synaptic_events": col["syn_events_input"],
                           "weight_updates": col["weight_updates"]},
        "synapses_inhibition": {"synaptic_events": col["syn_events_inhibition"]},
    }
    if spec.has_inh:
        layers["inh"] = {"neuron_updates": np.full(s, spec.n_exc * steps),
                         "spikes": col["inh_spikes"]}
    return {layer: {k: {"per_sample": float(v.mean()) if s else 0.0, "total": int(v.sum())}
                    for k, v in d.items()} for layer, d in layers.items()}


def require_backend(name: str) -> None:
    """Prepare ``name`` (Lava's start method) or raise :class:`BackendUnavailable`."""
    if name in ("lava", "loihi"):
        # Lava fixes multiprocessing's start method ("fork") at import; import it before
        # anything (tqdm's lock) initialises the default context.
        import lava.magma.core.process.process  # noqa: F401
    if name == "loihi":
        from lavalab.backends import INRC_HINT, loihi_available

        if not loihi_available():
            raise BackendUnavailable("backend 'loihi' needs Intel's lava-loihi, which is "
                                     + INRC_HINT)


def lava_events(spec, images, seed, t0, out) -> np.ndarray:
    """Engine-layout event rows for a Lava run (input spikes regenerated exactly)."""
    from lavalab.dynamics.encoding import poisson_raster
    from lavalab.engine import intensities

    ev = np.zeros((len(images), len(EVENT_NAMES)), np.int64)
    raster = poisson_raster(intensities(images), spec.max_rate_hz, spec.dt_ms,
                            spec.present_steps, spec.rest_steps, seed, t0)
    per = raster.reshape(len(images), spec.sample_steps, -1).sum(axis=(1, 2))
    n = spec.n_exc
    exc = out["counts"].sum(axis=1)
    inh = out["inh_counts"].sum(axis=1) if out.get("inh_counts") is not None else np.zeros_like(exc)
    ev[:, 0], ev[:, 1], ev[:, 2], ev[:, 3] = per, exc, inh, per * n
    ev[:, 4] = exc + inh * (n - 1) if spec.has_inh else exc * (n - 1)
    ev[-1, 5] = out.get("weight_updates", 0)  # Lava counts updates per run, not per sample
    return ev


def cycled(array, lo: int, hi: int) -> np.ndarray:
    """Samples ``lo..hi-1`` of an epoch-cycled stream over ``array`` (images or labels):
    sample ``k`` is ``array[k % len(array)]`` (Diehl & Cook's ``j % 60000``), so a stream
    longer than the training set trains for several epochs in the set's order."""
    return array[np.arange(lo, hi) % len(array)]


def frozen_counts(backend: str, spec: NetworkSpec, precision: str, fixed, w, theta, images,
                  seed: int):
    """Spike counts (S, n_exc) and event rows of the frozen network (``w``, ``theta``; no
    learning) on ``images``, run with ``seed`` on ``backend``."""
    frozen = make_net(spec, precision, w, theta, seed=seed, fixed=fixed)
    if backend == "engine":
        return infer(frozen, images)
    from lavalab.backends.lava import run_lava

    res = run_lava(spec, precision, frozen.w, frozen.theta, images, seed=seed, learn=False,
                   fixed=frozen.fixed, hardware=backend == "loihi")
    return res["counts"], lava_events(spec, images, seed, 0, res)


def warm_up(backend: str, spec: NetworkSpec, precision: str, fixed, w, theta, images,
            seed: int, learn: bool) -> None:
    """Compile, or load from numba's cache, the engine kernels a run of ``spec`` uses
    (STDP learning if ``learn``, else inference): one sample of ``images`` through a
    throwaway copy of the network, so nothing of the real run changes. Part of a timed
    job's set-up (:mod:`lavalab.timing`); the Lava backends compile nothing ahead (their
    build is part of every run) and are not warmed."""
    if backend != "engine" or not len(images):
        return
    net = make_net(spec, precision, np.array(w), None if theta is None else np.array(theta),
                   seed=seed, fixed=fixed)
    if learn:
        run(net, images[:1], learn=True)
    else:
        infer(net, images[:1], threads=1)
