"""Runs and the dt study of exact-spike-time networks (BATS thesis).

:func:`train_run` trains one network (resumable through its checkpoint) and tests it after
every epoch at one or more grid steps; :func:`dt_study` trains one network per (dt, seed),
tests it at its own dt, and writes ``results.json`` / ``results.csv`` (one row per run,
written as soon as the run ends, finished runs skipped on restart; half-finished runs resume
from their checkpoint) plus the plots: accuracy vs dt, sparsity vs dt, the accuracy-vs-
spike-count Pareto front (the BATS thesis, Fig. 13) and the prediction confidence over time.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from lavalab.compile.spike_grid import SpikeTimeBudget
from lavalab.exact.spec import ExactSpec
from lavalab.exact.train import TrainConfig, evaluate, save_network, train
from lavalab.plots import SINGLE_COLUMN_IN, _plt, _save
from lavalab.study import stats
from lavalab.study.selection import pareto_front
from lavalab.study.store import ResultStore
from lavalab.timing import JobClock

__all__ = ["train_run", "dt_study", "summarise", "plot_dt_study"]

TRAIN_COLUMNS = ("key", "epoch", "train_dt", "test_dt", "seed", "train_accuracy",
                 "test_accuracy", "test_samples", "spikes_hidden", "spikes_output",
                 "t_first_output", "t_first_label", "train_seconds", "test_seconds")
DT_COLUMNS = ("key", "dt", "seed", "epochs", "train_samples", "test_samples",
              "train_accuracy", "test_accuracy", "spikes_hidden", "spikes_output",
              "spikes_total", "confidence_end", "t_first_output", "t_first_label",
              "frac_silent_output", "train_seconds", "test_seconds")


def _setup(spec: ExactSpec, **kw) -> dict:
    return {"spec": spec.to_dict(), **kw}


def _test_row(spec, weights, te, test_samples, dt, progress):
    t0 = time.time()
    r = evaluate(spec, weights, te.images[:test_samples], te.labels[:test_samples],
                 SpikeTimeBudget(dt_s=dt), progress=progress)
    r.pop("predictions")
    r.pop("output_counts")
    r["seconds"] = time.time() - t0
    return r


def train_run(spec: ExactSpec, tr, te, out: Path, dt: float, seed: int, epochs: int,
              train_samples: int, test_samples: int, batch_size: int = 50,
              lr: float = 0.003, test_dts=(0.0,), progress: bool = True) -> list[dict]:
    """Train one network at grid step ``dt``; test after each epoch at ``test_dts``.

    ``out`` gets checkpoint.npz (resume), network.npz (latest weights) and results.json/csv
    (one row per epoch and test dt). Timing (:mod:`lavalab.timing`): network.npz's
    ``timing`` holds this run's set-up and training so far (``setup_s``, ``train_s``,
    ``cpu_s``, ``samples_per_s``); each row its epoch's ``train_seconds`` and
    ``train_cpu_s``, the run's ``setup_s`` and ``train_samples_per_s`` so far.
    """
    clock = JobClock()
    out = Path(out)
    store = ResultStore(out, "exact-train", _setup(
        spec, dt=dt, seed=seed, train_samples=train_samples, test_samples=test_samples,
        batch_size=batch_size, lr=lr, dataset=tr.name), TRAIN_COLUMNS,
        {"epochs": epochs, "test_dts": list(test_dts)})
    # this run's rows; rows of other epochs / test steps are kept apart
    store.select(f"epoch={e},test_dt={tdt:g}" for e in range(1, epochs + 1)
                 for tdt in test_dts)
    tested = {r["epoch"] for r in store.rows.values()}  # epochs a former run tested
    for e in sorted(tested):
        lacking = [tdt for tdt in test_dts if not store.done(f"epoch={e},test_dt={tdt:g}")]
        if lacking and e <= epochs:  # the weights of a finished epoch are not kept
            raise ValueError(f"--test-dts {','.join(f'{t:g}' for t in lacking)}: {out} holds "
                             f"a run whose epoch {e} was tested at other steps (test steps "
                             "are fixed when a run starts); use another --out")
    cfg = TrainConfig(epochs=epochs, batch_size=batch_size, lr=lr,
                      train_samples=train_samples, seed=seed,
                      budget=SpikeTimeBudget(dt_s=dt))

    def on_epoch(epoch, weights, history):
        timing = clock.fields(work="train")
        save_network(out / "network.npz", spec, weights,
                     {"dt_s": dt, "seed": seed, "epochs": epoch, "dataset": tr.name,
                      "train_samples": train_samples, "history": history,
                      "timing": timing})
        for tdt in test_dts:
            key = f"epoch={epoch},test_dt={tdt:g}"
            if store.done(key):
                continue
            r = _test_row(spec, weights, te, test_samples, tdt, progress)
            h = history[-1]
            store.add({"key": key, "epoch": epoch, "train_dt": dt, "test_dt": tdt,
                       "seed": seed, "train_accuracy": h["train_accuracy"],
                       "train_loss": h["train_loss"], "test_accuracy": r["accuracy"],
                       "test_loss": r["loss"], "test_samples": r["samples"],
                       "spikes_hidden": float(np.mean(r["spikes_per_neuron"][:-1])),
                       "spikes_output": r["spikes_per_neuron"][-1],
                       "spikes_per_neuron": r["spikes_per_neuron"],
                       "t_first_output": r["t_first_output"],
                       "t_first_label": r["t_first_label"],
                       "confidence_t": r["confidence_t"], "confidence": r["confidence"],
                       "train_seconds": h["seconds"], "test_seconds": r["seconds"],
                       "train_cpu_s": h.get("cpu_s"), "setup_s": timing["setup_s"],
                       "train_samples_per_s": timing["samples_per_s"]})

    train(spec, cfg, tr.images, tr.labels, checkpoint=out / "checkpoint.npz",
          progress=progress, desc=f"train dt={dt:g}", on_epoch=on_epoch, clock=clock)
    store.write()  # this run's rows only, also when training had nothing left to do
    clock.finish()
    return sorted(store.grid_rows(), key=lambda r: (r["epoch"], r["test_dt"]))


def dt_study(spec: ExactSpec, tr, te, out: Path, dts, seeds, epochs: int,
             train_samples: int, test_samples: int, batch_size: int = 50,
             lr: float = 0.003, progress: bool = True) -> dict:
    """Train and test one network per (dt, seed); see the module docstring."""
    out = Path(out)
    store = ResultStore(out, "exact-dt", _setup(
        spec, epochs=epochs, train_samples=train_samples, test_samples=test_samples,
        batch_size=batch_size, lr=lr, dataset=tr.name), DT_COLUMNS,
        {"dts": list(dts), "seeds": list(seeds)})
    # this grid's rows; rows of other grids are kept apart (never in its summary)
    store.select(f"dt={dt:g},seed={seed}" for seed in seeds for dt in dts)
    for dt in dts:
        SpikeTimeBudget(dt_s=dt)  # validate every dt before the first long run
    for seed in seeds:  # seed-major: an interrupted study has every dt for the first seeds
        for dt in dts:
            key = f"dt={dt:g},seed={seed}"
            if store.done(key):
                continue
            run_dir = out / "runs" / f"dt{dt:g}_seed{seed}"
            cfg = TrainConfig(epochs=epochs, batch_size=batch_size, lr=lr,
                              train_samples=train_samples, seed=seed,
                              budget=SpikeTimeBudget(dt_s=dt))

            def on_epoch(epoch, weights, history, dt=dt):
                if epoch < epochs:  # the last epoch is tested below with all metrics
                    r = _test_row(spec, weights, te, test_samples, dt, progress)
                    history[-1]["test_accuracy"] = r["accuracy"]  # kept in the checkpoint

            weights, history = train(spec, cfg, tr.images, tr.labels,
                                     checkpoint=run_dir / "checkpoint.npz",
                                     progress=progress, desc=f"dt={dt:g} seed={seed}",
                                     on_epoch=on_epoch)
            save_network(run_dir / "network.npz", spec, weights,
                         {"dt_s": dt, "seed": seed, "epochs": epochs, "dataset": tr.name,
                          "train_samples": train_samples, "history": history})
            r = _test_row(spec, weights, te, test_samples, dt, progress)
            history[-1]["test_accuracy"] = r["accuracy"]
            sp = r["spikes_per_neuron"]
            store.add({"key": key, "dt": dt, "seed": seed, "epochs": epochs,
                       "train_samples": train_samples, "test_samples": r["samples"],
                       "train_accuracy": history[-1]["train_accuracy"],
                       "test_accuracy": r["accuracy"], "test_loss": r["loss"],
                       "spikes_hidden": float(np.mean(sp[:-1])), "spikes_output": sp[-1],
                       "spikes_total": float(np.sum(sp)), "spikes_per_neuron": sp,
                       "confidence_t": r["confidence_t"], "confidence": r["confidence"],
                       "confidence_end": r["confidence"][-1],
                       "t_first_output": r["t_first_output"],
                       "t_first_label": r["t_first_label"],
                       "frac_silent_output": r["frac_silent_output"],
                       "history": history,
                       "train_seconds": float(sum(h["seconds"] for h in history)),
                       "test_seconds": r["seconds"]})
            summary = summarise(store.grid_rows())
            store.write(summary)
    summary = summarise(store.grid_rows())
    store.write(summary)
    plot_dt_study(store.grid_rows(), summary, out)
    return summary


def _ms(vals):
    v = np.asarray([x for x in vals if x is not None], dtype=float)
    if v.size == 0:
        return None, None
    return float(v.mean()), float(v.std(ddof=1)) if v.size > 1 else 0.0


def summarise(rows: list[dict]) -> dict:
    """Per dt: mean and std over seeds (std with ddof=1; 0 for one seed) and the Pareto
    front of (test accuracy, total spikes per neuron)."""
    per_dt = []
    for dt in sorted({r["dt"] for r in rows}):
        rs = [r for r in rows if r["dt"] == dt]
        d = {"dt": dt, "seeds": sorted(r["seed"] for r in rs)}
        for col in ("test_accuracy", "train_accuracy", "spikes_hidden", "spikes_output",
                    "spikes_total", "confidence_end", "t_first_output", "t_first_label"):
            d[col + "_mean"], d[col + "_std"] = _ms(r[col] for r in rs)
        d["confidence_mean"] = np.mean([r["confidence"] for r in rs], axis=0).tolist()
        d["confidence_t"] = rs[0]["confidence_t"]
        per_dt.append(d)
    front = pareto_front([(d["test_accuracy_mean"], d["spikes_total_mean"]) for d in per_dt])
    return {"per_dt": per_dt, "pareto_dts": [per_dt[i]["dt"] for i in front],
            **_paired_vs_exact(rows)}


def _paired_vs_exact(rows: list[dict]) -> dict:
    """Per dt > 0, the paired test-accuracy difference (same seeds) to the exact-time run
    (dt = 0), its 95 % interval and the decision "within 2 points"."""
    base = {r["seed"]: r["test_accuracy"] for r in rows if r["dt"] == 0}
    if not base:
        return {}
    out = []
    for dt in sorted({r["dt"] for r in rows if r["dt"] != 0}):
        a = {r["seed"]: r["test_accuracy"] for r in rows if r["dt"] == dt}
        common = sorted(s for s in a if s in base)
        p = stats.paired([a[s] for s in common], [base[s] for s in common]) if common else None
        if p is not None:
            p["paired_seeds"] = common
        out.append({"dt": dt, "baseline_dt": 0.0,
                    **stats.summary_fields(p, 2.0, f"dt = {dt:g} vs exact time (dt = 0)")})
    return {"paired_vs_exact": out, "decisions": [d["decision_line"] for d in out],
            "criterion": "paired over seeds vs dt = 0: within 2 points when the 95 % "
                         "t-interval's lower bound >= -2 (one seed: no interval)"}


def plot_dt_study(rows: list[dict], summary: dict, out) -> list[Path]:
    """accuracy_vs_dt.png, sparsity_vs_dt.png, pareto.png, confidence.png in ``out``."""
    plt = _plt()
    out = Path(out)
    per = summary["per_dt"]
    x = np.arange(len(per))
    labels = [f"{d['dt'] * 1e3:g}" for d in per]
    paths = []

    def vs_dt(cols, ylabel, title, name, reference=None):
        """One figure of mean ± std over seeds against dt, one line per ``(column, label)``."""
        fig, ax = plt.subplots(figsize=(SINGLE_COLUMN_IN, 2.8))
        for col, lab in cols:
            ax.errorbar(x, [d[col + "_mean"] for d in per],
                        yerr=[d[col + "_std"] for d in per], marker="o", capsize=3, label=lab)
        if reference is not None:
            ax.axhline(reference[0], color="k", ls="--", lw=1, label=reference[1])
        ax.set_xticks(x, labels)
        ax.set_xlabel("dt (ms), 0 = continuous")
        ax.set_ylabel(ylabel)
        ax.legend()
        ax.grid(alpha=0.3)
        ax.set_title(f"{title} (mean ± std over seeds)")
        paths.append(_save(fig, out / name))

    vs_dt((("test_accuracy", "test"), ("train_accuracy", "train")), "accuracy (%)",
          "accuracy vs dt", "accuracy_vs_dt.png",
          reference=(per[0]["test_accuracy_mean"], f"test, dt = {per[0]['dt'] * 1e3:g} ms"))
    vs_dt((("spikes_hidden", "hidden"), ("spikes_output", "output")),
          "mean spikes per neuron per sample", "spikes vs dt", "sparsity_vs_dt.png")

    fig, ax = plt.subplots(figsize=(SINGLE_COLUMN_IN, 2.8))
    acc = [d["test_accuracy_mean"] for d in per]
    spk = [d["spikes_total_mean"] for d in per]
    ax.scatter(spk, acc, c="tab:gray")
    for d, a, s in zip(per, acc, spk, strict=True):
        ax.annotate(f"{d['dt'] * 1e3:g} ms", (s, a), fontsize=7)
    front = sorted((s, a) for d, a, s in zip(per, acc, spk, strict=True)
                   if d["dt"] in summary["pareto_dts"])
    ax.plot([p[0] for p in front], [p[1] for p in front], "r-o", label="Pareto front")
    ax.set_xlabel("spikes per neuron (hidden + output)")
    ax.set_ylabel("test accuracy (%)")
    ax.legend()
    ax.grid(alpha=0.3)
    ax.set_title("accuracy vs spikes: Pareto front over dt")
    paths.append(_save(fig, out / "pareto.png"))

    fig, ax = plt.subplots(figsize=(SINGLE_COLUMN_IN, 2.8))
    for d in per:
        ax.plot(np.asarray(d["confidence_t"]) * 1e3, d["confidence_mean"],
                label=f"{d['dt'] * 1e3:g} ms")
    ax.set_xlabel("time (ms)")
    ax.set_ylabel("label spikes / target (prediction confidence)")
    ax.legend(fontsize=6, ncol=2)
    ax.grid(alpha=0.3)
    ax.set_title("prediction confidence over the sample")
    paths.append(_save(fig, out / "confidence.png"))
    return paths
