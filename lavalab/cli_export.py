"""CLI of deployment: ``lavalab export`` (NIR, netx HDF5) and the stock-Process backends of
``lavalab evaluate`` (``--backend lava-stock`` / ``loihi``)."""

from __future__ import annotations

import argparse

__all__ = ["add_parser", "cmd_evaluate_stock", "cmd_export", "add_compile_arguments",
           "apply_compile_overrides", "report_all_violations"]


def add_compile_arguments(co) -> None:
    """Parameters of ``lavalab compile`` that decide whether on-chip learning passes."""
    co.add_argument("--tau-theta", type=float, default=None,
                    help="adaptive-threshold decay time constant in ms (inf = no decay); "
                    "Diehl & Cook's 1e7 ms is not a 12-bit Loihi decay")
    co.add_argument("--t-ref", type=float, default=None,
                    help="refractory period of the excitatory neurons in ms")
    co.add_argument("--eta-pre", type=float, default=None,
                    help="STDP depression rate (weight units per trace unit)")
    co.add_argument("--eta-post", type=float, default=None,
                    help="STDP potentiation rate (weight units per trace unit)")


def apply_compile_overrides(spec, args):
    """``spec`` with ``--tau-theta`` / ``--t-ref`` applied (exc neurons)."""
    import math
    from dataclasses import replace

    exc = spec.exc
    if getattr(args, "tau_theta", None) is not None:
        tau = args.tau_theta
        if not (tau > 0 or math.isinf(tau)):
            raise ValueError(f"--tau-theta={tau} must be > 0 ms (or inf)")
        exc = replace(exc, tau_theta_ms=tau)
    if getattr(args, "t_ref", None) is not None:
        exc = replace(exc, t_ref_ms=args.t_ref)
    st = spec.stdp
    for name in ("eta_pre", "eta_post"):
        v = getattr(args, name, None)
        if v is not None:
            if not v > 0:
                raise ValueError(f"--{name.replace('_', '-')}={v} must be > 0")
            st = replace(st, **{name: v})
    return replace(spec, exc=exc, stdp=st)


def report_all_violations(first, spec, time, budget, args, v_range, model) -> int:
    """Print every violated design rule with its hint (not only ``first``); exit 3."""
    import sys

    from lavalab.compile.pipeline import compile_network
    from lavalab.compile.rules import check_all_rules

    c = compile_network(spec, time, budget, args.target,
                        "none" if model else args.enhancement, learning=args.learning,
                        neurons_per_core=args.neurons_per_core, v_range_mv=v_range,
                        check=False)
    errs = check_all_rules(c.graph, c.fixed, c.core_map, args.target, args.learning) or [first]
    print(f"lavalab compile: {len(errs)} design rule(s) violated:", file=sys.stderr)
    for err in errs:
        print(f"  {err}\n    fix: {err.hint}", file=sys.stderr)
    return 3


#: Test digits ``evaluate --backend lava-stock / loihi`` runs when ``--samples`` is not given
#: (Lava's CPU simulation of the stock network takes about a second per digit).
STOCK_DEFAULT_SAMPLES = 500


def cmd_evaluate_stock(args: argparse.Namespace) -> int:
    """``evaluate --backend lava-stock|loihi``: stock network vs the engine, same digits."""
    from lavalab.deploy import evaluate_stock

    out = args.out or args.model
    rep = evaluate_stock(args.model, samples=args.samples or STOCK_DEFAULT_SAMPLES,
                         backend=args.backend, out=out,
                         data_root=args.data_root, progress=True)
    ev, ee = rep["events"], rep["engine_events"]
    print(f"{rep['backend']} ({rep['run_config']}): accuracy {rep['accuracy'] * 100:.2f} % "
          f"(all activity) on {rep['samples']} test samples; engine on the same digits "
          f"{rep['engine_accuracy'] * 100:.2f} %; difference "
          f"{rep['accuracy_difference'] * 100:+.2f} points; predictions agree on "
          f"{rep['prediction_agreement'] * 100:.2f} % of digits; identical spike counts on "
          f"{rep['identical_spike_counts'] * 100:.2f} %")
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
    """``lavalab export MODEL --format nir|netx --out FILE``."""
    from lavalab.experiment import load_model
    from lavalab.export import export_model

    model = load_model(args.model)
    info = export_model(model, args.format, args.out, netx_inhibition=args.netx_inhibition)
    print(f"wrote {info['path']} ({args.format}, format version {info['version']})")
    for note in info.get("notes", []):
        print(f"  {note}")
    return 0


def add_parser(sub) -> None:
    """Register ``lavalab export``."""
    ex = sub.add_parser("export", help="export a trained model: NIR graph or lava-dl netx HDF5")
    ex.add_argument("model", help="folder with model.npz (or the .npz)")
    ex.add_argument("--format", choices=("nir", "netx"), required=True,
                    help="nir: NIR graph (nir package); netx: lava-dl netx HDF5")
    ex.add_argument("--out", required=True, help="output file (.nir / .h5)")
    ex.add_argument("--netx-inhibition", choices=("refuse", "drop"), default="refuse",
                    help="netx cannot hold recurrent inhibition: refuse (exit 2, default) or "
                    "drop it (a named feed-forward inference approximation)")
    ex.set_defaults(func=cmd_export)
