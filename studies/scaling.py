"""Accuracy vs network size: Diehl & Cook and tinySNN at N = 100 .. 1600, seeds.

    .venv/bin/python studies/scaling.py --networks diehl-cook,tinysnn \
        --neurons 100,400,900,1600 --seeds 0,1,2 --epochs 1 --out studies/results/scaling

Each (network, N, seed) is trained with ``lavalab.stdp.train`` (fixed point, engine,
``epochs`` x 60000 MNIST samples in order, label assignment on the last 10000 training
samples) and evaluated on the full 10k test set (all-activity vote); its folder under
``--out/runs/`` keeps ``train.json``, ``eval.json`` and ``model.npz`` (models are not
committed: see .gitignore). The learning mechanisms act in training only: the evaluated
network is one Loihi can run for inference (``lavalab compile --model``), at the
network's inference step (0.5 ms from 900 neurons, ``lavalab.networks.snn.DEFAULTS``).
A finished configuration is skipped on a rerun and an interrupted training resumes from its
checkpoint, so the same command continues a study. A run of more epochs continues the
finished run of the same configuration and seed with the most samples below it (``lavalab
train --init-from``: bit for bit the model of one run from scratch, tested), so
``--epochs 5`` after ``--epochs 3`` trains two epochs, not five.
``--curve 500,1000,2000,5000,10000`` instead trains N = ``--neurons`` (one value) on each
prefix of the training set (the training-curve check: accuracy must rise with samples).

Configurations run one after another by default; ``--workers K`` trains K at once in
threads, ``--executor dask`` runs one Dask task per (network, N, mechanism, seed, samples)
on a LocalCluster of ``--workers`` processes or, with ``--scheduler tcp://HOST:PORT``, on a
running cluster (see the README): each task trains in a scratch folder on its worker and
returns train.json, model.npz and eval.json as bytes, which this process writes into the
run folder (eval.json last), so a rerun skips them exactly as after a local run. A Dask
task starts from the run folder's checkpoint.npz when one exists; a task whose worker dies
is reported and computed by the next run.

``--inference dt1,dt0.5+one_spike_infer,dt0.5+stock`` adds, for every trained run, the
same weights re-assigned and evaluated with another inference network (``lavalab
assign``; folders ``<run mechanism>@<variant>``): the deployable network against one
spike per step, the stock network (``+stock``: ``lavalab assign --stock``, the stock
Processes' neuron), or the step sizes, without training again. ``+assignK`` assigns the
labels on the last K training samples instead of training's 10000 (e.g.
``dt1+assign60000``: the last epoch).

``--mechanisms`` overrides the networks' default learning mechanisms (``default`` or a
``rule[+one_spike][+uniform|+samples][+dtMS]`` string such as ``stdp1``,
``triplet+one_spike``, ``stdp1+one_spike+uniform+dt1`` (inference at the 1 ms training step)):
several values give an ablation. Writes ``results.json`` / ``results.csv`` (one row per run, and per
(network, N, mechanism) the mean, std and per-seed values) and ``scaling.png``
(accuracy vs N with the seed std as error bars) or ``curve.png``.
"""

from __future__ import annotations

import argparse
import csv
import io
import os
import shutil
import sys
import time
from pathlib import Path

import numpy as np

from lavalab.model_io import VERSION as MODEL_IO_VERSION
from lavalab.model_io import load_json, write_json
from lavalab.networks.snn import INITS, default_inference, default_mechanisms
from lavalab.stdp import TrainConfig, assign, evaluate, load_model, train
from lavalab.study import executor as xq

FORMAT = "lavalab.scaling/1"  # of scaling.json / curve.json, with VERSION
VERSION = 1
#: what lavalab train / evaluate write into a run folder (read back here)
TRAIN_FORMAT, EVAL_FORMAT = "lavalab-train-report", "lavalab-eval-report"
MNIST_TRAIN = 60000


def _record(path: Path, fmt: str) -> dict:
    """A run folder's ``train.json`` / ``eval.json``; one of another kind or version raises
    ``ValueError`` naming it."""
    rec = load_json(path)
    if (rec.get("format"), rec.get("version")) != (fmt, MODEL_IO_VERSION):
        raise ValueError(f"{path}: format {rec.get('format')!r} version "
                         f"{rec.get('version')!r}, expected {fmt!r} version "
                         f"{MODEL_IO_VERSION}")
    return rec


