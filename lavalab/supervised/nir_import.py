"""Import a NIR graph (Neuromorphic Intermediate Representation) as a supervised-family
model: the same :class:`~lavalab.supervised.model.SupervisedNet` and ``.npz`` model file
that ``lavalab dl train`` writes, so it can be evaluated in torch and on Lava fixed_pt
(netx), exported to netx and analysed for energy like a trained one.

Accepted graphs: a chain ``Input -> (Affine | Linear -> neuron)+ -> Output`` where every
neuron node is ``LIF``, ``CubaLIF`` or ``IF`` (hidden layers) and the last one may also be
``LI`` or ``CubaLI``. Everything else (Conv2d, Flatten, recurrent subgraphs, branches) is
refused, naming the node.

Semantics (NIR's equations, forward Euler with the graph's step ``dt``, the order snnTorch
and lava-dl SLAYER use: the synaptic current is updated before the voltage, a spike
reaches the next layer in the same step, ``v`` is set to 0 after a spike)::

    I[t] = (1 - dt/tau_syn) I[t-1] + (dt w_in / tau_syn) W s[t]        (CubaLIF; LIF: I = W s)
    v[t] = (1 - dt/tau_mem) v[t-1] + (dt r / tau_mem) I[t]             (IF: decay 0, gain dt r)
    spike if v[t] > v_threshold, then v = 0

mapped to SLAYER's CUBA neuron ``u = (1 - du) u + z``, ``v = (1 - dv) v + u``:

- decays ``du = dt/tau_syn`` (1 for LIF / IF) and ``dv = dt/tau_mem`` (0 for IF), rounded
  to Loihi's 12-bit grid; they must be the same for every neuron and layer (the model has
  one neuron type), else the import is refused;
- each neuron's input gain and threshold are folded into its weight row: row ``i`` of layer
  ``l`` becomes ``W[i] * gain[i] * th / v_threshold[i]`` (a neuron whose v is scaled by a
  constant fires at the same steps), with one threshold ``th`` (on SLAYER's 1/64 grid)
  chosen so the hidden layers use the 8-bit weight range; the readout's rows are scaled to
  the full range (argmax is unchanged);
- the last neuron layer is the readout: it never fires, the class score is its membrane
  potential summed over the T steps (its NIR threshold, if any, is not used);
- weights then lie on SLAYER's 8-bit grid (step 2/64, range [-256, 254]/64).

Refused in one line: a non-zero ``v_leak``, ``v_reset`` or Affine bias, decays that differ,
``dt/tau`` outside (0, 1], a non-positive threshold, a missing ``dt``. NIR 1.0 has no reset
mode: a source network trained with subtractive reset (snnTorch's default) imports without
an error but behaves differently on Loihi (reset to 0).

The measured quantisation error (per-layer weight error, decay error, and the float NIR
reference against the quantised model on seeded random inputs) goes into the model's
metadata under ``"nir_import"``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from lavalab import fixed
from lavalab.loihi_spec import DECAY_UNITY, VTH_MAX, VTH_SHIFT
from lavalab.networks.supervised import (
    ENCODINGS,
    READOUT_THRESHOLD,
    CubaParams,
    SupervisedSpec,
    layer_thresholds,
    slayer_neuron_params,
)

__all__ = ["NIRImportError", "ImportConfig", "NIRLayer", "read_graph", "graph_layers",
           "import_nir", "simulate_float", "SUPPORTED_NODES"]

#: NIR node types the importer accepts (module doc).
SUPPORTED_NODES = ("Input", "Affine", "Linear", "LIF", "CubaLIF", "IF", "LI", "CubaLI",
                   "Output")
_SPIKING = ("LIF", "CubaLIF", "IF")
_READOUT_ONLY = ("LI", "CubaLI")
#: SLAYER ``cuba.Neuron``'s weight scale (its default ``scale = 1 << 6``): weights are
#: multiples of ``2 / scale`` in ``[-256, 254] / scale``; thresholds multiples of 1/scale.
_W_SCALE = 2 ** VTH_SHIFT
_W_MAX = 254 / _W_SCALE
_W_STEP = 2 / _W_SCALE
#: Random inputs on which the float NIR reference is compared with the quantised model.
CHECK_SAMPLES = 200


class NIRImportError(ValueError):
    """A NIR file that cannot be read or cannot be represented (message: one line)."""


@dataclass(frozen=True)
class ImportConfig:
    """timesteps : T of the model (1..64); encoding / input_bits : as
    :class:`~lavalab.networks.supervised.SupervisedSpec` (the source network's inputs are
    pixel / 255 in [0, 1]); dt : the step in seconds, or ``None`` to take the graph's
    ``metadata["dt"]``; seed : of the random check inputs."""

    timesteps: int = 8
    encoding: str = "direct"
    input_bits: int = 4
    dt: float | None = None
    seed: int = 0

    def __post_init__(self):
        fixed.check_int_range("timesteps", self.timesteps, 1, 64)
        if self.encoding not in ENCODINGS:
            raise ValueError(f"encoding={self.encoding!r} is not one of {ENCODINGS}")
        fixed.check_int_range("input_bits", self.input_bits, 1, 6)
        if self.dt is not None:
            fixed.check_real("dt", self.dt, lo=1e-9, hi=1.0)
        fixed.check_int_range("seed", self.seed, 0, 2**31 - 2)


@dataclass(frozen=True)
class NIRLayer:
    """One weight node and its neuron node, in float NIR semantics (module doc).

    weight : (n_out, n_in) effective weights ``W * gain`` (v units per input unit)
    du, dv : current and voltage decays per step; threshold : (n_out,) or ``None``
    (LI / CubaLI); names : the two nodes' names; kind : the neuron node's type
    """

    weight: np.ndarray
    du: float
    dv: float
    threshold: np.ndarray | None
    names: tuple[str, str]
    kind: str


def read_graph(path):
    """``nir.read`` of ``path`` (NIRImportError naming the file if it is not a NIR file)."""
    import nir

    p = Path(path)
    if not p.is_file():
        raise NIRImportError(f"{path}: no such NIR file")
    try:  # shapes are checked by graph_layers, after the node types (type_check=False)
        return nir.read(p, type_check=False)
    except Exception as err:  # h5py / nir raise many types for foreign or damaged files
        msg = " ".join(str(err).split()) or type(err).__name__
        raise NIRImportError(f"{path}: not a readable NIR file ({msg})") from err


def _chain(graph) -> list[str]:
    """Node names from the Input to the Output, refusing anything but a simple chain."""
    nodes, succ = graph.nodes, {}
    for a, b in graph.edges:
        succ.setdefault(a, []).append(b)
    for name, node in nodes.items():
        kind = type(node).__name__
        if kind not in SUPPORTED_NODES:
            raise NIRImportError(f"node {name!r} is a {kind}: supported nodes are "
                                 f"{', '.join(SUPPORTED_NODES)} (a feed-forward chain)")
    inputs = [n for n, v in nodes.items() if type(v).__name__ == "Input"]
    if len(inputs) != 1:
        raise NIRImportError(f"the graph has {len(inputs)} Input nodes; one is supported")
    order, cur = [inputs[0]], inputs[0]
    while type(nodes[cur]).__name__ != "Output":
        nxt = succ.get(cur, [])
        if len(nxt) != 1:
            raise NIRImportError(f"node {cur!r} has {len(nxt)} successors; only a "
                                 "feed-forward chain Input -> ... -> Output is supported")
        cur = nxt[0]
        if cur in order:
            raise NIRImportError(f"node {cur!r} closes a loop; recurrent graphs are not "
                                 "supported")
        order.append(cur)
    if len(order) != len(nodes):
        rest = sorted(set(nodes) - set(order))
        raise NIRImportError(f"nodes {rest} are not on the Input -> Output chain")
    return order


def _arr(node, attr: str, n: int) -> np.ndarray:
    v = np.asarray(getattr(node, attr), dtype=np.float64).reshape(-1)
    if v.size == 1:
        v = np.full(n, float(v[0]))
    if v.shape != (n,):
        raise NIRImportError(f"{type(node).__name__}.{attr} has {v.size} values for {n} "
                             "neurons")
    return v


def _one(name: str, what: str, v: np.ndarray) -> float:
    if not np.all(np.isfinite(v)) or np.ptp(v) > 1e-6 * max(1.0, abs(float(v[0]))):
        raise NIRImportError(f"node {name!r}: {what} differs between neurons "
                             f"({v.min():.6g}..{v.max():.6g}); Loihi's CUBA layer has one")
    return float(v[0])


def _decay(name: str, what: str, d: float) -> float:
    if not 0.0 <= d <= 1.0 + 1e-6:
        raise NIRImportError(f"node {name!r}: dt/{what} = {d:.6g} is outside (0, 1]; "
                             "choose --dt below the time constant")
    return min(d, 1.0)


def _neuron(name: str, node, n: int, dt: float) -> tuple[np.ndarray, float, float,
                                                         np.ndarray | None]:
    """(gain per neuron, du, dv, threshold or None) of one neuron node."""
    kind = type(node).__name__
    for attr in ("v_leak", "v_reset"):
        if hasattr(node, attr) and getattr(node, attr) is not None:
            v = _arr(node, attr, n)
            if np.any(v != 0):
                raise NIRImportError(f"node {name!r}: {attr} = {v.min():.6g}..{v.max():.6g}"
                                     f"; Loihi CUBA needs {attr} = 0 (leak to 0, reset to 0)")
    r = _arr(node, "r", n)
    if kind == "IF":
        gain, du, dv = dt * r, 1.0, 0.0
    else:
        tau = _arr(node, "tau_mem" if kind.startswith("Cuba") else "tau", n)
        if np.any(tau <= 0):
            raise NIRImportError(f"node {name!r}: time constants must be > 0")
        gain = dt * r / tau
        dv = _decay(name, "tau_mem", _one(name, "tau_mem", dt / tau))
        du = 1.0
        if kind.startswith("Cuba"):
            ts = _arr(node, "tau_syn", n)
            if np.any(ts <= 0):
                raise NIRImportError(f"node {name!r}: time constants must be > 0")
            du = _decay(name, "tau_syn", _one(name, "tau_syn", dt / ts))
            gain = gain * dt * _arr(node, "w_in", n) / ts
    th = None
    if kind not in _READOUT_ONLY:
        th = _arr(node, "v_threshold", n)
    return gain, du, dv, th


def graph_layers(graph, dt: float | None) -> tuple[int, list[NIRLayer], float]:
    """``(n_input, layers, dt)`` of a NIR graph (NIRImportError if it cannot be mapped)."""
    order = _chain(graph)
    nodes = graph.nodes
    if dt is None:
        meta = graph.metadata or {}
        dt = meta.get("dt", meta.get("dt_s"))  # "dt_s": lavalab's own export
        if dt is None:
            raise NIRImportError("the graph's metadata has no 'dt': give the step with --dt "
                                 "SECONDS (snnTorch exports assume 1e-4, Norse 1e-3)")
        dt = float(np.asarray(dt).reshape(-1)[0])
    kinds = [type(nodes[n]).__name__ for n in order]
    body = order[1:-1]
    if len(body) < 4 or len(body) % 2:
        raise NIRImportError(f"the chain is {' -> '.join(kinds)}; supported: Input -> "
                             "(Affine|Linear -> LIF|CubaLIF|IF) x (1 to 4) -> Affine|Linear "
                             "-> LIF|CubaLIF|IF|LI|CubaLI -> Output")
    layers = []
    for i in range(0, len(body), 2):
        wn, nn = body[i], body[i + 1]
        wk, nk = type(nodes[wn]).__name__, type(nodes[nn]).__name__
        last = i + 2 == len(body)
        if wk not in ("Affine", "Linear") or nk not in _SPIKING + (_READOUT_ONLY if last
                                                                    else ()):
            raise NIRImportError(f"nodes {wn!r} -> {nn!r} are {wk} -> {nk}; expected "
                                 "Affine|Linear -> LIF|CubaLIF|IF (LI|CubaLI last)")
        w = np.asarray(nodes[wn].weight, dtype=np.float64)
        if w.ndim != 2 or not np.all(np.isfinite(w)):
            raise NIRImportError(f"node {wn!r}: weight must be a finite 2-D matrix")
        if wk == "Affine" and np.any(np.asarray(nodes[wn].bias) != 0):
            raise NIRImportError(f"node {wn!r}: Affine bias is not zero; the supervised CUBA "
                                 "model has no bias (export the Linear layers with "
                                 "bias=False)")
        gain, du, dv, th = _neuron(nn, nodes[nn], w.shape[0], dt)
        if th is not None and not last and np.any(th <= 0):
            raise NIRImportError(f"node {nn!r}: v_threshold must be > 0")
        if layers and layers[-1].weight.shape[0] != w.shape[1]:
            raise NIRImportError(f"node {wn!r} takes {w.shape[1]} inputs, the layer before "
                                 f"has {layers[-1].weight.shape[0]} neurons")
        layers.append(NIRLayer(w * gain[:, None], du, dv, th, (wn, nn), nk))
    shape = np.asarray(next(iter(nodes[order[0]].input_type.values()))).reshape(-1)
    if int(np.prod(shape)) != layers[0].weight.shape[1] or np.sum(shape > 1) > 1:
        raise NIRImportError(f"Input node {order[0]!r} has shape {shape.tolist()}; node "
                             f"{layers[0].names[0]!r} takes {layers[0].weight.shape[1]} "
                             "inputs (a flat vector)")
    for lay in layers[1:]:
        if abs(lay.du - layers[0].du) > 1e-6 or abs(lay.dv - layers[0].dv) > 1e-6:
            raise NIRImportError(
                f"node {lay.names[1]!r} has decays du={lay.du:.6g}, dv={lay.dv:.6g}, node "
                f"{layers[0].names[1]!r} du={layers[0].du:.6g}, dv={layers[0].dv:.6g}; the "
                "supervised model has one neuron type for all layers")
    return int(layers[0].weight.shape[1]), layers, float(dt)


def _tau_ms(decay: float, dt_ms: float) -> float:
    """The time constant whose ``1 - exp(-dt/tau)`` is ``decay`` (lavalab's CubaParams
    convention) for NIR's Euler decay ``dt/tau``."""
    if decay <= 0.0:
        return math.inf
    if decay >= 1.0:
        return 1e-3  # exp(-dt/1e-3 ms) underflows: decay 1 exactly
    return -dt_ms / math.log1p(-decay)


