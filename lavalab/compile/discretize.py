"""Pass *discretise time*: a network in physical units + a :class:`TimeBudget` -> the network
at step ``dt`` with ``T`` presentation steps per sample, and the Loihi integers of its decays.

requires
    a :class:`~lavalab.networks.snn.NetworkSpec` (time constants in ms) and a
    :class:`~lavalab.compile.ir.TimeBudget`.
ensures
    ``DiscreteTime.spec`` has ``dt_ms`` = budget's dt in the network and in every neuron and
    STDP parameter set, ``present_steps = T``, ``rest_steps`` as budgeted (default: the rest
    period scaled by ``T / T_network``, at least 2 steps so that no spike is in flight at a
    sample boundary), STDP2's update window kept in ms (``round(window_ms / dt)``, >= 1) and
    the STDP sample period updated. Refractory periods become ``round(t_ref / dt)`` steps
    (<= 64, else ``ValueError``). ``DiscreteTime.decays`` lists every per-step decay
    ``1 - exp(-dt / tau)`` with its 12-bit Loihi value ``round(delta * 4096)`` and the
    relative error of that value — a decay that rounds to 0 (time constant too long for
    12 bits at this dt) is listed with error 1.0, never silently dropped.
    The input is not changed.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from lavalab import loihi_spec as spec_hw
from lavalab.compile.ir import TimeBudget
from lavalab.dynamics.timebase import decay_fraction
from lavalab.networks.lower import lower_decay

__all__ = ["DecayEntry", "DiscreteTime", "discretize_time", "MIN_REST_STEPS"]

#: Fewest rest steps: the two connection delays (E->I->E) must drain before the next
#: sample so that samples are independent (required by parallel inference).
MIN_REST_STEPS = 2


@dataclass(frozen=True)
class DecayEntry:
    """One per-step decay: ``name`` (e.g. ``exc.tau_v_ms``), ``tau_ms``, the fraction
    ``delta`` removed per step, its 12-bit integer ``loihi`` and ``rel_error`` of
    ``loihi / 4096`` against ``delta`` (0 when delta is 0 or 1)."""

    name: str
    tau_ms: float
    delta: float
    loihi: int
    rel_error: float


@dataclass(frozen=True)
class DiscreteTime:
    """Result of :func:`discretize_time`."""

    spec: object  # NetworkSpec (not imported here to keep the IR free of cycles)
    budget: TimeBudget
    decays: tuple[DecayEntry, ...]
    ref_steps: tuple[tuple[str, int], ...]

    @property
    def present_steps(self) -> int:
        return self.spec.present_steps

    @property
    def rest_steps(self) -> int:
        return self.spec.rest_steps

    def table(self) -> list[dict]:
        return [dict(name=d.name, tau_ms=d.tau_ms, delta=d.delta, loihi=d.loihi,
                     rel_error=d.rel_error) for d in self.decays]


def _entry(name: str, tau: float, dt: float) -> DecayEntry:
    delta = decay_fraction(tau, dt)
    loihi = lower_decay(delta, allow_full=True)
    err = 0.0 if delta in (0.0, 1.0) else abs(loihi / spec_hw.DECAY_UNITY - delta) / delta
    return DecayEntry(name, float(tau), delta, loihi, err)


def discretize_time(spec, budget: TimeBudget) -> DiscreteTime:
    """Apply ``budget`` to ``spec`` (see the module docstring)."""
    if not isinstance(budget, TimeBudget):
        raise TypeError(f"budget must be a TimeBudget, not {type(budget).__name__}")
    dt, T = float(budget.dt_ms), int(budget.timesteps)
    if budget.rest_steps is not None:
        rest = int(budget.rest_steps)
    else:
        rest = max(MIN_REST_STEPS, int(round(spec.rest_steps * T / spec.present_steps)))
    if spec.max_rate_hz * dt * 1e-3 > 1:
        raise ValueError(f"dt_ms={dt} with max_rate_hz={spec.max_rate_hz} exceeds one input "
                         f"spike per step (allowed dt_ms <= {1e3 / spec.max_rate_hz:g})")

    def timed(p, name):
        if p is None:
            return None
        steps = round(p.t_ref_ms / dt)
        if steps > spec_hw.REFRACTORY_MAX:
            raise ValueError(f"{name}.t_ref_ms={p.t_ref_ms} is {steps} steps of dt_ms={dt}; "
                             f"allowed 0..{spec_hw.REFRACTORY_MAX} steps")
        return replace(p, dt_ms=dt)

    exc, inh = timed(spec.exc, "exc"), timed(spec.inh, "inh")
    st = spec.stdp
    window = st.window_steps
    if st.rule == "stdp2":
        window = max(1, int(round(st.window_steps * spec.dt_ms / dt)))
    stdp = replace(st, dt_ms=dt, window_steps=window, sample_steps=T + rest)
    new = replace(spec, exc=exc, inh=inh, stdp=stdp, dt_ms=dt, present_steps=T,
                  rest_steps=rest)
    decays = []
    for pname, p in (("exc", exc), ("inh", inh)):
        if p is None:
            continue
        for f in ("tau_u_ms", "tau_v_ms", "tau_theta_ms"):
            decays.append(_entry(f"{pname}.{f}", getattr(p, f), dt))
    for f in ("tau_pre_ms", "tau_post_ms"):
        decays.append(_entry(f"stdp.{f}", getattr(stdp, f), dt))
    refs = tuple((n, round(p.t_ref_ms / dt)) for n, p in (("exc", exc), ("inh", inh))
                 if p is not None)
    return DiscreteTime(new, budget, tuple(decays), refs)
