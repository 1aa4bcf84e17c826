"""Evaluation of a trained :class:`~lavalab.supervised.model.SupervisedNet`: in torch
(SLAYER's quantised forward pass) and on Lava fixed_pt through netx.

Both return an :class:`EvalResult`: predictions, class scores (readout membrane potential
summed over the T steps; Lava's in its integer units, ``v * 2**12``), accuracy, and
per-sample event counts per layer: input messages (non-zero input entries over the T
steps), each hidden layer's spikes and the readout's spikes (always 0: it never fires).

Lava path: :func:`export_netx` writes the netx HDF5 (SLAYER's ``export_hdf5`` of every
block, MRF folded; a network with Omega is refused by the design rule
``projection_is_stock_neuron``), ``lava.lib.dl.netx.hdf5.Network`` loads it with
``reset_interval = T + L`` (L layers: Lava's Dense delays each layer by one step, so a
sample needs T + L steps; netx resets each layer's state at its own phase), a
``RingBuffer`` source feeds the encoded samples back to back, ``RingBuffer`` sinks record
the hidden spikes and a ``Monitor`` the readout's v; layer l's step k of a sample is read
at offset ``k + l + 1`` of the sample's window. Runs in chunks of samples (one Lava run
each) under ``Loihi2SimCfg(select_tag="fixed_pt")``.
"""

from __future__ import annotations

import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from lavalab.progress import bar_options
from lavalab.supervised.model import SupervisedNet, encode
from lavalab.timing import cpu_seconds

__all__ = ["EvalResult", "evaluate_torch", "evaluate_lava", "export_netx", "agreement",
           "steps_per_sample", "EXPORT_FORMAT_NOTE"]

EXPORT_FORMAT_NOTE = "netx HDF5 (lava-dl export_hdf5)"


@dataclass
class EvalResult:
    """backend : ``"torch"`` or ``"lava"``; predictions (N,); scores (N, n_output);
    labels (N,); layer_names; events (N, n_layers + 1): input messages then each layer's
    spikes per sample; seconds : wall time of the run (the work alone: the Lava run
    includes its netx build); cpu_s : its CPU seconds (:mod:`lavalab.timing`)."""

    backend: str
    predictions: np.ndarray
    scores: np.ndarray
    labels: np.ndarray
    layer_names: tuple[str, ...]
    events: np.ndarray
    seconds: float
    extra: dict = field(default_factory=dict)
    cpu_s: float | None = None

    @property
    def accuracy(self) -> float:
        """Percent correct."""
        return float(100.0 * (self.predictions == self.labels).mean())

    def spikes_per_sample(self) -> dict:
        """Mean per-sample count by name (``input_messages`` and each layer's spikes)."""
        names = ("input_messages", *(f"{n}_spikes" for n in self.layer_names))
        return {k: float(v) for k, v in zip(names, self.events.mean(0), strict=True)}

    def summary(self) -> dict:
        return {"backend": self.backend, "samples": int(len(self.labels)),
                "accuracy": self.accuracy, "seconds": self.seconds,
                "infer_s": self.seconds, "cpu_s": self.cpu_s,
                "samples_per_s": (len(self.labels) / self.seconds if self.seconds > 0
                                  else None),
                "spikes_per_sample": self.spikes_per_sample(), **self.extra}


def layer_names(net: SupervisedNet) -> tuple[str, ...]:
    """``("h0", ..., "out")``."""
    return (*(f"h{i}" for i in range(len(net.spec.hidden))), "out")


def steps_per_sample(net_or_spec) -> int:
    """Loihi steps one sample occupies: T + number of layers (module doc)."""
    spec = getattr(net_or_spec, "spec", net_or_spec)
    return spec.timesteps + len(spec.hidden) + 1


def evaluate_torch(net: SupervisedNet, images, labels, seed: int = 0, batch_size: int = 500,
                   use_omega: bool = True) -> EvalResult:
    """Accuracy and per-layer event counts of SLAYER's forward pass (8-bit weights)."""
    t0, c0 = time.perf_counter(), cpu_seconds()
    preds, scores, events = [], [], []
    with torch.no_grad():
        for lo in range(0, len(images), batch_size):
            x = encode(images[lo:lo + batch_size], net.spec, seed=seed + lo)
            spikes, v = net(x, use_omega=use_omega)
            sc = v.sum(-1)
            preds.append(sc.argmax(1).numpy())
            scores.append(sc.numpy())
            ev = [(x != 0).sum((1, 2)).numpy()]
            ev += [s.sum((1, 2)).numpy() for s in spikes]
            ev.append(np.zeros(len(x)))
            events.append(np.stack(ev, 1))
    return EvalResult("torch", np.concatenate(preds), np.concatenate(scores),
                      np.asarray(labels), layer_names(net),
                      np.concatenate(events).astype(np.int64), time.perf_counter() - t0,
                      cpu_s=cpu_seconds() - c0)


