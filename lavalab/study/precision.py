"""tinySNN's precision study: the function behind ``lavalab study precision``."""

from __future__ import annotations

import json
import warnings
from dataclasses import replace

import numpy as np

from lavalab import model_io, validate
from lavalab.compile import quantize as qz
from lavalab.compile.ir import FLOAT_BITS, PrecisionBudget, TimeBudget
from lavalab.compile.pipeline import compile_network
from lavalab.engine import EVENT_NAMES
from lavalab.fixed import ROUNDING_MODES
from lavalab.networks.snn import build, init_weights
from lavalab.stdp.files import load_model, model_bytes
from lavalab.stdp.scoring import score, train_and_score
from lavalab.study import plots
from lavalab.study.executor import ExecutorSpec, Task, open_executor, write_files
from lavalab.study.runner import (
    _arrays_bytes,
    _arrays_from_bytes,
    _row,
    _run_parallel,
    _run_warnings,
    _store_result,
    _task_key,
)
from lavalab.study.selection import (
    WITHIN_CRITERION,
    _baseline_check,
    _model_handoff,
    _paired_fields,
    _pick,
    _prefixed,
    pareto_front,
    reward_r,
)
from lavalab.study.setup import (
    StudySetup,
    _load,
    _plot_title,
    _seed_list,
    _setup_dict,
    compiled_for_inference,
)
from lavalab.study.store import SeededResultStore, _model_relpath

# --- precision study (tinySNN) ------------------------------------------------------------

PRECISION_COLUMNS = ("key", "scheme", "weight_bits", "neuron_bits", "rounding", "params",
                     "accuracy", "accuracy_proportion", "memory_bits", "memory_kB",
                     "M_norm", "R", "pareto", "energy_train_uJ", "energy_infer_uJ",
                     "loihi_ok", "loihi_rule", "exc_spikes_train", "exc_spikes_test",
                     "neurons_assigned", "train_wall_s", "test_wall_s", "notes",
                     "accuracy_std", "accuracy_seeds", "accuracy_delta", "seeds",
                     "diff_pct", "diff_ci95_pct", "n_pairs", "within_2_points",
                     "deployable", "warnings")


def precision_study(setup: StudySetup, out, bits=(32, 16, 8, 6, 4),
                    schemes=("ptq", "itq"), roundings=ROUNDING_MODES,
                    params=("w", "wn"), timesteps: int = 350, mu: float = 10.0,
                    workers: int = 2, progress: bool = True, seeds=None,
                    deployable_only: bool = False,
                    executor: ExecutorSpec | None = None) -> dict:
    """tinySNN's study: the FP32 model (float engine) and, for every weight precision in
    ``bits`` (2..16), scheme (PTQ: quantize the trained FP32 model; ITQ: train in the
    quantized integer arithmetic), rounding and quantized parameters (``w``: weights only;
    ``wn``: weights and neuron parameters v, v_th, theta at the same bit width), accuracy,
    memory footprint ``M``, reward ``R`` and the Pareto front. Every configuration runs
    once per seed in ``seeds`` (default ``[setup.seed]``; PTQ quantizes the FP32 model of
    the same seed); decisions are made on the means over seeds. ``deployable_only``: the
    model is chosen among configurations the Loihi design rules accept (``deployable``).
    Returns the summary.

    ``executor``: where the runs (one task per configuration and seed) go
    (:mod:`lavalab.study.executor`; an :class:`ExecutorSpec`, or an open executor); None:
    ``workers`` threads."""
    validate.out_dir(out)  # before any work; created only once the data loaded
    bits = sorted({validate.integer("bits", b, 2, FLOAT_BITS) for b in bits}, reverse=True)
    for b in bits:
        if b != FLOAT_BITS and not 2 <= b <= 16:
            raise ValueError(f"bits={b} is outside the allowed range 2..16 (or 32 = float)")
    # duplicates would train the same configuration twice, in parallel, into one file
    schemes, roundings, params = (validate.unique(v) for v in (schemes, roundings, params))
    for name, v in (("bits", bits), ("schemes", schemes), ("roundings", roundings),
                    ("params", params)):
        if not v:
            raise ValueError(f"{name} is empty: give at least one value")
    timesteps = validate.integer("timesteps", timesteps, 1, 100000)
    workers = validate.integer("workers", workers, 1, 64)
    seeds = _seed_list(seeds, setup)
    deployable_only = validate.flag("deployable_only", deployable_only)
    for s in schemes:
        if s not in ("ptq", "itq"):
            raise ValueError(f"scheme={s!r} is not one of ('ptq', 'itq')")
    for r in roundings:
        if r not in ROUNDING_MODES:
            raise ValueError(f"rounding={r!r} is not one of {ROUNDING_MODES}")
    for p in params:
        if p not in ("w", "wn"):
            raise ValueError(f"params={p!r} is not one of ('w', 'wn')")
    if not (np.isfinite(mu) and mu >= 0):
        raise ValueError(f"mu={mu} must be a finite number >= 0")
    _load(setup)  # refuses a wrong data setup before any task starts
    with open_executor(executor, workers) as ex:
        return _precision_study(ex, setup, out, bits, schemes, roundings, params, timesteps,
                                mu, progress, seeds, deployable_only)