def _mech(text: str) -> tuple[str | None, bool | None, str | None, float | None,
                             bool | None]:
    """``RULE[+one_spike|+no_one_spike][+uniform|+samples][+dtMS][+one_spike_infer|
    +no_one_spike_infer]`` or ``default`` -> (rule, one_spike, w_init, inference_dt_ms,
    one_spike_infer), None where the network's default applies (``+dt0.5``: assign,
    evaluate and deploy at 0.5 ms steps; ``+one_spike_infer``: one spike per step at
    inference too)."""
    if text == "default":
        return None, None, None, None, None
    parts = text.split("+")
    rule = parts[0] or None
    one = init = idt = osi = None
    order = []  # the parts must come in the grammar's order
    for part in parts[1:]:
        if part in ("one_spike", "no_one_spike") and one is None:
            one, pos = part == "one_spike", 0
        elif part in INITS and init is None:
            init, pos = part, 1
        elif part.startswith("dt") and idt is None and _is_number(part[2:]):
            idt, pos = float(part[2:]), 2
        elif part in ("one_spike_infer", "no_one_spike_infer") and osi is None:
            osi, pos = part == "one_spike_infer", 3
        else:
            pos = -1
        if pos < 0 or (order and pos < order[-1]):
            raise SystemExit(f"scaling.py: error: --mechanisms value {text!r} is not "
                             "'default' or 'RULE[+one_spike|+no_one_spike][+uniform|+samples]"
                             "[+dtMS][+one_spike_infer|+no_one_spike_infer]'")
        order.append(pos)
    return rule, one, init, idt, osi


def _variant(text: str) -> tuple[float, bool, int | None, bool]:
    """An ``--inference`` value ``dtMS[+one_spike_infer|+stock][+assignK]`` -> (step,
    one_spike_infer, assignment samples or None: as the run's training assigned, stock:
    the stock-exact network of ``lavalab assign --stock``)."""
    head, *rest = text.split("+")
    osi = bool(rest) and rest[0] == "one_spike_infer"
    stock = bool(rest) and rest[0] == "stock"
    rest = rest[1:] if osi or stock else rest
    k = rest[0][6:] if len(rest) == 1 and rest[0].startswith("assign") else None
    if not (head.startswith("dt") and _is_number(head[2:])) or (rest and not (
            k and k.isdigit() and 0 < int(k) <= 10**7)):
        raise SystemExit(f"scaling.py: error: --inference value {text!r} is not "
                         "'dtMS[+one_spike_infer|+stock][+assignK]' (e.g. dt1, "
                         "dt0.5+one_spike_infer, dt0.5+stock, dt1+assign60000)")
    return float(head[2:]), osi, int(k) if k else None, stock


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _label(network: str, n: int, mech: str, used: dict | None = None) -> str:
    """The mechanisms a run used, spelled out, so that runs made with and without
    ``--mechanisms`` group together: ``used`` is train.json's ``mechanisms`` (what the
    run resolved). Runs written before train.json had it all started from uniform weights
    and resolve ``default`` with today's table (unchanged from N = 400, the only size
    such runs used ``default`` at); runs written before it named the inference step ran
    inference at the 1 ms training step."""
    used = used if used is not None else _used_before(network, n, mech)
    dt = used.get("inference_dt_ms", 1.0)
    return (f"{used['rule']}+{'one_spike' if used['one_spike'] else 'no_one_spike'}"
            + ("+samples" if used["w_init"] == "samples" else "")
            + ("" if dt == 1.0 else f"+dt{dt:g}")
            + ("+one_spike_infer" if used.get("one_spike_infer") else "")
            + ("+stock" if used.get("stock") else "")
            + (f"+assign{used['assign_samples']}" if used.get("assign_samples") else ""))


