"""The demo job (``make demo`` / ``lavalab demo``): a TopSpark timestep study on an MNIST
subset, then the chosen configuration re-run on Lava's CPU simulator in fixed point.

1. :func:`lavalab.study.timestep_study` trains and tests tinySNN-100 (by default) at
   T = 350, 175, 100, 50 presentation steps, each reduced T with and without the
   linear parameter enhancement, on the engine; prints accuracy, energy, latency and the
   trade-off S, and chooses a configuration.
2. The chosen configuration's trained model classifies the first ``lava_samples`` test
   digits on Lava (``Loihi2SimCfg``, ``fixed_pt``) and on the engine with the same seeds;
   spike counts and event counts must be identical, and both accuracies are printed.
3. ``out`` holds ``results.json``, ``results.csv``, ``timesteps.png``, ``models/`` and
   ``lava_check.json``.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

from lavalab.cli import args as a
from lavalab.cli.output import print_rows, report_study

__all__ = ["add_parser", "run_demo", "format_check"]


def add_parser(sub) -> None:
    """Register ``lavalab demo``."""
    demo = sub.add_parser("demo", help="the main job: a timestep study on an MNIST subset, "
                          "the chosen configuration re-run on Lava fixed_pt")
    demo.add_argument("--network", choices=a.KINDS, default="tinysnn")
    demo.add_argument("--neurons", type=a.positive("--neurons", 3600), default=100)
    demo.add_argument("--timesteps", type=a.int_list("--timesteps", 1, 100000),
                      default=[350, 175, 100, 50])
    demo.add_argument("--train-samples", type=a.positive("--train-samples", 60000),
                      default=10000)
    demo.add_argument("--test-samples", type=a.positive("--test-samples", 10000),
                      default=2000)
    demo.add_argument("--lava-samples", type=a.positive("--lava-samples", 10000), default=20)
    demo.add_argument("--workers", type=a.positive("--workers", 64), default=2)
    demo.add_argument("--seed", type=a.seed, default=0, help="seed of every random draw")
    demo.add_argument("--quiet", action="store_true", help="no progress bar")
    demo.add_argument("--out", default="runs/demo")
    demo.set_defaults(func=_cmd_demo)


def _cmd_demo(args: argparse.Namespace) -> int:
    args.hold_out(args.out)  # held until the command ends (lavalab.runlock)
    print(f"lavalab demo: timestep study of {args.network}-{args.neurons} on MNIST "
          f"({args.train_samples} training / {args.test_samples} test samples, T = "
          f"{','.join(map(str, args.timesteps))}), then the chosen configuration on Lava "
          f"fixed_pt -> {args.out}")
    res = run_demo(out=args.out, network=args.network, neurons=args.neurons,
                   timesteps=args.timesteps, train_samples=args.train_samples,
                   test_samples=args.test_samples, lava_samples=args.lava_samples,
                   workers=args.workers, progress=not args.quiet, seed=args.seed)
    rows = sorted(res["rows"], key=lambda r: (-r["timesteps"], r["enhancement"]))
    print_rows(rows, ("key", "accuracy", "energy_train_uJ", "energy_infer_uJ",
                      "latency_infer_us", "S"))
    sm = res["summary"]
    print(f"chosen by S = A - ({sm['tau']:g} Ln + {sm['eps']:g} En): {sm['chosen']}; fewest "
          f"timesteps within 2 points of T0: {sm.get('fewest_timesteps_within_2pct')}")
    report_study(sm, "demo")
    print(format_check(res["lava_check"]))
    c = res["lava_check"]
    if not (c["identical_spike_counts"] and c["identical_event_counts"]):
        print("lavalab demo: error: Lava and the engine disagree", file=sys.stderr)
        return 1
    print(f"report: {res['out']}/ (results.json, results.csv, timesteps.png, "
          "lava_check.json, models/)")
    return 0


def run_demo(out="runs/demo", network: str = "tinysnn", neurons: int = 100,
             timesteps=(350, 175, 100, 50), train_samples: int = 10000,
             test_samples: int = 2000, lava_samples: int = 20, workers: int = 2,
             progress: bool = True, seed: int = 0) -> dict:
    """Run the demo job; returns ``{"summary": ..., "rows": ..., "lava_check": ...}``."""
    # Lava fixes multiprocessing's start method at import: import it first
    import lava.magma.core.process.process  # noqa: F401

    from lavalab import model_io
    from lavalab.data import load_dataset
    from lavalab.engine import EVENT_NAMES
    from lavalab.protocol import TEST_SEED_OFFSET, predict_all_activity
    from lavalab.stdp import frozen_counts, load_model
    from lavalab.study import StudySetup, timestep_study

    if not 1 <= lava_samples <= test_samples:
        raise ValueError(f"lava_samples={lava_samples} is outside the allowed range "
                         f"1..{test_samples} (test_samples)")
    out = Path(out)
    setup = StudySetup(network=network, neurons=neurons, train_samples=train_samples,
                       test_samples=test_samples,
                       assign_samples=min(train_samples, test_samples), seed=seed)
    summary = timestep_study(setup, out, timesteps=timesteps, workers=workers,
                             progress=progress)
    keys = set(summary["rows"])  # this run's grid (the file may hold other grids' rows)
    rows = [r for r in model_io.load_json(out / "results.json")["rows"] if r["key"] in keys]
    # the chosen configuration (the baseline when the choice was withheld: the Lava check
    # is about the backends, not the accuracy)
    config = summary["chosen"] or summary["baseline"]
    model = load_model(out / next(r for r in rows if r["key"] == config)["models"][0])
    test = load_dataset("mnist", "test").subset(lava_samples)
    t_seed = seed + TEST_SEED_OFFSET  # the study's test seed: the engine's counts are the study's
    t0 = time.perf_counter()
    counts_e, events_e = frozen_counts("engine", model.spec, model.precision, model.fixed,
                                       model.w, model.theta, test.images, t_seed)
    engine_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    counts_l, events_l = frozen_counts("lava", model.spec, model.precision, model.fixed,
                                       model.w, model.theta, test.images, t_seed)
    lava_s = time.perf_counter() - t0
    same_counts = bool(np.array_equal(counts_e, counts_l))
    # Lava reports weight updates per run, not per sample; inference has none anyway
    same_events = bool(np.array_equal(events_e, events_l))
    acc_e = 100 * float((predict_all_activity(counts_e, model.assignments) == test.labels).mean())
    acc_l = 100 * float((predict_all_activity(counts_l, model.assignments) == test.labels).mean())
    check = {"configuration": config, "samples": lava_samples,
             "identical_spike_counts": same_counts, "identical_event_counts": same_events,
             "accuracy_engine_pct": acc_e, "accuracy_lava_pct": acc_l,
             "events_per_sample_engine": dict(zip(EVENT_NAMES, events_e.mean(0).tolist(),
                                                  strict=True)),
             "events_per_sample_lava": dict(zip(EVENT_NAMES, events_l.mean(0).tolist(),
                                                strict=True)),
             "engine_s": engine_s, "lava_s": lava_s}
    model_io.write_report(out / "lava_check.json", "lavalab-lava-check", check)
    return {"summary": summary, "rows": rows, "lava_check": check, "out": str(out)}


def format_check(c: dict) -> str:
    """Human-readable lines of the Lava re-run."""
    ok = c["identical_spike_counts"] and c["identical_event_counts"]
    ev = c["events_per_sample_lava"]
    return "\n".join([
        f"Lava re-run of {c['configuration']} on {c['samples']} test digits "
        f"(Loihi2SimCfg, fixed_pt, {c['lava_s']:.1f} s; engine {c['engine_s'] * 1e3:.0f} ms):",
        f"  spike counts identical to the engine: {c['identical_spike_counts']}; "
        f"event counts identical: {c['identical_event_counts']}"
        + ("" if ok else "   <-- MISMATCH"),
        f"  accuracy on these digits: Lava {c['accuracy_lava_pct']:.1f} %, engine "
        f"{c['accuracy_engine_pct']:.1f} %",
        f"  per sample (Lava): {ev['input_spikes']:.0f} input spikes, "
        f"{ev['exc_spikes']:.1f} excitatory spikes, {ev['syn_events_input']:.0f} synaptic "
        f"events",
    ])
