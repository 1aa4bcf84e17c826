"""The STDP network studies: ``lavalab study timesteps`` (TopSpark's timestep reduction)
and ``lavalab study precision`` (tinySNN's quantization), and the options every STDP
study shares (:func:`add_study_args`, :func:`study_setup`)."""

from __future__ import annotations

import argparse
import math

from lavalab.cli import args as a
from lavalab.cli.output import print_rows, report_study
from lavalab.data import DATASETS
from lavalab.loihi_spec import ENERGY_TABLES, TARGETS

__all__ = ["add_timesteps_parser", "add_precision_parser", "add_study_args", "study_setup"]


def add_study_args(sp: argparse.ArgumentParser) -> None:
    """The options of every STDP study: network, samples, seeds, target, executor."""
    sp.add_argument("--network", choices=a.KINDS, default="tinysnn")
    sp.add_argument("--neurons", type=a.positive("--neurons", 3600), default=100)
    sp.add_argument("--rule", choices=a.RULES, default=None,
                    help="learning rule (default: the network's, see lavalab.networks.snn)")
    sp.add_argument("--train-samples", type=a.positive("--train-samples", 10**7), default=5000)
    sp.add_argument("--test-samples", type=a.positive("--test-samples", 10**7), default=2000)
    sp.add_argument("--assign-samples", type=a.positive("--assign-samples", 10**7),
                    default=2000, help="last training samples used to assign labels "
                    "(default 2000, at most --train-samples)")
    sp.add_argument("--seed", type=a.seed, default=0, action=a.Given,
                    help="seed of weights, encoder, rounding (one seed; not with --seeds)")
    sp.add_argument("--seeds", type=a.int_list("--seeds", 0, a.SEED_MAX), default=None,
                    help="train and test every configuration once per seed, e.g. 0,1,2: "
                    "rows give mean, std and per-seed values (default: --seed)")
    sp.add_argument("--deployable-only", action="store_true",
                    help="choose among configurations the Loihi design rules accept")
    sp.add_argument("--inference-dt", type=a.inference_dt, default=None, metavar="MS",
                    help="step size (ms) every configuration is assigned labels and tested "
                    "at: the 1 ms training step divided by 1..16, same physical time. "
                    "Default: the network's (lavalab.networks.snn.DEFAULTS: 0.5 from 900 "
                    "neurons)")
    a.add_one_spike_infer(sp, "Default: the network's (lavalab.networks.snn.DEFAULTS: on "
                          "from 900 neurons)")
    sp.add_argument("--dataset", choices=DATASETS, default="mnist")
    sp.add_argument("--data-root", default=None)
    sp.add_argument("--target", choices=tuple(TARGETS), default="loihi1")
    sp.add_argument("--energy-table", choices=tuple(ENERGY_TABLES), default="davies2018")
    sp.add_argument("--workers", type=a.positive("--workers", 64), default=None,
                    help="configurations run in parallel: threads, or LocalCluster worker "
                    "processes with --executor dask (default 2; not with --scheduler)")
    from lavalab.study.executor import add_arguments as add_executor_arguments

    add_executor_arguments(sp)  # --executor threads|dask, --scheduler, --threads-per-worker
    sp.add_argument("--quiet", action="store_true", help="no progress bar")
    sp.add_argument("--out", required=True)


def study_setup(args: argparse.Namespace):
    """The :class:`lavalab.study.StudySetup` of the options :func:`add_study_args` adds."""
    from lavalab.study import StudySetup

    if args.seeds is not None and a.given(args, "seed"):
        raise ValueError(f"--seed {args.seed} and --seeds {','.join(map(str, args.seeds))}: "
                         "give one of them (--seeds runs every seed listed)")
    return StudySetup(network=args.network, neurons=args.neurons, rule=args.rule,
                      train_samples=args.train_samples, test_samples=args.test_samples,
                      assign_samples=min(args.assign_samples, args.train_samples),
                      seed=args.seed, dataset=args.dataset, data_root=args.data_root,
                      target=args.target, energy_table=args.energy_table,
                      inference_dt_ms=args.inference_dt, one_spike_infer=args.one_spike_infer)


