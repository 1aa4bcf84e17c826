#!/usr/bin/env python3
"""Run a lavalab deploy bundle: the network on Lava's stock Processes, every test digit of
the bundle in ONE Lava run, compared with the spike counts and predictions lavalab's engine
computed for the same input raster.

    python run.py --target sim                         # Loihi2SimCfg(select_tag="fixed_pt")
    python run.py --target loihi2 --partition oheogulch   # Loihi 2 through SLURM (INRC)
    python run.py --target loihi2 --ethernet-host ADDR    # a directly attached system
    python run.py --target loihi2 --dry-run            # build the wiring only, run nothing

Imports only numpy and Lava (lava-nc; lava-loihi on the chip), no lavalab. Exit code 2 and
one line on stderr for a damaged or mismatched bundle or a bad option.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from bundle_common import (  # noqa: E402  (the bundle's own folder, above)
    RESULTS_FORMAT,
    RESULTS_VERSION,
    BundleError,
    check_bundle,
    check_runner_args,
    install_py311_fix,
    read_expected,
    runner_parser,
    select_host,
)


def load_input(folder: Path, samples: int | None) -> dict:
    with np.load(folder / "input.npz", allow_pickle=False) as z:
        data = {k: z[k] for k in z.files}
    total = len(data["labels"])
    samples = total if samples is None else samples
    if not 1 <= samples <= total:
        raise BundleError(f"--samples {samples} is outside 1..{total} (digits in the bundle)")
    data["samples"] = samples
    return data


def build_graph(folder: Path, target: str, samples: int, input_lag: int = 0,
                output_lag: int = 0, progress: bool = False) -> dict:
    """Every Process of the run, connected: the stock network (chip side on ``loihi2``),
    the host raster source and spike counters, and on ``loihi2`` the embedded-I/O adapters
    (``lava.proc.embedded_io.spike``) on every host <-> chip edge.

    Returns ``dict(chip=..., host=..., adapters=..., source=..., counters=..., meta=...)``.
    ``input_lag``: steps the input path adds before the network sees a spike (the
    per-sample reset moves with it); ``output_lag``: steps the output path adds before the
    counters see one (their sample windows move with it); ``progress``: the source
    reports on stderr every 5 % of the run."""
    sys.path.insert(0, str(folder))
    from host_io import RasterSource, SampleCounter
    from stock_network import INPUT, build_network, load_network

    meta, arrays = load_network(folder)
    data = load_input(folder, samples)
    samples = data["samples"]
    period = meta["sample_steps"]
    bits = data["raster_bits"][: samples * period]
    chip = build_network(meta, arrays, reset_offset=1 + input_lag)
    every = max(period, (len(bits) // 20) // period * period) if progress else 0
    source = RasterSource(bits=bits, n=meta["n_input"], progress=every, period=period)
    adapters = []
    if target == "loihi2":
        from lava.proc.embedded_io.spike import NxToPyAdapter, PyToNxAdapter

        into_chip = PyToNxAdapter(shape=(meta["n_input"],))
        source.s_out.connect(into_chip.inp)
        feed = into_chip.out
        adapters.append(into_chip)
    else:
        feed = source.s_out
    for name, c in meta["connections"].items():
        if c["pre"] == INPUT:
            feed.connect(chip[name].s_in)
    counters = {}
    for pop, p in meta["populations"].items():
        counters[pop] = SampleCounter(n=p["n"], period=period, samples=samples,
                                      offset=output_lag, name=f"count_{pop}")
        out = chip[pop].s_out
        if target == "loihi2":
            out_of_chip = NxToPyAdapter(shape=(p["n"],))
            out.connect(out_of_chip.inp)
            out = out_of_chip.out
            adapters.append(out_of_chip)
        out.connect(counters[pop].a_in)
    host = [source, *counters.values()]
    return dict(chip=chip, host=host, adapters=adapters, source=source, counters=counters,
                meta=meta, data=data, samples=samples)


def run_config(graph: dict, target: str, partition: dict | None, profile: bool):
    """``(run_cfg, compile_config, profiler)`` of ``target``.

    sim: ``Loihi2SimCfg(select_tag="fixed_pt")``: Lava's bit-accurate CPU models of the
    stock Processes. loihi2: ``Loihi2HwCfg`` with the host Processes' models named
    (``exception_proc_model_map``; the chip Processes get lava-loihi's neuro-core models),
    the compile layer's partition as ``compile_config["partitioning"]`` and, if lava-loihi
    has it, Lava's profiler on the same config."""
    from host_io import HOST_MODELS

    if target == "sim":
        from lava.magma.core.run_configs import Loihi2SimCfg

        return Loihi2SimCfg(select_tag="fixed_pt",
                            exception_proc_model_map=dict(HOST_MODELS)), None, None
    from lava.magma.core.run_configs import Loihi2HwCfg

    cfg = Loihi2HwCfg(exception_proc_model_map=dict(HOST_MODELS))
    compile_config = None
    if partition is not None:
        compile_config = {"partitioning": {
            name: {"neurons_per_core": p["neurons_per_core"], "cores": p["cores"]}
            for name, p in partition["populations"].items()}}
    profiler = None
    if profile:
        try:
            from lava.utils.profiler import Profiler

            profiler = Profiler.init(cfg)
            steps = graph["samples"] * graph["meta"]["sample_steps"]
            profiler.execution_time_probe(num_steps=steps)
            profiler.energy_probe(num_steps=steps)
        except (ImportError, NotImplementedError, AttributeError) as err:
            print(f"profiler unavailable ({type(err).__name__}: {err}); running without",
                  file=sys.stderr)
            profiler = None
    return cfg, compile_config, profiler


def profiler_figures(profiler) -> dict | None:
    if profiler is None:
        return None
    out = {}
    for name in ("execution_time", "spiking_time", "management_time", "host_time",
                 "learning_time"):
        v = getattr(profiler, name, None)
        if v is not None:
            out[f"{name}_mean_s"] = float(np.mean(v))
    try:
        total, dynamic, static, *_ = profiler.energy_breakdown()
        out.update(energy_total=float(np.sum(total)), energy_dynamic=float(np.sum(dynamic)),
                   energy_static=float(np.sum(static)), energy_units="as Lava reports them")
    except (AttributeError, TypeError, ValueError) as err:
        out["energy_error"] = f"{type(err).__name__}: {err}"
    return out


def predict(counts: np.ndarray, assignments: np.ndarray, n_classes: int) -> np.ndarray:
    """Class whose assigned neurons fired most on average (ties: lowest class); neurons
    assigned to no class (-1) vote for none (lavalab.protocol.predict_all_activity)."""
    scores = np.zeros((len(counts), n_classes))
    for c in range(n_classes):
        sel = assignments == c
        if sel.any():
            scores[:, c] = counts[:, sel].sum(1) / sel.sum()
    return scores.argmax(1)


def results(graph: dict, counts: dict, wall_s: float, target: str, profile) -> dict:
    folder_exp = np.load(HERE / "expected.npz", allow_pickle=False)
    expected = read_expected(HERE)
    n = graph["samples"]
    labels = graph["data"]["labels"][:n]
    assign = folder_exp["assignments"]
    pred = predict(counts["exc"], assign, expected["n_classes"])
    e_pred = folder_exp["engine_predictions"][:n]
    rep = {
        "target": target, "samples": n, "lava_runs": 1,
        "steps": n * graph["meta"]["sample_steps"], "wall_s": wall_s,
        "accuracy": float(np.mean(pred == labels)),
        "engine_accuracy": float(np.mean(e_pred == labels)),
        "prediction_agreement_with_engine": float(np.mean(pred == e_pred)),
        "identical_exc_counts_with_engine": float(np.mean(
            (counts["exc"] == folder_exp["engine_exc_counts"][:n]).all(1))),
        "spikes_per_sample": {k: float(v.sum(1).mean()) for k, v in counts.items()},
        "engine_spikes_per_sample": {k: v for k, v in expected["engine_spikes_per_sample"]
                                     .items()},
        "engine_events_per_sample": expected["engine_events_per_sample"],
        "exact_lowering": expected["exact_lowering"],
        "approximations": expected["approximations"],
    }
    if "stock_predictions" in folder_exp.files:
        s_pred = folder_exp["stock_predictions"][:n]
        rep["prediction_agreement_with_stock_reference"] = float(np.mean(pred == s_pred))
        rep["identical_exc_counts_with_stock_reference"] = float(np.mean(
            (counts["exc"] == folder_exp["stock_exc_counts"][:n]).all(1)))
    rep["profiler"] = profile
    return rep


def parse_args(argv):
    p = runner_parser(__doc__)
    p.add_argument("--no-partition", action="store_true",
                   help="let lava-loihi partition the network itself")
    p.add_argument("--no-profile", action="store_true", help="do not attach Lava's profiler")
    p.add_argument("--input-lag", type=int, default=0,
                   help="steps the host->chip path adds (moves the on-chip reset)")
    p.add_argument("--output-lag", type=int, default=0,
                   help="steps the chip->host path adds (moves the counting windows)")
    p.add_argument("--quiet", action="store_true", help="no progress lines during the run")
    args = p.parse_args(argv)
    if args.input_lag < 0 or args.output_lag < 0:
        p.error("--input-lag / --output-lag must be >= 0")
    check_runner_args(p, args, ["--no-partition"] if args.no_partition else [])
    return args


def main(argv=None) -> int:
    args = parse_args(argv)
    try:
        manifest = check_bundle(HERE)
        read_expected(HERE)  # checked before the run, read again after it
        install_py311_fix()
        if args.target == "loihi2":
            select_host(args)
            period = manifest["sample_steps"]
            if period & (period - 1):
                print(f"warning: sample period {period} steps is not a power of 2; "
                      "lava-dl's tutorials say LIFReset's reset_interval must be one on "
                      "Loihi 2 hardware (see the bundle README)",
                      file=sys.stderr)
        data_samples = args.samples
        graph = build_graph(HERE, args.target, data_samples, args.input_lag, args.output_lag,
                            progress=not args.quiet)
        partition = None
        if args.target == "loihi2" and not args.no_partition:
            partition = json.loads((HERE / "partition.json").read_text())
        cfg, compile_config, profiler = run_config(graph, args.target, partition,
                                                   profile=not args.no_profile and
                                                   not args.dry_run)
    except BundleError as err:
        print(f"run.py: error: {err}", file=sys.stderr)
        return 2
    except ValueError as err:  # NetworkFileError and bad values
        print(f"run.py: error: {' '.join(str(err).split())}", file=sys.stderr)
        return 2
    n, period = graph["samples"], graph["meta"]["sample_steps"]
    if args.dry_run:
        print(f"dry run ({args.target}): {len(graph['chip'])} chip Processes, "
              f"{len(graph['host'])} host Processes, {len(graph['adapters'])} adapters; "
              f"{type(cfg).__name__}; {n * period} steps in one run")
        DRY_RUN.update(graph=graph, run_cfg=cfg, compile_config=compile_config)
        return 0
    from lava.magma.core.run_conditions import RunSteps

    steps = n * period + args.output_lag
    t0 = time.perf_counter()
    src = graph["source"]
    try:
        src.run(condition=RunSteps(num_steps=steps), run_cfg=cfg,
                compile_config=compile_config)
        counts = {k: np.rint(c.counts.get()).astype(np.int64)
                  for k, c in graph["counters"].items()}
        learned = {k: np.rint(graph["chip"][k].weights.get()).astype(np.int32)
                   for k, c in graph["meta"]["connections"].items() if "learning" in c}
    finally:
        src.stop()
    wall = time.perf_counter() - t0
    rep = results(graph, counts, wall, args.target, profiler_figures(profiler))
    out = Path(args.out) if args.out else HERE / f"results_{args.target}.json"
    if learned:  # on-chip learning: the weights changed during the run
        wfile = out.with_name(f"results_{args.target}_learned_weights.npz")
        wtmp = wfile.with_name(wfile.name + ".tmp")
        with open(wtmp, "wb") as f:
            np.savez_compressed(f, **learned)
        wtmp.replace(wfile)  # atomic, as the results file below
        with np.load(HERE / "network.npz", allow_pickle=False) as z:
            rep["learning"] = {
                "learned_weights": wfile.name,
                "weights_changed": {k: float(np.mean(w != z[f"{k}.weights"]))
                                    for k, w in learned.items()},
                "note": "the weights learned during the run, so the agreement with the "
                        "engine's frozen-weight results measures the learning's effect"}
    rep = {"format": RESULTS_FORMAT, "version": RESULTS_VERSION, **rep}
    tmp = out.with_name(out.name + ".tmp")
    tmp.write_text(json.dumps(rep, indent=1) + "\n")
    tmp.replace(out)  # atomic: a killed run leaves no half-written results file
    print(f"{args.target}: accuracy {rep['accuracy'] * 100:.2f} % on {n} digits (engine "
          f"{rep['engine_accuracy'] * 100:.2f} %); predictions agree with the engine on "
          f"{rep['prediction_agreement_with_engine'] * 100:.2f} %"
          + (f", with the stock reference on "
             f"{rep['prediction_agreement_with_stock_reference'] * 100:.2f} %"
             if "prediction_agreement_with_stock_reference" in rep else "")
          + f"; one Lava run of {steps} steps in {wall:.1f} s")
    for k, v in rep["spikes_per_sample"].items():
        print(f"  {k} spikes per digit: {v:.2f} (lavalab engine "
              f"{rep['engine_spikes_per_sample'].get(k, float('nan')):.2f})")
    if rep["profiler"]:
        print(f"  profiler: {rep['profiler']}")
    if "learning" in rep:
        print(f"  on-chip learning: weights changed {rep['learning']['weights_changed']}; "
              f"wrote {rep['learning']['learned_weights']}")
    if not rep["exact_lowering"]:
        print("  lowering approximations: " + "; ".join(rep["approximations"]))
    print(f"wrote {out}")
    return 0


#: what the last ``--dry-run`` built (for tests that check the wiring)
DRY_RUN: dict = {}

if __name__ == "__main__":
    sys.exit(main())
