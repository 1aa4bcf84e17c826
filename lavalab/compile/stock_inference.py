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
  (:func:`lavalab.deploy.stock.lower_to_stock`: neuron ``i``'s input and inhibitory weights times
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

from lavalab.networks.snn import NetworkSpec

__all__ = ["stock_inference"]


def stock_inference(s: NetworkSpec) -> tuple[NetworkSpec, dict]:
    """``(spec, metadata)`` of the stock inference network of a model of spec ``s``: the
    features the stock ``LIF`` lacks turned off (no refractory period, reset to rest, no
    one spike per step at inference) in both populations; ``metadata`` says what was
    changed (JSON-able)."""
    def plain(p):
        return replace(p, t_ref_ms=0.0, v_reset=0.0, one_spike_infer=False)

    meta = {
        "pass": "lavalab.compile.stock_inference",
        "exc": {"t_ref_ms": [s.exc.t_ref_ms, 0.0], "v_reset": [s.exc.v_reset, 0.0]},
        "inh": ({"t_ref_ms": [s.inh.t_ref_ms, 0.0], "v_reset": [s.inh.v_reset, 0.0]}
                if s.inh is not None else None),
        "one_spike_infer": [bool(s.exc.one_spike_infer), False],
        "theta": "kept per neuron; the deploy lowering folds it into the weights (rounded)",
    }
    return replace(s, exc=plain(s.exc), inh=plain(s.inh) if s.inh is not None else None), meta