def _choose_threshold(layers: list[NIRLayer], cfg: ImportConfig) -> float:
    """The common hidden threshold (SLAYER units, on the 1/64 grid) that puts the largest
    folded hidden weight at the top of the 8-bit range (bounded by Lava's 17-bit
    threshold mantissa and CubaParams' range)."""
    big = max(float(np.max(np.abs(lay.weight) / lay.threshold[:, None]))
              for lay in layers[:-1])
    th = _W_MAX / big if big > 0 else 1.0
    first = 2 ** cfg.input_bits if cfg.encoding == "direct" else 1
    th = min(th, VTH_MAX / (_W_SCALE * first), 1e3)
    th = math.floor(th * _W_SCALE) / _W_SCALE
    if th < 1e-3 or th * _W_SCALE < 1:
        raise NIRImportError("the hidden weights are too large against their thresholds for "
                             "the 8-bit weight range")
    return th


def _readout_scale(lay: NIRLayer, t: int) -> float:
    """Scale of the readout's weights: the 8-bit range, unless its v could then reach half
    the readout threshold (worst case: every input spiking on every step)."""
    m = float(np.max(np.abs(lay.weight)))
    if m == 0:
        return 1.0
    gain_u = min(t, 1.0 / lay.du) if lay.du > 0 else t
    gain_v = min(t, 1.0 / lay.dv) if lay.dv > 0 else t
    worst = float(np.max(np.abs(lay.weight).sum(1))) * gain_u * gain_v
    return min(_W_MAX / m, READOUT_THRESHOLD / (2 * worst))


