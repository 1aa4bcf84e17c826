"""``lavalab evaluate --backend lava-stock``: a trained model's stock-Process network
(:mod:`lavalab.deploy.stock`) on Lava's CPU run configuration, beside the engine.

``--backend loihi`` is refused with a pointer to ``lavalab deploy``: a Loihi 2 chip is
reached through a deploy bundle (:mod:`lavalab.deploy.bundle`), which runs in the INRC's
own Lava environment without lavalab, with lava-loihi's embedded-I/O adapters, the
compile layer's partition and one Lava run per test set.

Writes ``eval_<backend>.json`` into ``out``: accuracy of the stock network and of the engine
on the same test digits (same Poisson input, bit for bit), the agreement of their
predictions, spike and event counts of both, and the lowering's approximations. The stock
run is slow (Lava's CPU simulation, ~1 digit/s); finished digits are saved every few
digits to ``stock_partial_<backend>.npz``, a rerun with the same arguments (and the same
model file) resumes bit for bit, and the file is removed once the evaluation is written.
Timing (:mod:`lavalab.timing`): the work (``infer_s``, ``cpu_s``, ``samples_per_s``) is
the stock run of this call alone; set-up holds the Lava import, the lowering and the
engine's reference run (``engine_wall_s``).
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from lavalab import model_io
from lavalab.timing import JobClock

__all__ = ["STOCK_BACKENDS", "evaluate_stock", "LOIHI_VIA_BUNDLE"]

STOCK_BACKENDS = ("lava-stock",)
#: Test digits evaluated when ``samples`` is None (at most the test set): Lava's CPU
#: simulation of the stock network takes about a second per digit.
DEFAULT_SAMPLES = 500
PARTIAL_FORMAT = "lavalab-stock-partial"


#: Why ``evaluate --backend loihi`` is refused (one line, exit 2).
LOIHI_VIA_BUNDLE = (
    "evaluate --backend loihi is replaced by the deploy bundle: run `lavalab deploy MODEL "
    "--out BUNDLE`, copy BUNDLE to the INRC system and run `python BUNDLE/run.py --target "
    "loihi2 --partition oheogulch` there (docs/deploy.md); `--backend lava-stock` runs the "
    "same stock network on Lava's CPU simulation here")


def evaluate_stock(model_dir, samples: int | None = DEFAULT_SAMPLES,
                   backend: str = "lava-stock", out=None, theta_fold: str = "scale",
                   data_root: str | None = None, progress: bool = True, copies: int = 10,
                   save_every: int | None = None) -> dict:
    """Evaluate a model's stock network on the first ``samples`` test digits (module doc;
    None: :data:`DEFAULT_SAMPLES`, or the whole test set if smaller).

    ``copies`` digits run at once in as many copies of the network (block-diagonal
    weights, identical per copy); ``save_every`` digits (default ``copies``) per Lava run
    and saved chunk (the per-sample reset is on chip: stock ``LIFReset``)."""
    clock = JobClock()
    save_every = save_every or copies
    if backend == "loihi":
        raise ValueError(LOIHI_VIA_BUNDLE)
    if backend not in STOCK_BACKENDS:
        raise ValueError(f"backend={backend!r} is not one of {STOCK_BACKENDS}")
    import lava.magma.core.process.process  # noqa: F401  (Lava fixes the start method first)

    from lavalab.data import load_dataset
    from lavalab.deploy.lava_stock import run_stock
    from lavalab.deploy.stock import lower_model
    from lavalab.engine import infer, make_net
    from lavalab.protocol import (
        TEST_SEED_OFFSET,
        classification_report,
        predict_all_activity,
        predict_proportion,
    )
    from lavalab.stdp.backend import event_summary
    from lavalab.stdp.files import load_model

    model = load_model(model_dir)
    low = lower_model(model, theta_fold=theta_fold)
    out = Path(out) if out is not None else Path(model_dir)
    test = load_dataset(model.meta.get("dataset", "mnist"), "test", data_root)
    if samples is None:  # the default: DEFAULT_SAMPLES, or the whole test set if smaller
        samples = min(DEFAULT_SAMPLES, len(test))
    if not 1 <= samples <= len(test):
        raise ValueError(f"samples={samples} is outside the allowed range 1..{len(test)}")
    test = test.subset(samples)
    seed = model.seed + TEST_SEED_OFFSET
    s = model.spec
    t0 = time.perf_counter()
    e_counts, e_events = infer(make_net(s, "fixed", model.w, model.theta, seed=seed,
                                        fixed=model.fixed), test.images)
    engine_s = time.perf_counter() - t0

    partial = out / f"stock_partial_{backend}.npz"
    # the partial file belongs to this model file's contents (a model replaced in place,
    # e.g. by `train --force`, starts over), this lowering and this input
    key = {"model": str(Path(model_dir).resolve()), "model_sha256": _digest(model_dir),
           "theta_fold": theta_fold, "seed": seed}
    n_inh = s.n_exc if s.has_inh else 0
    counts = np.zeros((samples, s.n_exc), np.int64)
    inh_counts = np.zeros((samples, n_inh), np.int64)
    events = np.zeros_like(e_events)
    done = 0
    if partial.exists():
        meta, arr = model_io.load_npz(partial, PARTIAL_FORMAT)
        if meta.get("key") == key:
            done = _checked_partial(partial, meta, arr, samples, counts, inh_counts, events)
    from lavalab.progress import progress_bar

    bar = progress_bar(total=samples, initial=done, unit="digit", disable=not progress,
               desc=f"{s.kind}-{s.n_exc} [{backend}]")
    with clock.work():  # the stock run of this call
        lo = done
        while lo < samples:  # chunks: each a fresh Lava run, saved when finished
            hi = min(samples, lo + save_every)
            r = run_stock(low, test.images[lo:hi], seed, s.max_rate_hz, s.dt_ms,
                          t0=lo * s.sample_steps, copies=copies, progress=bar.update)
            counts[lo:hi], events[lo:hi] = r["counts"], r["events"]
            if n_inh:
                inh_counts[lo:hi] = r["inh_counts"]
            lo = hi
            model_io.save_npz(partial, PARTIAL_FORMAT, {"key": key, "done": lo},
                              {"counts": counts[:lo], "inh_counts": inh_counts[:lo],
                               "events": events[:lo]})
    bar.close()

    def classify(c):
        pa = predict_all_activity(c, model.assignments)
        pp = predict_proportion(c, model.assignments, model.proportions)
        return pa, pp

    sa, sp = classify(counts)
    ea, ep = classify(e_counts)
    def acc(p) -> float:  # percent, as every result file
        return 100.0 * classification_report(p, test.labels)["accuracy"]

    def pct(mask) -> float:
        return float(100.0 * np.mean(mask))

    report = {
        "model": str(model_dir), "backend": backend, "samples": samples,
        "run_config": "lava.magma.core.run_configs.Loihi2SimCfg(select_tag='fixed_pt')",
        "seed": seed, "theta_fold": theta_fold,
        "exact_lowering": low.exact, "approximations": list(low.approximations),
        "accuracy_pct": acc(sa), "accuracy_proportion_weighting_pct": acc(sp),
        "engine_accuracy_pct": acc(ea), "engine_accuracy_proportion_weighting_pct": acc(ep),
        "accuracy_difference_points": acc(sa) - acc(ea),
        "prediction_agreement_pct": pct(sa == ea),
        "prediction_agreement_proportion_weighting_pct": pct(sp == ep),
        "identical_spike_counts_pct": pct((counts == e_counts).all(axis=1)),
        "spikes_per_sample": {"exc": float(counts.sum(1).mean()),
                              "exc_engine": float(e_counts.sum(1).mean())},
        "events": event_summary(events, s), "engine_events": event_summary(e_events, s),
        **clock.fields(samples - done, "infer"), "wall_s": clock.work_s,
        "engine_wall_s": engine_s,
        "resumed_from": done,
    }
    if n_inh:
        report["spikes_per_sample"]["inh"] = float(inh_counts.sum(1).mean())
    model_io.write_report(out / f"eval_{backend}.json", "lavalab-stock-eval-report",
                            report)
    partial.unlink(missing_ok=True)  # finished: nothing left to resume
    clock.finish()
    return report


def _digest(model_dir) -> str:
    """SHA-256 of the model file (``model_dir`` or its ``model.npz``)."""
    import hashlib

    path = Path(model_dir)
    path = path / "model.npz" if path.is_dir() else path
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _checked_partial(path, meta: dict, arr: dict, samples: int, counts, inh_counts,
                     events) -> int:
    """Copy the finished digits of a partial stock run into ``counts``, ``inh_counts`` and
    ``events`` (in place) after checking them: a count of digits, arrays of those rows and
    the run's columns, integers >= 0. Returns the digits done; ModelFileError naming
    ``path`` otherwise."""
    from lavalab import validate

    try:
        done = min(validate.integer("done", meta.get("done"), 0, 2**40), samples)
        for name, dst in (("counts", counts), ("inh_counts", inh_counts), ("events", events)):
            a = validate.finite_array(name, arr[name])
            if a.dtype.kind not in "iu" or a.ndim != dst.ndim or len(a) < done \
                    or a.shape[1:] != dst.shape[1:] or (a.size and a.min() < 0):
                raise ValueError(f"{name} of shape {a.shape} is not {done} rows of "
                                 f"{dst.shape[1:]} counts >= 0")
            dst[:done] = a[:done]
    except (KeyError, ValueError) as err:
        raise model_io.ModelFileError(f"{path}: damaged partial run ({err}); delete it to "
                                      "run every digit again") from None
    return done
