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
    # beside the bundle (BUNDLE.lock): the bundle holds its own files only
    args.hold_out(args.out, folder=False)  # held until the end (lavalab.runlock)
    from lavalab import validate
    from lavalab.deploy.bundle import write_bundle
    from lavalab.deploy.supervised_bundle import is_supervised_model

    if is_supervised_model(args.model):
        return _deploy_supervised(args)
    if args.dataset is not None:
        raise ValueError("--dataset applies to supervised models (lavalab dl train, lavalab "
                         "import); an STDP model carries its dataset")

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


def _deploy_supervised(args: argparse.Namespace) -> int:
    """A supervised model (``.npz`` of ``lavalab dl train`` / ``lavalab import``)."""
    from lavalab.deploy.supervised_bundle import write_supervised_bundle

    for flag, given in (("--theta-fold", args.theta_fold != "scale"),
                        ("--neurons-per-core", args.neurons_per_core is not None),
                        ("--learning", args.learning)):
        if given:
            raise ValueError(f"{flag} applies to STDP models; {args.model} is a supervised "
                             "model (its netx file is deployed as it is)")
    info = write_supervised_bundle(args.model, args.out, samples=args.samples,
                                   data_root=args.data_root, dataset=args.dataset,
                                   force=args.force, verify=args.verify)
    exp = info["expected"]
    sizes = " -> ".join(map(str, [info["n_input"], *info["layers"]]))
    print(f"wrote {args.out}: supervised {sizes}, {info['samples']} {exp['dataset']} test "
          f"digits ({info['sample_steps']} steps each, one Lava run), "
          f"{info['partition']['cores']} Loihi 2 core(s); lavalab accuracy "
          f"{exp['reference_accuracy'] * 100:.2f} %")
    print("  lowering: exact (the netx file; run.py must reproduce lavalab's predictions, "
          "spike counts and readout scores)")
    if "simulated" in info:
        sim = info["simulated"]
        print(f"  verified: run.py --target sim without lavalab, one Lava run: accuracy "
              f"{sim['accuracy'] * 100:.2f} %, predictions agree with lavalab on "
              f"{sim['prediction_agreement_with_reference'] * 100:.2f} %")
    print(f"  run: python {args.out}/run.py --target sim   |   on INRC: python "
          f"{args.out}/run.py --target loihi2 --partition oheogulch")
    return 0


def add_parser(sub) -> None:
    """Register ``lavalab deploy``."""
    d = sub.add_parser("deploy", help="write a self-contained bundle that runs the model on "
                       "Lava (CPU) or a Loihi 2 chip without lavalab")
    d.add_argument("model", help="an STDP model (folder with model.npz, fixed point) or a "
                   "supervised model file (.npz of lavalab dl train or lavalab import)")
    d.add_argument("--out", required=True, help="new folder for the bundle")
    d.add_argument("--samples", type=positive("--samples", 10**5), default=DEFAULT_SAMPLES,
                   help=f"first test digits in the bundle (default {DEFAULT_SAMPLES})")
    d.add_argument("--data-root", default=None)
    d.add_argument("--dataset", choices=("mnist", "fashion-mnist", "digits"), default=None,
                   help="test digits of a supervised model (default: the model's; needed "
                   "for an imported network, which does not say)")
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
