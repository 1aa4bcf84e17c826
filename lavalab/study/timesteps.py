"""TopSpark's timestep study: the function behind ``lavalab study timesteps``."""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from lavalab import validate
from lavalab.compile.enhance import policy_from_name
from lavalab.compile.ir import TimeBudget
from lavalab.compile.pipeline import compile_network
from lavalab.networks.snn import build, init_weights
from lavalab.stdp.files import model_bytes, model_from_bytes
from lavalab.stdp.scoring import score, train_and_score
from lavalab.study import plots
from lavalab.study.executor import ExecutorSpec, Task, open_executor
from lavalab.study.runner import (
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
    tradeoff_s,
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

# --- timestep study (TopSpark) ----------------------------------------------------------

TIMESTEP_COLUMNS = ("key", "timesteps", "infer_timesteps", "rest_steps", "enhancement",
                    "accuracy", "accuracy_std", "accuracy_seeds", "accuracy_delta", "seeds",
                    "diff_pct", "diff_ci95_pct", "n_pairs", "within_2_points",
                    "accuracy_proportion", "energy_train_uJ", "energy_infer_uJ",
                    "latency_infer_us", "latency_train_us", "Ln", "En", "S",
                    "exc_spikes_train", "exc_spikes_test", "synops_infer", "cores",
                    "neurons_assigned", "deployable", "active_update_fraction_infer",
                    "static_energy_infer_uJ", "train_wall_s", "test_wall_s", "warnings")


def timestep_study(setup: StudySetup, out, timesteps=(350, 175, 100, 50),
                   enhancements=("none", "linear", "proportional"), baseline: int | None = None,
                   tau: float = 5.0, eps: float = 5.0, workers: int = 2,
                   progress: bool = True, infer_timesteps=(),
                   infer_enhancement: str = "linear", seeds=None,
                   deployable_only: bool = False,
                   executor: ExecutorSpec | None = None) -> dict:
    """TopSpark's study: train and test at every ``T`` in ``timesteps`` with each
    enhancement policy (``lavalab.compile.enhance.POLICIES``); the baseline ``T0``
    (default: the largest T) is run once, unenhanced. Every configuration is trained and
    tested once per seed in ``seeds`` (default ``[setup.seed]``); rows carry the mean over
    seeds, ``<col>_std`` and ``<col>_seeds``, and every decision (``S``, within 2 points
    of T0) is made on the means. Returns the summary (the chosen T by the trade-off ``S``;
    withheld when the baseline collapsed) and writes results into ``out``.

    ``infer_timesteps``: also test the T0 model at these reduced presentation times
    (training stays at T0): ``infer_enhancement`` is applied with ``r = T / T0`` and the
    learned theta is scaled like the threshold gap. These rows (``T0-none@T-policy``)
    carry the T0 training figures. ``deployable_only``: choose among configurations the
    Loihi design rules accept.

    ``executor``: where the runs (one task per configuration and seed) go
    (:mod:`lavalab.study.executor`; an :class:`ExecutorSpec`, or an open executor); None:
    ``workers`` threads."""
    validate.out_dir(out)  # before any work; created only once the data loaded
    timesteps = sorted({validate.integer("timesteps", t, 1, 100000) for t in timesteps},
                       reverse=True)
    if not timesteps:
        raise ValueError("timesteps is empty: give at least one T (the baseline T0)")
    t0 = timesteps[0] if baseline is None else validate.integer("baseline", baseline, 1,
                                                                 100000)
    if t0 not in timesteps:
        raise ValueError(f"baseline T0={t0} is not one of the timesteps {timesteps}")
    enhancements = validate.unique(enhancements)  # duplicates would train twice
    if not enhancements and len(timesteps) > 1:
        raise ValueError("enhancements is empty: give at least one policy for the reduced T")
    for name in (*enhancements, infer_enhancement):
        policy_from_name(name)
    infer_timesteps = sorted({validate.integer("infer_timesteps", t, 1, 100000)
                              for t in infer_timesteps}, reverse=True)
    workers = validate.integer("workers", workers, 1, 64)
    seeds = _seed_list(seeds, setup)
    deployable_only = validate.flag("deployable_only", deployable_only)
    for T in infer_timesteps:
        if not 1 <= T < t0:
            raise ValueError(f"infer_timesteps T={T} is outside the allowed range 1..{t0 - 1}")
    for name, v in (("tau", tau), ("eps", eps)):
        if not (np.isfinite(v) and v >= 0):
            raise ValueError(f"{name}={v} must be a finite number >= 0")
    configs = []
    for T in timesteps:
        if T > t0:
            raise ValueError(f"timesteps T={T} exceed the baseline T0={t0}")
        for e in (["none"] if T == t0 else list(enhancements)):
            configs.append((T, e))
    _load(setup)  # refuses a wrong data setup before any task starts
    with open_executor(executor, workers) as ex:
        return _timestep_study(ex, setup, out, timesteps, enhancements, configs, t0, tau,
                               eps, progress, infer_timesteps, infer_enhancement, seeds,
                               deployable_only)


def _timestep_study(ex, setup: StudySetup, out, timesteps, enhancements, configs, t0, tau,
                    eps, progress, infer_timesteps, infer_enhancement, seeds,
                    deployable_only) -> dict:
    setup_d = {**_setup_dict(setup), "baseline": t0}
    grid = {"timesteps": timesteps, "enhancements": enhancements,
            "infer_timesteps": infer_timesteps, "infer_enhancement": infer_enhancement}
    store = SeededResultStore(out, "timesteps", setup_d, TIMESTEP_COLUMNS, grid, seeds)
    keys = [f"T{T}-{e}" for T, e in configs] + [f"T{t0}-none@{Ti}-{infer_enhancement}"
                                                   for Ti in infer_timesteps]
    store.select(keys)  # rows of other grids are kept apart, never merged
    todo = [(T, e, s) for s in seeds for T, e in configs
            if not store.done_run(f"T{T}-{e}", s)]
    tasks = [Task(_task_key(f"T{T}-{e}", s), _timestep_task,
                  (replace(setup, seed=s), t0, T, e), setup.train_samples)
             for T, e, s in todo]
    _run_parallel(ex, tasks, _store_result(store), "timestep study", progress)
    todo_infer = [(Ti, s) for s in seeds for Ti in infer_timesteps
                  if not store.done_run(f"T{t0}-none@{Ti}-{infer_enhancement}", s)]
    models = {s: ex.share(store.model_path(f"T{t0}-none", s).read_bytes())
              for s in validate.unique(s for _, s in todo_infer)}
    tasks = []
    for Ti, s in todo_infer:
        base_run = store.runs[(f"T{t0}-none", s)]
        trained = {k: base_run.get(k) for k in _TRAIN_COLUMNS}  # training happened at T0
        tasks.append(Task(_task_key(f"T{t0}-none@{Ti}-{infer_enhancement}", s),
                          _infer_only_task, (replace(setup, seed=s), t0, Ti,
                                             infer_enhancement, models[s], trained)))
    _run_parallel(ex, tasks, _store_result(store), "reduced-T inference", progress,
                  unit="config")
    summary = _timestep_summary(store, t0, tau, eps, keys, deployable_only)
    store.write(summary)
    plots.timestep_study([store.rows[k] for k in keys], summary, store.out,
                         _plot_title(setup, seeds))
    return summary


def _timestep_task(setup: StudySetup, t0: int, T: int, e: str, bar=None) -> dict:
    """The run of one configuration of the timestep study for ``setup.seed`` (a task): the
    network compiled at ``T`` presentation steps with policy ``e``, trained and tested;
    its run row and model bytes."""
    data = _load(setup)
    s = setup.seed
    base = build(setup.network, setup.neurons, data.n_input, rule=setup.rule)
    c = compile_network(base, TimeBudget(T, baseline_timesteps=t0),
                        target=setup.target, enhancement=e, check=False)
    ci = compiled_for_inference(c, setup)
    w0 = init_weights(c.spec, s, data.train_x)
    w0 = np.rint(w0 * c.fixed.q).astype(np.int64)
    res = train_and_score(c.spec, "fixed", c.fixed, w0, data, setup, bar,
                          infer_net=(ci.spec, ci.fixed))
    key = f"T{T}-{e}"
    path = _model_relpath(key, s)
    model = model_bytes(ci.spec, "fixed", s, res, dataset=data.dataset,
                         input_shape=data.shape, train_spec=c.spec)
    return {"row": {"key": key, "seed": s, "model": path, "timesteps": T,
                    "infer_timesteps": T, "rest_steps": c.spec.rest_steps, "enhancement": e,
                    "warnings": _run_warnings(c.spec, res, setup.assign_samples),
                    **_row(c, setup, res, ci)},
            "files": {path: model}}


#: Columns an inference-only row takes from the T0 run it tests.
_TRAIN_COLUMNS = ("energy_train_uJ", "latency_train_us", "weight_updates_train",
                  "energy_train_layers_uJ", "exc_spikes_train", "train_wall_s")


def _infer_only_task(setup: StudySetup, t0: int, Ti: int, policy: str, model_bytes: bytes,
                     trained: dict, bar=None) -> dict:
    """Test the T0 model of ``setup.seed`` (its file's bytes) at ``Ti`` presentation steps
    (enhanced by ``policy``), discretising the study's network from scratch (so the
    schedule equals a model trained at ``Ti``); ``trained``: the T0 run's training
    columns."""
    data = _load(setup)
    base = build(setup.network, setup.neurons, data.n_input, rule=setup.rule)
    model = model_from_bytes(model_bytes)
    c = compile_network(base, TimeBudget(Ti, baseline_timesteps=t0),
                        target=setup.target, enhancement=policy, check=False)
    ci = compiled_for_inference(c, setup)
    spec = c.spec
    gap = (spec.exc.v_th - spec.exc.v_reset) / (model.spec.exc.v_th - model.spec.exc.v_reset)
    theta = np.rint(np.asarray(model.theta, np.float64) * gap).astype(np.int64)
    res = score(ci.spec, "fixed", ci.fixed, model.w, theta, data, setup)
    row = {"key": f"T{t0}-none@{Ti}-{policy}", "seed": setup.seed, "model": None,
           "timesteps": t0, "infer_timesteps": Ti,
           "rest_steps": spec.rest_steps, "enhancement": f"{policy}, inference only",
           "warnings": _run_warnings(spec, res, setup.assign_samples),
           **_row(c, setup, res, ci)}
    row.update(trained)  # training happened at T0
    if bar is not None:
        bar.update(1)
    return {"row": row, "files": {}}


def _timestep_summary(store: SeededResultStore, t0: int, tau: float, eps: float,
                      keys: list[str], deployable_only: bool = False) -> dict:
    """The summary over the rows ``keys`` (this run's grid) only, decided on means."""
    rows = [store.rows[k] for k in keys]
    base = store.rows.get(f"T{t0}-none")
    if base is None:
        raise RuntimeError(f"the baseline T0={t0} has no result")
    for r in rows:
        r.setdefault("infer_timesteps", r["timesteps"])
        r["Ln"] = r["latency_infer_us"] / base["latency_infer_us"]
        r["En"] = r["energy_infer_uJ"] / base["energy_infer_uJ"]
        r["S"] = tradeoff_s(r["accuracy"], r["Ln"], r["En"], tau, eps)
        r["accuracy_delta"] = r["accuracy"] - base["accuracy"]
        r["deployable"] = bool(r.get("loihi_ok"))
        _paired_fields(r, base)
    broken = _baseline_check(base, f"T0 = {t0}")
    warnings_ = ([broken] if broken else []) + [f"{r['key']}, {w}" for r in rows
                                                for w in r.get("warnings", [])]
    out = {"baseline": base["key"], "baseline_accuracy": base["accuracy"],
           "baseline_accuracy_std": base.get("accuracy_std", 0.0),
           "seeds": list(store.seeds), "tau": tau, "eps": eps, "rows": list(keys),
           "criterion": WITHIN_CRITERION.format(base="T0"),
           "decisions": [r["decision_line"] for r in rows if r is not base],
           "deployable_only": deployable_only, "baseline_ok": not broken,
           "warnings": warnings_, "chosen": None}
    pool = [r for r in rows if r["deployable"] or not deployable_only]
    best, why = _pick(pool, broken, key=lambda r: (r["S"], -r["infer_timesteps"],
                                                    -r["timesteps"]))
    if why:
        out["withheld"] = why
    else:
        out.update({"chosen": best["key"],
                    "chosen_timesteps": best["timesteps"],
                    "chosen_infer_timesteps": best["infer_timesteps"],
                    "chosen_enhancement": best["enhancement"],
                    "chosen_accuracy": best["accuracy"],
                    "chosen_accuracy_std": best.get("accuracy_std", 0.0),
                    **_prefixed("chosen_", best),
                    **_model_handoff(store, best)})
    if broken:
        return out
    # fewest timesteps within 2 points of T0: training and inference at T (TopSpark's
    # setting), and, when inference-only rows exist, training at T0 and inference at T
    for name, group in (("", [r for r in pool if r["timesteps"] == r["infer_timesteps"]]),
                        ("_inference_only",
                         [r for r in pool if r["timesteps"] != r["infer_timesteps"]])):
        within2 = [r for r in group if r["within_2_points"].startswith("yes")]
        if not within2:
            continue
        f = min(within2, key=lambda r: (r["infer_timesteps"], r["timesteps"], -r["accuracy"]))
        out.update({
            f"fewest_timesteps_within_2pct{name}": f["key"],
            f"accuracy_within_2pct{name}": f["accuracy"],
            f"accuracy_std_within_2pct{name}": f.get("accuracy_std", 0.0),
            f"accuracy_delta_points_within_2pct{name}": f["accuracy"] - base["accuracy"],
            **_prefixed(f"within_2pct{name}_", f),
            f"timestep_reduction_within_2pct{name}": t0 / f["infer_timesteps"],
            f"energy_ratio_train_within_2pct{name}": base["energy_train_uJ"]
            / f["energy_train_uJ"],
            f"energy_ratio_infer_within_2pct{name}": base["energy_infer_uJ"]
            / f["energy_infer_uJ"],
            f"latency_ratio_within_2pct{name}": base["latency_infer_us"]
            / f["latency_infer_us"]})
    return out

