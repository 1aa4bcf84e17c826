"""Model files of the STDP family: :class:`Model`, :func:`load_model` (``model.npz`` of
``lavalab train`` and of the studies), :func:`save_model` and the bytes a study task returns
(:func:`model_bytes`, :func:`model_from_bytes`)."""

from __future__ import annotations

import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from lavalab import model_io
from lavalab.data import DATASETS
from lavalab.networks.snn import (
    NetworkSpec,
    lower_network,
    spec_from_dict,
    spec_to_dict,
)
from lavalab.stdp.config import EXP_IN, Q


@dataclass
class Model:
    spec: NetworkSpec
    precision: str
    seed: int
    w: np.ndarray
    theta: np.ndarray
    assignments: np.ndarray
    proportions: np.ndarray
    meta: dict

    @property
    def budget(self):
        """The model's :class:`~lavalab.compile.ir.PrecisionBudget`: the one it was
        quantized with (models of a precision study), else Loihi's default (8-bit weights)
        for a fixed-point model or FP32 for a float one."""
        from lavalab.compile.ir import FLOAT_BITS, PrecisionBudget

        b = self.meta.get("precision_budget")
        if b is not None:
            return PrecisionBudget(**b)
        if self.precision == "fixed":
            return PrecisionBudget()
        return PrecisionBudget(weight_bits=FLOAT_BITS, neuron_bits=FLOAT_BITS)

    @property
    def fixed(self):
        """The model's Loihi integers: its precision budget's format (models of a precision
        study) or the default 8-bit lowering."""
        if self.precision != "fixed":
            return None
        if "precision_budget" not in self.meta:
            return lower_network(self.spec, Q, EXP_IN)
        from lavalab.compile.quantize import quantize_network

        return quantize_network(self.spec, self.budget, v_range=self.meta.get("v_range_mv"),
                                seed=self.seed)


def load_model(path) -> Model:
    """Load ``model.npz`` (a file, or a folder holding one)."""
    path = Path(path)
    if path.is_dir():
        path = path / "model.npz"
    meta, a = model_io.load_npz(path, model_io.MODEL_FORMAT)
    try:
        return _checked_model(meta, a)
    except (ValueError, TypeError, KeyError) as err:  # a damaged or hand-edited file
        what = f"missing entry {err}" if isinstance(err, KeyError) else str(err)
        raise model_io.ModelFileError(f"{path}: invalid model: {what}") from None


def _checked_model(meta: dict, a: dict) -> Model:
    """A :class:`Model` from a file's contents, every field checked as the engine and the
    Lava backend need it (ValueError / TypeError / KeyError otherwise)."""
    from lavalab import validate

    spec = spec_from_dict(meta["spec"])
    precision = meta["precision"]
    if precision not in ("fixed", "float"):
        raise ValueError(f"precision={precision!r} is not one of ('fixed', 'float')")
    seed = validate.integer("seed", meta["seed"], 0, 2**31 - 2)
    dataset = meta.get("dataset", "mnist")  # files of lavalab <= 0.1 trained on MNIST
    if dataset not in DATASETS:
        raise ValueError(f"dataset={dataset!r} is not one of {DATASETS}")
    shape = meta.get("input_shape", [28, 28])
    if not (isinstance(shape, list) and len(shape) == 2
            and all(isinstance(v, int) and v >= 1 for v in shape)):
        raise ValueError(f"input_shape={shape!r} must be [height, width]")
    if shape[0] * shape[1] != spec.n_input:
        raise ValueError(f"input_shape={shape} ({dataset}) does not match the network's "
                         f"{spec.n_input} inputs")
    model = Model(spec, precision, seed, a["w"], a["theta"], a["assignments"],
                  a["proportions"], {**meta, "dataset": dataset, "input_shape": shape})
    fixed = model.fixed
    model.w = validate.weights(a["w"], spec, precision, fixed)
    model.theta = validate.theta(a["theta"], spec, precision, fixed)
    model.assignments = validate.assignments(a["assignments"], spec.n_exc)
    model.proportions = validate.proportions(a["proportions"], spec.n_exc)
    return model


def save_model(path, spec, precision: str, seed: int, res: dict, budget=None,
               v_range_mv: float | None = None, dataset: str = "mnist",
               input_shape=(28, 28), train_spec=None) -> Path:
    """A study configuration's trained model as a ``model.npz`` that :func:`load_model`
    (and ``lavalab evaluate``) reads: weights, theta, label assignments, the dataset and
    image shape it was trained on; ``budget`` (a PrecisionBudget) and
    ``v_range_mv`` recreate its fixed-point format. ``spec`` is the network it runs
    inference as; ``train_spec`` the one it was trained as, when that differs (as
    ``lavalab train`` stores it)."""
    shape = [int(v) for v in input_shape]
    if int(np.prod(shape)) != spec.n_input:
        raise ValueError(f"input_shape={shape} does not match the network's {spec.n_input} "
                         "inputs")
    meta = {"spec": spec_to_dict(spec), "precision": precision, "seed": seed,
            "dataset": dataset, "input_shape": shape}
    if train_spec is not None and train_spec != spec:
        meta["train_spec"] = spec_to_dict(train_spec)
    if budget is not None:
        meta["precision_budget"] = asdict(budget)
        meta["v_range_mv"] = v_range_mv
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    return model_io.save_npz(path, model_io.MODEL_FORMAT, meta,
                             {"w": res["w"], "theta": res["theta"],
                              "assignments": res["assignments"],
                              "proportions": res["proportions"]})


def model_bytes(*args, **kwargs) -> bytes:
    """:func:`save_model`'s file as bytes (a study task returns them; the client writes
    them)."""
    with tempfile.TemporaryDirectory() as tmp:
        return save_model(Path(tmp) / "model.npz", *args, **kwargs).read_bytes()


def model_from_bytes(data: bytes) -> Model:
    """A model file's bytes (:func:`model_bytes`) read back by :func:`load_model`."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "model.npz"
        path.write_bytes(data)
        return load_model(path)


def stream_end(model, src) -> int | None:
    """How many samples of the training stream made ``model`` (its run's, and those of the
    runs it continued); None when its file does not say (not a model of ``train``)."""
    cfg = model.meta.get("config")
    own = cfg.get("samples") if isinstance(cfg, dict) else None
    before = (model.meta.get("continued") or {}).get("samples_before", 0)
    if own is None:
        return None
    if not all(isinstance(v, int) and v >= 0 for v in (own, before)) or own < 1:
        raise model_io.ModelFileError(f"{src}: invalid model: its training samples "
                                      f"({own!r}, before: {before!r}) are not counts")
    return before + own


#: Files derived from a model (``evaluate``, ``plot``): removed when the model is replaced.
STALE_WITH_MODEL = ("eval.json", "receptive_fields.png", "raster.png")


def model_folder(model_dir) -> Path:
    p = Path(model_dir)
    return p.parent if p.suffix == ".npz" else p