def add_timesteps_parser(stsub) -> None:
    """Register ``lavalab study timesteps``."""
    ts = stsub.add_parser("timesteps", help="accuracy, latency, energy vs timesteps per sample")
    add_study_args(ts)
    ts.add_argument("--timesteps", type=a.int_list("--timesteps", 1, 100000),
                    default=[350, 175, 100, 50], help="T values (default 350,175,100,50)")
    ts.add_argument("--baseline", type=a.positive("--baseline", 100000), default=None,
                    help="T0 (default: the largest T)")
    ts.add_argument("--enhancement", type=a.policy_list("--enhancement"),
                    default=["none", "linear", "proportional"],
                    help="policies for reduced T (default none,linear,proportional; also "
                    "sqrt, and tuned(vth=..,tref=..,theta=..,inh=..,lr=..) as study "
                    "enhancement-search selects; see lavalab.compile.enhance)")
    ts.add_argument("--infer-timesteps", type=a.int_list("--infer-timesteps", 1, 100000),
                    default=[], help="also test the T0 model at these T (inference-only "
                    "reduction; training stays at T0)")
    # default None, not "linear": argparse would parse a string default (importing the
    # policies' module) before it reports a missing --out
    ts.add_argument("--infer-enhancement", type=a.policy("--infer-enhancement"),
                    default=None, help="policy for the inference-only reduction "
                    "(default linear; any --enhancement value)")
    ts.add_argument("--tau", type=a.real("--tau", 0.0, math.inf), default=5.0,
                    help="latency weight of S (default 5)")
    ts.add_argument("--eps", type=a.real("--eps", 0.0, math.inf), default=5.0,
                    help="energy weight of S (default 5)")
    ts.set_defaults(func=_cmd_study_timesteps)


def add_precision_parser(stsub) -> None:
    """Register ``lavalab study precision``."""
    pr = stsub.add_parser("precision", help="accuracy vs memory over bit widths, PTQ/ITQ, "
                          "rounding")
    add_study_args(pr)
    pr.add_argument("--bits", type=a.int_list("--bits", 2, 16, extra=(32,)),
                    default=[32, 16, 8, 6, 4], help="precision levels (32 = float)")
    pr.add_argument("--schemes", type=a.choice_list("--schemes", ("ptq", "itq")),
                    default=["ptq", "itq"])
    pr.add_argument("--roundings", type=a.choice_list("--roundings", a.ROUNDING_MODES),
                    default=a.ROUNDING_MODES)
    pr.add_argument("--params", type=a.choice_list("--params", ("w", "wn")),
                    default=["w", "wn"], help="quantize weights (w) or weights and neuron "
                    "parameters (wn)")
    pr.add_argument("--timesteps", type=a.positive("--timesteps", 100000), default=350)
    pr.add_argument("--mu", type=a.real("--mu", 0.0, math.inf), default=10.0,
                    help="memory weight of R (default 10)")
    pr.set_defaults(func=_cmd_study_precision)


def _grid_rows(out, summary: dict) -> list[dict]:
    """The rows of this run's grid (``summary["rows"]``) from ``out/results.json``."""
    from pathlib import Path

    from lavalab.model_io import load_json

    keys = set(summary["rows"])
    return [r for r in load_json(Path(out) / "results.json")["rows"] if r["key"] in keys]


def _seeds_text(summary: dict) -> str:
    seeds = summary.get("seeds", [])
    return f"mean ± std over {len(seeds)} seed(s) {','.join(map(str, seeds))}"


