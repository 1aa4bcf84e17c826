r"""Pass *TopSpark parameter enhancement*: adapt neuron parameters to a reduced timestep.

TopSpark (Putra & Shafique 2023, arXiv 2303.01826) reduces the
presentation time T of a sample from a baseline T0 and compensates the lost spiking
activity by adjusting three neuron parameters: the gap between threshold and reset
(V_th reduction, "so that the neurons can have proportional and sufficient spiking ...
and learning activities"), the refractory period (T_ref reduction) and the adaptive
threshold increment theta (adjusted "carefully" to prevent a few neurons from dominating).
The paper gives no closed formula. Our default policy, :class:`LinearScaling`, scales all
three linearly with the timestep ratio ``r = T / T0``:

.. math::

    V_{th}' = V_{reset} + r\,(V_{th} - V_{reset}), \qquad
    T_{ref}' = r\,T_{ref}, \qquad \theta_+' = r\,\theta_+

Rationale: with rate-coded input, a neuron receives about ``r`` times the input spikes per
sample, so a gap ``r`` times smaller keeps its spikes per sample (and with them the STDP
updates) about constant, neglecting the leak; a refractory period ``r`` times shorter
keeps the same share of the presentation; and ``theta_+`` scaled with the gap keeps the
adaptive threshold's size relative to the gap. Only the excitatory neurons change (D&C's
inhibitory neurons are driven by excitatory spikes, whose count per sample is kept).
``T_ref'`` rounds to whole steps in the lowering (``round(t_ref / dt)``).

:data:`POLICIES` also holds ``"proportional"`` — our extension, not in the paper — which
makes a sample's dynamics invariant to ``r`` as far as a current-based network allows: on
top of the linear rule it scales the inhibitory weights (D&C's I->E, tinySNN's lateral
E->E) by ``r`` (an inhibitory kick then costs the same share of the shorter presentation
to recover from) and the adaptive threshold's time constant by ``r`` (theta then decays by
the same amount per *sample*, so its equilibrium scales with the gap instead of staying at
its T0 value). Measured on tinySNN-100 (20k MNIST training samples, 2000 test digits,
seed 0): T0 = 350 79.7 %; T = 100 without enhancement 29.9 %, linear 65.1 %, proportional
78.9 %. See ``studies/topspark.py`` for the full study.

Policies are swappable: any callable ``policy(spec: NetworkSpec, ratio: float) ->
NetworkSpec`` can be passed to :func:`enhance` (e.g. ``LinearScaling(refractory=False)``
or :data:`NO_ENHANCEMENT`).

requires
    a NetworkSpec whose presentation steps ``T`` are set (e.g. by
    :func:`~lavalab.compile.discretize.discretize_time`) and the baseline ``T0 >= T``.
ensures
    a new NetworkSpec with the policy applied (the input is not changed).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

from lavalab import fixed

__all__ = ["LinearScaling", "NoEnhancement", "NO_ENHANCEMENT", "enhance", "Policy",
           "POLICIES", "policy_from_name", "TunedScaling", "TUNED_PARAMS"]

Policy = Callable[[object, float], object]  # (NetworkSpec, ratio) -> NetworkSpec


@dataclass(frozen=True)
class LinearScaling:
    """TopSpark enhancement by linear scaling with ``r = T / T0`` (see the module docstring).

    vth_gap, refractory, theta_plus : which parameters are scaled (all by default)
    theta_tau : also scale the adaptive threshold's time constant by ``r`` (not in the paper)
    inhibition : also scale the inhibitory weights by ``r`` (not in the paper)
    exponent : the gap, theta_plus and the inhibition are scaled by ``r ** exponent`` (1 =
        linear, the paper's; e.g. 0.5 scales them less steeply); time constants by ``r``
    """

    vth_gap: bool = True
    refractory: bool = True
    theta_plus: bool = True
    theta_tau: bool = False
    inhibition: bool = False
    exponent: float = 1.0

    def __post_init__(self):
        fixed.check_real("exponent", self.exponent, lo=0.0, hi=4.0)

    def __call__(self, spec, ratio: float):
        fixed.check_real("ratio", ratio, lo=1e-9, hi=1.0)
        g = ratio**self.exponent
        p = spec.exc
        changes = {}
        if self.vth_gap:
            changes["v_th"] = p.v_reset + g * (p.v_th - p.v_reset)
        if self.refractory:
            changes["t_ref_ms"] = p.t_ref_ms * ratio
        if self.theta_plus:
            changes["theta_plus"] = p.theta_plus * g
        if self.theta_tau:
            changes["tau_theta_ms"] = p.tau_theta_ms * ratio
        net = {"exc": replace(p, **changes)}
        if self.inhibition:
            net.update(w_inh_exc=spec.w_inh_exc * g, w_lateral=spec.w_lateral * g)
        return replace(spec, **net)

    @property
    def name(self) -> str:
        parts = [n for n, on in (("vth", self.vth_gap), ("tref", self.refractory),
                                 ("theta", self.theta_plus), ("tau_theta", self.theta_tau),
                                 ("inh", self.inhibition)) if on]
        kind = "linear" if self.exponent == 1.0 else f"power{self.exponent:g}"
        return kind + "(" + ",".join(parts) + ")"


#: Parameters a :class:`TunedScaling` multiplies (on top of the linear rule).
TUNED_PARAMS = ("vth", "tref", "theta", "inh", "lr")


@dataclass(frozen=True)
class TunedScaling:
    """TopSpark's linear rule (:class:`LinearScaling`, the paper's baseline) times a factor
    per parameter, as found by a search on a validation split
    (:func:`lavalab.study.search.search_enhancement`):

    vth : the threshold gap ``V_th' - V_reset`` (after the linear rule) x ``vth``
    tref : the refractory period x ``tref``
    theta : the adaptive threshold increment ``theta_+`` x ``theta``
    inh : the inhibitory weights (D&C I->E, tinySNN lateral E->E) x ``inh``
    lr : the STDP rates ``eta_pre``, ``eta_post`` x ``lr``

    Every factor is in [1/16, 16]; all 1 is the linear rule. Its :attr:`name`
    (``tuned(vth=0.5,tref=1,theta=2,inh=1,lr=1)``) is read back by
    :func:`policy_from_name`.
    """

    vth: float = 1.0
    tref: float = 1.0
    theta: float = 1.0
    inh: float = 1.0
    lr: float = 1.0

    def __post_init__(self):
        for n in TUNED_PARAMS:
            fixed.check_real(n, getattr(self, n), lo=1.0 / 16, hi=16.0)

    def __call__(self, spec, ratio: float):
        s = LinearScaling()(spec, ratio)
        p = s.exc
        exc = replace(p, v_th=p.v_reset + self.vth * (p.v_th - p.v_reset),
                      t_ref_ms=p.t_ref_ms * self.tref, theta_plus=p.theta_plus * self.theta)
        stdp = replace(s.stdp, eta_pre=s.stdp.eta_pre * self.lr,
                       eta_post=s.stdp.eta_post * self.lr)
        return replace(s, exc=exc, stdp=stdp, w_inh_exc=s.w_inh_exc * self.inh,
                       w_lateral=s.w_lateral * self.inh)

    @property
    def name(self) -> str:
        return "tuned(" + ",".join(f"{n}={getattr(self, n):g}" for n in TUNED_PARAMS) + ")"


@dataclass(frozen=True)
class NoEnhancement:
    """Leave the parameters as they are (the "without enhancement" arm of a study)."""

    def __call__(self, spec, ratio: float):
        fixed.check_real("ratio", ratio, lo=1e-9, hi=1.0)
        return spec

    @property
    def name(self) -> str:
        return "none"


NO_ENHANCEMENT = NoEnhancement()


def enhance(spec, baseline_timesteps: int, policy: Policy | None = None):
    """``spec`` with ``policy`` (default :class:`LinearScaling`) applied for
    ``r = spec.present_steps / baseline_timesteps``."""
    fixed.check_int_range("baseline_timesteps", baseline_timesteps, 1, 100_000)
    T = spec.present_steps
    if T > baseline_timesteps:
        raise ValueError(f"timesteps T={T} exceed the baseline T0={baseline_timesteps}: the "
                         "enhancement compensates a reduction (allowed T <= T0)")
    policy = LinearScaling() if policy is None else policy
    new = policy(spec, T / baseline_timesteps)
    if type(new) is not type(spec):
        raise TypeError(f"policy returned {type(new).__name__}, not {type(spec).__name__}")
    if (new.present_steps, new.rest_steps, new.dt_ms) != (T, spec.rest_steps, spec.dt_ms):
        raise ValueError("an enhancement policy must not change the time budget "
                         "(present_steps, rest_steps, dt_ms)")
    return new


#: Named policies for the CLI and study records.
POLICIES = {
    "none": NO_ENHANCEMENT,
    "linear": LinearScaling(),
    "proportional": LinearScaling(theta_tau=True, inhibition=True),
    "sqrt": LinearScaling(exponent=0.5),
}


def policy_from_name(name: str) -> Policy:
    """A policy of :data:`POLICIES` by name (``"none"``, ``"linear"``, ``"proportional"``,
    ``"sqrt"``), or a :class:`TunedScaling` by its name ``tuned(vth=..,tref=..,...)``
    (parameters of :data:`TUNED_PARAMS`; omitted ones are 1)."""
    if isinstance(name, str) and name.startswith("tuned(") and name.endswith(")"):
        factors = {}
        for part in filter(None, name[len("tuned("):-1].split(",")):
            key, _, val = part.partition("=")
            if key not in TUNED_PARAMS or key in factors:
                raise ValueError(f"enhancement={name!r}: {key!r} is not one of "
                                 f"{TUNED_PARAMS} (each once)")
            try:
                factors[key] = float(val)
            except ValueError:
                raise ValueError(f"enhancement={name!r}: {key}={val!r} is not a "
                                 "number") from None
        return TunedScaling(**factors)
    if name not in POLICIES:
        raise ValueError(f"enhancement={name!r} is not one of {tuple(POLICIES)} or "
                         "tuned(vth=..,tref=..,theta=..,inh=..,lr=..)")
    return POLICIES[name]
