"""``lavalab study enhancement-search``: TopSpark's parameter-sensitivity analysis and a
per-T enhancement search on a validation split (:mod:`lavalab.study.search`)."""

from __future__ import annotations

import argparse
import sys

from lavalab.cli import args as a
from lavalab.cli.study import add_study_args, study_setup

__all__ = ["add_study_parser"]


def add_study_parser(stsub) -> None:
    """Register ``lavalab study enhancement-search``."""
    sp = stsub.add_parser("enhancement-search", help="which neuron parameters matter at "
                          "reduced T, and their enhancement per T, searched on a validation "
                          "split (TopSpark's methodology; linear = the paper's baseline)")
    add_study_args(sp)
    sp.add_argument("--timesteps", type=a.int_list("--timesteps", 1, 100000),
                    default=[175, 88], help="reduced T values (default 175,88)")
    sp.add_argument("--baseline", type=a.positive("--baseline", 100000), default=350,
                    help="T0 (default 350)")
    sp.add_argument("--factors", type=a.float_list("--factors"), default=[0.5, 2.0],
                    help="factors tried per parameter on top of the linear rule (default "
                    "0.5,2)")
    tuned = a.LazyChoices("lavalab.compile.enhance", "TUNED_PARAMS")
    sp.add_argument("--params", type=a.choice_list("--params", tuned), default=tuned,
                    help="parameters searched")
    sp.add_argument("--val-samples", type=a.positive("--val-samples", 10**6),
                    default=1000, help="held-out training images used to select "
                    "(after --train-samples; default 1000)")
    sp.add_argument("--min-effect", type=a.real("--min-effect", 0.0, 100.0), default=1.0,
                    help="percentage points a parameter must move the mean validation "
                    "accuracy by to count as significant (default 1)")
    sp.set_defaults(func=_cmd)


def _cmd(args: argparse.Namespace) -> int:
    args.hold_out(args.out)  # held until the command ends (lavalab.runlock)
    from lavalab.study.executor import spec_from_args
    from lavalab.study.search import search_enhancement

    spec = spec_from_args(args)
    if spec.kind != "threads":
        raise ValueError(f"--executor {spec.kind}: study enhancement-search runs on local "
                         "threads only (each step depends on the previous step's results); "
                         "use --executor threads")
    s = search_enhancement(study_setup(args), args.out, timesteps=args.timesteps,
                           baseline=args.baseline,
                           factors=args.factors,
                           params=list(args.params),
                           val_samples=args.val_samples, min_effect=args.min_effect,
                           seeds=args.seeds or [args.seed], workers=spec.n_workers,
                           progress=not args.quiet)
    n = len(s["seeds"])
    print(f"T0 = {args.baseline}: validation {s['baseline_val_accuracy']:.2f} %, test "
          f"{s['baseline_test_accuracy']:.2f} % (means over {n} seed(s))")
    for T, r in s["per_T"].items():
        eff = ", ".join(f"{p} {v:.2f}" for p, v in sorted(r["effect_points"].items(),
                                                           key=lambda kv: -kv[1]))
        print(f"T = {T}: effect on validation accuracy (points): {eff}; significant "
              f"(> {args.min_effect:g}): {', '.join(r['significant']) or 'none'}")
        print(f"  linear (paper's baseline): validation {r['linear_val_accuracy']:.2f} ± "
              f"{r['linear_val_accuracy_std']:.2f} %, test {r['linear_test_accuracy']:.2f} %")
        print(f"  selected {r['selected']}: validation {r['selected_val_accuracy']:.2f} ± "
              f"{r['selected_val_accuracy_std']:.2f} %, test "
              f"{r['selected_test_accuracy']:.2f} ± {r['selected_test_accuracy_std']:.2f} % "
              f"({r['candidates_tried']} candidates)")
    for w in s["warnings"]:
        print(f"lavalab study enhancement-search: warning: {w}", file=sys.stderr)
    print(f"wrote {args.out}/results.json, results.csv")
    return 0
