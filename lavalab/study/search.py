"""TopSpark's methodology beyond a fixed scaling: find which neuron parameters matter at a
reduced timestep and search their enhancement on a **validation split** (never the test
set), per T. Behind ``lavalab study enhancement-search``.

TopSpark (Putra & Shafique 2023) (1) profiles accuracy against the
timestep T, (2) identifies the neuron parameters with a significant impact on accuracy at
reduced T (threshold gap V_th - V_reset, refractory period T_ref, adaptive threshold
increment theta_+) and (3) enhances them per T. The paper gives no closed formula; the
linear rule (:class:`~lavalab.compile.enhance.LinearScaling`) is its baseline policy here.
This module searches factors on top of it
(:class:`~lavalab.compile.enhance.TunedScaling`: ``vth``, ``tref``, ``theta``, and what
our measurements suggested as well: ``inh``, the inhibition weights, and ``lr``, the STDP
learning rates):

1. **profile**: the linear policy at every T (validation accuracy; the T0 baseline too);
2. **sensitivity**, one parameter at a time: the linear policy with one factor changed to
   each of ``factors``; a parameter's effect is the largest change of the mean validation
   accuracy (percentage points); it is *significant* when that exceeds ``min_effect``;
3. **enhancement**, greedy coordinate search over the significant parameters, largest
   effect first: keep the factor (1 or one of ``factors``) with the best mean validation
   accuracy given the factors already kept. A candidate must beat the current best by more
   than ``min_effect`` points to be kept (noise guard).

Protocol: train on the first ``train_samples`` training images, assign labels on the last
``assign_samples`` of those, select on the next ``val_samples`` training images (held out
from training), then test the linear and the selected policy once on the first
``test_samples`` test images (reported, never used to select). Every candidate runs once
per seed; decisions use means over seeds. Results: ``results.json`` / ``results.csv``
(one run per candidate and seed; resumable), the summary per T.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from lavalab import validate
from lavalab.compile.enhance import TUNED_PARAMS, TunedScaling
from lavalab.compile.ir import TimeBudget
from lavalab.compile.pipeline import compile_network
from lavalab.data import load_dataset
from lavalab.networks.snn import build, init_weights
from lavalab.stdp.scoring import score, train_and_score
from lavalab.study import stats
from lavalab.study.executor import Task, ThreadExecutor
from lavalab.study.runner import (
    _run_parallel,
    _run_warnings,
    _store_result,
    _task_key,
)
from lavalab.study.setup import StudySetup, _Data, _seed_list, _setup_dict, compiled_for_inference
from lavalab.study.store import SeededResultStore

__all__ = ["search_enhancement", "SEARCH_COLUMNS"]

SEARCH_COLUMNS = ("key", "timesteps", "policy", "stage", "val_accuracy", "val_accuracy_std",
                  "val_accuracy_seeds", "accuracy", "accuracy_std", "seeds",
                  "neurons_assigned", "train_wall_s", "warnings")


def _split(setup: StudySetup, val_samples: int) -> tuple[_Data, _Data]:
    """(validation data, test data): the same training images, scored on the held-out
    validation images or on the test images."""
    tr = load_dataset(setup.dataset, "train", setup.data_root)
    te = load_dataset(setup.dataset, "test", setup.data_root)
    n, v = setup.train_samples, val_samples
    if n + v > len(tr):
        raise ValueError(f"train_samples + val_samples = {n + v} exceed the {len(tr)} "
                         f"training images of {setup.dataset}")
    if setup.test_samples > len(te):
        raise ValueError(f"test_samples={setup.test_samples} exceeds the {len(te)} test "
                         f"images of {setup.dataset}")
    x, y = tr.images[:n], tr.labels[:n]
    val = _Data(x, y, tr.images[n:n + v], tr.labels[n:n + v], setup.dataset)
    test = _Data(x, y, te.images[:setup.test_samples], te.labels[:setup.test_samples],
                 setup.dataset)
    return val, test


def search_enhancement(setup: StudySetup, out, timesteps=(175, 88), baseline: int = 350,
                       factors=(0.5, 2.0), params=TUNED_PARAMS, val_samples: int = 1000,
                       min_effect: float = 1.0, seeds=None, workers: int = 2,
                       progress: bool = True) -> dict:
    """Profile, sensitivity and greedy enhancement search per T (module docstring).
    Returns the summary: per T the linear policy's and the selected policy's mean
    validation accuracy, each parameter's effect (points), the selected policy's name
    (usable as ``enhancement=`` of :func:`lavalab.study.timesteps.timestep_study`) and both
    policies' test accuracy."""
    validate.out_dir(out)
    t0 = validate.integer("baseline", baseline, 1, 100000)
    timesteps = sorted({validate.integer("timesteps", t, 1, t0 - 1) for t in timesteps},
                       reverse=True)
    if not timesteps:
        raise ValueError("timesteps is empty: give at least one reduced T < baseline")
    factors = validate.unique(validate.real("factors", f, 1 / 16, 16) for f in factors)
    if not factors or 1.0 in factors:
        raise ValueError(f"factors={factors} must be non-empty and not contain 1 (1 is the "
                         "linear policy itself)")
    params = validate.unique(params)
    for p in params:
        if p not in TUNED_PARAMS:
            raise ValueError(f"params={p!r} is not one of {TUNED_PARAMS}")
    val_samples = validate.integer("val_samples", val_samples, 1, 10**6)
    min_effect = validate.real("min_effect", min_effect, 0, 100)
    workers = validate.integer("workers", workers, 1, 64)
    seeds = _seed_list(seeds, setup)
    val, test = _split(setup, val_samples)
    net = build(setup.network, setup.neurons, val.n_input, rule=setup.rule)
    store = SeededResultStore(out, "enhancement-search",
                              {**_setup_dict(setup), "baseline": t0,
                               "val_samples": val_samples}, SEARCH_COLUMNS,
                              {"timesteps": timesteps, "factors": factors, "params": params,
                               "min_effect": min_effect}, seeds)

    store.select([])  # this run's rows: the candidates it evaluates (others kept apart)

    def key(T: int, policy: str) -> str:
        return f"T{T}-{policy}"

    def job_for(T: int, policy: str, stage: str, seed: int, with_test: bool):
        def job(bar):
            ss = replace(setup, seed=seed)
            c = compile_network(net, TimeBudget(T, baseline_timesteps=t0),
                                target=setup.target,
                                enhancement="none" if T == t0 else policy, check=False)
            ci = compiled_for_inference(c, ss)
            w0 = init_weights(c.spec, seed, val.train_x)
            w0 = np.rint(w0 * c.fixed.q).astype(np.int64)
            res = train_and_score(c.spec, "fixed", c.fixed, w0, val, ss, bar,
                                  infer_net=(ci.spec, ci.fixed))
            row = {"key": key(T, policy), "seed": seed, "model": None, "timesteps": T,
                   "policy": policy, "stage": stage, "val_accuracy": 100 * res["accuracy"],
                   "neurons_assigned": res["neurons_assigned"],
                   "train_wall_s": res["train_s"],
                   "warnings": _run_warnings(c.spec, res, setup.assign_samples)}
            if with_test:  # reported only; selection never reads it
                t = score(ci.spec, "fixed", ci.fixed, res["w"], res["theta"], test, ss)
                row["accuracy"] = 100 * t["accuracy"]
            return {"row": row, "files": {}}
        return job

    # the steps depend on each other's results and the runs are closures over this
    # study's data: local threads (lavalab.study.executor.ThreadExecutor)
    ex = ThreadExecutor(workers)

    infeasible: dict[str, str] = {}  # candidates the fixed-point lowering refuses

    def feasible(T: int, policy: str) -> bool:
        """Whether the network enhanced by ``policy`` at ``T`` compiles (e.g. a doubled
        inhibition weight can exceed the 8-bit weight range); a refused candidate is
        recorded and never run."""
        k = key(T, policy)
        if k not in infeasible:
            try:
                compile_network(net, TimeBudget(T, baseline_timesteps=t0),
                                target=setup.target,
                                enhancement="none" if T == t0 else policy, check=False)
                infeasible[k] = ""
            except ValueError as err:
                infeasible[k] = " ".join(str(err).split())
        return not infeasible[k]

    def evaluate(cands: list[tuple[int, str, str]], with_test: bool = False) -> None:
        store.select([*store.keys, *(key(T, p) for T, p, _ in cands if feasible(T, p))])
        tasks = [Task(_task_key(key(T, p), s), job_for(T, p, st, s, with_test), (),
                      setup.train_samples)
                 for T, p, st in cands if feasible(T, p) for s in seeds
                 if (key(T, p), s) not in store.runs
                 or (with_test and "accuracy" not in store.runs[(key(T, p), s)])]
        _run_parallel(ex, tasks, _store_result(store), "enhancement search", progress)

    def val_acc(T: int, policy: str) -> float:
        return store.rows[key(T, policy)]["val_accuracy"]

    linear = TunedScaling().name
    # 1. profile (the baseline T0 runs unenhanced)
    evaluate([(t0, "none", "profile")] + [(T, linear, "profile") for T in timesteps],
             with_test=True)
    out = {"baseline": key(t0, "none"), "baseline_val_accuracy": val_acc(t0, "none"),
           "seeds": seeds, "val_samples": val_samples, "min_effect": min_effect,
           "per_T": {}, "warnings": []}
    for T in timesteps:
        # 2. sensitivity, one parameter at a time
        oat = {p: [TunedScaling(**{p: f}).name for f in factors] for p in params}
        evaluate([(T, name, "sensitivity") for names in oat.values() for name in names])
        oat = {p: [n for n in names if feasible(T, n)] for p, names in oat.items()}
        base = val_acc(T, linear)
        effect = {p: max((abs(val_acc(T, n) - base) for n in names), default=0.0)
                  for p, names in oat.items()}
        significant = sorted((p for p in params if effect[p] > min_effect),
                             key=lambda p: -effect[p])
        # 3. greedy coordinate search over the significant parameters
        best = TunedScaling()
        best_acc = base
        for p in significant:
            cands = [c for c in (replace(best, **{p: f}) for f in factors)
                     if feasible(T, c.name)]
            evaluate([(T, c.name, "search") for c in cands])
            for c in cands:
                if val_acc(T, c.name) > best_acc + min_effect:
                    best, best_acc = c, val_acc(T, c.name)
        evaluate([(T, best.name, "selected")], with_test=True)
        lin_row, sel_row = store.rows[key(T, linear)], store.rows[key(T, best.name)]
        out["per_T"][str(T)] = {
            "linear": linear, "linear_val_accuracy": base,
            "linear_val_accuracy_std": lin_row.get("val_accuracy_std", 0.0),
            "linear_test_accuracy": lin_row["accuracy"],
            "effect_points": effect, "significant": significant,
            "selected": best.name, "selected_val_accuracy": best_acc,
            "selected_val_accuracy_std": sel_row.get("val_accuracy_std", 0.0),
            "selected_test_accuracy": sel_row["accuracy"],
            "selected_test_accuracy_std": sel_row.get("accuracy_std", 0.0),
            "candidates_tried": sum(1 for k in store.keys if k.startswith(f"T{T}-"))}
    paired_per_t(store.rows, out)
    out["baseline_test_accuracy"] = store.rows[key(t0, "none")]["accuracy"]
    out["infeasible"] = {k: why for k, why in infeasible.items() if why}
    out["warnings"] = [f"{r['key']}, {w}" for r in store.grid_rows()
                       for w in r.get("warnings", [])]
    store.write(out)
    return out


