"""Reproduce TopSpark's claim (Putra & Shafique 2023, seeds 000/001): >= 3.9x fewer timesteps
per sample within 2 % of the accuracy at T0, with the energy saved in training and in
inference.

    .venv/bin/python studies/topspark.py --network tinysnn --neurons 100 \
        --train-samples 60000 --out studies/results/topspark-tinysnn100

Trains and tests (full MNIST test set) at T0 = 350 and reduced T, with each enhancement
policy, on the engine in fixed point; also tests the T0 model at reduced T (training at
T0, inference-only reduction, ``--infer-timesteps``); prints the table and the verdicts;
results (JSON, CSV, PNG) go to ``--out``. Resumable: rerun the same command after an
interruption.
"""

from __future__ import annotations

import argparse
import sys

from lavalab.study import StudySetup, timestep_study


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--network", default="tinysnn", choices=("tinysnn", "diehl-cook"))
    p.add_argument("--neurons", type=int, default=100)
    p.add_argument("--train-samples", type=int, default=60000)
    p.add_argument("--test-samples", type=int, default=10000)
    p.add_argument("--timesteps", default="350,175,116,88,70,50")
    p.add_argument("--enhancement", default="none,linear,proportional")
    p.add_argument("--infer-timesteps", default="175,116,88,70,50")
    p.add_argument("--energy-table", default="davies2018", choices=("davies2018", "sana-fe"))
    p.add_argument("--seeds", default="0", help="comma-separated seeds, e.g. 0,1,2")
    p.add_argument("--dataset", default="mnist")
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--out", required=True)
    a = p.parse_args()
    seeds = [int(v) for v in a.seeds.split(",") if v]
    setup = StudySetup(network=a.network, neurons=a.neurons, train_samples=a.train_samples,
                       test_samples=a.test_samples,
                       assign_samples=min(10000, a.train_samples),
                       energy_table=a.energy_table, dataset=a.dataset)
    s = timestep_study(setup, a.out, timesteps=[int(t) for t in a.timesteps.split(",")],
                       enhancements=a.enhancement.split(","), workers=a.workers,
                       infer_timesteps=[int(t) for t in a.infer_timesteps.split(",") if t],
                       seeds=seeds)
    from lavalab.study.store import read_document

    try:
        doc = read_document(f"{a.out}/results.json")
    except ValueError as err:
        print(f"topspark.py: error: {err}", file=sys.stderr)
        raise SystemExit(2) from None
    rows = [r for r in doc["rows"] if r["key"] in s["rows"]]
    base = next(r for r in rows if r["key"] == s["baseline"])
    print(f"\n{a.network}-{a.neurons}, {a.dataset}, {a.train_samples} training samples, "
          f"{a.test_samples} test samples, seeds {a.seeds} (mean ± std); T0 = "
          f"{base['timesteps']}: {base['accuracy']:.2f} ± {base['accuracy_std']:.2f} %")
    print(f"{'config':>22} {'acc %':>7} {'± std':>6} {'d pts':>6} {'T0/T':>5} {'E_train':>8} "
          f"{'E_infer':>8} {'latency':>8}")
    for r in sorted(rows, key=lambda r: (-r["timesteps"], -r["infer_timesteps"],
                                         r["enhancement"])):
        print(f"{r['key']:>22} {r['accuracy']:7.2f} {r['accuracy_std']:6.2f} "
              f"{r['accuracy'] - base['accuracy']:6.2f} "
              f"{base['timesteps'] / r['infer_timesteps']:5.2f} "
              f"{base['energy_train_uJ'] / r['energy_train_uJ']:7.2f}x "
              f"{base['energy_infer_uJ'] / r['energy_infer_uJ']:7.2f}x "
              f"{base['latency_infer_us'] / r['latency_infer_us']:7.2f}x")
    for sfx, what in (("", "training and inference at T (TopSpark's setting)"),
                      ("_inference_only", "training at T0, inference at T")):
        if "fewest_timesteps_within_2pct" + sfx not in s:
            continue
        red = s["timestep_reduction_within_2pct" + sfx]
        print(f"\n{what}: fewest timesteps within 2 points of T0 (on the means): "
              f"{s['fewest_timesteps_within_2pct' + sfx]} "
              f"({s['accuracy_within_2pct' + sfx]:.2f} ± "
              f"{s['accuracy_std_within_2pct' + sfx]:.2f} %, "
              f"{s['accuracy_delta_points_within_2pct' + sfx]:+.2f} points) = {red:.2f}x "
              "fewer timesteps, "
              f"energy {s['energy_ratio_train_within_2pct' + sfx]:.2f}x (training) / "
              f"{s['energy_ratio_infer_within_2pct' + sfx]:.2f}x (inference), latency "
              f"{s['latency_ratio_within_2pct' + sfx]:.2f}x")
        ok = "REPRODUCED" if red >= 3.9 else "NOT reproduced"
        if sfx and red >= 3.9:
            ok += " for inference only (training stays at T0: no training energy saved)"
        print(f"  TopSpark claim (>= 3.9x fewer timesteps within 2 points): {ok}")
    for w in s["warnings"]:
        print(f"topspark: warning: {w}", file=sys.stderr)
    if s["chosen"] is None:
        print(f"topspark: warning: no configuration chosen: {s['withheld']}", file=sys.stderr)


if __name__ == "__main__":
    main()