def simulate_float(layers: list[NIRLayer], x: np.ndarray) -> tuple[list, np.ndarray]:
    """The float reference of the imported graph (module doc: NIR Euler, SLAYER order).
    x : (N, n_input, T) in input units. Returns the hidden spike counts per layer (N,) and
    the readout's v summed over T (N, n_output)."""
    s_t, n, t = x, len(x), x.shape[2]
    state = [(np.zeros((n, lay.weight.shape[0])), np.zeros((n, lay.weight.shape[0])))
             for lay in layers]
    spk_total = [np.zeros(n) for _ in layers[:-1]]
    score = np.zeros((n, layers[-1].weight.shape[0]))
    for k in range(t):
        s = s_t[:, :, k]
        for i, lay in enumerate(layers):
            u, v = state[i]
            u = (1 - lay.du) * u + s @ lay.weight.T
            v = (1 - lay.dv) * v + u
            if i < len(layers) - 1:
                s = (v > lay.threshold).astype(np.float64)
                v = np.where(s > 0, 0.0, v)
                spk_total[i] += s.sum(1)
            else:
                score += v
            state[i] = (u, v)
    return spk_total, score


def import_nir(path, cfg: ImportConfig):
    """``(net, report)``: the SupervisedNet of the NIR file ``path`` and what the mapping
    did (the ``"nir_import"`` metadata: dt, decays, threshold, per-layer weight error,
    float-vs-quantised agreement on random inputs)."""
    import torch

    from lavalab.supervised.model import SupervisedNet

    graph = read_graph(path)
    try:  # a message about the graph names the file it came from
        n_in, layers, dt = graph_layers(graph, cfg.dt)
    except NIRImportError as err:
        raise NIRImportError(f"{path}: {err}") from None
    except (TypeError, AttributeError, KeyError, IndexError, ValueError) as err:
        raise NIRImportError(f"{path}: damaged NIR graph ({type(err).__name__}: "
                             f"{' '.join(str(err).split())[:200]})") from None
    if len(layers) - 1 > 4 or any(lay.weight.shape[0] > 4096 for lay in layers):
        raise NIRImportError("the supervised model has 1..4 hidden layers of <= 4096 neurons")
    th = _choose_threshold(layers, cfg)
    dt_ms = dt * 1e3
    neuron = CubaParams(tau_u_ms=_tau_ms(layers[0].du, dt_ms),
                        tau_v_ms=_tau_ms(layers[0].dv, dt_ms), threshold=th, dt_ms=dt_ms)
    spec = SupervisedSpec(n_input=n_in, hidden=tuple(lay.weight.shape[0] for lay in layers[:-1]),
                          n_output=layers[-1].weight.shape[0], neuron=neuron,
                          timesteps=cfg.timesteps, encoding=cfg.encoding,
                          input_bits=cfg.input_bits)
    sp = slayer_neuron_params(neuron)
    ths = layer_thresholds(spec)
    first = ths[0] / th  # direct encoding: first-layer inputs and threshold x 2**input_bits
    torch.manual_seed(cfg.seed)
    net = SupervisedNet(spec)
    per_layer = []
    for i, (lay, b) in enumerate(zip(layers, net.blocks, strict=True)):
        if i < len(layers) - 1:
            w = lay.weight * (th / lay.threshold)[:, None]
        else:
            w = lay.weight * _readout_scale(lay, cfg.timesteps)
        if b.neuron.w_scale != _W_SCALE:
            raise NIRImportError(f"lava-dl's CUBA weight scale is {b.neuron.w_scale}, this "
                                 f"importer assumes {_W_SCALE}")
        wq = np.clip(np.round(w / _W_STEP) * _W_STEP, -256 / _W_SCALE, _W_MAX)
        with torch.no_grad():
            b.synapse.weight.data = torch.tensor(wq, dtype=torch.float32).reshape(
                b.synapse.weight.shape)
        err = wq - w
        norm = float(np.linalg.norm(w))
        per_layer.append({"nodes": list(lay.names), "kind": lay.kind,
                          "shape": list(w.shape),
                          "weight_rel_rms_error": float(np.linalg.norm(err) / norm) if norm
                          else 0.0,
                          "weight_max_abs_error_steps": float(np.max(np.abs(err)) / _W_STEP),
                          "weights_zeroed": int(np.sum((wq == 0) & (w != 0))),
                          "weights_clipped": int(np.sum(np.abs(w) > _W_MAX + _W_STEP / 2))})
    net.eval()
    report = {"source": str(path), "dt_s": dt, "timesteps": cfg.timesteps,
              "encoding": cfg.encoding, "input_bits": cfg.input_bits,
              "decays": {"du_exact": layers[0].du, "du_12bit": sp["current_decay"],
                         "dv_exact": layers[0].dv, "dv_12bit": sp["voltage_decay"],
                         "du_int": round(sp["current_decay"] * DECAY_UNITY),
                         "dv_int": round(sp["voltage_decay"] * DECAY_UNITY)},
              "threshold_slayer": th, "first_layer_threshold_slayer": th * first,
              "readout": f"node {layers[-1].names[1]!r} ({layers[-1].kind}) is the readout: "
                         "never fires, class score = its v summed over T",
              "layers": per_layer}
    report["check"] = _check(net, layers, cfg)
    return net, report