def _cmd_study_timesteps(args: argparse.Namespace) -> int:
    args.hold_out(args.out)  # held until the command ends (lavalab.runlock)
    from lavalab.study import timestep_study
    from lavalab.study.executor import spec_from_args

    if args.infer_enhancement is not None and not args.infer_timesteps:
        raise ValueError(f"--infer-enhancement {args.infer_enhancement} applies to the "
                         "inference-only reduction: give --infer-timesteps too")
    summary = timestep_study(study_setup(args), args.out, timesteps=args.timesteps,
                             enhancements=args.enhancement, baseline=args.baseline,
                             tau=args.tau, eps=args.eps, executor=spec_from_args(args),
                             progress=not args.quiet, infer_timesteps=args.infer_timesteps,
                             infer_enhancement=args.infer_enhancement or "linear",
                             seeds=args.seeds or [args.seed],
                             deployable_only=args.deployable_only)
    rows = _grid_rows(args.out, summary)
    rows.sort(key=lambda r: (-r["timesteps"], -r["infer_timesteps"], r["enhancement"]))
    print(f"accuracy in %, {_seeds_text(summary)}; d acc in percentage points vs T0")
    print_rows(rows, ("key", "accuracy", "accuracy_std", "accuracy_delta",
                       "energy_train_uJ", "energy_infer_uJ", "latency_infer_us", "Ln", "En",
                       "S", "deployable"))
    head = f"chosen by S = A - ({args.tau:g} Ln + {args.eps:g} En)"
    if summary["chosen"] is not None:
        print(f"{head}: {summary['chosen']} ({summary['chosen_accuracy']:.2f} ± "
              f"{summary['chosen_accuracy_std']:.2f} %)")
    else:
        print(f"{head}: none (withheld: {summary['withheld']})")
    for sfx, what in (("", "training and inference at T"),
                      ("_inference_only", "training at T0, inference at T")):
        if f"fewest_timesteps_within_2pct{sfx}" in summary:
            print(f"fewest timesteps within 2 points of T0 ({what}): "
                  f"{summary['fewest_timesteps_within_2pct' + sfx]} "
                  f"({summary['timestep_reduction_within_2pct' + sfx]:.2f}x fewer; "
                  f"{summary['accuracy_within_2pct' + sfx]:.2f} ± "
                  f"{summary['accuracy_std_within_2pct' + sfx]:.2f} % vs T0 "
                  f"{summary['baseline_accuracy']:.2f} ± "
                  f"{summary['baseline_accuracy_std']:.2f} %, "
                  f"{summary['accuracy_delta_points_within_2pct' + sfx]:+.2f} points)")
            line = summary.get(f"within_2pct{sfx}_decision_line")
            if line:  # the paired interval over seeds the decision rests on
                print(f"  {line}")
    report_study(summary, "study timesteps")
    print(f"wrote {args.out}/results.json, results.csv, timesteps.png")
    return 0


def _cmd_study_precision(args: argparse.Namespace) -> int:
    args.hold_out(args.out)  # held until the command ends (lavalab.runlock)
    from lavalab.study import precision_study
    from lavalab.study.executor import spec_from_args

    summary = precision_study(study_setup(args), args.out, bits=args.bits, schemes=args.schemes,
                              roundings=list(args.roundings), params=args.params,
                              timesteps=args.timesteps, mu=args.mu,
                              executor=spec_from_args(args),
                              progress=not args.quiet, seeds=args.seeds or [args.seed],
                              deployable_only=args.deployable_only)
    rows = _grid_rows(args.out, summary)
    rows.sort(key=lambda r: (-r["weight_bits"], r["scheme"], r["rounding"], r["params"]))
    print(f"accuracy in %, {_seeds_text(summary)}; d acc in percentage points vs FP32")
    print_rows(rows, ("key", "accuracy", "accuracy_std", "accuracy_delta", "memory_kB",
                       "M_norm", "R", "pareto", "deployable"))
    among = " among deployable configurations" if args.deployable_only else ""
    head = f"chosen by R = acc - {args.mu:g} M_norm{among}"
    if summary["chosen"] is not None:
        print(f"{head}: {summary['chosen']} ({summary['chosen_accuracy']:.2f} ± "
              f"{summary['chosen_accuracy_std']:.2f} %, "
              f"{'deployable' if summary['chosen_deployable'] else 'NOT deployable on Loihi'})")
        if summary.get("chosen_decision_line"):
            print(f"  {summary['chosen_decision_line']}")
    else:
        print(f"{head}: none (withheld: {summary['withheld']})")
    print("Pareto front: " + ", ".join(summary["pareto"]))
    report_study(summary, "study precision")
    print(f"wrote {args.out}/results.json, results.csv, precision_pareto.png, "
          "precision_bits.png")
    return 0
