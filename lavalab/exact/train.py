"""Training and evaluation of exact-spike-time networks: Adam, batches, checkpoints, metrics.

Protocol (BATS code, BATS thesis sec. 4.2): mini-batches (default 50) of shuffled training
images, spike-count loss, gradients averaged over the batch, Adam (lr 0.003, betas
0.9/0.999, eps 1e-8). The forward pass emits spikes on the budget's dt grid; the backward
pass uses the straight-through estimator (training at one dt, testing at another is
:func:`evaluate` with another budget).

Metrics (BATS thesis sec. 3.3): accuracy (argmax of output spike counts; ties -> lowest index);
sparsity = mean spike count per neuron of each non-input layer; prediction latency = the
thesis's *prediction confidence over time*, ``n_label(<= t) / target_true`` averaged over
samples, on a time grid; plus the mean time of the first output spike (any neuron) and of
the label neuron's first spike (samples without one are left out; their share is given).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from tqdm import tqdm

from lavalab import fixed, model_io, validate
from lavalab.compile.spike_grid import SpikeTimeBudget
from lavalab.exact import model
from lavalab.exact.spec import ExactSpec
from lavalab.progress import bar_options, use_thread_progress_lock
from lavalab.timing import JobClock, cpu_seconds

__all__ = ["TrainConfig", "Adam", "train", "evaluate", "save_network", "load_network",
           "CHECKPOINT_FORMAT", "NETWORK_FORMAT"]

CHECKPOINT_FORMAT = "lavalab-exact-checkpoint"
NETWORK_FORMAT = "lavalab-exact-network"
#: Points of the prediction-confidence curve (fractions of the window).
CONFIDENCE_POINTS = 20


def _bar(*args, **kwargs) -> tqdm:
    """A tqdm bar with the process's thread lock (:func:`lavalab.progress.
    use_thread_progress_lock`): tqdm's default multiprocessing lock would fix
    multiprocessing's start method, which Lava sets ("fork") when it is imported later.
    Sparse redraws when the output is not a terminal (:func:`lavalab.progress.bar_options`)."""
    use_thread_progress_lock()
    return tqdm(*args, **{**bar_options(kwargs.get("file")), **kwargs})


@dataclass(frozen=True)
class TrainConfig:
    """epochs : 1..1000; batch_size : 1..10000; lr : Adam step (0, 1];
    train_samples : images used per epoch (first n of the training set), 1..60000;
    seed : weight init and shuffling; checkpoint_every : batches between checkpoints."""

    epochs: int = 1
    batch_size: int = 50
    lr: float = 0.003
    train_samples: int = 60000
    seed: int = 0
    checkpoint_every: int = 100
    budget: SpikeTimeBudget = field(default_factory=SpikeTimeBudget)

    def __post_init__(self):
        fixed.check_int_range("epochs", self.epochs, 1, 1000)
        fixed.check_int_range("batch_size", self.batch_size, 1, 10000)
        fixed.check_real("lr", self.lr, lo=1e-12, hi=1.0)
        fixed.check_int_range("train_samples", self.train_samples, 1, 10_000_000)
        fixed.check_int_range("seed", self.seed, 0, 2**31 - 1)
        fixed.check_int_range("checkpoint_every", self.checkpoint_every, 1, 10_000_000)
        if not isinstance(self.budget, SpikeTimeBudget):
            raise ValueError(f"budget={self.budget!r} must be a SpikeTimeBudget")


class Adam:
    """Adam with bias correction (Kingma & Ba), one moment pair per weight matrix."""

    def __init__(self, shapes, lr: float, beta1=0.9, beta2=0.999, eps=1e-8):
        self.lr, self.beta1, self.beta2, self.eps = lr, beta1, beta2, eps
        self.m = [np.zeros(s) for s in shapes]
        self.v = [np.zeros(s) for s in shapes]
        self.t = 0

    def step(self, weights, grads) -> None:
        """Update ``weights`` in place from ``grads`` (dL/dW)."""
        self.t += 1
        c1 = 1.0 - self.beta1 ** self.t
        c2 = 1.0 - self.beta2 ** self.t
        for W, g, m, v in zip(weights, grads, self.m, self.v, strict=True):
            m *= self.beta1
            m += (1.0 - self.beta1) * g
            v *= self.beta2
            v += (1.0 - self.beta2) * g * g
            W -= self.lr * (m / c1) / (np.sqrt(v / c2) + self.eps)


def _grads(spec, weights, images, labels, budget):
    """Mean loss, correct count and the weights' gradients on a batch (weights unchanged)."""
    t, c = model.encode_images(images, spec.input_window)
    tr = model.forward(spec, weights, t, c, budget)
    n_out = tr.fwd[-1][0]
    loss, g = model.count_loss(spec, n_out, labels)
    G = np.repeat(g[:, :, None], spec.max_spikes[-1], axis=2)
    grads = model.backward(spec, weights, tr, G)
    return float(loss.mean()), int((n_out.argmax(axis=1) == labels).sum()), grads


def _step(spec, weights, opt, images, labels, budget):
    loss, ok, grads = _grads(spec, weights, images, labels, budget)
    opt.step(weights, grads)
    return loss, ok


def evaluate(spec: ExactSpec, weights, images, labels, budget: SpikeTimeBudget,
             batch_size: int = 100, progress: bool = False) -> dict:
    """Accuracy, loss, sparsity, latency of ``weights`` at ``budget`` (see module doc)."""
    labels = np.asarray(labels)
    n = len(labels)
    correct, loss_sum = 0, 0.0
    layer_spikes = np.zeros(spec.n_layers)
    grid = budget.duration_s * np.arange(1, CONFIDENCE_POINTS + 1) / CONFIDENCE_POINTS
    conf = np.zeros(CONFIDENCE_POINTS)
    first_any, first_label = [], []
    preds = np.empty(n, np.int64)
    out_counts = np.empty((n, spec.sizes[-1]), np.int64)
    it = range(0, n, batch_size)
    for s in _bar(it, desc="test", disable=not progress, leave=False):
        x, y = images[s:s + batch_size], labels[s:s + batch_size]
        t, c = model.encode_images(x, spec.input_window)
        tr = model.forward(spec, weights, t, c, budget)
        for layer in range(spec.n_layers):
            layer_spikes[layer] += tr.fwd[layer][0].sum()
        times, counts = tr.spikes(spec.n_layers - 1)
        loss, _ = model.count_loss(spec, counts, y)
        loss_sum += float(loss.sum())
        p = counts.argmax(axis=1)
        preds[s:s + len(y)] = p
        out_counts[s:s + len(y)] = counts
        correct += int((p == y).sum())
        lab_times = times[np.arange(len(y)), y]  # (b, K)
        conf += (lab_times[:, None, :] <= grid[None, :, None]).sum(axis=2).sum(axis=0)
        fa = times.reshape(len(y), -1).min(axis=1)
        first_any.extend(fa[np.isfinite(fa)].tolist())
        fl = lab_times[:, 0]
        first_label.extend(fl[np.isfinite(fl)].tolist())
    res = {"accuracy": 100.0 * correct / n, "loss": loss_sum / n, "samples": n,
           "spikes_per_neuron": [float(v) / (n * spec.sizes[i + 1])
                                 for i, v in enumerate(layer_spikes)],
           "confidence_t": grid.tolist(),
           "confidence": (conf / (n * spec.target_true)).tolist(),
           "t_first_output": float(np.mean(first_any)) if first_any else None,
           "t_first_label": float(np.mean(first_label)) if first_label else None,
           "frac_silent_output": 1.0 - len(first_any) / n}
    res["predictions"] = preds
    res["output_counts"] = out_counts
    return res


def save_network(path, spec: ExactSpec, weights, meta: dict) -> Path:
    """A trained network: spec, weights, and what produced it (``meta``)."""
    return model_io.save_npz(path, NETWORK_FORMAT, {"spec": spec.to_dict(), **meta},
                             {f"W{i}": W for i, W in enumerate(weights)})


def load_network(path) -> tuple[ExactSpec, list[np.ndarray], dict]:
    """``(spec, weights, meta)`` of :func:`save_network`'s file, checked: the spec, one
    finite float matrix ``(sizes[i + 1], sizes[i])`` per layer, the grid step it was trained
    at (ModelFileError naming ``path`` otherwise)."""
    meta, arrays = model_io.load_npz(path, NETWORK_FORMAT)
    try:
        spec = ExactSpec.from_dict(meta["spec"])
        weights = _checked_weights(spec, arrays, "W")
        dt = meta.get("dt_s")
        if dt is not None:
            validate.real("dt_s", dt, 0.0, 1.0)
    except (KeyError, TypeError, ValueError) as err:
        what = f"missing entry {err}" if isinstance(err, KeyError) else str(err)
        raise model_io.ModelFileError(f"{path}: invalid exact network: {what}") from None
    return spec, weights, meta


def _checked_weights(spec: ExactSpec, arrays: dict, prefix: str) -> list[np.ndarray]:
    """``arrays[prefix + i]`` for every layer: finite floats of the spec's shapes."""
    out = []
    for i in range(spec.n_layers):
        name = f"{prefix}{i}"
        a = validate.finite_array(name, arrays[name], (spec.sizes[i + 1], spec.sizes[i]))
        out.append(a.astype(np.float64))
    return out


def _checked_ckpt(spec: ExactSpec, cfg: TrainConfig, n: int, nb: int, meta: dict,
                  arr: dict) -> dict:
    """A checkpoint's state (weights, Adam moments and step, epoch, batch, order,
    history) checked against each other and the run (ValueError / KeyError / TypeError)."""
    st = {"W": _checked_weights(spec, arr, "W"), "m": _checked_weights(spec, arr, "m"),
          "v": _checked_weights(spec, arr, "v")}
    if any(np.any(v < 0) for v in st["v"]):
        raise ValueError("Adam's second moments v must be >= 0")
    st["epoch"] = validate.integer("epoch", meta["epoch"], 0, cfg.epochs)
    st["batch"] = validate.integer("batch", meta["batch"], 0, nb - 1)
    st["adam_t"] = validate.integer("adam_t", meta["adam_t"], 0, 2**62)
    if st["adam_t"] != st["epoch"] * nb + st["batch"]:
        raise ValueError(f"adam_t={st['adam_t']} does not match epoch {st['epoch']} x "
                         f"{nb} batches + batch {st['batch']}")
    order = np.asarray(arr["order"])
    if st["batch"] and not (order.dtype.kind in "iu" and order.shape == (n,)
                            and np.array_equal(np.sort(order), np.arange(n))):
        raise ValueError(f"order is not a permutation of the {n} training samples")
    st["order"] = order.astype(np.int64)
    hist = meta["history"]
    want = st["epoch"] + (1 if st["batch"] else 0)  # a partial epoch's sums come last
    if not (isinstance(hist, list) and len(hist) == want
            and all(isinstance(h, dict) for h in hist)
            and all(h.get("epoch") == i + 1 for i, h in enumerate(hist[:st["epoch"]]))
            and (not st["batch"] or hist[-1].get("partial") is True)):
        raise ValueError(f"history does not list epochs 1..{st['epoch']}"
                         + (" and the partial epoch" if st["batch"] else ""))
    st["history"] = hist
    return st


def _save_ckpt(path, spec, cfg, weights, opt, epoch, batch, order, history):
    arrays = {f"W{i}": W for i, W in enumerate(weights)}
    arrays.update({f"m{i}": m for i, m in enumerate(opt.m)})
    arrays.update({f"v{i}": v for i, v in enumerate(opt.v)})
    arrays["order"] = order
    meta = {"spec": spec.to_dict(), "seed": cfg.seed, "dt_s": cfg.budget.dt_s,
            "batch_size": cfg.batch_size, "lr": cfg.lr, "train_samples": cfg.train_samples,
            "epoch": epoch, "batch": batch, "adam_t": opt.t, "history": history}
    model_io.save_npz(path, CHECKPOINT_FORMAT, meta, arrays)


def train(spec: ExactSpec, cfg: TrainConfig, images, labels, checkpoint=None,
          progress: bool = True, desc: str = "train", on_epoch=None,
          clock: JobClock | None = None) -> tuple[list[np.ndarray], list[dict]]:
    """Train from scratch or resume from ``checkpoint`` (written every ``checkpoint_every``
    batches and at each epoch end). ``on_epoch(epoch, weights, history)`` runs after each
    finished epoch, before its checkpoint. Returns (weights, per-epoch history).

    ``clock`` (:mod:`lavalab.timing`) times the epochs' batches as the work (its
    ``samples`` count the samples trained by this call); the kernels' compile or cache
    load runs before, on one sample and a throwaway copy of the network (set-up). Each
    history record holds its epoch's wall ``seconds`` and ``cpu_s``."""
    clock = JobClock() if clock is None else clock
    images = np.asarray(images)[:cfg.train_samples]
    labels = np.asarray(labels)[:cfg.train_samples]
    n = len(labels)
    nb = n // cfg.batch_size if n >= cfg.batch_size else 1
    weights = model.init_weights(spec, cfg.seed)
    opt = Adam([W.shape for W in weights], cfg.lr)
    epoch, batch, history, order = 0, 0, [], None
    ck = Path(checkpoint) if checkpoint is not None else None
    if ck is not None and ck.exists():
        meta, arr = model_io.load_npz(ck, CHECKPOINT_FORMAT)
        want = {"spec": spec.to_dict(), "seed": cfg.seed, "dt_s": cfg.budget.dt_s,
                "batch_size": cfg.batch_size, "lr": cfg.lr, "train_samples": cfg.train_samples}
        diff = {k: (meta.get(k), v) for k, v in want.items() if meta.get(k) != v}
        if diff:
            raise ValueError(f"checkpoint {ck} belongs to another run (stored vs now: {diff})")
        try:
            st = _checked_ckpt(spec, cfg, n, nb, meta, arr)
        except (KeyError, TypeError, ValueError) as err:
            what = f"missing entry {err}" if isinstance(err, KeyError) else str(err)
            raise model_io.ModelFileError(f"{ck}: damaged checkpoint: {what}") from None
        weights, opt.m, opt.v, opt.t = st["W"], st["m"], st["v"], st["adam_t"]
        epoch, batch, history, order = st["epoch"], st["batch"], st["history"], st["order"]
    if epoch < cfg.epochs:  # warm-up on one sample (set-up): nothing of the run changes
        _grads(spec, weights, images[:1], labels[:1], cfg.budget)
    bar = _bar(total=cfg.epochs * nb, initial=epoch * nb + batch, desc=desc,
               disable=not progress, smoothing=0.05)
    while epoch < cfg.epochs:
        if order is None or len(order) != n:
            order = np.random.default_rng([cfg.seed, epoch]).permutation(n)
        clock.start_work()
        t0, c0 = time.time(), cpu_seconds()
        loss_sum, correct, seen = 0.0, 0, 0
        if batch > 0 and history and history[-1].get("partial"):
            part = history.pop()  # partial-epoch sums saved with the checkpoint
            loss_sum, correct, seen = part["loss_sum"], part["correct"], part["seen"]
        while batch < nb:
            idx = order[batch * cfg.batch_size:(batch + 1) * cfg.batch_size]
            loss, ok = _step(spec, weights, opt, images[idx], labels[idx], cfg.budget)
            loss_sum += loss * len(idx)
            correct += ok
            seen += len(idx)
            clock.samples += len(idx)
            batch += 1
            bar.update(1)
            bar.set_postfix(loss=f"{loss_sum / seen:.2f}", acc=f"{100 * correct / seen:.1f}",
                            refresh=False)
            if ck is not None and batch % cfg.checkpoint_every == 0 and batch < nb:
                part = {"partial": True, "loss_sum": loss_sum, "correct": correct,
                        "seen": seen}
                _save_ckpt(ck, spec, cfg, weights, opt, epoch, batch, order,
                           history + [part])
        history.append({"epoch": epoch + 1, "train_loss": loss_sum / max(seen, 1),
                        "train_accuracy": 100.0 * correct / max(seen, 1),
                        "seconds": time.time() - t0, "cpu_s": cpu_seconds() - c0})
        clock.stop_work()
        epoch, batch, order = epoch + 1, 0, None
        if on_epoch is not None:
            on_epoch(epoch, weights, history)
        if ck is not None:
            _save_ckpt(ck, spec, cfg, weights, opt, epoch, 0, np.zeros(0, np.int64), history)
    bar.close()
    return weights, history
