"""The inference network Loihi's stock Processes run (a pass over a trained model).

Lava's stock fixed-point ``LIF`` has one threshold per population, no refractory period
and resets v to 0 (rest), and no Process picks one spike per step. A trained lavalab model
has a per-neuron theta, a refractory period, a reset above rest and (at 900 neurons and
more) one spike per step at inference. :func:`stock_inference` turns the model into the
network those Processes express, so that what the engine measures for it is what the chip
runs:

- refractory period 0 and reset to rest (``t_ref_ms = 0``, ``v_reset = 0``) in both
  populations;
- no one spike per step at inference;
- theta stays per neuron in the model (the engine holds it exactly). The stock ``LIF``'s
  single threshold takes it by the deploy lowering's fold
  (:func:`fold_theta`: neuron ``i``'s input and inhibitory weights times
  ``s_i = V / (V + theta_i)``, ``V`` the threshold in v units), exact up to the rounding
  of the scaled weights to integers: the one approximation left, whose cost every deploy
  bundle measures (``stock_reference_agreement_with_engine``). Folding it into the model
  instead would need per-neuron inhibitory weights, which the engine's one weight per
  inhibitory connection cannot hold (with the inhibition left unscaled, D&C-400 falls to
  11 % on the test set: the neurons with the largest theta, the most trained ones, are
  then inhibited relatively more).

``requires``: a fixed-point network; ``ensures``: the weights keep their units (same
lowering scale) and the deploy lowering lists no approximation but the fold.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from lavalab import loihi_spec as spec
from lavalab.networks.snn import NetworkSpec

__all__ = ["theta_scale", "fold_theta", "stock_spec", "stock_inference"]


def theta_scale(theta, vth_eff: int) -> np.ndarray:
    """``V / (V + theta_i)`` per neuron (``vth_eff = V``: the threshold in v units)."""
    theta = np.asarray(theta, np.float64)
    if vth_eff <= 0:
        raise ValueError(f"threshold {vth_eff} v units: must be > 0 to fold theta into it")
    if theta.size and (vth_eff + theta).min() <= 0:
        raise ValueError("theta below -threshold cannot be folded into the weights")
    return vth_eff / (vth_eff + theta)


def fold_theta(w, theta, vth_eff: int) -> np.ndarray:
    """Input weights ``w`` (n_exc, n_input) with theta folded in (int64, 0..WEIGHT_MAX)."""
    w = np.asarray(w)
    theta = np.asarray(theta)
    if w.ndim != 2 or theta.shape != (w.shape[0],):
        raise ValueError(f"weights {w.shape} and theta {theta.shape} do not match")
    if not (np.issubdtype(w.dtype, np.integer) and np.issubdtype(theta.dtype, np.integer)):
        raise ValueError("folding theta needs fixed-point (integer) weights and theta")
    scale = theta_scale(theta, vth_eff)
    return np.clip(np.rint(w * scale[:, None]), 0, spec.WEIGHT_MAX).astype(np.int64)


def stock_spec(s: NetworkSpec) -> NetworkSpec:
    """``s`` with the neuron features the stock ``LIF`` lacks turned off (no refractory
    period, reset to rest, no one spike per step at inference), in both populations."""
    def plain(p):
        return replace(p, t_ref_ms=0.0, v_reset=0.0, one_spike_infer=False)

    return replace(s, exc=plain(s.exc), inh=plain(s.inh) if s.inh is not None else None)


def stock_inference(s: NetworkSpec) -> tuple[NetworkSpec, dict]:
    """``(spec, metadata)`` of the stock inference network of a model of spec ``s`` (see
    the module docstring); ``metadata`` says what was changed (JSON-able)."""
    meta = {
        "pass": "lavalab.compile.stock_inference",
        "exc": {"t_ref_ms": [s.exc.t_ref_ms, 0.0], "v_reset": [s.exc.v_reset, 0.0]},
        "inh": ({"t_ref_ms": [s.inh.t_ref_ms, 0.0], "v_reset": [s.inh.v_reset, 0.0]}
                if s.inh is not None else None),
        "one_spike_infer": [bool(s.exc.one_spike_infer), False],
        "theta": "kept per neuron; the deploy lowering folds it into the weights (rounded)",
    }
    return stock_spec(s), meta
