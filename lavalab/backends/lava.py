"""Run a network on Lava: the same network as the engine, built from lavalab's Processes.

Processes: PoissonEncoder -> STDPDense (input weights) -> AdaptiveLIF (excitatory), with
the excitatory spikes fed back to STDPDense; D&C adds AdaptiveLIF (inhibitory) with Lava
``Dense`` E->I (1:1) and I->E (all but self); tinySNN adds a ``Dense`` E->E (all but self).
A SpikeCounter reads out per-sample counts. The whole sample sequence runs as one Lava run
(per-sample resets happen inside the ProcessModels on the step counter).
"""

from __future__ import annotations

import contextlib
import os
import sys

import numpy as np

from lavalab import validate
from lavalab.engine import intensities
from lavalab.networks.snn import FixedNetwork, NetworkSpec, lower_network
from lavalab.networks.wiring import connect_dense, dc_inhibition_weights, lateral_inhibition_weights

__all__ = ["run_lava"]

# --- Lava's worker processes die with their parent --------------------------------------
# Lava forks one process per ProcessModel plus its runtime service and managers; when the
# parent is killed (kill -9, OOM killer), they block forever on their pipes. Every process
# forked during a Lava run therefore asks the kernel for SIGKILL when its parent dies
# (Linux prctl(PR_SET_PDEATHSIG)); a flag inherited through fork extends this to their own
# children. Elsewhere (macOS, Windows) nothing changes.

_PR_SET_PDEATHSIG = 1
_FORK_STATE = {"active": 0, "parent": None}


def _before_fork() -> None:
    _FORK_STATE["parent"] = os.getpid()


def _after_fork_in_child() -> None:
    if not _FORK_STATE["active"]:
        return
    import ctypes
    import signal

    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(_PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0)
    if os.getppid() != _FORK_STATE["parent"]:  # the parent died before prctl took effect
        os._exit(1)


_WATCHDOG = sys.platform.startswith("linux") and hasattr(os, "register_at_fork")
if _WATCHDOG:
    os.register_at_fork(before=_before_fork, after_in_child=_after_fork_in_child)


@contextlib.contextmanager
def _children_die_with_parent():
    """Processes forked inside this block (Lava's) are killed when their parent dies."""
    _FORK_STATE["active"] += 1
    try:
        yield
    finally:
        _FORK_STATE["active"] -= 1


