"""Typed specs of gradient-trained (lava-dl SLAYER) networks, in physical units.

A :class:`SupervisedSpec` describes a feed-forward CUBA-LIF network: input size, hidden
layer widths, readout size, the neuron in physical units (:class:`CubaParams`), the number
of timesteps ``T``, the input encoding and, as options, Yao et al.'s multi-receptive-field
membrane potential (:class:`MRFSpec`) and projection Omega (``omega_theta``).

The neuron parameters reach SLAYER through **one** function, :func:`slayer_neuron_params`
(ms -> per-step decays, threshold -> SLAYER threshold); nothing else converts them.

Input encodings

- ``"direct"`` (default): each pixel ``p`` in 0..255 becomes the integer
  ``round(p / 255 * 2**input_bits)``, presented on every one of the ``T`` steps as a
  **graded spike** (Lava ``num_message_bits = input_bits + 2``). Loihi adds a graded
  payload to the dendrite without a fractional scale, so the first layer's threshold is
  the spec threshold times ``2**input_bits`` (same decisions as pixels in [0, 1] against
  ``threshold``, with the same 8-bit weight grid); :func:`layer_thresholds` says which.
- ``"rate"``: Bernoulli spikes with probability ``p / 255`` per step (binary messages).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field

from lavalab import fixed
from lavalab.loihi_spec import DECAY_UNITY, VTH_MAX

__all__ = ["CubaParams", "MRFSpec", "SupervisedSpec", "ENCODINGS", "slayer_neuron_params",
           "layer_thresholds", "spec_to_dict", "spec_from_dict", "READOUT_THRESHOLD",
           "METHODS"]

#: Input encodings (module doc).
ENCODINGS = ("direct", "rate")
#: Network variants (:attr:`SupervisedSpec.method`): plain CUBA, Yao et al. 2024 (MRF + Omega),
#: MRF only (deployable), Omega only.
METHODS = ("cuba", "seed002", "mrf", "omega")
#: Threshold of the readout layer (SLAYER units): the largest whose Loihi mantissa
#: (``threshold * 64``) fits 17 bits, so a readout neuron never fires in practice (it is a
#: leaky integrator whose membrane potential is the class score, as in snnTorch / Norse
#: readouts).
READOUT_THRESHOLD = float(VTH_MAX // 64)


@dataclass(frozen=True)
class CubaParams:
    """A CUBA-LIF neuron in physical units.

    tau_u_ms : synaptic current time constant (ms), > 0; ``math.inf`` = no decay
    tau_v_ms : membrane time constant (ms), > 0; ``math.inf`` = no leak
    threshold : firing threshold (SLAYER units: a weight of 1 from one spike adds 1)
    dt_ms : step size (ms)
    """

    tau_u_ms: float = 1.0
    tau_v_ms: float = 1.0
    threshold: float = 1.0
    dt_ms: float = 1.0

    def __post_init__(self):
        fixed.check_real("tau_u_ms", self.tau_u_ms, lo=1e-3, allow_inf=True)
        fixed.check_real("tau_v_ms", self.tau_v_ms, lo=1e-3, allow_inf=True)
        fixed.check_real("threshold", self.threshold, lo=1e-3, hi=1e3)
        fixed.check_real("dt_ms", self.dt_ms, lo=1e-3, hi=1e3)


def _decay(tau_ms: float, dt_ms: float) -> float:
    return 0.0 if math.isinf(tau_ms) else 1.0 - math.exp(-dt_ms / tau_ms)


def slayer_neuron_params(p: CubaParams, threshold_scale: float = 1.0) -> dict:
    """The one conversion from physical units to SLAYER's ``cuba.Neuron`` arguments.

    ``current_decay = 1 - exp(-dt / tau_u)`` and ``voltage_decay = 1 - exp(-dt / tau_v)``
    (SLAYER: ``u[t] = (1 - current_decay) u[t-1] + z[t]``, the same for v), rounded to
    the 12-bit grid Loihi stores (``round(decay * 4096) / 4096``: SLAYER quantises to that
    grid in its forward pass and netx exports ``iDecay = decay * 4096``);
    ``threshold = p.threshold * threshold_scale``. Decays are not trained.
    """
    q = DECAY_UNITY
    return dict(threshold=float(p.threshold * threshold_scale),
                current_decay=round(_decay(p.tau_u_ms, p.dt_ms) * q) / q,
                voltage_decay=round(_decay(p.tau_v_ms, p.dt_ms) * q) / q,
                requires_grad=False)


@dataclass(frozen=True)
class MRFSpec:
    """Yao et al.'s multi-receptive-field (MRF) membrane potential.

    A hidden layer's n neurons (in index order) are split into ``len(dilations)``
    contiguous groups: ``group_sizes`` (must add up to every hidden layer's width) or,
    when ``None``, an even split (the last group takes the remainder). In group g a neuron
    i receives the mean of the synaptic input of the ``window`` neurons
    ``i + j * dilations[g]``, ``j = -(window-1)/2 .. (window-1)/2`` that lie in its group
    (zero padding at group ends: the divisor is always ``window``). Dilation 1 is the
    non-dilated local window, > 1 a dilated one. The grouping is a fixed linear map G of
    the synaptic input, so ``G @ W`` folds it into the weights (see
    :func:`lavalab.networks.mrf.mrf_matrix`).

    window : odd window length, 1..15
    dilations : one dilation (1..64) per group, 1..8 groups
    group_sizes : neurons per group, or ``None`` for an even split
    """

    window: int = 3
    dilations: tuple[int, ...] = (1, 2)
    group_sizes: tuple[int, ...] | None = None

    def __post_init__(self):
        fixed.check_int_range("mrf.window", self.window, 1, 15)
        if self.window % 2 != 1:
            raise ValueError(f"mrf.window={self.window} must be odd")
        if not isinstance(self.dilations, tuple) or not 1 <= len(self.dilations) <= 8:
            raise ValueError(f"mrf.dilations={self.dilations!r} must be a tuple of 1..8 ints")
        fixed.check_int_range("mrf.dilations", self.dilations, 1, 64)
        if self.group_sizes is not None:
            if (not isinstance(self.group_sizes, tuple)
                    or len(self.group_sizes) != len(self.dilations)):
                raise ValueError(f"mrf.group_sizes={self.group_sizes!r} must be a tuple with "
                                 f"one size per dilation ({len(self.dilations)})")
            fixed.check_int_range("mrf.group_sizes", self.group_sizes, 1, 10**6)


@dataclass(frozen=True)
class SupervisedSpec:
    """A feed-forward CUBA-LIF network trained with surrogate gradients (lava-dl SLAYER).

    n_input : input neurons (784 for MNIST)
    hidden : widths of the hidden (spiking) layers, 1..4 layers of 1..4096
    n_output : readout neurons (classes); non-spiking leaky integrators whose membrane
        potential, averaged over the T steps, is the class score
    neuron : the hidden layers' :class:`CubaParams` (the readout uses the same decays)
    timesteps : T, steps each sample is presented (1..64)
    encoding : ``"direct"`` or ``"rate"`` (module doc); input_bits : fraction bits of a
        direct-encoded pixel, 1..6 (graded payload ``0..2**input_bits``)
    mrf : Yao et al.'s multi-receptive-field grouping on the hidden layers, or ``None``
    omega_theta : Yao et al.'s projection radian factor theta in (0, 3], or ``None`` (no
        projection); see :func:`lavalab.networks.mrf.omega`
    """

    n_input: int = 784
    hidden: tuple[int, ...] = (512,)
    n_output: int = 10
    neuron: CubaParams = field(default_factory=CubaParams)
    timesteps: int = 1
    encoding: str = "direct"
    input_bits: int = 4
    mrf: MRFSpec | None = None
    omega_theta: float | None = None
    tau_grad: float = 0.01
    scale_grad: float = 10.0

    def __post_init__(self):
        fixed.check_int_range("n_input", self.n_input, 1, 10**6)
        fixed.check_int_range("n_output", self.n_output, 2, 4096)
        if not isinstance(self.hidden, tuple) or not 1 <= len(self.hidden) <= 4:
            raise ValueError(f"hidden={self.hidden!r} must be a tuple of 1..4 layer widths")
        fixed.check_int_range("hidden", self.hidden, 1, 4096)
        if not isinstance(self.neuron, CubaParams):
            raise ValueError(f"neuron={self.neuron!r} must be a CubaParams")
        fixed.check_int_range("timesteps", self.timesteps, 1, 64)
        if self.encoding not in ENCODINGS:
            raise ValueError(f"encoding={self.encoding!r} is not one of {ENCODINGS}")
        fixed.check_int_range("input_bits", self.input_bits, 1, 6)
        if self.mrf is not None:
            if not isinstance(self.mrf, MRFSpec):
                raise ValueError(f"mrf={self.mrf!r} must be an MRFSpec or None")
            if self.mrf.group_sizes is not None:
                for n in self.hidden:
                    if sum(self.mrf.group_sizes) != n:
                        raise ValueError(f"mrf.group_sizes={self.mrf.group_sizes} add up to "
                                         f"{sum(self.mrf.group_sizes)}, not to the hidden "
                                         f"width {n}")
            for n in self.hidden:
                if n < len(self.mrf.dilations):
                    raise ValueError(f"hidden width {n} is below the {len(self.mrf.dilations)}"
                                     " MRF groups")
        if self.omega_theta is not None:
            fixed.check_real("omega_theta", self.omega_theta, lo=1e-3, hi=3.0)
        fixed.check_real("tau_grad", self.tau_grad, lo=1e-4, hi=100.0)
        fixed.check_real("scale_grad", self.scale_grad, lo=1e-3, hi=1000.0)

    @property
    def method(self) -> str:
        """``"cuba"`` (plain), ``"mrf"`` (MRF only: deployable), ``"seed002"`` (MRF + Omega)
        or ``"omega"`` (Omega only)."""
        if self.mrf is None:
            return "cuba" if self.omega_theta is None else "omega"
        return "mrf" if self.omega_theta is None else "seed002"

    @property
    def sizes(self) -> tuple[int, ...]:
        """``(n_input, *hidden, n_output)``."""
        return (self.n_input, *self.hidden, self.n_output)

    @property
    def input_message_bits(self) -> int:
        """Bits of an input message in Lava: 0 (binary) for rate, else enough for
        ``0..2**input_bits`` as a signed payload."""
        return 0 if self.encoding == "rate" else self.input_bits + 2


def layer_thresholds(spec: SupervisedSpec) -> tuple[float, ...]:
    """SLAYER threshold of every layer (hidden..., readout): direct encoding scales the
    first layer's by ``2**input_bits`` (module doc); the readout's is
    :data:`READOUT_THRESHOLD`."""
    th = spec.neuron.threshold
    first = 2.0 ** spec.input_bits if spec.encoding == "direct" else 1.0
    out = [th * (first if i == 0 else 1.0) for i in range(len(spec.hidden))]
    out.append(READOUT_THRESHOLD)
    return tuple(out)


def spec_to_dict(spec: SupervisedSpec) -> dict:
    """JSON-able dict of ``spec`` (inverse: :func:`spec_from_dict`)."""
    d = asdict(spec)
    d["hidden"] = list(spec.hidden)
    return d


def spec_from_dict(d: dict) -> SupervisedSpec:
    """A :class:`SupervisedSpec` from :func:`spec_to_dict`'s output (ValueError if bad)."""
    try:
        d = dict(d)
        neuron = CubaParams(**d.pop("neuron"))
        mrf = d.pop("mrf")
        if mrf is not None:
            gs = mrf.get("group_sizes")
            mrf = MRFSpec(window=mrf["window"], dilations=tuple(mrf["dilations"]),
                          group_sizes=None if gs is None else tuple(gs))
        return SupervisedSpec(neuron=neuron, mrf=mrf, hidden=tuple(d.pop("hidden")), **d)
    except (KeyError, TypeError) as err:
        raise ValueError(f"not a supervised network spec: {err}") from err
