"""``lavalab import FILE.nir --out MODEL``: a NIR graph (Input, Affine / Linear, LIF /
CubaLIF / IF, LI / CubaLI readout, Output) as a supervised-family model file, the kind
``lavalab dl train`` writes (:mod:`lavalab.supervised.nir_import`). Registered by
:func:`lavalab.cli.main.build_parser`; errors are one line, exit 2.
"""

from __future__ import annotations

from pathlib import Path

from lavalab.cli import args as a

__all__ = ["add_parser"]


def add_parser(sub) -> None:
    """``lavalab import ...``."""
    p = sub.add_parser("import", help="turn a NIR graph (LIF / CubaLIF / IF layers) into a "
                       "supervised model (evaluate on Lava fixed_pt, export to netx)")
    p.add_argument("nir_file", metavar="FILE.nir", help="NIR file (HDF5, nir.write)")
    p.add_argument("--out", required=True, help="model file to write (.npz, as dl train)")
    p.add_argument("--force", action="store_true", help="replace an existing --out")
    p.add_argument("--dt", type=a.real("--dt", 1e-9, 1.0), default=None,
                   help="step in seconds (default: the graph's metadata 'dt'; snnTorch "
                   "exports assume 1e-4, Norse 1e-3)")
    p.add_argument("--timesteps", type=a.integer("--timesteps", 1, 64), default=8,
                   help="steps each sample is presented (default 8)")
    p.add_argument("--encoding", choices=a.LazyChoices("lavalab.networks.supervised",
                                                       "ENCODINGS"),
                   default="direct", help="input encoding: direct (graded pixel / 255 on "
                   "the 2**-input-bits grid) or rate (Bernoulli spikes)")
    p.add_argument("--input-bits", type=a.integer("--input-bits", 1, 6), default=4,
                   action=a.Given,
                   help="fraction bits of a direct-encoded input (default 4)")
    p.add_argument("--seed", type=a.seed, default=0, help="seed of the check inputs")
    p.set_defaults(func=_cmd_import)


def _cmd_import(args) -> int:
    args.hold_out(args.out, folder=False)  # held until the end (lavalab.runlock)
    from lavalab import validate

    if a.given(args, "input_bits") and args.encoding != "direct":
        raise ValueError(f"--input-bits {args.input_bits} applies to --encoding direct only "
                         "(rate spikes carry no payload)")
    out = Path(args.out)
    if out.is_dir():
        raise ValueError(f"--out {out} is a folder: give a model file name (.npz)")
    if out.exists() and not args.force:
        raise ValueError(f"--out {out} exists; give --force to replace it")
    if out.exists() and not out.is_file():
        raise ValueError(f"--out {out} is not a file")
    validate.out_file(out)
    from lavalab.supervised.nir_import import ImportConfig, import_nir
    from lavalab.supervised.train import save_model

    cfg = ImportConfig(timesteps=args.timesteps, encoding=args.encoding,
                       input_bits=args.input_bits, dt=args.dt, seed=args.seed)
    net, rep = import_nir(args.nir_file, cfg)
    path = save_model(out, net, {"nir_import": rep, "dataset": None})
    d, spec = rep["decays"], net.spec
    print(f"wrote {path}: {spec.n_input} -> {list(spec.hidden)} -> {spec.n_output}, "
          f"T={spec.timesteps}, dt={rep['dt_s']:.6g} s, {spec.encoding} input")
    print(f"quantised: decays du {d['du_exact']:.6g} -> {d['du_int']}/4096, dv "
          f"{d['dv_exact']:.6g} -> {d['dv_int']}/4096; threshold -> "
          f"{rep['threshold_slayer']:.6g} (weights and thresholds folded per neuron)")
    for lay in rep["layers"]:
        print(f"  {lay['nodes'][0]} -> {lay['nodes'][1]} ({lay['kind']}, {lay['shape']}): "
              f"8-bit weights, relative RMS error {100 * lay['weight_rel_rms_error']:.2f} %, "
              f"{lay['weights_zeroed']} rounded to 0, {lay['weights_clipped']} clipped")
    c = rep["check"]
    print(f"  {rep['readout']}")
    print(f"float NIR reference vs quantised model on {c['samples']} random inputs: "
          f"predictions agree {c['prediction_agreement']:.1f} %")
    return 0