def _used_before(network: str, n: int, mech: str) -> dict:
    """The mechanisms of a run whose train.json does not name them (see :func:`_label`)."""
    rule, one = _mech(mech.split("@")[0])[:2]
    d_rule, d_one, _ = default_mechanisms(network, n)
    return {"rule": d_rule if rule is None else rule,
            "one_spike": d_one if one is None else one, "w_init": "uniform"}


def _run_dir(out: Path, network: str, n: int, mech: str, seed: int, samples: int) -> Path:
    return out / "runs" / f"{network}-{n}-{mech}-s{seed}-{samples}"


def collect(out: Path) -> list[dict]:
    """Rows of every finished run under ``out/runs`` (whatever command made it)."""
    rows = []
    for d in sorted((out / "runs").glob("*")):
        if not (d / "eval.json").exists():
            continue
        tr = _record(d / "train.json", TRAIN_FORMAT)
        c = tr["config"]
        total = tr.get("samples_total", c["samples"])  # a continued run: the whole stream
        head, tail = f"{c['network']}-{c['neurons']}-", f"-s{c['seed']}-{total}"
        mech = d.name[len(head):-len(tail)]
        if _run_dir(out, c["network"], c["neurons"], mech, c["seed"], total) != d:
            raise SystemExit(f"scaling.py: error: {d} is not a run folder of this study")
        rows.append(run_one(out, c["network"], c["neurons"], c["seed"], total, mech,
                            0, False))
    return rows


def run_one(out: Path, network: str, n: int, seed: int, samples: int, mech: str,
            test_samples: int, progress: bool) -> dict:
    """Train and evaluate one configuration (skipped when its eval.json exists)."""
    d = _run_dir(out, network, n, mech, seed, samples)
    ev_path = d / "eval.json"
    if not ev_path.exists():
        train_eval(str(d), network, n, seed, samples, mech, test_samples, progress)
    tr, ev = _record(d / "train.json", TRAIN_FORMAT), _record(ev_path, EVAL_FORMAT)
    if "accuracy_pct" not in ev:
        raise SystemExit(f"scaling.py: error: {ev_path} has no accuracy_pct (written by an "
                         "older lavalab): evaluate that model again")
    return {"network": network, "neurons": n,
            "mechanism": _label(network, n, mech, tr.get("mechanisms")), "seed": seed,
            "samples": samples, "epochs": samples / MNIST_TRAIN,
            "accuracy": ev["accuracy_pct"],
            "accuracy_proportion": ev["accuracy_proportion_weighting_pct"],
            "test_samples": ev["samples"],
            "unassigned": tr["assignment"].get("neurons_unassigned",
                                               n - tr["assignment"]["neurons_assigned"]),
            "train_wall_s": _train_wall(d), "train_samples_per_s": tr["samples_per_s"],
            "theta_mean": tr["theta_mean"], "warnings": tr["warnings"]}


def _train_wall(d: Path) -> float:
    """Training wall time of run folder ``d``, with that of the runs it continued."""
    tr = _record(d / "train.json", TRAIN_FORMAT)
    if tr.get("inference_variant_of"):  # re-assigned, not trained: its training run's
        return _train_wall(d.parent / tr["inference_variant_of"])
    src = (tr.get("init_from") or {}).get("model")
    return tr["wall_s"] + (_train_wall(d.parent / Path(src).name) if src else 0.0)


def _continues(folder: Path, samples: int) -> tuple[Path, int] | None:
    """The finished run of ``folder``'s configuration and seed with the most samples below
    ``samples`` (a sibling folder ``<same name>-<fewer samples>``), and its samples."""
    stem = folder.name.rsplit("-", 1)[0]
    best = None
    for d in folder.parent.glob(f"{stem}-*"):
        tail = d.name[len(stem) + 1:]
        if tail.isdigit() and int(tail) < samples and (d / "model.npz").is_file() \
                and (d / "train.json").is_file() and (best is None or int(tail) > best[1]):
            best = (d, int(tail))
    return best