def _precision_study(ex, setup: StudySetup, out, bits, schemes, roundings, params,
                     timesteps, mu, progress, seeds, deployable_only) -> dict:
    budgets = [PrecisionBudget(weight_bits=b, neuron_bits=b if (p == "wn" and b <= 24) else 24,
                               rounding=r, scheme=s, quantize_neurons=p == "wn")
               for b in bits if b != FLOAT_BITS for s in schemes for r in roundings
               for p in params]
    setup_d = {**_setup_dict(setup), "timesteps": timesteps}
    grid = {"bits": bits, "schemes": schemes, "roundings": roundings, "params": params}
    store = SeededResultStore(out, "precision", setup_d, PRECISION_COLUMNS, grid, seeds)
    keys = ["fp32"] + [b.label for b in budgets]
    store.select(keys)  # rows of other grids are kept apart, never merged
    fp32: dict[int, bytes] = {}  # per seed: the FP32 model's w, theta and training events

    # the FP32 model of a seed is needed by PTQ and for the calibration of neuron ranges:
    # trained first; a finished one is read back (its model file and training events),
    # and trained again only when those files are gone
    todo = [(b, s) for s in seeds for b in budgets if not store.done_run(b.label, s)]
    uses_fp32 = {s for b, s in todo if b.scheme == "ptq" or b.quantize_neurons}
    for s in uses_fp32:
        fp32_bytes = _finished_fp32(store, s) if store.done_run("fp32", s) else None
        if fp32_bytes is not None:
            fp32[s] = fp32_bytes
    need = [s for s in seeds if not store.done_run("fp32", s)
            or (s in uses_fp32 and s not in fp32)]
    had_run = {s: store.done_run("fp32", s) for s in need}
    write = _store_result(store)

    def on_fp32(task: Task, res: dict) -> None:
        seed = res["row"]["seed"]
        fp32[seed] = res["fp32"]
        if not had_run[seed]:  # a finished run keeps its row (its files are rewritten)
            write(task, res)
        else:  # its files were gone: write those (never replace a finished one)
            write_files(store.out, {k: v for k, v in res["files"].items()
                                    if not (store.out / k).exists()})
    _run_parallel(ex, [Task(_task_key("fp32", s), _fp32_task,
                            (replace(setup, seed=s), timesteps), setup.train_samples)
                       for s in need], on_fp32, "precision study: fp32", progress)
    shared = {s: ex.share(fp32[s]) for s in validate.unique(s for _, s in todo)
              if s in fp32}
    tasks = [Task(_task_key(b.label, s), _precision_task,
                  (replace(setup, seed=s), timesteps, b, shared.get(s)), setup.train_samples)
             for b, s in todo]
    with warnings.catch_warnings():  # recorded per row instead (the "notes" column)
        warnings.simplefilter("ignore", qz.QuantizationWarning)
        _run_parallel(ex, tasks, _store_result(store), "precision study", progress)
    summary = _precision_summary(store, mu, keys, deployable_only)
    store.write(summary)
    plots.precision_study([store.rows[k] for k in keys], summary, store.out,
                          _plot_title(setup, seeds))
    return summary


def _fp32_events_relpath(seed: int) -> str:
    """Where the FP32 run of ``seed`` keeps its per-sample training events (PTQ rows price
    their training with them)."""
    return _model_relpath("fp32", seed).removesuffix(".npz") + "-train-events.npz"


