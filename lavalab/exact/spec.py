"""Typed spec of an exact-spike-time (BATS) network (Bacho & Chu 2022; BATS thesis ch. 2).

Defaults are the MNIST setup of the BATS code (``experiments/mnist/train_spike_count.py``)
that the BATS thesis reuses: 784-800-10, tau_s = 0.13 s (tau = 2 tau_s), thresholds 0.2 (hidden)
and 1.3 (output), at most 30 spikes per neuron, targets 15 (true class) / 3, weights
U(-1, 1), inputs: one spike per pixel at ``t = 0.1 s (1 - p / 255)``, none for p = 0.
(The thesis text swaps the two thresholds' layer names; the code's hidden 0.2 / output 1.3
is used.)
"""

from __future__ import annotations

from dataclasses import dataclass

from lavalab import fixed

__all__ = ["ExactSpec", "MNIST_SPEC"]


@dataclass(frozen=True)
class ExactSpec:
    """Layer sizes and neuron parameters (physical units).

    sizes : neurons per layer, input first, (n_in, n_1, ..., n_out), each 1..100000
    tau_s : synaptic time constant (s), (0, 100]; membrane tau = 2 tau_s (BATS closed form)
    thresholds : theta per non-input layer, > 0
    max_spikes : spike slots per neuron per non-input layer, 1..1000 (BATS code: 30)
    input_window : input encoding window (s): pixel p spikes at ``window (1 - p/255)``
    target_true, target_false : output spike-count targets of the loss
    weight_init : weights drawn from U(-weight_init, weight_init)
    """

    sizes: tuple[int, ...] = (784, 800, 10)
    tau_s: float = 0.13
    thresholds: tuple[float, ...] = (0.2, 1.3)
    max_spikes: tuple[int, ...] = (30, 30)
    input_window: float = 0.1
    target_true: float = 15.0
    target_false: float = 3.0
    weight_init: float = 1.0

    def __post_init__(self):
        if not isinstance(self.sizes, tuple) or len(self.sizes) < 2:
            raise ValueError(f"sizes={self.sizes!r} must be a tuple of >= 2 layer sizes")
        fixed.check_int_range("sizes", list(self.sizes), 1, 100_000)
        n = len(self.sizes) - 1
        for name in ("thresholds", "max_spikes"):
            v = getattr(self, name)
            if not isinstance(v, tuple) or len(v) != n:
                raise ValueError(f"{name}={v!r} must be a tuple of {n} values (one per "
                                 "non-input layer)")
        for th in self.thresholds:
            fixed.check_real("thresholds", th, lo=1e-9, hi=1e6)
        fixed.check_int_range("max_spikes", list(self.max_spikes), 1, 1000)
        fixed.check_real("tau_s", self.tau_s, lo=1e-6, hi=100.0)
        fixed.check_real("input_window", self.input_window, lo=1e-6, hi=100.0)
        fixed.check_real("target_true", self.target_true, lo=0.0, hi=1000.0)
        fixed.check_real("target_false", self.target_false, lo=0.0, hi=1000.0)
        fixed.check_real("weight_init", self.weight_init, lo=0.0, hi=1e6)

    @property
    def tau(self) -> float:
        """Membrane time constant, 2 tau_s."""
        return 2.0 * self.tau_s

    @property
    def n_layers(self) -> int:
        """Number of spiking (non-input) layers."""
        return len(self.sizes) - 1

    def to_dict(self) -> dict:
        return {"sizes": list(self.sizes), "tau_s": self.tau_s,
                "thresholds": list(self.thresholds), "max_spikes": list(self.max_spikes),
                "input_window": self.input_window, "target_true": self.target_true,
                "target_false": self.target_false, "weight_init": self.weight_init}

    @classmethod
    def from_dict(cls, d: dict) -> ExactSpec:
        return cls(sizes=tuple(int(v) for v in d["sizes"]), tau_s=float(d["tau_s"]),
                   thresholds=tuple(float(v) for v in d["thresholds"]),
                   max_spikes=tuple(int(v) for v in d["max_spikes"]),
                   input_window=float(d["input_window"]),
                   target_true=float(d["target_true"]),
                   target_false=float(d["target_false"]),
                   weight_init=float(d["weight_init"]))


MNIST_SPEC = ExactSpec()
