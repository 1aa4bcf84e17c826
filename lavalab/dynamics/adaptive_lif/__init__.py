r"""Current-based LIF with an adaptive threshold (Diehl & Cook homeostasis).

One step, for every neuron (arrays broadcast over any leading batch axis):

.. math::

    u &\leftarrow u\,(1-\delta_u) + a_{in} \\
    v &\leftarrow v\,(1-\delta_v) + u + b \qquad \text{(held while refractory)} \\
    \theta &\leftarrow \theta\,(1-\delta_\theta) \qquad \text{(learning only)} \\
    s &= [\,r = 0 \;\wedge\; v > v_{th} + \theta\,] \\
    \text{on } s:\; v &\leftarrow v_{reset},\; r \leftarrow T_{ref},\;
        \theta \leftarrow \theta + \theta_+ \ \text{(learning only)}

and ``r`` counts down by one on every step it is positive. With learning off
(inference) theta is frozen, as Diehl & Cook freeze it at test time.

**One spike per step while learning** (``one_spike``, BindsNET's
``DiehlAndCookNodes(one_spike=True)``): during training every neuron that crosses threshold
in a step is reset, made refractory and raises its theta as above, but only one of them,
drawn uniformly (counter stream "one_spike" keyed by seed and step), emits its spike, so
only one neuron per step learns from it. This stands in for the inhibition that at D&C's
0.5 ms steps arrives before a second neuron can cross. It is a population-wide choice,
which Loihi's neuro cores cannot make (design rule ``one_spike_not_on_chip``, checked for
on-chip learning); inference (learning off) runs the plain network, which Loihi can run.
``one_spike_infer`` makes the same choice at inference (learning off), as BindsNET does at
test time: from 900 neurons many neurons of a layer cross threshold in the same step before
inhibition arrives, and the plain network answers a digit with 100-500 spikes of weakly
tuned neurons (D&C-1600 after 3 epochs, 3000 test digits: 83.0 % plain, 89.6 % with it).
No Loihi form either (design rule ``one_spike_not_on_chip`` for inference too).

Two precisions, one function each:

- :func:`step_float` on :class:`AdaptiveLIFFloat` (per-step fractions, potentials in
  the user's unit, e.g. mV relative to rest; made from physical time constants by
  :meth:`AdaptiveLIFParams.per_step`).
- :func:`step_fixed` on :class:`AdaptiveLIFFixed`, Loihi integer semantics exactly as
  Lava 0.10's ``PyLifModelBitAcc`` (see ``shared/LOIHI.md`` 2a):

  ======== ============================================================================
  u        signed 24-bit, ``u*(4096-decay_u)`` rounded toward zero, input ``<< 6``,
           overflow wraps (Lava's single +-2**24 correction, :func:`fixed.wrap_once`)
  v        ``v*(4096-decay_v)`` toward zero, ``+ u + (bias_mant << bias_exp)``, then
           rounded to the grid of multiples of ``2**v_lsb`` (``v_rounding``) and saturated
           at +-(2**(v_bits-1) - 1) * 2**v_lsb: a signed ``v_bits``-bit register of grid
           units. Default ``v_bits = 24``, ``v_lsb = 0``: Loihi's signed 24-bit v,
           saturating at +-(2**23 - 1), no rounding
  vth      17-bit mantissa, compared as ``vth << 6`` (strict ``>``); ``vth << 6`` is on the
           grid and within v's range
  theta    unsigned, on the grid, saturating at (2**theta_bits - 1) * 2**v_lsb (v units;
           default 24 bits, v_lsb 0); decays by ``theta * decay_theta / 2**theta_decay_bits``
           computed in grid units and rounded **stochastically** (counter stream "theta"
           keyed by seed, step and neuron; ``theta_decay_bits`` 12..28, so that D&C's
           tau_theta = 1e7 steps, a decay of 1e-7 per step, is representable)
  r        refractory counter, 0..64 steps

  At the start of a sample (``reset``), u, v and r are set to 0 (theta is kept).
  ======== ============================================================================

  Neuron-state quantization (tinySNN's qWN, :mod:`lavalab.compile.quantize`): v, the
  threshold and theta live on multiples of ``2**v_lsb`` v units (``v_bits + v_lsb <= 24``,
  ``theta_bits + v_lsb <= 24``); ``v_reset`` and ``vth << 6`` must be on the grid, and
  the initial theta too (the kernel keeps it there). ``v_rounding`` is one of
  :data:`lavalab.fixed.ROUNDING_MODES` with the meaning of :func:`lavalab.fixed.round_shift`
  (truncate toward zero; nearest, halves away from zero; stochastic with ``v_lsb`` random
  bits from the counter stream "quantize" keyed by seed, step and neuron, distinct from
  theta's stream). ``theta_plus`` is a constant kept at full v resolution (as tinySNN sizes
  a constant's bits by its value); at each spike ``theta + theta_plus`` is rounded back
  onto the grid with ``v_rounding`` (stream "theta_quantize"): truncation freezes theta
  when ``theta_plus`` is below one grid step, stochastic rounding keeps its mean growth.

  With ``theta_plus = 0``, ``ref_steps = 0``, ``v_reset = 0`` and the default v register
  (``v_bits = 24``, ``v_lsb = 0``) it equals Lava's stock
  ``LIF`` with ``du = decay_u - 1``, ``dv = decay_v`` bit for bit.
"""

from lavalab.dynamics.adaptive_lif.kernels import (
    fixed_args,
    float_args,
    keep_one_spike,
    lif_fixed_kernel,
    lif_fixed_live_kernel,
    lif_float_kernel,
    live_args,
    step_fixed,
    step_float,
    theta_args,
    theta_decay_fixed_kernel,
    theta_decay_float_kernel,
)
from lavalab.dynamics.adaptive_lif.params import (
    AdaptiveLIFFixed,
    AdaptiveLIFFloat,
    AdaptiveLIFParams,
    LIFState,
    init_state,
)

__all__ = [
    "AdaptiveLIFParams", "AdaptiveLIFFloat", "AdaptiveLIFFixed", "LIFState",
    "init_state", "step_float", "step_fixed", "lif_float_kernel", "lif_fixed_kernel",
    "float_args", "fixed_args", "theta_decay_fixed_kernel", "theta_decay_float_kernel",
    "theta_args", "lif_fixed_live_kernel", "live_args", "keep_one_spike",
]