def _finished_fp32(store: SeededResultStore, seed: int) -> bytes | None:
    """The arrays :func:`_fp32_task` returns (w, theta, training events) of the finished
    FP32 run of ``seed``, read from its files; None when a file is missing or damaged."""
    run = store.runs.get(("fp32", seed), {})
    model_path = store.out / run["model"] if run.get("model") else None
    events_path = store.out / _fp32_events_relpath(seed)
    if model_path is None or not model_path.is_file() or not events_path.is_file():
        return None
    try:
        model = load_model(model_path)
        arrays = _arrays_from_bytes(events_path.read_bytes())
        ev = arrays["train_events"]
        if "meta" in arrays:  # files of earlier versions have none
            meta = json.loads(str(arrays["meta"]))
            if (meta.get("format"), meta.get("version")) != (EVENTS_FORMAT, 1):
                return None
    except (OSError, ValueError, KeyError, AttributeError, model_io.ModelFileError):
        return None
    rows = store.setup.get("train_samples", len(ev))
    if (ev.ndim != 2 or ev.shape != (rows, len(EVENT_NAMES)) or ev.dtype.kind not in "iu"
            or (ev.size and ev.min() < 0) or model.precision != "float"):
        return None  # damaged or foreign: the FP32 run is trained again
    return _arrays_bytes(w=model.w, theta=model.theta, train_events=ev)


#: The FP32 run's per-sample training events (``models/seed<s>/fp32-train-events.npz``).
EVENTS_FORMAT = "lavalab-train-events"


def _events_file(ev: np.ndarray) -> bytes:
    """The bytes of the training-events file: the events and a ``meta`` entry naming the
    format and version (read back by :func:`_finished_fp32`)."""
    meta = np.asarray(json.dumps({"format": EVENTS_FORMAT, "version": 1}))
    return _arrays_bytes(train_events=ev, meta=meta)


def _precision_compiled(setup: StudySetup, timesteps: int, b: PrecisionBudget,
                        v_range=None):
    data = _load(setup)
    net = build(setup.network, setup.neurons, data.n_input, rule=setup.rule)
    return compile_network(net, TimeBudget(timesteps), b, setup.target, v_range_mv=v_range,
                           seed=setup.seed, check=False)


def _fp32_task(setup: StudySetup, timesteps: int, bar=None) -> dict:
    """The precision study's FP32 run of ``setup.seed`` (a task): trained on the float
    engine; its run row, model bytes and (``fp32``) the bytes of its w, theta and training
    events."""
    data = _load(setup)
    s = setup.seed
    c32 = _precision_compiled(setup, timesteps,
                              PrecisionBudget(weight_bits=FLOAT_BITS, neuron_bits=FLOAT_BITS))
    base = c32.spec
    ci = compiled_for_inference(c32, setup)
    w0 = init_weights(base, s, data.train_x)
    res = train_and_score(base, "float", None, w0, data, setup, bar,
                          infer_net=(ci.spec, None))
    path = _model_relpath("fp32", s)
    model = model_bytes(ci.spec, "float", s, res, dataset=data.dataset,
                         input_shape=data.shape, train_spec=base)
    events = _events_file(res["train_events"])
    return {"row": {"key": "fp32", "seed": s, "model": path, "scheme": "float",
                    "weight_bits": 32, "neuron_bits": 32, "rounding": "", "params": "w",
                    "notes": "", "warnings": _run_warnings(base, res, setup.assign_samples),
                    **_row(c32, setup, res, ci)},
            "files": {path: model, _fp32_events_relpath(s): events},
            "fp32": _arrays_bytes(w=res["w"], theta=res["theta"],
                                  train_events=res["train_events"])}