def train_eval(folder: str, network: str, n: int, seed: int, samples: int, mech: str,
               test_samples: int, progress: bool) -> None:
    """Train one configuration into ``folder`` (resuming its checkpoint.npz) and evaluate
    it there: train.json, model.npz, eval.json."""
    if "@" in mech:  # an inference variant of a trained run: no training
        base, variant = mech.split("@")
        src = _run_dir(Path(folder).parent.parent, network, n, base, seed, samples)
        if not (src / "model.npz").is_file():
            raise ValueError(f"{src} has no trained model for the inference variant {variant}")
        dt, osi, n_assign, stock = _variant(variant)
        own = load_model(src).spec
        if (own.dt_ms, own.exc.one_spike_infer) == (dt, osi) and n_assign is None \
                and not stock:
            # the run's own network and labels
            Path(folder).mkdir(parents=True, exist_ok=True)
            for name in ("model.npz", "train.json", "eval.json"):  # eval.json last
                shutil.copyfile(src / name, Path(folder) / f"{name}.tmp")
                os.replace(Path(folder) / f"{name}.tmp", Path(folder) / name)
            return
        rep = assign(src, folder, inference_dt_ms=dt, one_spike_infer=osi,
                     assign_samples=n_assign, force=True, stock=stock)
        tr = _record(src / "train.json", TRAIN_FORMAT)
        used = tr.get("mechanisms") or _used_before(network, n, base)
        tr["mechanisms"] = {**used, "inference_dt_ms": rep["inference_dt_ms"],
                            "one_spike_infer": rep["one_spike_infer"],
                            **({"stock": True} if stock else {})}
        if n_assign is not None:  # labels on another number of samples than training's
            tr["mechanisms"]["assign_samples"] = rep["samples"]
        tr["inference_variant_of"] = str(src.name)
        tr["warnings"] = rep["warnings"]
        tr["assignment"] = {"samples": rep["samples"], "wall_s": rep["wall_s"],
                            "neurons_assigned": rep["neurons_assigned"],
                            "neurons_unassigned": n - rep["neurons_assigned"],
                            "neurons_per_class": rep["neurons_per_class"]}
        write_json(Path(folder) / "train.json", tr)
        evaluate(folder, samples=test_samples, out=folder)
        return
    rule, one, init, idt, osi = _mech(mech)
    prev = _continues(Path(folder), samples)
    cfg = TrainConfig(network=network, neurons=n, rule=rule, one_spike=one, w_init=init,
                      inference_dt_ms=idt, one_spike_infer=osi,
                      samples=samples - (prev[1] if prev else 0), seed=seed,
                      assign_samples=min(10000, samples), checkpoint_every=2000,
                      init_from=str(prev[0]) if prev else None)
    train(cfg, folder, progress=progress)
    evaluate(folder, samples=test_samples, out=folder)


def _local_task(out: str, job: tuple, test_samples: int, progress: bool, bar=None) -> dict:
    """A configuration trained in its run folder (threads: same file system)."""
    net, n, s, c, m = job
    train_eval(str(_run_dir(Path(out), net, n, m, s, c)), net, n, s, c, m, test_samples,
               progress)
    return {"row": None, "files": {}}


def _remote_task(job: tuple, test_samples: int, inputs: dict, bar=None) -> dict:
    """A configuration trained in a scratch folder of its worker; its files as bytes."""
    net, n, s, c, m = job
    return xq.folder_task(train_eval, (net, n, s, c, m, test_samples, False), inputs)


