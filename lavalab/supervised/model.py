"""The torch model of a :class:`~lavalab.networks.supervised.SupervisedSpec`, built from lava-dl
SLAYER CUBA blocks (``lava.lib.dl.slayer.block.cuba.Dense``), and the input encoders.

Every layer is a SLAYER ``cuba.Dense`` block (8-bit weight hook, 12-bit decays, states on
SLAYER's fixed-point grid) with ``delay_shift=False``: a spike reaches the next layer in
the same step, so T = 1 is a complete inference (Lava's Dense adds one step per layer;
the Lava backend shifts its read-out accordingly). The forward pass is the block's own
(synapse then neuron), with Yao et al.'s options inserted where they act:

- MRF: the synapse's weight hook is ``quantize_8bit(G @ W)`` (the grouping folded into the
  weights, :mod:`lavalab.networks.mrf`), so training, the forward pass and
  ``export_hdf5`` all see the folded 8-bit matrix;
- Omega: applied to the synaptic input before the neuron (hidden layers only).

The readout is a CUBA layer whose threshold is never reached
(:data:`~lavalab.networks.supervised.READOUT_THRESHOLD`): its membrane potential, averaged
over the T steps, is the class score.
"""

from __future__ import annotations

# Lava's runtime calls multiprocessing.set_start_method("fork") when it is first imported,
# which raises once anything has fixed the start method (tqdm's lock during training does):
# import it before any training so evaluation on Lava works in the same process.
import lava.magma.runtime.runtime  # noqa: F401, I001
import numpy as np
import torch

from lavalab.networks.mrf import mrf_matrix, omega
from lavalab.networks.supervised import SupervisedSpec, layer_thresholds, slayer_neuron_params

__all__ = ["SupervisedNet", "encode", "MRFWeightHook", "INIT_WEIGHT_SCALE"]

#: Factor (times the hidden threshold) on SLAYER's default (PyTorch conv) weight
#: initialisation. With the default (1)
#: the initial weights sit at one or two steps of the 8-bit grid and the second hidden
#: layer never fires, so no gradient flows; 4 starts every layer active.
INIT_WEIGHT_SCALE = 4


class MRFWeightHook:
    """SLAYER weight hook ``w -> quantize_8bit(G @ w)`` (G: the MRF map of the layer).

    A plain callable, not a ``torch.nn.Module``: a Module assigned to the synapse's
    ``pre_hook_fx`` property would be registered as a submodule and never reach the
    property's setter (the synapse would keep its unfolded hook).
    """

    def __init__(self, g: np.ndarray, quantize):
        self.g = torch.tensor(g, dtype=torch.float32)
        self._quantize = quantize

    def __call__(self, w, descale: bool = False):
        folded = torch.einsum("oj,j...->o...", self.g, w)
        return self._quantize(folded, descale=descale)


class SupervisedNet(torch.nn.Module):
    """SLAYER blocks of ``spec``; ``forward(x)`` with ``x`` of shape (batch, n_input, T)
    returns ``(spikes, v)``: the hidden layers' spike tensors (batch, n, T) and the
    readout's membrane potential (batch, n_output, T)."""

    def __init__(self, spec: SupervisedSpec):
        super().__init__()
        from lava.lib.dl import slayer

        self.spec = spec
        sizes, ths = spec.sizes, layer_thresholds(spec)
        blocks = []
        for i in range(len(sizes) - 1):
            p = slayer_neuron_params(spec.neuron, ths[i] / spec.neuron.threshold)
            p.update(tau_grad=spec.tau_grad, scale_grad=spec.scale_grad)
            b = slayer.block.cuba.Dense(p, sizes[i], sizes[i + 1], delay_shift=False,
                                        weight_scale=INIT_WEIGHT_SCALE * spec.neuron.threshold)
            if spec.mrf is not None and i < len(spec.hidden):
                b.synapse.pre_hook_fx = MRFWeightHook(mrf_matrix(sizes[i + 1], spec.mrf),
                                                      b.neuron.quantize_8bit)
            blocks.append(b)
        self.blocks = torch.nn.ModuleList(blocks)

    @property
    def hidden_blocks(self):
        return list(self.blocks[:-1])

    def forward(self, x: torch.Tensor, use_omega: bool = True):
        """``use_omega=False`` drops the projection (the deployable variant of a Yao et al.
        network: its MRF stays folded in the weights)."""
        spikes, s = [], x
        for b in self.hidden_blocks:
            z = b.synapse(s)
            if use_omega and self.spec.omega_theta is not None:
                z = omega(z, self.spec.omega_theta, float(b.neuron.threshold))
            s = b.neuron(z)
            spikes.append(s)
        out = self.blocks[-1]
        _, v = out.neuron.dynamics(out.synapse(s))
        return spikes, v

    def quantized_weights(self) -> list[np.ndarray]:
        """Each layer's exported integer weights (n_out, n_in): the 8-bit grid SLAYER
        computes with, times its weight scale (what ``export_hdf5`` writes)."""
        out = []
        with torch.no_grad():
            for b in self.blocks:
                w = b.synapse.pre_hook_fx(b.synapse.weight, descale=True)
                out.append(w.reshape(w.shape[0], -1).cpu().numpy().astype(np.int64))
        return out


def encode(images: np.ndarray, spec: SupervisedSpec, seed: int = 0) -> torch.Tensor:
    """Images (N, H, W) or (N, n_input) uint8 -> input tensor (N, n_input, T) float32.

    direct: the integers ``round(p / 255 * 2**input_bits)`` on every step; rate: Bernoulli
    spikes with probability ``p / 255`` per step (``seed`` seeds the draw).
    """
    x = np.asarray(images).reshape(len(images), -1)
    if x.shape[1] != spec.n_input:
        raise ValueError(f"images have {x.shape[1]} pixels, the network {spec.n_input} inputs")
    p = torch.tensor(x, dtype=torch.float32) / 255.0
    t = spec.timesteps
    if spec.encoding == "direct":
        q = torch.round(p * 2 ** spec.input_bits)
        return q[:, :, None].repeat(1, 1, t)
    g = torch.Generator().manual_seed(seed)
    return (torch.rand((*p.shape, t), generator=g) < p[:, :, None]).float()
