"""``lavalab study latency``: accuracy, spikes, energy and latency per inference against the
number of timesteps T, for the plain SLAYER CUBA network and Yao et al.'s variants.

Every configuration (method, T, seed) trains a network of :class:`LatencySetup`'s size on
the first ``train_samples`` MNIST training digits, evaluates it in torch on the first
``test_samples`` test digits, lowers it (:func:`lavalab.compile.supervised.lower_supervised`)
and prices its per-sample event counts with the shared energy analysis. Methods:

- ``cuba``: plain SLAYER CUBA network (the baseline);
- ``seed002``: MRF + Omega (not deployable: ``projection_is_stock_neuron``); its row also
  gives ``accuracy_deployable``, the same trained network evaluated without Omega (MRF
  folded in the weights: what netx can run);
- ``mrf``: MRF only, trained as such (deployable);
- ``omega``: Omega only (ablation).

Results: ``out/results.json`` / ``results.csv`` through :class:`lavalab.study.store.ResultStore`
(rows written atomically as they finish; a rerun skips finished rows and resumes an
interrupted training from its checkpoint in ``out/checkpoints/``), a ``summary`` of mean
and std over seeds per (method, T), and ``latency.png``.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from lavalab.compile.supervised import analyse_supervised, lower_supervised
from lavalab.data import load_dataset
from lavalab.fixed import check_int_range, check_real
from lavalab.loihi_spec import ENERGY_TABLES, TARGETS
from lavalab.networks.supervised import METHODS, CubaParams, MRFSpec, SupervisedSpec
from lavalab.plots import DOUBLE_COLUMN_IN, _plt, _save
from lavalab.study import stats
from lavalab.study.store import ResultStore
from lavalab.supervised.evaluate import evaluate_torch
from lavalab.supervised.train import TrainConfig, save_model, train

__all__ = ["LatencySetup", "latency_study", "METHODS", "LATENCY_COLUMNS", "make_spec"]

LATENCY_COLUMNS = ("key", "method", "timesteps", "seed", "accuracy", "accuracy_deployable",
                   "spikes_per_sample", "input_messages", "energy_infer_uJ",
                   "latency_infer_us", "sample_steps", "synops_infer", "cores", "memory_kB",
                   "loihi_ok", "loihi_rule", "train_wall_s", "test_wall_s")


@dataclass(frozen=True)
class LatencySetup:
    """What every configuration shares: the network size and neuron, Yao et al.'s parameters,
    training and test budget, and the energy table / target of the analysis."""

    hidden: tuple[int, ...] = (256,)
    neuron: CubaParams = CubaParams()
    encoding: str = "direct"
    theta: float = 0.5
    mrf_window: int = 3
    mrf_dilations: tuple[int, ...] = (1, 2)
    train_samples: int = 10000
    test_samples: int = 10000
    epochs: int = 2
    batch_size: int = 128
    lr: float = 2e-3
    energy_table: str = "davies2018"
    target: str = "loihi2"
    threads: int = 1

    def __post_init__(self):
        SupervisedSpec(hidden=self.hidden, neuron=self.neuron, encoding=self.encoding,
                       mrf=MRFSpec(self.mrf_window, self.mrf_dilations),
                       omega_theta=self.theta)  # validates the shared network fields
        check_int_range("train_samples", self.train_samples, 1, 60000)
        check_int_range("test_samples", self.test_samples, 1, 10000)
        TrainConfig(epochs=self.epochs, batch_size=self.batch_size, lr=self.lr,
                    threads=self.threads)
        check_real("theta", self.theta, lo=1e-3, hi=3.0)
        if self.energy_table not in ENERGY_TABLES:
            raise ValueError(f"energy_table={self.energy_table!r} is not one of "
                             f"{tuple(ENERGY_TABLES)}")
        if self.target not in TARGETS:
            raise ValueError(f"target={self.target!r} is not one of {tuple(TARGETS)}")


def make_spec(setup: LatencySetup, method: str, timesteps: int) -> SupervisedSpec:
    """The network of ``method`` at ``timesteps`` (see the module doc)."""
    if method not in METHODS:
        raise ValueError(f"method={method!r} is not one of {METHODS}")
    mrf = (MRFSpec(setup.mrf_window, setup.mrf_dilations)
           if method in ("seed002", "mrf") else None)
    theta = setup.theta if method in ("seed002", "omega") else None
    return SupervisedSpec(hidden=setup.hidden, neuron=setup.neuron, timesteps=timesteps,
                          encoding=setup.encoding, mrf=mrf, omega_theta=theta)


def _setup_dict(setup: LatencySetup) -> dict:
    d = asdict(setup)
    d["hidden"] = list(setup.hidden)
    d["mrf_dilations"] = list(setup.mrf_dilations)
    return d


def latency_study(setup: LatencySetup, out, timesteps=(1, 2, 4, 8),
                  methods=("cuba", "seed002", "mrf"), seeds=(0, 1, 2),
                  progress: bool = True, log=print) -> dict:
    """Run every (method, T, seed) not yet in ``out/results.json``; returns the summary."""
    for t in timesteps:
        check_int_range("timesteps", t, 1, 64)
    for m in methods:
        if m not in METHODS:
            raise ValueError(f"method={m!r} is not one of {METHODS}")
    for s in seeds:
        check_int_range("seed", s, 0, 2**31 - 2)
    out = Path(out)
    grid = {"timesteps": list(timesteps), "methods": list(methods), "seeds": list(seeds)}
    store = ResultStore(out, "latency", _setup_dict(setup), LATENCY_COLUMNS, grid)
    # this grid's rows; rows of other grids are kept apart (never in its summary)
    store.select(f"{m}-T{t}-s{s}" for s in seeds for t in timesteps for m in methods)
    tr = load_dataset("mnist", "train")
    te = load_dataset("mnist", "test")
    xte, yte = te.images[:setup.test_samples], te.labels[:setup.test_samples]
    todo = [(m, t, s) for s in seeds for t in timesteps for m in methods
            if not store.done(f"{m}-T{t}-s{s}")]
    for i, (m, t, s) in enumerate(todo):
        key = f"{m}-T{t}-s{s}"
        spec = make_spec(setup, m, t)
        cfg = TrainConfig(epochs=setup.epochs, batch_size=setup.batch_size, lr=setup.lr,
                          seed=s, train_samples=setup.train_samples, threads=setup.threads)
        if log is not None:
            log(f"[{i + 1}/{len(todo)}] {key}: training")
        t0 = time.perf_counter()
        (out / "checkpoints").mkdir(parents=True, exist_ok=True)
        net, hist = train(spec, cfg, tr.images, tr.labels,
                          checkpoint=out / "checkpoints" / f"{key}.ckpt", progress=progress)
        train_s = time.perf_counter() - t0
        ev = evaluate_torch(net, xte, yte, seed=s)
        dep = (evaluate_torch(net, xte, yte, seed=s, use_omega=False).accuracy
               if spec.omega_theta is not None else ev.accuracy)
        row_a, _ = analyse_supervised(lower_supervised(net), ev.events, setup.energy_table,
                                      setup.target)
        sp = ev.spikes_per_sample()
        row = dict(key=key, method=m, timesteps=t, seed=s, accuracy=ev.accuracy,
                   accuracy_deployable=dep if m != "omega" else None,
                   spikes_per_sample=sum(v for k, v in sp.items() if k != "input_messages"),
                   input_messages=sp["input_messages"], train_wall_s=train_s,
                   test_wall_s=ev.seconds, history=hist, spikes_by_layer=sp, **row_a)
        (out / "models").mkdir(exist_ok=True)
        save_model(out / "models" / f"{key}.npz", net, {"history": hist, "config": asdict(cfg)})
        store.add(row, _summary(store))
        (out / "checkpoints" / f"{key}.ckpt").unlink(missing_ok=True)
        if log is not None:
            log(f"  {key}: accuracy {ev.accuracy:.2f} % (deployable {dep:.2f} %), "
                f"{row['spikes_per_sample']:.1f} spikes/sample, "
                f"{row['energy_infer_uJ']:.3f} uJ, {row['latency_infer_us']:.1f} us")
    summary = _summary(store)
    store.write(summary)
    if store.grid_rows():
        plot_latency(store.grid_rows(), out / "latency.png")
    return summary


def _summary(store: ResultStore) -> dict:
    """Mean and std (over seeds, ``ddof=0``) per method and T of accuracy, deployable
    accuracy, spikes, energy and latency."""
    groups: dict = {}
    for r in store.grid_rows():
        groups.setdefault((r["method"], r["timesteps"]), []).append(r)
    out = []
    for (m, t), rows in sorted(groups.items()):
        rec = {"method": m, "timesteps": t, "seeds": sorted(r["seed"] for r in rows)}
        for col in ("accuracy", "accuracy_deployable", "spikes_per_sample", "energy_infer_uJ",
                    "latency_infer_us"):
            vals = [r[col] for r in rows if r.get(col) is not None]
            if vals:
                rec[f"{col}_mean"] = float(np.mean(vals))
                rec[f"{col}_std"] = float(np.std(vals))
        out.append(rec)
    return {"by_method_and_T": out, **_paired_vs_baseline(groups)}


#: The method every other is compared with (the plain SLAYER CUBA network).
BASELINE_METHOD = "cuba"


def _paired_vs_baseline(groups: dict) -> dict:
    """Per method and T, the paired accuracy difference (same seeds) to
    :data:`BASELINE_METHOD` at the same T, with its 95 % interval and the decision
    "within 2 points" (:mod:`lavalab.study.stats`)."""
    out = []
    for (m, t), rows in sorted(groups.items()):
        base = groups.get((BASELINE_METHOD, t))
        if m == BASELINE_METHOD or not base:
            continue
        a = {r["seed"]: r["accuracy"] for r in rows}
        b = {r["seed"]: r["accuracy"] for r in base}
        common = sorted(s for s in a if s in b)
        p = stats.paired([a[s] for s in common], [b[s] for s in common]) if common else None
        if p is not None:
            p["paired_seeds"] = common
        out.append({"method": m, "timesteps": t, "baseline": BASELINE_METHOD,
                    **stats.summary_fields(p, 2.0, f"{m} vs {BASELINE_METHOD} at T = {t}")})
    return {"paired_vs_baseline": out, "decisions": [d["decision_line"] for d in out],
            "criterion": f"paired over seeds vs {BASELINE_METHOD} at the same T: within 2 "
                         "points when the 95 % t-interval's lower bound >= -2"} if out else {}


def plot_latency(rows: list[dict], path) -> Path:
    """Accuracy, spikes per sample, energy and latency per inference against T (mean and
    std over seeds), one line per method."""
    plt = _plt()
    fig, axes = plt.subplots(2, 2, figsize=(DOUBLE_COLUMN_IN, 5.2))
    axes = axes.ravel()
    panels = (("accuracy", "test accuracy (%)"), ("spikes_per_sample", "spikes / sample"),
              ("energy_infer_uJ", "energy / inference (µJ)"),
              ("latency_infer_us", "latency / inference (µs)"))
    methods = sorted({r["method"] for r in rows})
    for ax, (col, label) in zip(axes, panels, strict=True):
        for m in methods:
            ts = sorted({r["timesteps"] for r in rows if r["method"] == m})
            vals = [[r[col] for r in rows if r["method"] == m and r["timesteps"] == t]
                    for t in ts]
            ax.errorbar(ts, [np.mean(v) for v in vals], yerr=[np.std(v) for v in vals],
                        fmt="o-", capsize=2, ms=4, label=m)
        ax.set_xscale("log", base=2)
        ax.set_xlabel("timesteps T (log scale)")
        ax.set_ylabel(label)
        ax.grid(alpha=0.3)
    axes[0].legend()
    fig.suptitle("latency study (MNIST): mean and std over seeds")
    return _save(fig, path)
