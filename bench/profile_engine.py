"""Per-section time breakdown of the engine's step loop (training and inference).

Runs Diehl & Cook (fixed point, T = 350 + 150 rest, real MNIST training digits) on the
engine with the step loop's cycle counters on (``run(..., profile=...)``: the CPU's
time-stamp counter read between the sections of
:data:`lavalab.engine.core.PROFILE_SECTIONS`), once with learning (training) and once
without (inference, one thread, the same loop ``infer`` runs in each thread). Prints, per
section, microseconds per sample and the share of the loop's time; cycles are converted to
seconds with the counter's rate measured over the same run.

    python bench/profile_engine.py                   # N = 400, 100 samples each
    python bench/profile_engine.py --n 1600 --samples 30 --json out.json

The counters cost a little themselves (two counter reads per section and step); the
"samples/s" printed is from separate runs without them. Every figure is the least of
``--repeat`` runs (other processes on a shared machine only ever add time).
"""

from __future__ import annotations

import argparse
import json
import sys
import time

import numpy as np


def breakdown(n: int = 400, samples: int = 100, seed: int = 0, kind: str = "diehl-cook",
              repeat: int = 3) -> dict:
    """Profile training then inference of a fresh D&C-``n`` on ``samples`` MNIST digits.

    Each measurement is repeated ``repeat`` times from the same start state and the
    smallest time is kept per section (on a shared machine, time lost to other processes
    only ever adds). Returns ``{"train": {...}, "infer": {...}}``, each with
    ``samples_per_s`` (best plain run), ``samples_per_cpu_s`` (the same runs' least
    process CPU time: what a shared machine's other jobs do not inflate as much as the
    wall time), ``us_per_sample`` per section and the section
    ``share`` of the profiled loop.
    """
    import lavalab  # noqa: F401
    from lavalab.data import load_dataset
    from lavalab.engine import PROFILE_SECTIONS, make_net, run
    from lavalab.networks.snn import build, init_weights, lower_network

    spec = build(kind, n)
    fx = lower_network(spec)
    train = load_dataset("mnist", "train").images
    w0 = np.rint(init_weights(spec, seed, train) * fx.q).astype(np.int64)
    images = train[:samples + 1]
    out = {"network": f"{kind}-{n}", "samples": samples, "seed": seed, "repeat": repeat}
    hz = _counter_hz()
    for mode in ("train", "infer"):
        learn = mode == "train"
        best = None
        walls, cpus = [], []
        for profiled in [False] * repeat + [True] * repeat:
            net = make_net(spec, "fixed", w0, seed=seed, fixed=fx)
            run(net, images[:1], learn=learn)  # compile, and the same start state
            prof = np.zeros(len(PROFILE_SECTIONS), np.int64) if profiled else None
            t0, c0 = time.perf_counter(), time.process_time()
            run(net, images[1:], learn=learn, profile=prof)
            wall, cpu = time.perf_counter() - t0, time.process_time() - c0
            if profiled:
                best = prof if best is None else np.minimum(best, prof)
            else:
                walls.append(wall)
                cpus.append(cpu)
        total = int(best.sum())
        out[mode] = {
            "wall_s": min(walls), "samples_per_s": samples / min(walls),
            "cpu_s": min(cpus), "samples_per_cpu_s": samples / min(cpus),
            "us_per_sample": {s: 1e6 * int(c) / hz / samples
                              for s, c in zip(PROFILE_SECTIONS, best, strict=True)},
            "share": {s: int(c) / total for s, c in zip(PROFILE_SECTIONS, best, strict=True)},
        }
    return out


def _counter_hz(seconds: float = 0.2) -> float:
    """The time-stamp counter's rate (ticks per second), measured against the clock."""
    from lavalab.engine.core import cycle_counter

    c0, t0 = cycle_counter(), time.perf_counter()
    while time.perf_counter() - t0 < seconds:
        pass
    return (cycle_counter() - c0) / (time.perf_counter() - t0)


def format_breakdown(b: dict) -> str:
    """A table: section, microseconds per sample and share, training and inference."""
    lines = [f"{b['network']}, {b['samples']} real MNIST samples, seed {b['seed']} "
             f"(one thread; us per sample, least of {b['repeat']} runs; share of the step "
             "loop)",
             f"{'section':24s} {'train us':>10s} {'train %':>8s} {'infer us':>10s} "
             f"{'infer %':>8s}"]
    for s in b["train"]["us_per_sample"]:
        lines.append(f"{s:24s} {b['train']['us_per_sample'][s]:10.1f} "
                     f"{100 * b['train']['share'][s]:7.1f}% "
                     f"{b['infer']['us_per_sample'][s]:10.1f} "
                     f"{100 * b['infer']['share'][s]:7.1f}%")
    lines.append(f"{'samples/s (no counters)':24s} {b['train']['samples_per_s']:10.1f} "
                 f"{'':8s} {b['infer']['samples_per_s']:10.1f}")
    if "samples_per_cpu_s" in b["train"]:
        lines.append(f"{'samples per CPU second':24s} {b['train']['samples_per_cpu_s']:10.1f} "
                     f"{'':8s} {b['infer']['samples_per_cpu_s']:10.1f}")
    return "\n".join(lines)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n", type=int, default=400, help="excitatory neurons (default 400)")
    ap.add_argument("--samples", type=int, default=100, help="samples per mode (default 100)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--repeat", type=int, default=3,
                    help="repeats per measurement; the minimum is kept (default 3)")
    ap.add_argument("--kind", default="diehl-cook", choices=("diehl-cook", "tinysnn"))
    ap.add_argument("--json", help="also write the breakdown to this JSON file")
    a = ap.parse_args()
    if a.n < 1 or a.samples < 1 or a.repeat < 1:
        print("profile_engine: --n, --samples and --repeat must be >= 1", file=sys.stderr)
        return 2
    b = breakdown(a.n, a.samples, a.seed, a.kind, a.repeat)
    print(format_breakdown(b))
    if a.json:
        with open(a.json, "w") as f:
            json.dump(b, f, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
