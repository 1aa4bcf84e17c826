"""``lavalab assign`` and ``lavalab evaluate``: a trained STDP model assigned again (another
inference network) and classifying the test set."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from lavalab import model_io
from lavalab.backends import BACKENDS
from lavalab.compile.stock_inference import stock_inference
from lavalab.data import load_dataset
from lavalab.networks.snn import (
    lower_network,
    spec_from_dict,
    spec_to_dict,
)
from lavalab.protocol import (
    TEST_SEED_OFFSET,
    classification_report,
    predict_all_activity,
    predict_proportion,
)
from lavalab.stdp.backend import cycled, event_summary, require_backend, warm_up
from lavalab.stdp.config import EXP_IN, TRAIN_DT_MS, Q, inference_spec
from lavalab.stdp.files import STALE_WITH_MODEL, load_model, model_folder, stream_end
from lavalab.stdp.scoring import assign_frozen, assignment_warnings, classify
from lavalab.timing import JobClock


def assign(model_dir, out, inference_dt_ms: float | None = None,
           one_spike_infer: bool | None = None, assign_samples: int | None = None,
           backend: str = "engine", data_root: str | None = None, force: bool = False,
           stock: bool = False) -> dict:
    """Re-derive how a trained model runs inference and assign its labels again: the same
    weights and theta, the network at step ``inference_dt_ms`` (a divisor of the training
    step) with or without ``one_spike_infer`` (None: as the model has them), labels from
    its last ``assign_samples`` training samples (default: as many as ``train`` used).
    Writes ``model.npz`` and ``assign.json`` into ``out``; a finished model there is
    replaced only with ``force``. Lets a user compare inference choices (e.g. the
    deployable network against one spike per step) on one training run. ``stock``: the
    network Loihi's stock Processes run (:mod:`lavalab.compile.stock_inference`: no refractory
    period, reset to rest, no one spike per step), which ``lavalab deploy`` lowers with
    theta's fold as its one approximation. Timing fields:
    :mod:`lavalab.timing` (``infer_s``: the assignment run)."""
    clock = JobClock()
    from lavalab import validate

    if backend not in BACKENDS:
        raise ValueError(f"backend={backend!r} is not one of {BACKENDS}")
    require_backend(backend)
    model = load_model(model_dir)
    src = model_folder(model_dir)
    out = validate.out_dir(out)
    if (out / "model.npz").exists() and not force:
        raise ValueError(f"{out / 'model.npz'} holds a finished model; use --force "
                         "(force=True) to replace it, or another --out")
    train_spec = spec_from_dict(model.meta["train_spec"]) if "train_spec" in model.meta \
        else model.spec
    if train_spec.dt_ms != TRAIN_DT_MS and "train_spec" not in model.meta:
        raise ValueError(f"{src}: a model at dt {train_spec.dt_ms} ms without its training "
                         "network (train_spec) cannot be re-derived")
    if stock:
        if one_spike_infer:
            raise ValueError("--stock is the network without one spike per step (no stock "
                             "Process has it): drop --one-spike-infer")
        if model.precision != "fixed":
            raise ValueError(f"{src}: --stock needs a fixed-point model (the stock Processes "
                             "compute in Loihi's integers); this one is float")
        one_spike_infer = False
    dt = model.spec.dt_ms if inference_dt_ms is None else inference_dt_ms
    one = model.spec.exc.one_spike_infer if one_spike_infer is None else one_spike_infer
    # the stock neuron first: without a refractory period, finer steps stay in range
    base, stock_meta = stock_inference(train_spec) if stock else (train_spec, None)
    ispec = inference_spec(base, dt, one)
    cfg = model.meta.get("config") or {}
    data = load_dataset(model.meta["dataset"], "train", data_root)
    trained = stream_end(model, src) or len(data)  # the end of the training stream
    # default: as many as train used (it assigns on at most the samples it trained)
    n = assign_samples if assign_samples is not None else min(int(
        cfg.get("assign_samples", len(data))), trained)
    n = validate.integer("assign_samples", n, 1, trained)
    images = cycled(data.images, trained - n, trained)
    labels = cycled(data.labels, trained - n, trained)
    if model.precision == "fixed" and "precision_budget" in model.meta:
        raise ValueError(f"{src}: a quantized model (precision study) keeps its own format; "
                         "assign supports models of lavalab train")
    ifixed = lower_network(ispec, Q, EXP_IN) if model.precision == "fixed" else None
    warm_up(backend, ispec, model.precision, ifixed, model.w, model.theta, images,
            model.seed, learn=False)
    with clock.work():
        assignments, proportions, _ = assign_frozen(ispec, model.precision, ifixed,
                                                       model.w, model.theta, images, labels,
                                                       model.seed, backend)
    meta = {k: v for k, v in model.meta.items() if k != "train_spec"}
    meta["spec"] = spec_to_dict(ispec)
    if ispec != train_spec:
        meta["train_spec"] = spec_to_dict(train_spec)
    if stock_meta is not None:
        meta["stock_network"] = stock_meta
    out.mkdir(parents=True, exist_ok=True)
    model_io.save_npz(out / "model.npz", model_io.MODEL_FORMAT, meta,
                      {"w": model.w, "theta": model.theta, "assignments": assignments,
                       "proportions": proportions})
    for stale in STALE_WITH_MODEL:
        (out / stale).unlink(missing_ok=True)
    n_classes = len(np.unique(data.labels))
    report = {"model": str(src), "inference_dt_ms": ispec.dt_ms,
              "one_spike_infer": bool(ispec.exc.one_spike_infer),
              "stock": stock_meta is not None, "samples": n,
              "first_sample": trained - n, **clock.fields(n, "infer"),
              "wall_s": clock.work_s,
              "backend": backend,
              "neurons_assigned": int((assignments >= 0).sum()),
              "neurons_per_class": np.bincount(assignments[assignments >= 0],
                                               minlength=n_classes).tolist(),
              "warnings": assignment_warnings(assignments, n_classes, n)}
    model_io.write_report(out / "assign.json", "lavalab-assign-report", report)
    clock.finish()
    return report


def evaluate(model_dir, samples: int | None = None, backend: str = "engine", out=None,
             seed: int | None = None, data_root: str | None = None) -> dict:
    """Classify the first ``samples`` test images (default: the whole test set of the
    model's dataset); write ``eval.json`` into ``out`` (default: the model's folder).

    Accuracies in ``eval.json`` are percentages (keys ``*_pct``); timing fields:
    :mod:`lavalab.timing` (``wall_s`` = ``infer_s``, the test run alone)."""
    clock = JobClock()
    from lavalab import validate

    if backend not in BACKENDS:
        raise ValueError(f"backend={backend!r} is not one of {BACKENDS}")
    require_backend(backend)
    model = load_model(model_dir)
    out = model_folder(model_dir) if out is None else out
    out = validate.out_dir(out)
    dataset = model.meta["dataset"]
    test = load_dataset(dataset, "test", data_root)
    samples = len(test) if samples is None else samples
    samples = validate.integer("samples", samples, 1, len(test))
    test = test.subset(samples)
    seed = model.seed + TEST_SEED_OFFSET if seed is None else validate.seed(seed)
    warm_up(backend, model.spec, model.precision, model.fixed, model.w, model.theta,
            test.images, seed, learn=False)
    with clock.work():
        counts, events, _ = classify(model.spec, model.precision, model.fixed, model.w,
                                        model.theta, test.images, seed, backend)
    pred_all = predict_all_activity(counts, model.assignments)
    pred_prop = predict_proportion(counts, model.assignments, model.proportions)
    rep = classification_report(pred_all, test.labels)
    pct = lambda v: None if v is None else 100.0 * v  # noqa: E731
    report = {
        "model": str(Path(model_dir)), "backend": backend, "dataset": dataset,
        "samples": samples, "seed": seed,
        "accuracy_pct": pct(rep["accuracy"]),
        "accuracy_proportion_weighting_pct": pct(classification_report(
            pred_prop, test.labels)["accuracy"]),
        "per_class_accuracy_pct": [pct(v) for v in rep["per_class_accuracy"]],
        "confusion": rep["confusion"],
        **clock.fields(samples, "infer"), "wall_s": clock.work_s,
        "spikes_per_sample": {"exc": float(counts.sum(1).mean())},
        "events": event_summary(events, model.spec),
    }
    out.mkdir(parents=True, exist_ok=True)
    model_io.write_report(out / "eval.json", "lavalab-eval-report", report)
    clock.finish()
    return report
