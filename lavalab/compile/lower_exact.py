"""Lower an exact-spike-time (BATS) network trained on a dt grid to Loihi's discrete CUBA LIF.

requires
    an :class:`~lavalab.exact.spec.ExactSpec`, its float weights (n_out, n_in) per layer,
    and a :class:`~lavalab.compile.spike_grid.SpikeTimeBudget` with ``dt_s > 0``.
ensures
    a frozen :class:`ExactLowered`: per layer Lava ``LIF`` integers (``du``, ``dv``,
    ``vth``) and Lava ``Dense`` integers (``weights``, ``weight_exp``, ``num_weight_bits``)
    plus the float discrete-time parameters they approximate; the number of steps; the
    :class:`~lavalab.compile.ir.LayerGraph`. The inputs are not modified.

Exact discretisation on the grid. Between grid points no spike arrives, so with
``alpha = exp(-dt/tau_s)``, ``beta = exp(-dt/tau)`` (tau = 2 tau_s) the continuous model
is, exactly, ``g[j] = alpha g[j-1] + sum w s_in[j]``, ``v(t_(j+1)) = beta v(t_j) + gamma
g[j]`` with ``gamma = int_0^dt exp(-(dt-s)/tau) exp(-s/tau_s) ds = tau (beta - alpha)``.
Lava's LIF step (``u <- decay(u) + a_in``; ``v <- decay(v) + u``; spike if ``v > vth``)
has this form with ``u = gamma g``: its ``v`` at step j is the membrane at grid time
``(j+1) dt``, and a spike at step j is the grid spike ``d(t) = (j+1) dt`` of a crossing in
``(j dt, (j+1) dt]``. Dense delivers it one step later, at step j+1, i.e. as a synaptic
jump at time ``(j+1) dt``: the grid semantics of :mod:`lavalab.exact` step for step.

What the chip changes (each is measured by :mod:`lavalab.exact.bridge`):

- reset: Lava's LIF resets ``v`` to 0; BATS subtracts ``theta`` (soft reset), so the
  overshoot above threshold is lost at each spike;
- crossings are seen only at grid points (a crossing that goes back below threshold
  within one step is missed); no cap on spikes per neuron;
- decays: ``du + 1 = round(4096 (1 - alpha))``, ``dv = round(4096 (1 - beta))``
  (12-bit; Lava adds ``ds_offset = 1`` to du, none to dv);
- weights: ``m = round(q w)`` in ``weight_bits`` signed bits with ``q = (2**(bits-1)-1) /
  max|w|`` per layer; Lava's mixed-sign Dense keeps ``m << (9 - bits)``. With
  ``a_in << 6`` (ACT_SHIFT) one unit of ``u`` is ``gamma / (q 2**(9-bits) 64)``, so
  ``vth = round(theta q 2**(9-bits) / gamma)`` (``v > vth << 6``), reduced with a negative
  ``weight_exp`` when it would not fit 17 bits.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from lavalab import loihi_spec as ls
from lavalab.compile.ir import Connection, LayerGraph, Population
from lavalab.compile.spike_grid import SpikeTimeBudget

__all__ = ["ExactLayerFixed", "ExactLowered", "lower_exact"]


@dataclass(frozen=True)
class ExactLayerFixed:
    """One layer on Loihi: Dense (weights, weight_exp) into LIF (du, dv, vth).

    weights : int64 (n_out, n_in), what Lava's Dense gets (``m << (9 - weight_bits)``)
    weight_exp : Dense ``weight_exp`` (<= 0 here)
    du, dv, vth : Lava LIF registers (effective current decay du + 1)
    alpha, beta, gamma, theta : the float discrete-time model they approximate
    w_scale : ``q``, integer weight mantissa per unit float weight
    """

    weights: np.ndarray
    weight_exp: int
    num_weight_bits: int
    du: int
    dv: int
    vth: int
    alpha: float
    beta: float
    gamma: float
    theta: float
    w_scale: float

    @property
    def alpha_fixed(self) -> float:
        """Current decay factor Lava applies, ``1 - (du + 1) / 4096``."""
        return 1.0 - (self.du + ls.DU_OFFSET) / ls.DECAY_UNITY

    @property
    def beta_fixed(self) -> float:
        """Voltage decay factor Lava applies, ``1 - dv / 4096``."""
        return 1.0 - (self.dv + ls.DV_OFFSET) / ls.DECAY_UNITY


@dataclass(frozen=True)
class ExactLowered:
    """A lowered exact-time network: layers, the grid and the steps per sample."""

    layers: tuple[ExactLayerFixed, ...]
    dt_s: float
    steps: int
    sizes: tuple[int, ...]

    def input_steps(self, times) -> np.ndarray:
        """Step index (0-based LIF step that receives it) of grid-delayed input times
        ``t~ = m dt``: step m; ``inf`` or past the last step -> -1."""
        t = np.asarray(times, dtype=np.float64)
        out = np.full(t.shape, -1, np.int64)
        fin = np.isfinite(t)
        m = np.floor(t[fin] / self.dt_s) + 1  # d(t) / dt
        m = np.where(m < self.steps, m, -1)
        out[fin] = m.astype(np.int64)
        return out

    def layer_graph(self) -> LayerGraph:
        """LayerGraph for the shared energy / mapping analyses.

        The shared event vocabulary (:data:`lavalab.engine.EVENT_NAMES`) names the
        populations: a two-layer network maps hidden -> ``exc`` and output -> ``inh``
        (their spike counters), input->exc carries ``syn_events_input`` and exc->inh is
        dense (its synaptic events are derived: hidden spikes x fan-out).
        """
        if len(self.sizes) != 3:
            raise ValueError(f"layer_graph supports one hidden layer (sizes {self.sizes})")
        n_in, n_h, n_o = self.sizes
        bits = (("v", ls.UV_BITS), ("u", ls.UV_BITS))
        pops = (Population("input", n_in, on_chip=False),
                Population("exc", n_h, state_bits=bits),
                Population("inh", n_o, state_bits=bits))
        w = self.layers[0].num_weight_bits
        conns = (Connection("input->exc", "input", "exc", n_in * n_h, fan_in=n_in,
                            fan_out=n_h, weight_bits=w, event="syn_events_input"),
                 Connection("exc->inh", "exc", "inh", n_h * n_o, fan_in=n_h, fan_out=n_o,
                            weight_bits=w))
        return LayerGraph(pops, conns)


def _decay_reg(factor: float, offset: int) -> int:
    d = int(round(ls.DECAY_UNITY * (1.0 - factor))) - offset
    return min(max(d, 0), ls.DECAY_MAX)


def lower_exact(spec, weights, budget: SpikeTimeBudget, weight_bits: int = 8) -> ExactLowered:
    """See the module docstring."""
    if budget.continuous:
        raise ValueError("lower_exact needs a grid: budget.dt_s=0 (continuous) has no "
                         "Loihi equivalent; give dt_s > 0")
    if not (isinstance(weight_bits, int) and 2 <= weight_bits <= ls.WEIGHT_BITS):
        raise ValueError(f"weight_bits={weight_bits!r} is outside 2..{ls.WEIGHT_BITS}")
    if len(weights) != spec.n_layers:
        raise ValueError(f"weights: {len(weights)} matrices for {spec.n_layers} layers")
    dt = budget.dt_s
    alpha = math.exp(-dt / spec.tau_s)
    beta = math.exp(-dt / spec.tau)
    gamma = spec.tau * (beta - alpha)
    shift = ls.WEIGHT_BITS + 1 - weight_bits  # Lava mixed-sign truncation keeps m << shift
    mmax = 2 ** (weight_bits - 1) - 1
    layers = []
    for W, theta in zip(weights, spec.thresholds, strict=True):
        W = np.asarray(W, dtype=np.float64)
        wmax = float(np.abs(W).max())
        q = mmax / wmax if wmax > 0 else 1.0
        m = np.clip(np.rint(W * q), -mmax - 1, mmax).astype(np.int64)
        vth = theta * q * 2 ** shift / gamma
        wexp = 0
        while vth > ls.VTH_MAX:
            wexp -= 1
            vth /= 2
        if wexp < ls.WEIGHT_EXP_MIN:
            raise ValueError(f"dt_s={dt}: threshold needs weight_exp={wexp} < "
                             f"{ls.WEIGHT_EXP_MIN}; use a larger dt")
        layers.append(ExactLayerFixed(
            weights=m << shift, weight_exp=wexp, num_weight_bits=weight_bits,
            du=_decay_reg(alpha, ls.DU_OFFSET), dv=_decay_reg(beta, ls.DV_OFFSET),
            vth=max(1, int(round(vth))), alpha=alpha, beta=beta, gamma=gamma,
            theta=float(theta), w_scale=q))
    return ExactLowered(tuple(layers), dt, budget.steps, tuple(spec.sizes))
