"""The inference network Loihi's stock Processes run exactly (a pass over a trained model).

Lava's stock fixed-point ``LIF`` has one threshold per population, no refractory period
and resets v to 0 (rest), and no Process picks one spike per step. A trained lavalab model
has a per-neuron theta, a refractory period, a reset above rest and (at 900 neurons and
more) one spike per step at inference. :func:`stock_exact` turns the model into the
network those Processes express *exactly*, so that what the engine measures for it is what
the chip runs (no approximation left for the deploy lowering):

- theta folded into the input weights: neuron ``i``'s input weights times
  ``s_i = V / (V + theta_i)`` (``V`` the threshold in v units), rounded to the nearest
  integer and clipped to the 8-bit range; theta becomes 0. The inhibition keeps its
  uniform weight (one scalar per connection, what the engine and ``Dense`` hold), so the
  folded network is a network of its own, not an approximation of the unfolded one: its
  accuracy is measured, not assumed;
- refractory period 0 and reset to rest (``t_ref_ms = 0``, ``v_reset = 0``) in both
  populations;
- no one spike per step at inference.

``requires``: a fixed-point network (integer weights and theta); ``ensures``: the result
lowers to stock Processes with ``lower_to_stock(..., exact=True)`` (no approximation),
and the weights keep their units (same lowering scale).
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from lavalab import loihi_spec as spec
from lavalab.networks.snn import NetworkSpec

__all__ = ["theta_scale", "fold_theta", "stock_exact_spec", "stock_exact"]


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


def stock_exact_spec(s: NetworkSpec) -> NetworkSpec:
    """``s`` with the neuron features the stock ``LIF`` lacks turned off (no refractory
    period, reset to rest, no one spike per step at inference), in both populations."""
    def plain(p):
        return replace(p, t_ref_ms=0.0, v_reset=0.0, one_spike_infer=False)

    return replace(s, exc=plain(s.exc), inh=plain(s.inh) if s.inh is not None else None)


def stock_exact(s: NetworkSpec, vth_eff: int, w, theta) -> tuple[NetworkSpec, np.ndarray,
                                                                    np.ndarray, dict]:
    """``(spec, w, theta, metadata)`` of the stock-exact inference network of a model
    (spec ``s``, fixed-point weights ``w`` and theta, threshold ``vth_eff`` in v units;
    see the module docstring). ``metadata`` says what was changed (JSON-able)."""
    theta = np.asarray(theta)
    w_new = fold_theta(w, theta, vth_eff)
    scale = theta_scale(theta, vth_eff)
    changed = np.asarray(w) != w_new
    meta = {
        "pass": "lavalab.compile.stock_exact",
        "theta_folded_into_input_weights": True,
        "theta_range_v_units": [int(theta.min()), int(theta.max())] if theta.size else [0, 0],
        "weight_scale_range": [float(scale.min()), float(scale.max())] if scale.size
        else [1.0, 1.0],
        "weights_changed_fraction": float(changed.mean()) if changed.size else 0.0,
        "exc": {"t_ref_ms": [s.exc.t_ref_ms, 0.0], "v_reset": [s.exc.v_reset, 0.0]},
        "inh": ({"t_ref_ms": [s.inh.t_ref_ms, 0.0], "v_reset": [s.inh.v_reset, 0.0]}
                if s.inh is not None else None),
        "one_spike_infer": [bool(s.exc.one_spike_infer), False],
    }
    return stock_exact_spec(s), w_new, np.zeros_like(theta), meta
