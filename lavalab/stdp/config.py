"""How an STDP network is trained and run for inference: :class:`TrainConfig` (the
configuration of ``lavalab train``), the inference network of a trained one
(:func:`inference_spec`, :func:`resolve_inference`) and the weight lowering (``Q``,
``EXP_IN``)."""

from __future__ import annotations

from dataclasses import dataclass, replace

from lavalab.backends import BACKENDS
from lavalab.data import DATASETS
from lavalab.dynamics.stdp import RULES
from lavalab.networks.snn import (
    INITS,
    KINDS,
    NetworkSpec,
    build,
    default_inference,
    lower_network,
)

Q, EXP_IN = 255.0, 0  # weight lowering: w_int = round(w * 255), v_scale = 64 * 255


@dataclass(frozen=True)
class TrainConfig:
    network: str = "diehl-cook"
    neurons: int = 100
    rule: str | None = None
    timesteps: int = 350
    rest: int = 150
    samples: int = 1000
    backend: str = "engine"
    precision: str = "fixed"
    seed: int = 0
    dataset: str = "mnist"
    data_root: str | None = None
    assign_samples: int = 10000
    checkpoint_every: int = 1000
    one_spike: bool | None = None
    w_init: str | None = None  # None: the network's default (lavalab.networks.snn.DEFAULTS)
    input_gain: float | None = None  # mV per unit input weight; None: the network's 0.5
    # how the trained network is assigned, evaluated and deployed: its step (ms; divides
    # the 1 ms training step) and one spike per step; None: the network's default
    # (lavalab.networks.snn.DEFAULTS)
    inference_dt_ms: float | None = None
    one_spike_infer: bool | None = None
    # a finished model (folder or model.npz of lavalab train) to continue training: its
    # weights and theta start this run, which trains ``samples`` more samples of the
    # stream after the model's own (its epochs continue)
    init_from: str | None = None

    def __post_init__(self):
        def bad(name, allowed):
            raise ValueError(f"{name}={getattr(self, name)!r} is not one of {allowed}")
        if self.network not in KINDS:
            bad("network", KINDS)
        if self.rule not in (None, *RULES):
            bad("rule", RULES)
        for name in ("one_spike", "one_spike_infer"):
            if getattr(self, name) not in (None, True, False):
                bad(name, (None, True, False))
        if self.w_init not in (None, *INITS):
            bad("w_init", INITS)
        if self.backend not in BACKENDS:
            bad("backend", BACKENDS)
        if self.precision not in ("fixed", "float"):
            bad("precision", ("fixed", "float"))
        if self.dataset not in DATASETS:
            bad("dataset", DATASETS)
        from lavalab import validate

        for name, lo, hi in (("neurons", 1, 3600), ("timesteps", 1, 100000), ("rest", 2, 100000),
                             ("samples", 1, 10**7), ("seed", 0, 2**31 - 2),
                             ("assign_samples", 1, 10**7), ("checkpoint_every", 1, 10**7)):
            # numpy integers are accepted and stored as int (JSON-able, comparable)
            object.__setattr__(self, name, validate.integer(name, getattr(self, name), lo, hi))
        if self.input_gain is not None:
            object.__setattr__(self, "input_gain",
                               validate.real("input_gain", self.input_gain, 1e-6, 1e3))
        if self.inference_dt_ms is not None:
            object.__setattr__(self, "inference_dt_ms", _step_divisor(
                "inference_dt_ms", self.inference_dt_ms, TRAIN_DT_MS))

    def inference(self) -> tuple[float, bool]:
        """The resolved ``(inference step in ms, one_spike_infer)``: the given values, else
        the network's defaults."""
        return resolve_inference(self.network, self.neurons, self.inference_dt_ms,
                                 self.one_spike_infer)

    def spec(self, n_input: int) -> NetworkSpec:
        extra = {} if self.input_gain is None else {"input_gain": self.input_gain}
        if self.w_init is not None:
            extra["w_init"] = self.w_init
        return build(self.network, self.neurons, n_input, rule=self.rule,
                     one_spike=self.one_spike, present_steps=self.timesteps,
                     rest_steps=self.rest, **extra)


TRAIN_DT_MS = 1.0  # the step lavalab trains at (NetworkSpec's default)


def resolve_inference(network: str, neurons: int, dt_ms: float | None,
                      one_spike_infer: bool | None) -> tuple[float, bool]:
    """``(inference step in ms, one_spike_infer)`` of a ``network`` of ``neurons``: the
    given values, None ones from its size defaults (``lavalab.networks.snn.DEFAULTS``)."""
    d_dt, d_one = default_inference(network, neurons)
    dt = dt_ms if dt_ms is not None else (TRAIN_DT_MS if d_dt is None else d_dt)
    return dt, d_one if one_spike_infer is None else one_spike_infer


def fixed_units(f) -> tuple:
    """What a fixed-point network's stored weights and theta mean (weight scale, voltage
    scale, input exponent, weight range, neuron LSB): a model's integers run unchanged on
    another lowering only when these are equal."""


MAX_SUBSTEPS = 16


def _step_divisor(name: str, dt, train_dt: float) -> float:
    """``dt`` (ms) checked to divide ``train_dt`` into 1..MAX_SUBSTEPS equal steps."""
    from lavalab import validate

    dt = validate.real(name, dt, 1e-6, train_dt)
    k = round(train_dt / dt)
    if not 1 <= k <= MAX_SUBSTEPS or abs(k * dt - train_dt) > 1e-9 * train_dt:
        raise ValueError(f"{name}={dt} does not divide the {train_dt:g} ms training step into "
                         f"1..{MAX_SUBSTEPS} equal steps (allowed: {train_dt:g} / k, e.g. "
                         f"{train_dt / 2:g} or {train_dt / 4:g})")
    return train_dt / k


def inference_spec(spec: NetworkSpec, dt_ms: float, one_spike_infer: bool = False
                   ) -> NetworkSpec:
    """The network a model trained as ``spec`` runs inference as: at step ``dt_ms`` (a
    divisor of ``spec.dt_ms``; the same physical presentation and rest, ``k = spec.dt_ms /
    dt_ms`` times the steps, the per-step constants (decays, refractory steps, input spike
    probability) re-derived by :func:`lavalab.compile.discretize.discretize_time`) and with
    or without one excitatory spike per step (``one_spike_infer``). Weights and theta keep
    their units (checked for the fixed-point lowering)."""
    from lavalab.compile.discretize import discretize_time
    from lavalab.compile.ir import TimeBudget

    dt = _step_divisor("inference_dt_ms", dt_ms, spec.dt_ms)
    if one_spike_infer not in (True, False):
        raise ValueError(f"one_spike_infer={one_spike_infer!r} is not one of (True, False)")
    new = spec
    if dt != spec.dt_ms:
        k = round(spec.dt_ms / dt)
        new = discretize_time(spec, TimeBudget(spec.present_steps * k, dt,
                                               rest_steps=spec.rest_steps * k)).spec
        a, b = (fixed_units(lower_network(x, Q, EXP_IN)) for x in (spec, new))
        if a != b:  # weights / theta would change meaning
            raise ValueError(f"inference_dt_ms={dt_ms}: the fixed-point lowering at that "
                             f"step stores weights or theta in other units ({b} vs {a})")
    if new.exc.one_spike_infer != one_spike_infer:
        new = replace(new, exc=replace(new.exc, one_spike_infer=one_spike_infer))
    return new
