"""``lavalab deploy MODEL --out BUNDLE``: a self-contained Loihi 2 deploy bundle
(:mod:`lavalab.deploy.bundle`), run with ``python BUNDLE/run.py --target sim|loihi2``."""

from __future__ import annotations

import argparse

from lavalab.cli.args import positive

__all__ = ["add_parser", "cmd_deploy"]

#: Test digits a bundle carries when ``--samples`` is not given.
DEFAULT_SAMPLES = 100


def cmd_deploy(args: argparse.Namespace) -> int:
    """Write the bundle and say how to run it."""
    from lavalab import validate
    from lavalab.deploy.bundle import write_bundle

    validate.out_dir(args.out)
    info = write_bundle(args.model, args.out, samples=args.samples, data_root=args.data_root,
                        theta_fold=args.theta_fold, neurons_per_core=args.neurons_per_core,
                        force=args.force, verify=args.verify, learning=args.learning)
    exp, part = info["expected"], info["partition"]
    cores = sum(p["cores"] for p in part["populations"].values())
    print(f"wrote {args.out}: {info['kind']}-{info['n_exc']}, {info['samples']} test digits "
          f"({info['sample_steps']} steps each, one Lava run), {cores} Loihi 2 core(s); "
          f"engine accuracy {exp['engine_accuracy'] * 100:.2f} %")
    if exp["exact_lowering"]:
        print("  lowering: exact (run.py must reproduce the engine's spike counts)")
    else:
        print(f"  lowering: {len(exp['approximations'])} approximation(s); stock reference "
              f"agrees with the engine on "
              f"{exp['stock_reference_agreement_with_engine'] * 100:.2f} % of predictions "
              "(see README.md)")
    if "simulated" in info:
        sim = info["simulated"]
        print(f"  verified: run.py --target sim without lavalab, one Lava run: accuracy "
              f"{sim['accuracy'] * 100:.2f} %, predictions agree with the engine on "
              f"{sim['prediction_agreement_with_engine'] * 100:.2f} %")
    print(f"  run: python {args.out}/run.py --target sim   |   on INRC: python "
          f"{args.out}/run.py --target loihi2 --partition oheogulch")
    return 0


def add_parser(sub) -> None:
    """Register ``lavalab deploy``."""
    d = sub.add_parser("deploy", help="write a self-contained bundle that runs the model on "
                       "Lava (CPU) or a Loihi 2 chip without lavalab")
    d.add_argument("model", help="folder with model.npz (a fixed-point model)")
    d.add_argument("--out", required=True, help="new folder for the bundle")
    d.add_argument("--samples", type=positive("--samples", 10**5), default=DEFAULT_SAMPLES,
                   help=f"first test digits in the bundle (default {DEFAULT_SAMPLES})")
    d.add_argument("--data-root", default=None)
    d.add_argument("--theta-fold", choices=("scale", "none"), default="scale",
                   help="how per-neuron theta is lowered (lavalab.deploy.stock)")
    d.add_argument("--neurons-per-core", type=positive("--neurons-per-core", 10**8),
                   default=None, help="force the partition (default: the compile layer's)")
    d.add_argument("--force", action="store_true", help="overwrite a bundle in --out")
    d.add_argument("--learning", action="store_true",
                   help="on-chip learning: the input synapses become a stock LearningDense "
                   "running the model's STDP1 (Lava's product-of-traces form)")
    d.add_argument("--verify", action="store_true",
                   help="run the bundle's run.py --target sim (without lavalab) and record "
                   "its results in the bundle (Lava's CPU simulation: slow for many digits)")
    d.set_defaults(func=cmd_deploy)