def export_netx(net: SupervisedNet, path) -> Path:
    """Write the netx HDF5 of ``net`` (every block's ``export_hdf5``; the MRF is folded
    in the exported weights). Raises :class:`~lavalab.compile.rules.DesignRuleError` for a
    network with Omega (not a stock Loihi neuron)."""
    import h5py

    from lavalab.compile.supervised import projection_is_stock_neuron

    projection_is_stock_neuron(net.spec)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    with h5py.File(tmp, "w") as h:
        h.create_dataset("simulator", data="lavalab (lava-dl SLAYER)")
        lay = h.create_group("layer")
        for i, b in enumerate(net.blocks):
            b.export_hdf5(lay.create_group(f"{i}"))
    tmp.replace(path)
    return path


def _run_chunk(net_path: Path, spec, x: np.ndarray, n_layers: int, hidden: tuple):
    from lava.lib.dl import netx
    from lava.magma.core.run_conditions import RunSteps
    from lava.magma.core.run_configs import Loihi2SimCfg
    from lava.proc.io.sink import RingBuffer as Sink
    from lava.proc.io.source import RingBuffer as Source
    from lava.proc.monitor.process import Monitor

    n, t = len(x), spec.timesteps
    r = t + n_layers
    lnet = netx.hdf5.Network(str(net_path), input_message_bits=spec.input_message_bits,
                             reset_interval=r)
    data = np.zeros((spec.n_input, n * r), np.int64)
    for k in range(n):
        data[:, k * r:k * r + t] = x[k]
    src = Source(data=data)
    src.s_out.connect(lnet.inp)
    sinks = []
    for i, width in enumerate(hidden):
        s = Sink(shape=(width,), buffer=n * r)
        lnet.layers[i].out.connect(s.a_in)
        sinks.append(s)
    mon = Monitor()
    mon.probe(lnet.layers[-1].neuron.v, n * r)
    try:
        lnet.run(condition=RunSteps(num_steps=n * r),
                 run_cfg=Loihi2SimCfg(select_tag="fixed_pt"))
        spikes = [s.data.get() for s in sinks]
        v = mon.get_data()
        v = v[list(v)[0]]["v"]  # (steps, n_output)
    finally:
        lnet.stop()
    counts = []
    for i, sp in enumerate(spikes):  # (width, steps): layer i's step k at offset k + i + 1
        per = [sp[:, k * r + i + 1:k * r + i + 1 + t].sum() for k in range(n)]
        counts.append(np.asarray(per))
    lo = n_layers  # readout: layer index n_layers - 1, offset k + n_layers
    scores = np.stack([v[k * r + lo:k * r + lo + t].sum(0) for k in range(n)])
    return counts, scores


def evaluate_lava(net: SupervisedNet, images, labels, seed: int = 0, chunk: int = 250,
                  progress: bool = True) -> EvalResult:
    """Run the netx export of ``net`` on Lava fixed_pt (module doc)."""
    from tqdm import tqdm

    spec = net.spec
    n_layers = len(spec.hidden) + 1
    t0, c0 = time.perf_counter(), cpu_seconds()
    preds, scores, events = [], [], []
    with tempfile.TemporaryDirectory() as d:
        path = export_netx(net, Path(d) / "net.net")
        bar = tqdm(total=len(images), desc="lava fixed_pt", disable=not progress, leave=False,
                   **bar_options())
        for lo in range(0, len(images), chunk):
            x = encode(images[lo:lo + chunk], spec, seed=seed + lo).numpy().astype(np.int64)
            counts, sc = _run_chunk(path, spec, x, n_layers, spec.hidden)
            preds.append(sc.argmax(1))
            scores.append(sc)
            ev = [(x != 0).sum((1, 2))] + counts + [np.zeros(len(x))]
            events.append(np.stack(ev, 1))
            bar.update(len(x))
        bar.close()
    return EvalResult("lava", np.concatenate(preds), np.concatenate(scores).astype(np.float64),
                      np.asarray(labels), layer_names(net),
                      np.concatenate(events).astype(np.int64), time.perf_counter() - t0,
                      extra={"run_config": "Loihi2SimCfg(select_tag='fixed_pt')",
                             "steps_per_sample": steps_per_sample(spec)},
                      cpu_s=cpu_seconds() - c0)


def agreement(a: EvalResult, b: EvalResult) -> dict:
    """How often two evaluations of the same samples agree: predictions, per-sample event
    counts (all layers equal), and the largest score difference after scaling ``b``'s
    Lava integers to SLAYER units when the backends differ."""
    if len(a.labels) != len(b.labels):
        raise ValueError(f"evaluations of {len(a.labels)} and {len(b.labels)} samples")
    scale = 1.0
    if {a.backend, b.backend} == {"torch", "lava"}:
        scale = 2.0 ** 12
    sa = a.scores * (scale if a.backend == "torch" else 1.0)
    sb = b.scores * (scale if b.backend == "torch" else 1.0)
    return {"samples": int(len(a.labels)),
            "prediction_agreement": float(100 * (a.predictions == b.predictions).mean()),
            "events_equal": float(100 * (a.events == b.events).all(1).mean()),
            "max_score_diff_lava_units": float(np.abs(sa - sb).max())}