def run_all(out: Path, jobs: list[tuple], test_samples: int, spec: xq.ExecutorSpec,
            progress: bool) -> None:
    """Train and evaluate every configuration of ``jobs`` without an eval.json, on the
    executor of ``spec``; each is written (and reported) the moment it finishes."""
    todo = [j for j in jobs if not (_run_dir(out, j[0], j[1], j[4], j[2], j[3])
                                    / "eval.json").exists()]
    if not todo:
        return
    t0, done = time.time(), [0]
    by_key = {f"{net}-{n}-{m}-s{s}-{c}": (net, n, s, c, m) for net, n, s, c, m in todo}

    def on_result(task: xq.Task, res: dict) -> None:
        net, n, s, c, m = by_key[task.key]
        d = _run_dir(out, net, n, m, s, c)
        xq.write_files(d, res["files"], last=("eval.json",))
        r = run_one(out, net, n, s, c, m, test_samples, False)
        done[0] += 1
        from tqdm import tqdm

        tqdm.write(f"[{done[0]}/{len(todo)}] {net}-{n} {m} seed {s}, {c} samples: accuracy "
                   f"{r['accuracy']:.2f} % ({r['unassigned']} unassigned, train "
                   f"{r['train_wall_s']:.0f} s; {time.time() - t0:.0f} s since start)")

    with xq.open_executor(spec) as ex:
        tasks = []
        for key, (net, n, s, c, m) in by_key.items():
            if ex.shared_files:  # train in place (a checkpoint resumes an interrupted run)
                tasks.append(xq.Task(key, _local_task, (str(out), (net, n, s, c, m),
                                                        test_samples, progress)))
                continue
            ck = _run_dir(out, net, n, m, s, c) / "checkpoint.npz"
            inputs = {"checkpoint.npz": ck.read_bytes()} if ck.is_file() else {}
            tasks.append(xq.Task(key, _remote_task, ((net, n, s, c, m), test_samples, inputs)))
        ex.run(tasks, on_result, "scaling study", progress and not ex.shared_files,
               unit="config")


def _unique(rows: list[dict]) -> list[dict]:
    """Rows without an inference variant that repeats its run's own inference network (same
    network, N, seed, samples and mechanism label: the same model, re-assigned)."""
    seen, out = set(), []
    for r in rows:
        k = (r["network"], r["neurons"], r["seed"], r["samples"], r["mechanism"])
        if k not in seen:
            seen.add(k)
            out.append(r)
    return out


def summarise(rows: list[dict], key: tuple[str, ...]) -> list[dict]:
    groups: dict[tuple, list[dict]] = {}
    for r in rows:
        groups.setdefault(tuple(r[k] for k in key), []).append(r)
    out = []
    for k, rs in sorted(groups.items()):
        acc = np.array([r["accuracy"] for r in rs])
        out.append({**dict(zip(key, k, strict=True)), "seeds": [r["seed"] for r in rs],
                    "accuracy_mean": float(acc.mean()),
                    "accuracy_std": float(acc.std(ddof=1)) if len(acc) > 1 else 0.0,
                    "accuracy_per_seed": acc.tolist(),
                    "epochs": rs[0]["epochs"],
                    "train_wall_s_mean": float(np.mean([r["train_wall_s"] for r in rs]))})
    return out


def default_label(network: str, n: int) -> str:
    """The mechanism label of ``network``'s size defaults at ``n`` neurons (training and
    inference, :data:`lavalab.networks.snn.DEFAULTS`)."""
    rule, one, init = default_mechanisms(network, n)
    dt, osi = default_inference(network, n)
    return _label(network, n, "default", {"rule": rule, "one_spike": one, "w_init": init,
                                          "inference_dt_ms": dt or 1.0,
                                          "one_spike_infer": osi})


def headline(summary: list[dict]) -> list[dict]:
    """Per network and N: the size defaults (most epochs run), the best network that
    runs on Loihi for inference (any training run, without one spike per step at test,
    labels on training's own samples; the defaults where they are deployable) and the best
    stock network among those (``lavalab assign --stock``: the stock Processes' neuron,
    theta's fold the one approximation left); rows of ``summary`` with ``line`` set to
    ``"default"``, ``"deployable"`` or ``"stock"``."""
    out = []
    for net in sorted({r["network"] for r in summary}):
        for n in sorted({r["neurons"] for r in summary if r["network"] == net}):
            at = [r for r in summary if r["network"] == net and r["neurons"] == n]
            rs = [r for r in at if r["mechanism"] == default_label(net, n)]
            if rs:
                out.append({**max(rs, key=lambda r: r["epochs"]), "line": "default"})
            rs = [r for r in at if "one_spike_infer" not in r["mechanism"].split("+")
                  and "+assign" not in r["mechanism"]]  # the same label protocol
            if rs:
                out.append({**max(rs, key=lambda r: (r["accuracy_mean"], -r["epochs"])),
                            "line": "deployable"})
            rs = [r for r in rs if "stock" in r["mechanism"].split("+")]
            if rs:  # the stock Processes' network (lavalab assign --stock)
                out.append({**max(rs, key=lambda r: (r["accuracy_mean"], -r["epochs"])),
                            "line": "stock"})
    return out


