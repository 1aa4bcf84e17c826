"""Deployment: ``lavalab export`` (NIR, netx HDF5) and the stock-Process backend of
``lavalab evaluate`` (``--backend lava-stock``; ``loihi`` points to ``lavalab deploy``)."""

from __future__ import annotations

import argparse
import sys

__all__ = ["add_parser", "cmd_evaluate_stock", "cmd_export"]


def cmd_evaluate_stock(args: argparse.Namespace) -> int:
    """``evaluate --backend lava-stock|loihi``: stock network vs the engine, same digits."""
    from pathlib import Path

    from lavalab import validate
    from lavalab.deploy import evaluate_stock

    out = args.out or (str(Path(args.model).parent) if str(args.model).endswith(".npz")
                       else args.model)
    validate.out_dir(out)  # before the (slow) Lava run
    # without --samples: 500 digits, or the whole test set if smaller (digits: 297)
    rep = evaluate_stock(args.model, samples=args.samples,
                         backend=args.backend, out=out,
                         data_root=args.data_root, progress=True)
    ev, ee = rep["events"], rep["engine_events"]
    print(f"{rep['backend']} ({rep['run_config']}): accuracy {rep['accuracy_pct']:.2f} % "
          f"(all activity) on {rep['samples']} test samples; engine on the same digits "
          f"{rep['engine_accuracy_pct']:.2f} %; difference "
          f"{rep['accuracy_difference_points']:+.2f} points; predictions agree on "
          f"{rep['prediction_agreement_pct']:.2f} % of digits; identical spike counts on "
          f"{rep['identical_spike_counts_pct']:.2f} %")
    for layer in ("exc", "inh"):
        if layer in ev:
            print(f"  {layer} spikes per sample: stock {ev[layer]['spikes']['per_sample']:.2f}, "
                  f"engine {ee[layer]['spikes']['per_sample']:.2f}")
    for name in ("synapses_input", "synapses_inhibition"):
        print(f"  {name} synaptic events per sample: stock "
              f"{ev[name]['synaptic_events']['per_sample']:.1f}, engine "
              f"{ee[name]['synaptic_events']['per_sample']:.1f}")
    print("  lowering: " + ("exact" if rep["exact_lowering"] else
                            "approximations: " + "; ".join(rep["approximations"])))
    print(f"wrote {out}/eval_{rep['backend']}.json")
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    """``lavalab export MODEL --format nir|netx [--for IMPORTER] --out FILE``."""
    args.hold_out(args.out, folder=False)  # held until the end (lavalab.runlock)
    from lavalab.export import export_model
    from lavalab.stdp import load_model

    if args.nir_for is not None and args.format != "nir":
        print(f"lavalab export: error: --for {args.nir_for} applies to --format nir only",
              file=sys.stderr)
        return 2
    from pathlib import Path

    from lavalab import validate
    from lavalab.cli.args import given
    from lavalab.model_io import ModelFileError

    if given(args, "netx_inhibition") and args.format != "netx":
        raise ValueError(f"--netx-inhibition {args.netx_inhibition} applies to --format netx "
                         "only (NIR holds the inhibition as graph edges)")
    validate.out_file(args.out)
    if Path(args.out).exists() and not args.force:
        raise ValueError(f"--out {args.out} exists; give --force to replace it")

    try:
        model = load_model(args.model)
    except ModelFileError as err:
        if args.format != "nir" or not str(args.model).endswith(".npz"):
            raise
        info = _export_dl_nir(args, err)
    else:
        info = export_model(model, args.format, args.out,
                            netx_inhibition=args.netx_inhibition, nir_target=args.nir_for)
    print(f"wrote {info['path']} ({args.format}, format version {info['version']})")
    for note in info.get("notes", []):
        print(f"  {note}")
    return 0


def _export_dl_nir(args: argparse.Namespace, stdp_error: Exception) -> dict:
    """``lavalab export MLP.npz --format nir``: a ``lavalab dl train`` model."""
    from lavalab.export._version import EXPORT_VERSION
    from lavalab.export.nir_dl import supervised_to_nir
    from lavalab.export.nir_graph import DEFAULT_TARGET, write_graph
    from lavalab.model_io import ModelFileError
    from lavalab.supervised.train import load_model as load_dl

    try:
        net, _ = load_dl(args.model)
    except ModelFileError as err:
        raise ModelFileError(f"{args.model}: neither an STDP model ({stdp_error}) nor a "
                             f"lavalab dl model ({err})") from err
    g = supervised_to_nir(net, args.nir_for or DEFAULT_TARGET)
    path = write_graph(g, args.out)
    return {"path": str(path), "version": EXPORT_VERSION,
            "notes": [f"target: {g.metadata['target']} (dt_s = {g.metadata['dt_s']:g})",
                      f"readout: {g.metadata['readout']}",
                      f"dropped: {g.metadata['dropped']}"]}


def add_parser(sub) -> None:
    """Register ``lavalab export``."""
    ex = sub.add_parser("export", help="export a trained model: NIR graph or lava-dl netx HDF5")
    ex.add_argument("model", help="folder with model.npz (or the .npz); for --format nir also "
                    "a lavalab dl train model (.npz)")
    ex.add_argument("--format", choices=("nir", "netx"), required=True,
                    help="nir: NIR graph (nir package); netx: lava-dl netx HDF5")
    ex.add_argument("--out", required=True, help="output file (.nir / .h5)")
    ex.add_argument("--force", action="store_true", help="replace an existing --out")
    from lavalab.export.nir_graph import TARGETS

    ex.add_argument("--for", dest="nir_for", choices=TARGETS,
                    default=None,
                    help="NIR only: the importer the file is written for (default snntorch, "
                    "which Norse runs too): snntorch (dt 1e-4 s, the step its importer "
                    "assumes), norse (seconds), sinabs (time in steps), generic (per-neuron "
                    "thresholds, seconds; snnTorch refuses it)")
    from lavalab.cli.args import Given

    ex.add_argument("--netx-inhibition", choices=("refuse", "drop"), default="refuse",
                    action=Given,
                    help="netx cannot hold recurrent inhibition: refuse (exit 2, default) or "
                    "drop it (a named feed-forward inference approximation)")
    ex.set_defaults(func=cmd_export)
