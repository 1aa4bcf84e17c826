"""Surrogate-gradient training of a :class:`~lavalab.supervised.model.SupervisedNet` on CPU,
with a progress bar, per-epoch checkpoints (resume after an interruption) and seeds; and
the model file (``.npz``: spec + SLAYER state, no pickle).

Loss: cross-entropy of the readout's membrane potential averaged over the T steps (the
class score); Adam, cosine learning-rate schedule over the epochs. SLAYER's surrogate
gradient (its default exponential spike-escape kernel) carries the gradient through the
spikes.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch

from lavalab import fixed, model_io, validate
from lavalab.model_io import ModelFileError
from lavalab.networks.supervised import SupervisedSpec, spec_from_dict, spec_to_dict
from lavalab.progress import bar_options
from lavalab.supervised.model import SupervisedNet, encode
from lavalab.timing import JobClock

__all__ = ["TrainConfig", "train", "save_model", "load_model", "MODEL_FORMAT",
           "CHECKPOINT_FORMAT"]

MODEL_FORMAT = "lavalab-supervised-model"
CHECKPOINT_FORMAT = "lavalab-supervised-checkpoint"


@dataclass(frozen=True)
class TrainConfig:
    """epochs 1..1000; batch_size 1..4096; lr (0, 1]; seed 0..2**31-2 (weights, shuffling,
    rate encoding); train_samples 1..60000 from the start of the training split;
    threads : torch intra-op threads (1..64)."""

    epochs: int = 10
    batch_size: int = 128
    lr: float = 1e-3
    seed: int = 0
    train_samples: int = 60000
    threads: int = 1

    def __post_init__(self):
        fixed.check_int_range("epochs", self.epochs, 1, 1000)
        fixed.check_int_range("batch_size", self.batch_size, 1, 4096)
        fixed.check_real("lr", self.lr, lo=1e-8, hi=1.0)
        fixed.check_int_range("seed", self.seed, 0, 2**31 - 2)
        fixed.check_int_range("train_samples", self.train_samples, 1, 10**7)
        fixed.check_int_range("threads", self.threads, 1, 64)


#: 2: a pickle-free ``.npz`` (:func:`lavalab.model_io.save_npz`); version-1 checkpoints were
#: torch pickles (``torch.save``), refused with a one-line hint (never unpickled).
CHECKPOINT_VERSION = 2


def _split(obj, name: str, arrays: dict):
    """``obj`` (a state dict tree) as JSON with every tensor moved into ``arrays`` (by a
    name) and dicts with non-text keys (the optimizer's per-parameter state) as item
    lists."""
    if isinstance(obj, torch.Tensor):
        arrays[name] = obj.detach().cpu().numpy()
        return {"__array__": name}
    if isinstance(obj, dict):
        if all(isinstance(k, str) for k in obj):
            return {k: _split(v, f"{name}/{k}", arrays) for k, v in obj.items()}
        return {"__items__": [[k, _split(v, f"{name}/{k}", arrays)] for k, v in obj.items()]}
    if isinstance(obj, (list, tuple)):
        return [_split(v, f"{name}/{i}", arrays) for i, v in enumerate(obj)]
    return obj


def _join(obj, arrays: dict):
    """Inverse of :func:`_split` (KeyError / TypeError / ValueError on a damaged tree)."""
    if isinstance(obj, dict):
        if set(obj) == {"__array__"}:
            a = arrays[obj["__array__"]]
            if a.dtype.kind == "f" and not np.all(np.isfinite(a)):
                raise ValueError(f"{obj['__array__']} holds NaN or infinite values")
            return torch.from_numpy(np.array(a))
        if set(obj) == {"__items__"}:
            return {k: _join(v, arrays) for k, v in obj["__items__"]}
        return {k: _join(v, arrays) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_join(v, arrays) for v in obj]
    return obj


def _save_checkpoint(path: Path, state: dict) -> None:
    arrays: dict = {}
    tree = {k: _split(state[k], k, arrays) for k in ("model", "optimizer", "scheduler")}
    meta = {k: v for k, v in state.items() if k not in tree}
    model_io.save_npz(path, CHECKPOINT_FORMAT, {**meta, "state": tree}, arrays)


def _load_checkpoint(path: Path, spec: SupervisedSpec, cfg: TrainConfig) -> dict:
    """The checkpoint's contents, checked (format, version, spec and config, epoch and
    history, finite tensors); ModelFileError naming ``path`` for a damaged or foreign
    file, ValueError for one of another run."""
    import zipfile

    try:  # a torch pickle of an earlier lavalab: named, never unpickled
        with zipfile.ZipFile(path) as z:
            legacy = any(n.endswith("data.pkl") for n in z.namelist())
    except (OSError, zipfile.BadZipFile, ValueError):
        legacy = False
    if legacy:
        raise ModelFileError(f"{path}: a checkpoint of an earlier lavalab (a torch pickle, "
                             f"version 1; this lavalab reads version {CHECKPOINT_VERSION}); "
                             "delete it to train from the start")
    meta, arrays = model_io.load_npz(path, CHECKPOINT_FORMAT)
    want = json.loads(json.dumps({"spec": spec_to_dict(spec), "config": asdict(cfg)}))
    if meta.get("spec") != want["spec"] or meta.get("config") != want["config"]:
        raise ValueError(f"checkpoint {path} belongs to another spec or training config; "
                         "delete it or use another --checkpoint")
    try:
        if meta.get("checkpoint_version") != CHECKPOINT_VERSION:
            raise ValueError(f"checkpoint_version={meta.get('checkpoint_version')!r}, "
                             f"expected {CHECKPOINT_VERSION}")
        epoch = validate.integer("epoch", meta.get("epoch"), 1, cfg.epochs)
        history = meta.get("history")
        if not (isinstance(history, list) and len(history) == epoch
                and all(isinstance(h, dict) and h.get("epoch") == i + 1
                        for i, h in enumerate(history))):
            raise ValueError(f"history does not list epochs 1..{epoch}")
        tree = meta["state"]
        st = {k: _join(tree[k], arrays) for k in ("model", "optimizer", "scheduler")}
    except (KeyError, TypeError, ValueError, AttributeError) as err:
        raise ModelFileError(f"{path}: damaged checkpoint ({err})") from None
    return {**st, "epoch": epoch, "history": history}


def train(spec: SupervisedSpec, cfg: TrainConfig, images: np.ndarray, labels: np.ndarray,
          checkpoint=None, progress: bool = True, log=None,
          clock: JobClock | None = None) -> tuple[SupervisedNet, list]:
    """Train a fresh network of ``spec`` on ``images`` (N, H, W uint8) / ``labels``.

    checkpoint : path written after every epoch (atomically); if it exists and matches
        ``spec`` and ``cfg``, training resumes after its last epoch
    Returns the network (eval mode) and the per-epoch history
    ``[{"epoch", "loss", "train_accuracy", "seconds"}, ...]``.
    clock : times the epochs of this call as its work (:mod:`lavalab.timing`; its
        ``samples`` count the samples trained); everything before them is set-up
    """
    clock = JobClock() if clock is None else clock
    torch.set_num_threads(cfg.threads)
    n = min(cfg.train_samples, len(images))
    images, labels = images[:n], np.asarray(labels[:n])
    torch.manual_seed(cfg.seed)
    net = SupervisedNet(spec)
    opt = torch.optim.Adam(net.parameters(), lr=cfg.lr)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=cfg.epochs)
    history, start = [], 0
    ck = Path(checkpoint) if checkpoint is not None else None
    if ck is not None and ck.exists():
        st = _load_checkpoint(ck, spec, cfg)
        with torch.no_grad():  # shapes of SLAYER's lazily sized neuron states
            net(encode(images[:1], spec, 0))
        try:
            net.load_state_dict(st["model"])
            opt.load_state_dict(st["optimizer"])
            sched.load_state_dict(st["scheduler"])
        except (RuntimeError, ValueError, KeyError, TypeError, IndexError) as err:
            raise ModelFileError(f"{ck}: damaged checkpoint: its state does not fit the "
                                 f"network ({' '.join(str(err).split())[:200]})") from None
        history, start = st["history"], st["epoch"]
    y_all = torch.tensor(labels, dtype=torch.long)
    direct = encode(images, spec) if spec.encoding == "direct" else None
    for epoch in range(start, cfg.epochs):
        with clock.work():
            _epoch(net, opt, sched, spec, cfg, images, y_all, direct, epoch, progress,
                   history, clock)
        if log is not None:
            log(history[-1])
        if ck is not None:
            _save_checkpoint(ck, {"checkpoint_version": CHECKPOINT_VERSION,
                                  "spec": spec_to_dict(spec),
                                  "config": asdict(cfg), "epoch": epoch + 1,
                                  "model": net.state_dict(), "optimizer": opt.state_dict(),
                                  "scheduler": sched.state_dict(), "history": history})
    net.eval()
    return net, history


def _epoch(net, opt, sched, spec, cfg, images, y_all, direct, epoch, progress, history,
           clock) -> None:
    """One training epoch; appends its record to ``history``."""
    from tqdm import tqdm

    n = len(images)
    net.train()
    g = torch.Generator().manual_seed(cfg.seed * 1000 + epoch)
    order = torch.randperm(n, generator=g)
    t0, tot, correct, seen = time.perf_counter(), 0.0, 0, 0
    bar = tqdm(range(0, n, cfg.batch_size), desc=f"epoch {epoch + 1}/{cfg.epochs}",
               disable=not progress, leave=False, **bar_options())
    for lo in bar:
        idx = order[lo:lo + cfg.batch_size]
        if direct is not None:
            x = direct[idx]
        else:
            x = encode(images[idx.numpy()], spec, seed=cfg.seed * 10**6 + epoch * n + lo)
        y = y_all[idx]
        _, v = net(x)
        score = v.mean(-1)
        loss = torch.nn.functional.cross_entropy(score, y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        tot += float(loss) * len(idx)
        correct += int((score.argmax(1) == y).sum())
        seen += len(idx)
        bar.set_postfix(loss=f"{tot / seen:.4f}", acc=f"{100 * correct / seen:.2f}",
                        refresh=False)  # a redraw only when the bar would draw anyway
    sched.step()
    rec = {"epoch": epoch + 1, "loss": tot / seen, "train_accuracy": 100 * correct / seen,
           "seconds": time.perf_counter() - t0}
    history.append(rec)
    clock.samples += seen


def save_model(path, net: SupervisedNet, meta: dict | None = None) -> Path:
    """The trained network as ``.npz``: its spec and SLAYER state dict (float arrays)."""
    arrays = {f"state/{k}": v.detach().cpu().numpy() for k, v in net.state_dict().items()}
    m = {"spec": spec_to_dict(net.spec), **(meta or {})}
    return model_io.save_npz(path, MODEL_FORMAT, m, arrays)


def load_model(path) -> tuple[SupervisedNet, dict]:
    """``(net, meta)`` from :func:`save_model`'s file (ModelFileError if it is not one)."""
    meta, arrays = model_io.load_npz(path, MODEL_FORMAT)
    try:
        spec = spec_from_dict(meta["spec"])
    except (KeyError, ValueError) as err:
        raise ModelFileError(f"{path}: bad spec in the model file ({err})") from err
    net = SupervisedNet(spec)
    with torch.no_grad():
        net(torch.zeros(1, spec.n_input, spec.timesteps))
    state = {k[len("state/"):]: torch.tensor(v) for k, v in arrays.items()
             if k.startswith("state/")}
    try:
        net.load_state_dict(state)
    except RuntimeError as err:
        raise ModelFileError(f"{path}: state does not fit its spec ({err})") from err
    net.eval()
    return net, meta