def plot_headline(rows: list[dict], path: Path, title: str) -> None:
    """Accuracy vs N of the size defaults (and their deployable inference), per network."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7.6, 4.2))
    style = {"default": "-", "deployable": "--", "stock": ":"}
    names = {"default": "size defaults", "deployable": "deployable on Loihi",
             "stock": "stock Processes' neuron"}
    for i, net in enumerate(sorted({r["network"] for r in rows})):
        for line in style:
            pts = sorted((r["neurons"], r["accuracy_mean"], r["accuracy_std"], r["epochs"])
                         for r in rows if r["network"] == net and r["line"] == line)
            if not pts:
                continue
            x, y, e, ep = zip(*pts, strict=True)
            ax.errorbar(x, y, yerr=e, marker="os"[i % 2], capsize=3, color=f"C{i}",
                        linestyle=style[line],
                        label=f"{net}: {names[line]}")
            if line == "default":
                for xi, yi, epi in zip(x, y, ep, strict=True):
                    ax.annotate(f"{epi:g} ep", (xi, yi), textcoords="offset points",
                                xytext=(4, 6 if i == 0 else -12), fontsize=7, color=f"C{i}")
    _finish(fig, ax, sorted({r["neurons"] for r in rows}), "excitatory neurons N", title, 8,
            path)


def _finish(fig, ax, xticks, xlabel: str, title: str, title_size: int, path: Path) -> None:
    """Log x axis with plain ticks, labels, legend outside the data; saved atomically."""
    import matplotlib
    import matplotlib.pyplot as plt

    ax.set_xscale("log")
    ax.set_xticks(xticks)
    ax.get_xaxis().set_major_formatter(matplotlib.ticker.ScalarFormatter())
    ax.minorticks_off()
    ax.set_xlabel(xlabel)
    ax.set_ylabel("test accuracy (%, mean ± std over seeds)")
    ax.set_title(title, fontsize=title_size)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    fig.tight_layout()
    tmp = path.with_suffix(".tmp.png")
    fig.savefig(tmp, dpi=120)
    plt.close(fig)
    tmp.replace(path)


def plot(summary: list[dict], xkey: str, path: Path, title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8.0, 4.4))
    def line(s):  # N scaling: one line per epoch count too; a curve's epochs are its x
        return (s["network"], s["mechanism"], s["epochs"] if xkey == "neurons" else 0)

    lines = sorted({line(s) for s in summary})
    markers = "osD^v<>p"
    for i, (net, mech, ep) in enumerate(lines):
        pts = sorted((s[xkey], s["accuracy_mean"], s["accuracy_std"]) for s in summary
                     if line(s) == (net, mech, ep))
        x, y, e = zip(*pts, strict=True)
        ax.errorbar(x, y, yerr=e, marker=markers[i % len(markers)], capsize=3,
                    color=f"C{i % 10}",
                    label=f"{net} ({mech}" + (f", {ep:g} ep)" if ep else ")"))
    _finish(fig, ax, sorted({s[xkey] for s in summary}),
            "excitatory neurons N" if xkey == "neurons" else "training samples", title, 7, path)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--networks", default="diehl-cook,tinysnn")
    p.add_argument("--neurons", default="100,400,900,1600")
    p.add_argument("--seeds", default="0,1,2")
    p.add_argument("--epochs", type=float, default=1.0)
    p.add_argument("--curve", default="", help="training-curve check: sample counts")
    p.add_argument("--mechanisms", default="default")
    p.add_argument("--inference", default="", help="inference variants of every trained run, "
                   "e.g. dt1,dt0.5,dt0.5+one_spike_infer: the same weights re-assigned and "
                   "evaluated (lavalab assign), no training")
    p.add_argument("--test-samples", type=int, default=10000)
    p.add_argument("--quiet", action="store_true")
    p.add_argument("--collect", action="store_true", help="train nothing: tabulate every "
                   "finished run under --out/runs (e.g. made by several commands)")
    p.add_argument("--out", required=True)
    xq.add_arguments(p, default_workers=1)
    a = p.parse_args()
    try:
        spec = xq.ExecutorSpec(kind=a.executor, scheduler=a.scheduler,
                               workers=a.workers if a.workers is not None or a.scheduler
                               else (1 if a.executor == "threads" else None),
                               threads_per_worker=a.threads_per_worker,
                               connect_timeout_s=a.connect_timeout)
    except ValueError as err:
        print(f"scaling.py: error: {err}", file=sys.stderr)
        raise SystemExit(2) from None
    out = Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    nets = a.networks.split(",")
    sizes = [int(x) for x in a.neurons.split(",")]
    seeds = [int(x) for x in a.seeds.split(",")]
    mechs = a.mechanisms.split(",")
    for m in mechs:
        _mech(m)
    variants = [v for v in a.inference.split(",") if v]
    for v in variants:
        _variant(v)

    curve = [int(x) for x in a.curve.split(",") if x]
    if curve and len(sizes) != 1:
        raise SystemExit("scaling.py: error: --curve takes one --neurons value")
    counts = curve or [round(a.epochs * MNIST_TRAIN)]
    jobs = [(net, n, s, c, m) for net in nets for m in mechs for n in sizes for c in counts
            for s in seeds]
    var_jobs = [(net, n, s, c, f"{m}@{v}") for net, n, s, c, m in jobs for v in variants]
    try:
        if a.collect:
            rows = _unique(collect(out))
        else:
            run_all(out, jobs, a.test_samples, spec, not a.quiet)
            # inference variants: re-assigned and evaluated here, after their training
            rows = _unique([run_one(out, net, n, s, c, m, a.test_samples, False)
                            for net, n, s, c, m in jobs + var_jobs])
    except (ValueError, xq.StudyIncomplete, OSError) as err:
        print(f"scaling.py: error: {' '.join(str(err).split())}", file=sys.stderr)
        raise SystemExit(2) from None
    xkey = "samples" if curve else "neurons"
    summary = summarise(rows, ("network", "mechanism", "epochs", xkey) if not curve
                        else ("network", "mechanism", xkey))
    name = "curve" if curve else "scaling"
    write_json(out / f"{name}.json", {"format": FORMAT, "version": VERSION, "command": vars(a),
                                      "rows": rows, "summary": summary})
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=["network", "mechanism", xkey, "epochs", "seeds",
                                        "accuracy_mean", "accuracy_std", "accuracy_per_seed",
                                        "train_wall_s_mean"])
    w.writeheader()
    for srow in summary:
        w.writerow(srow)
    (out / f"{name}.csv").write_text(buf.getvalue())
    seeds_seen = ",".join(str(s) for s in sorted({r["seed"] for r in rows}))
    epochs_seen = ",".join(f"{e:g}" for e in sorted({r["epochs"] for r in rows}))
    title = (f"{', '.join(sorted({r['network'] for r in rows}))}; seeds {seeds_seen}; "
             + (f"N = {sizes[0]}" if curve else f"{epochs_seen} epoch(s) of MNIST")
             + f"; {','.join(str(t) for t in sorted({r['test_samples'] for r in rows}))} "
             "test digits; fixed point")
    plot(summary, xkey, out / f"{name}.png", title)
    if not curve:  # the size defaults, and what deployability costs
        head = headline(summary)
        if head:
            plot_headline(head, out / "headline.png",
                          f"size defaults, seeds {seeds_seen}, full MNIST test set, fixed "
                          "point\n(epochs as annotated; dashed: the best network "
                          "deployable for inference)")
    print(f"\n{'network':>11} {'mechanism':>20} {xkey:>8} {'accuracy %':>16}  per seed")
    for srow in summary:
        print(f"{srow['network']:>11} {srow['mechanism']:>20} {srow[xkey]:>8} "
              f"{srow['accuracy_mean']:7.2f} ± {srow['accuracy_std']:5.2f}  "
              + ", ".join(f"{v:.2f}" for v in srow["accuracy_per_seed"]))
    print(f"wrote {out}/{name}.json, {name}.csv, {name}.png")


if __name__ == "__main__":
    main()