def paired_per_t(rows: dict, summary: dict) -> None:
    """Per T of ``summary["per_T"]`` (in place): the selected policy against the linear
    one, paired over seeds (:mod:`lavalab.study.stats`), on validation accuracy (the
    search's criterion) and on test accuracy (reported only), and the selected policy's
    test accuracy against the baseline T0 (within 2 points)."""
    base = rows.get(summary["baseline"])
    summary["decisions"] = []
    for T, d in summary.get("per_T", {}).items():
        lin, sel = rows.get(f"T{T}-{d['linear']}"), rows.get(f"T{T}-{d['selected']}")
        if lin is None or sel is None:
            continue
        what = f"T{T}: {d['selected']} vs {d['linear']}"
        d["selected_vs_linear_val"] = stats.summary_fields(
            stats.paired_rows(sel, lin, "val_accuracy"), None, what + " (validation)")
        d["selected_vs_linear_test"] = stats.summary_fields(
            stats.paired_rows(sel, lin, "accuracy"), None, what + " (test)")
        if base is not None:
            d["selected_vs_baseline_test"] = stats.summary_fields(
                stats.paired_rows(sel, base, "accuracy"), 2.0,
                f"T{T}: {d['selected']} vs {summary['baseline']} (test)")
        summary["decisions"] += [d[k]["decision_line"] for k in (
            "selected_vs_linear_val", "selected_vs_linear_test", "selected_vs_baseline_test")
            if k in d]