def _check(net, layers: list[NIRLayer], cfg: ImportConfig) -> dict:
    """Float NIR reference vs the quantised model on seeded random inputs in [0, 1]
    (direct: on the input grid; rate: the same Bernoulli spikes)."""
    import torch

    spec = net.spec
    rng = np.random.default_rng(cfg.seed)
    img = rng.integers(0, 256, (CHECK_SAMPLES, spec.n_input)).astype(np.uint8)
    from lavalab.supervised.model import encode

    x = encode(img, spec, seed=cfg.seed)
    xf = x.numpy().astype(np.float64)
    if spec.encoding == "direct":
        xf = xf / 2 ** spec.input_bits
    counts_f, score_f = simulate_float(layers, xf)
    with torch.no_grad():
        spikes, v = net(x)
    pred_q, pred_f = v.sum(-1).argmax(1).numpy(), score_f.argmax(1)
    out = {"samples": CHECK_SAMPLES, "inputs": "uniform random pixels, seeded",
           "prediction_agreement": float(100 * (pred_q == pred_f).mean())}
    for i, (cf, s) in enumerate(zip(counts_f, spikes, strict=True)):
        cq = s.sum((1, 2)).numpy()
        out[f"h{i}_spikes_per_sample_float"] = float(cf.mean())
        out[f"h{i}_spikes_per_sample_quantised"] = float(cq.mean())
    return out
