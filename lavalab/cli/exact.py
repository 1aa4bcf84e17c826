"""The exact-spike-time networks (BATS): ``lavalab exact train | lava`` and
``lavalab study dt``.

Registered by :func:`lavalab.cli.main.build_parser` with :func:`add_parser` (top-level
``exact``) and :func:`add_study_parser` (``study dt``).
"""

from __future__ import annotations

from pathlib import Path

from lavalab.cli import args as a
from lavalab.data import DATASETS

__all__ = ["add_parser", "add_study_parser"]


def _add_net_args(sp) -> None:
    sp.add_argument("--dataset", choices=DATASETS,
                    default="mnist")
    sp.add_argument("--data-root", default=None)
    sp.add_argument("--hidden", type=a.int_list("--hidden", 1, 100000, repeats=True),
                    default=[800],
                    help="hidden layer sizes (default 800)")
    sp.add_argument("--thresholds", type=a.float_list("--thresholds", 1e-9, 1e6, repeats=True),
                    default=None, help="theta per layer (default 0.2 per hidden, 1.3 output)")
    sp.add_argument("--tau-s", type=a.real("--tau-s", 1e-6, 100.0), default=0.13,
                    help="synaptic time constant tau_s in seconds (tau = 2 tau_s)")
    sp.add_argument("--max-spikes", type=a.integer("--max-spikes", 1, 1000), default=30,
                    help="cap on spikes per neuron per sample")
    sp.add_argument("--train-samples", type=a.integer("--train-samples", 1, 10**7),
                    default=None, help="first n training images (default: all)")
    sp.add_argument("--test-samples", type=a.integer("--test-samples", 1, 10**7),
                    default=None, help="first n test images (default: all)")
    sp.add_argument("--epochs", type=a.integer("--epochs", 1, 1000), default=1,
                    help="training epochs")
    sp.add_argument("--batch-size", type=a.integer("--batch-size", 1, 10000), default=50,
                    help="samples per Adam step")
    sp.add_argument("--lr", type=a.real("--lr", 1e-12, 1.0), default=0.003,
                    help="Adam learning rate")
    sp.add_argument("--quiet", action="store_true", help="no progress bar")
    sp.add_argument("--out", required=True)


def add_parser(sub) -> None:
    """``lavalab exact train`` / ``lavalab exact lava``."""
    ex = sub.add_parser("exact", help="exact-spike-time networks (BATS): train, run on Lava")
    exsub = ex.add_subparsers(dest="exact", metavar="ACTION")
    exsub.required = True
    tr = exsub.add_parser("train", help="train (resumable) and test at one or more dt")
    _add_net_args(tr)
    tr.add_argument("--dt", type=a.real("--dt", 0.0, 100.0), default=0.0,
                    help="training grid step in s (0 = continuous)")
    tr.add_argument("--test-dts", type=a.float_list("--test-dts", 0.0, 100.0), default=None,
                    help="grid steps to test at after each epoch (default: --dt)")
    tr.add_argument("--seed", type=a.integer("--seed", 0, 2**31 - 1), default=0,
                    help="seed of the initial weights and the sample order")
    tr.set_defaults(func=_cmd_train)
    lv = exsub.add_parser("lava", help="run a trained network as a discrete-time CUBA LIF "
                          "(8-bit weights, Loihi integer decays) and compare with the "
                          "event-driven model at the same dt")
    lv.add_argument("--model", required=True, help="network.npz written by exact train")
    lv.add_argument("--dt", type=a.real("--dt", 1e-6, 100.0), required=True,
                    help="time step in seconds of the discrete-time network run on Lava")
    lv.add_argument("--samples", type=a.integer("--samples", 1, 10**6), default=500)
    lv.add_argument("--lava-samples", type=a.integer("--lava-samples", 0, 10**4),
                    default=5, help="of these, run on Lava (stock LIF+Dense, fixed_pt) and "
                    "require bit-exact agreement with the numpy simulation (default 5)")
    lv.add_argument("--weight-bits", type=a.integer("--weight-bits", 2, 8), default=8,
                    help="weight bits of the Loihi lowering (Lava Dense: 8)")
    lv.add_argument("--dataset", choices=DATASETS, default=None,
                    help="test images (default: the dataset the network was trained on)")
    lv.add_argument("--data-root", default=None)
    lv.add_argument("--quiet", action="store_true",
                    help="no progress bar")
    lv.add_argument("--out", required=True)
    lv.set_defaults(func=_cmd_lava)


