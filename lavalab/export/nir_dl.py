"""A gradient-trained (lava-dl SLAYER CUBA) MLP as an NIR graph, in the same per-importer
variants as :mod:`lavalab.export.nir_graph`::

    input --> fc0 (Affine) --> lif0 (CubaLIF) --> fc1 --> ... --> readout (CubaLIF) --> output

- Weights: the float weights SLAYER's forward pass computes with (its 8-bit weight hook
  applied, the MRF grouping folded in); no bias.
- Neurons: ``CubaLIF`` whose forward-Euler step at the file's ``dt`` is SLAYER's CUBA step
  ``u = (1 - du) u + z``, ``v = (1 - dv) v + u`` (:func:`~lavalab.export.nir_graph._cuba`),
  one threshold per layer, reset to 0 (SLAYER's, and both importers'). The readout's
  threshold is never reached: its membrane potential summed over the T steps is the class
  score (importers expose it as the neuron's state).
- Not representable: SLAYER's fixed-point grid of u and v (the importers compute in float)
  and Yao et al.'s Omega projection (refused).
"""

from __future__ import annotations

import json

import numpy as np

from lavalab.export._version import EXPORT_VERSION
from lavalab.export.nir_graph import NIR_FORMAT, time_base

__all__ = ["supervised_to_nir"]


def supervised_to_nir(net, target: str = "snntorch"):
    """The :class:`nir.NIRGraph` of a :class:`~lavalab.supervised.model.SupervisedNet`."""
    import nir
    import torch

    from lavalab.export.nir_graph import _cuba
    from lavalab.networks.supervised import layer_thresholds

    spec = net.spec
    if target not in ("snntorch", "norse"):
        raise ValueError(f"target={target!r}: a supervised MLP is written for 'snntorch' or "
                         "'norse' (CubaLIF)")
    if spec.omega_theta is not None:
        raise ValueError("a network with Yao et al.'s Omega projection has no NIR form "
                         "(train with --method cuba or mrf)")
    dt = time_base(target, spec.neuron.dt_ms * 1e-3)
    nodes = {"input": nir.Input(input_type={"input": np.array([spec.n_input])})}
    edges, prev = [], "input"
    ths = layer_thresholds(spec)
    for i, b in enumerate(net.blocks):
        with torch.no_grad():
            w = b.synapse.pre_hook_fx(b.synapse.weight).reshape(b.synapse.weight.shape[0], -1)
        w = w.numpy().astype(np.float64)
        n = w.shape[0]
        du, dv = float(b.neuron.current_decay) / 4096, float(b.neuron.voltage_decay) / 4096
        if dv <= 0:
            raise ValueError("a neuron without voltage leak has no CubaLIF form here")
        last = i == len(net.blocks) - 1
        fc, lif = f"fc{i}", "readout" if last else f"lif{i}"
        p = _Decays(decay_u=du, decay_v=dv)
        nodes[fc] = nir.Affine(weight=w, bias=np.zeros(n))
        nodes[lif] = _cuba(p, ths[i], 0.0, dt, n)
        edges += [(prev, fc), (fc, lif)]
        prev = lif
    nodes["output"] = nir.Output(output_type={"output": np.array([spec.n_output])})
    edges.append((prev, "output"))
    meta = {"format": NIR_FORMAT, "version": EXPORT_VERSION, "network": "supervised-mlp",
            "target": target, "dt_s": dt, "model_dt_s": spec.neuron.dt_ms * 1e-3,
            "time_scale": dt / (spec.neuron.dt_ms * 1e-3), "timesteps": spec.timesteps,
            "encoding": spec.encoding, "input_bits": spec.input_bits,
            "readout": "class score = readout membrane potential summed over the timesteps "
                       "(its threshold is never reached)",
            "dropped": "SLAYER's fixed-point grid of u and v (importers run in float)",
            "sizes": json.dumps(list(spec.sizes))}
    return nir.NIRGraph(nodes=nodes, edges=edges, metadata=meta)


class _Decays:
    """The two per-step decays :func:`~lavalab.export.nir_graph._cuba` reads."""

    def __init__(self, decay_u: float, decay_v: float):
        self.decay_u, self.decay_v = decay_u, decay_v