def run_lava(spec: NetworkSpec, precision: str, w, theta, images, seed: int, learn: bool = True,
             fixed: FixedNetwork | None = None, record: bool = False, hardware: bool = False,
             t_offset: int = 0):
    """Simulate ``images`` sequentially on Lava, starting at global step ``t_offset`` (a
    multiple of the sample period) from a fresh state (as every sample starts).

    Seeds: encoder ``seed``, learning synapses ``seed + 1``, excitatory neurons
    ``seed + 2``, inhibitory ``seed + 3`` (as the engine).
    Returns ``dict(w, theta, counts, inh_counts, weight_updates, spikes)``; ``spikes``
    (steps, n_exc) when ``record``; ``inh_counts`` None without inhibitory neurons.
    ``hardware=True`` runs with ``Loihi2HwCfg`` (needs lava-loihi).
    """
    from lava.proc.monitor.process import Monitor

    from lavalab.backends.run_configs import Loihi2SimCfg
    from lavalab.processes.adaptive_lif import AdaptiveLIF
    from lavalab.processes.poisson_encoder import PoissonEncoder
    from lavalab.processes.spike_counter import SpikeCounter
    from lavalab.processes.stdp_dense import STDPDense

    if precision not in ("fixed", "float"):
        raise ValueError(f"precision={precision!r} is not one of ('fixed', 'float')")
    s = spec
    x = intensities(validate.images(images, s.n_input))
    seed = validate.seed(seed)
    t_offset = validate.step(t_offset, "t_offset")
    steps = len(x) * s.sample_steps
    if precision == "fixed":
        f = fixed or lower_network(s)
        exc_p, inh_p, stdp_p = f.exc, f.inh, f.stdp
        w_ei, w_ie, w_lat = f.w_ei, f.w_ie, f.w_lat
        exps = dict(exp_in=f.exp_in, exp_ei=f.exp_ei, exp_ie=f.exp_ie, exp_lat=f.exp_lat)
    else:
        exc_u, inh_u, w_ei, w_ie, w_lat = s.in_weight_units()
        exc_p, stdp_p = exc_u.per_step(), s.stdp.per_step()
        inh_p = inh_u.per_step() if inh_u is not None else None
        exps = dict(exp_in=0, exp_ei=0, exp_ie=0, exp_lat=0)
    enc = PoissonEncoder(intensities=x, max_rate_hz=s.max_rate_hz, dt_ms=s.dt_ms,
                         present_steps=s.present_steps, rest_steps=s.rest_steps, seed=seed,
                         t_offset=t_offset)
    syn = STDPDense(weights=np.asarray(w), params=stdp_p, learn=learn, seed=seed + 1,
                    weight_exp=exps["exp_in"], t_offset=t_offset)
    exc = AdaptiveLIF(shape=(s.n_exc,), params=exc_p, learn=learn, theta=theta,
                      sample_steps=s.sample_steps, seed=seed + 2, t_offset=t_offset)
    counter = SpikeCounter(n=s.n_exc, sample_steps=s.sample_steps, num_samples=len(x))
    inh_counter = None
    enc.s_out.connect(syn.s_in)
    syn.a_out.connect(exc.a_in)
    exc.s_out.connect(syn.s_post)
    exc.s_out.connect(counter.a_in)
    if s.kind == "diehl-cook":
        inh = AdaptiveLIF(shape=(s.n_exc,), params=inh_p, learn=learn,
                          sample_steps=s.sample_steps, seed=seed + 3, t_offset=t_offset)
        m_ei, m_ie = dc_inhibition_weights(s.n_exc, w_ei, w_ie)
        connect_dense(exc.s_out, inh.a_in, m_ei, weight_exp=exps["exp_ei"])
        connect_dense(inh.s_out, exc.a_in, m_ie, weight_exp=exps["exp_ie"])
        inh_counter = SpikeCounter(n=s.n_exc, sample_steps=s.sample_steps, num_samples=len(x))
        inh.s_out.connect(inh_counter.a_in)
    else:
        connect_dense(exc.s_out, exc.a_in, lateral_inhibition_weights(s.n_exc, w_lat),
                      weight_exp=exps["exp_lat"])
    mon = None
    if record:
        mon = Monitor()
        mon.probe(exc.s_out, steps)
    if hardware:
        from lava.magma.core.run_configs import Loihi2HwCfg

        cfg = Loihi2HwCfg()
    else:
        cfg = Loihi2SimCfg(select_tag="fixed_pt" if precision == "fixed" else "floating_pt")
    with _children_die_with_parent():
        return _run(exc, syn, counter, inh_counter, mon, steps, cfg, precision)


def _run(exc, syn, counter, inh_counter, mon, steps, cfg, precision) -> dict:
    from lava.magma.core.run_conditions import RunSteps

    try:
        exc.run(condition=RunSteps(num_steps=steps), run_cfg=cfg)
        out = dict(w=syn.weights.get(), theta=exc.theta.get(),
                   counts=counter.counts.get().astype(np.int64),
                   inh_counts=(inh_counter.counts.get().astype(np.int64)
                               if inh_counter is not None else None),
                   weight_updates=int(syn.n_updates.get()[0]))
        if mon is not None:
            out["spikes"] = mon.get_data()[exc.name]["s_out"].astype(bool)
    finally:
        exc.stop()
    if precision == "fixed":
        out["w"] = np.rint(out["w"]).astype(np.int64)
        out["theta"] = np.rint(out["theta"]).astype(np.int64)
    return out