def add_study_parser(stsub) -> None:
    """``lavalab study dt``."""
    sd = stsub.add_parser("dt", help="exact-spike-time network trained on a dt grid: "
                          "accuracy, sparsity, latency vs dt (BATS)")
    _add_net_args(sd)
    sd.add_argument("--dts", type=a.float_list("--dts", 0.0, 100.0),
                    default=[0.0, 0.0005, 0.001, 0.002, 0.003, 0.005, 0.008, 0.009, 0.01],
                    help="grid steps in s (0 = continuous)")
    sd.add_argument("--seeds", type=a.int_list("--seeds", 0, 2**31 - 1), default=[0, 1, 2],
                    help="seeds, comma-separated (each dt trains once per seed)")
    sd.set_defaults(func=_cmd_study_dt)


def _spec(args, n_in: int):
    from lavalab.exact.spec import ExactSpec

    sizes = (n_in, *args.hidden, 10)
    n = len(sizes) - 1
    th = args.thresholds if args.thresholds is not None else [0.2] * (n - 1) + [1.3]
    if len(th) != n:
        raise ValueError(f"--thresholds: {len(th)} values for {n} layers "
                         f"(sizes {list(sizes)})")
    return ExactSpec(sizes=sizes, tau_s=args.tau_s, thresholds=tuple(th),
                     max_spikes=(args.max_spikes,) * n)


def _data(args):
    from lavalab.data import load_dataset

    tr = load_dataset(args.dataset, "train", args.data_root)
    te = load_dataset(args.dataset, "test", args.data_root)
    if args.train_samples is None:
        args.train_samples = len(tr.labels)
    if args.test_samples is None:
        args.test_samples = len(te.labels)
    if args.train_samples > len(tr.labels):
        raise ValueError(f"--train-samples={args.train_samples} exceeds the {len(tr.labels)} "
                         f"training images of {args.dataset}")
    if args.test_samples > len(te.labels):
        raise ValueError(f"--test-samples={args.test_samples} exceeds the {len(te.labels)} "
                         f"test images of {args.dataset}")
    return tr, te


def _cmd_train(args) -> int:
    args.hold_out(args.out)  # held until the command ends (lavalab.runlock)
    from lavalab.study import dt as study

    tr, te = _data(args)
    spec = _spec(args, int(tr.images[0].size))
    test_dts = args.test_dts if args.test_dts is not None else [args.dt]
    res = study.train_run(spec, tr, te, Path(args.out), dt=args.dt, seed=args.seed,
                          epochs=args.epochs, train_samples=args.train_samples,
                          test_samples=args.test_samples, batch_size=args.batch_size,
                          lr=args.lr, test_dts=test_dts, progress=not args.quiet)
    for row in res:
        print(f"epoch {row['epoch']} test dt={row['test_dt']:g}: "
              f"{row['test_accuracy']:.2f} % ({row['test_samples']} samples), "
              f"train {row['train_accuracy']:.2f} %")
    print(f"wrote {args.out}/results.json, network.npz")
    return 0


def _cmd_study_dt(args) -> int:
    args.hold_out(args.out)  # held until the command ends (lavalab.runlock)
    from lavalab.study import dt as study

    tr, te = _data(args)
    spec = _spec(args, int(tr.images[0].size))
    summary = study.dt_study(spec, tr, te, Path(args.out), dts=args.dts, seeds=args.seeds,
                             epochs=args.epochs, train_samples=args.train_samples,
                             test_samples=args.test_samples, batch_size=args.batch_size,
                             lr=args.lr, progress=not args.quiet)
    for r in summary["per_dt"]:
        print(f"dt={r['dt']:g}: test {r['test_accuracy_mean']:.2f} +- "
              f"{r['test_accuracy_std']:.2f} %, hidden {r['spikes_hidden_mean']:.3f} "
              f"spikes/neuron, output {r['spikes_output_mean']:.3f}")
    print(f"wrote {args.out}/results.json, results.csv, plots")
    return 0


def _cmd_lava(args) -> int:
    args.hold_out(args.out)  # held until the command ends (lavalab.runlock)
    from lavalab import validate
    from lavalab.exact import bridge

    if args.lava_samples > args.samples:
        raise ValueError(f"--lava-samples={args.lava_samples} exceeds --samples={args.samples} "
                         "(the Lava run is the first of the compared samples)")
    validate.out_dir(args.out)
    if Path(args.model).is_dir():
        raise ValueError(f"--model {args.model} is a folder: give the network.npz that "
                         "lavalab exact train wrote")
    rep = bridge.compare_cli(args.model, args.dt, args.samples, args.lava_samples,
                             args.weight_bits, args.dataset, args.data_root, Path(args.out),
                             progress=not args.quiet)
    print(rep)
    return 0
