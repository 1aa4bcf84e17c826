"""Reproduce tinySNN's quantization claim (Putra & Shafique): 8-bit weights (and
8-bit neuron parameters) without accuracy loss against the FP32 model, and the model
chosen by the reward R = acc - mu * M_norm.

    .venv/bin/python studies/tinysnn_precision.py --neurons 100 --train-samples 20000 \
        --out studies/results/tinysnn100-precision

PTQ and ITQ x {16, 12, 8, 6, 4} bits x {truncate, nearest, stochastic} x {weights,
weights + neuron parameters}, plus the FP32 model (float engine), on tinySNN (direct
lateral inhibition, STDP2) with the full MNIST test set. Resumable.
"""

from __future__ import annotations

import argparse
import sys

from lavalab.study import StudySetup, precision_study


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--network", default="tinysnn", choices=("tinysnn", "diehl-cook"))
    p.add_argument("--neurons", type=int, default=100)
    p.add_argument("--train-samples", type=int, default=20000)
    p.add_argument("--test-samples", type=int, default=10000)
    p.add_argument("--bits", default="32,16,12,8,6,4")
    p.add_argument("--mu", type=float, default=10.0)
    p.add_argument("--seeds", default="0", help="comma-separated seeds, e.g. 0,1,2")
    p.add_argument("--deployable-only", action="store_true",
                   help="choose among configurations the Loihi design rules accept")
    p.add_argument("--dataset", default="mnist")
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--out", required=True)
    a = p.parse_args()
    setup = StudySetup(network=a.network, neurons=a.neurons, train_samples=a.train_samples,
                       test_samples=a.test_samples,
                       assign_samples=min(10000, a.train_samples), dataset=a.dataset)
    s = precision_study(setup, a.out, bits=[int(b) for b in a.bits.split(",")], mu=a.mu,
                        workers=a.workers, seeds=[int(v) for v in a.seeds.split(",") if v],
                        deployable_only=a.deployable_only)
    from lavalab.study.store import read_document

    try:
        doc = read_document(f"{a.out}/results.json")
    except ValueError as err:
        print(f"tinysnn_precision.py: error: {err}", file=sys.stderr)
        raise SystemExit(2) from None
    rows = [r for r in doc["rows"] if r["key"] in s["rows"]]
    fp = next(r for r in rows if r["key"] == "fp32")
    print(f"\n{a.network}-{a.neurons}, {a.dataset}, {a.train_samples} training samples, "
          f"{a.test_samples} test samples, seeds {a.seeds} (mean ± std); FP32 "
          f"{fp['accuracy']:.2f} ± {fp['accuracy_std']:.2f} %, {fp['memory_kB']:.1f} kB")
    print(f"{'config':>26} {'acc %':>7} {'± std':>6} {'d pts':>6} {'kB':>7} {'M_norm':>6} "
          f"{'R':>7} {'pareto':>6} loihi")
    for r in sorted(rows, key=lambda r: (-r["weight_bits"], r["scheme"], r["params"],
                                         r["rounding"])):
        print(f"{r['key']:>26} {r['accuracy']:7.2f} {r['accuracy_std']:6.2f} "
              f"{r['accuracy'] - fp['accuracy']:6.2f} "
              f"{r['memory_kB']:7.1f} {r['M_norm']:6.3f} {r['R']:7.2f} "
              f"{'*' if r['pareto'] else '':>6} {'yes' if r['loihi_ok'] else 'no'}")
    if s["chosen"] is not None:
        among = " among deployable configurations" if a.deployable_only else ""
        print(f"\nchosen by R = acc - {a.mu:g} M_norm{among}: {s['chosen']} "
              f"({s['chosen_accuracy']:.2f} ± {s['chosen_accuracy_std']:.2f} %, "
              f"{s['chosen_memory_kB']:.1f} kB); compile it with: {s['compile_command']}")
    for params, name in (("w", "8-bit weights"), ("wn", "8-bit weights + neuron params")):
        best = max((r for r in rows if r["weight_bits"] == 8 and r["params"] == params),
                   key=lambda r: r["accuracy"])
        loss = fp["accuracy"] - best["accuracy"]
        verdict = "REPRODUCED" if loss <= 0 else f"NOT reproduced (loss {loss:.2f} points)"
        print(f"tinySNN claim, {name} without loss vs FP32 (means): best {best['key']} "
              f"{best['accuracy']:.2f} ± {best['accuracy_std']:.2f} % ({-loss:+.2f} points) "
              f"-> {verdict}")
    for w in s["warnings"]:
        print(f"tinysnn_precision: warning: {w}", file=sys.stderr)
    if s["chosen"] is None:
        print(f"tinysnn_precision: warning: no configuration chosen: {s['withheld']}",
              file=sys.stderr)


if __name__ == "__main__":
    main()