def _precision_task(setup: StudySetup, timesteps: int, b: PrecisionBudget,
                    fp32_bytes: bytes | None, bar=None) -> dict:
    """The run of one quantized configuration of the precision study for ``setup.seed``
    (a task); ``fp32_bytes``: the arrays of the FP32 model of the same seed
    (:func:`_fp32_task`), needed by PTQ and by ``wn``."""
    data = _load(setup)
    s = setup.seed
    fp32 = {} if fp32_bytes is None else _arrays_from_bytes(fp32_bytes)
    with warnings.catch_warnings():  # recorded per row instead (the "notes" column)
        warnings.simplefilter("ignore", qz.QuantizationWarning)
        base = _precision_compiled(setup, timesteps, PrecisionBudget(
            weight_bits=FLOAT_BITS, neuron_bits=FLOAT_BITS)).spec
        # range of v for qWN: threshold + the largest adaptive threshold the FP32
        # model learned (its theta is in input-weight units: x input_gain = mV)
        v_range = (qz.default_v_range_mv(base, float(np.max(fp32["theta"]))
                                         * base.input_gain)
                   if b.quantize_neurons else None)
        c = _precision_compiled(setup, timesteps, b, v_range)
        ci = compiled_for_inference(c, setup, v_range)
        fixed = c.fixed
        if b.scheme == "ptq":  # quantize the trained FP32 model; no training
            w = qz.quantize_weights(fp32["w"], b, s)
            theta = qz.quantize_theta(fp32["theta"], fixed, b, s)
            res = dict(score(ci.spec, "fixed", ci.fixed, w, theta, data, setup),
                       train_events=fp32["train_events"], train_s=0.0, w=w, theta=theta)
            if bar is not None:
                bar.update(setup.train_samples)
        else:
            w0 = qz.quantize_weights(init_weights(base, s, data.train_x), b, s)
            res = train_and_score(base, "fixed", fixed, w0, data, setup, bar,
                                  infer_net=(ci.spec, ci.fixed))
    path = _model_relpath(b.label, s)
    model = model_bytes(ci.spec, "fixed", s, res, b, v_range, dataset=data.dataset,
                         input_shape=data.shape, train_spec=base)
    notes = []
    if fixed.exc.theta_plus and qz.theta_frozen(fixed.exc.theta_plus,
                                                fixed.exc.v_lsb, b.rounding):
        notes.append(f"theta_plus below what {b.rounding} rounding keeps on the "
                     "neuron grid: theta is frozen")
    warn = _run_warnings(base, res, setup.assign_samples)
    if notes and not any("theta is frozen" in w for w in warn):
        warn.append(notes[0])
    row = {"key": b.label, "seed": s, "model": path, "scheme": b.scheme,
           "weight_bits": b.weight_bits,
           "neuron_bits": b.neuron_bits if b.quantize_neurons else 24,
           "rounding": b.rounding, "notes": "; ".join(notes), "warnings": warn,
           "params": "wn" if b.quantize_neurons else "w", **_row(c, setup, res, ci)}
    return {"row": row, "files": {path: model}}


def _precision_summary(store: SeededResultStore, mu: float, keys: list[str],
                       deployable_only: bool = False) -> dict:
    """The summary over the rows ``keys`` (this run's grid) only, decided on means."""
    rows = [store.rows[k] for k in keys]
    base = store.rows.get("fp32")
    if base is None:
        raise RuntimeError("the FP32 baseline has no result")
    for r in rows:
        r["M_norm"] = r["memory_bits"] / base["memory_bits"]
        r["R"] = reward_r(r["accuracy"], r["M_norm"], mu)
        r["accuracy_delta"] = r["accuracy"] - base["accuracy"]
        r["deployable"] = bool(r.get("deployable", r.get("loihi_ok")))
        _paired_fields(r, base)
    front = pareto_front([(r["accuracy"], r["memory_bits"]) for r in rows])
    for i, r in enumerate(rows):
        r["pareto"] = i in front
    broken = _baseline_check(base, "FP32")
    no_loss = [r for r in rows if r["accuracy"] >= base["accuracy"] and r["key"] != "fp32"]
    out = {"baseline": "fp32", "baseline_accuracy": base["accuracy"],
           "baseline_accuracy_std": base.get("accuracy_std", 0.0),
           "seeds": list(store.seeds), "mu": mu, "rows": list(keys),
           "deployable_only": deployable_only, "baseline_ok": not broken,
           "warnings": ([broken] if broken else []) + [f"{r['key']}, {w}" for r in rows
                                                       for w in r.get("warnings", [])],
           "chosen": None,
           "pareto": [rows[i]["key"] for i in front],
           "deployable": [r["key"] for r in rows if r["deployable"]],
           "no_loss_vs_fp32": sorted(r["key"] for r in no_loss),
           "criterion": WITHIN_CRITERION.format(base="fp32"),
           "decisions": [r["decision_line"] for r in rows if r is not base],
           "within_2_points_of_fp32": [r["key"] for r in rows if r["key"] != "fp32"
                                       and r["within_2_points"].startswith("yes")]}
    best, why = _pick([r for r in rows if r["deployable"] or not deployable_only], broken,
                      key=lambda r: (r["R"], -r["memory_bits"]))
    if why:
        out["withheld"] = why
    else:
        out.update({"chosen": best["key"], "chosen_accuracy": best["accuracy"],
                    "chosen_accuracy_std": best.get("accuracy_std", 0.0),
                    "chosen_memory_kB": best["memory_kB"],
                    "chosen_deployable": best["deployable"],
                    **_prefixed("chosen_", best),
                    **_model_handoff(store, best)})
    return out
