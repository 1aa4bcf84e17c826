#!/usr/bin/env python3
"""Run a lavalab deploy bundle of a supervised network: the lava-dl netx file
``network.net`` on the stock Processes netx builds (``Dense`` and CUBA ``LIF`` layers),
every test digit of the bundle in ONE Lava run, compared with the predictions, per-layer
spike counts and readout scores lavalab computed for the same input.

    python run.py --target sim                         # Loihi2SimCfg(select_tag="fixed_pt")
    python run.py --target loihi2 --partition oheogulch   # Loihi 2 through SLURM (INRC)
    python run.py --target loihi2 --dry-run            # build the wiring only, run nothing

Each digit occupies ``sample_steps = T + L`` steps (T input steps, one step of synaptic
delay per layer), the reset interval netx runs the layers with. The class is the readout
layer's voltage summed over its T steps (the readout never fires), as lavalab's SLAYER
forward pass scores it; on ``loihi2`` the voltage is read with Lava's ``Monitor``.

Imports only numpy, h5py (through netx) and Lava (lava-nc, lava-dl; lava-loihi on the chip),
no lavalab. Exit code 2 and one line on stderr for a damaged or mismatched bundle or a bad
option.
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

NETWORK_FORMAT = "lavalab-netx-network"
NETWORK_VERSION = 1


def load_meta(folder: Path) -> dict:
    """``network.json``: the netx file's input and layer sizes, T and the message bits."""
    try:
        meta = json.loads((folder / "network.json").read_text())
    except (OSError, ValueError) as err:
        raise BundleError(f"{folder}/network.json unreadable: {err}") from None
    if meta.get("format") != NETWORK_FORMAT or meta.get("version") != NETWORK_VERSION:
        raise BundleError(f"network.json: format {meta.get('format')!r} version "
                          f"{meta.get('version')!r}; this run.py reads {NETWORK_FORMAT!r} "
                          f"version {NETWORK_VERSION}")
    return meta


def load_input(folder: Path, meta: dict, samples: int | None) -> dict:
    with np.load(folder / "input.npz", allow_pickle=False) as z:
        data = {k: z[k] for k in z.files}
    x = data.get("x")
    shape = (meta["n_input"], meta["timesteps"])
    if x is None or x.ndim != 3 or x.shape[1:] != shape or "labels" not in data:
        raise BundleError(f"input.npz: x is not (digits, {shape[0]}, {shape[1]}) or labels "
                          "are missing (damaged)")
    total = len(data["labels"])
    samples = total if samples is None else samples
    if not 1 <= samples <= total:
        raise BundleError(f"--samples {samples} is outside 1..{total} (digits in the bundle)")
    data["samples"] = samples
    return data


def build_graph(folder: Path, target: str, samples: int | None) -> dict:
    """The netx network (chip side on ``loihi2``), the host input buffer, one spike sink
    per hidden layer and a Monitor of the readout voltage; on ``loihi2`` the embedded-I/O
    adapters (``lava.proc.embedded_io.spike``) on every host <-> chip edge."""
    from lava.lib.dl import netx
    from lava.proc.io.sink import RingBuffer as Sink
    from lava.proc.io.source import RingBuffer as Source
    from lava.proc.monitor.process import Monitor

    meta = load_meta(folder)
    data = load_input(folder, meta, samples)
    n, t, r = data["samples"], meta["timesteps"], meta["sample_steps"]
    net = netx.hdf5.Network(net_config=str(folder / "network.net"),
                            input_message_bits=meta["input_message_bits"], reset_interval=r)
    if len(net.layers) != len(meta["layers"]):
        raise BundleError(f"network.net has {len(net.layers)} layers, network.json "
                          f"{len(meta['layers'])} (damaged or mixed bundle)")
    raster = np.zeros((meta["n_input"], n * r), np.int64)
    for k in range(n):
        raster[:, k * r:k * r + t] = data["x"][k]
    source = Source(data=raster)
    adapters = []
    feed = source.s_out
    if target == "loihi2":
        from lava.proc.embedded_io.spike import NxToPyAdapter, PyToNxAdapter

        into = PyToNxAdapter(shape=(meta["n_input"],),
                             num_message_bits=meta["input_message_bits"])
        feed.connect(into.inp)
        feed = into.out
        adapters.append(into)
    feed.connect(net.inp)
    sinks = []
    for i, width in enumerate(meta["layers"][:-1]):
        sink = Sink(shape=(width,), buffer=n * r)
        out = net.layers[i].out
        if target == "loihi2":
            out_of_chip = NxToPyAdapter(shape=(width,))
            out.connect(out_of_chip.inp)
            out = out_of_chip.out
            adapters.append(out_of_chip)
        out.connect(sink.a_in)
        sinks.append(sink)
    monitor = Monitor()
    monitor.probe(net.layers[-1].neuron.v, n * r)
    return dict(net=net, source=source, sinks=sinks, monitor=monitor, adapters=adapters,
                meta=meta, data=data, samples=n,
                host=[source, *sinks, monitor])


def run_config(target: str):
    if target == "sim":
        from lava.magma.core.run_configs import Loihi2SimCfg

        return Loihi2SimCfg(select_tag="fixed_pt")
    from lava.magma.core.run_configs import Loihi2HwCfg

    return Loihi2HwCfg()


def readout(graph: dict, spikes: list, v: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-digit spike counts of each hidden layer (layer i's step k arrives at offset
    ``k + i + 1``) and readout scores (voltage summed over the T steps from offset L)."""
    n, t, r = graph["samples"], graph["meta"]["timesteps"], graph["meta"]["sample_steps"]
    counts = np.zeros((n, len(spikes)), np.int64)
    for i, sp in enumerate(spikes):
        for k in range(n):
            counts[k, i] = sp[:, k * r + i + 1:k * r + i + 1 + t].sum()
    lo = len(graph["meta"]["layers"])
    scores = np.stack([v[k * r + lo:k * r + lo + t].sum(0) for k in range(n)])
    return counts, scores.astype(np.int64)


def results(graph: dict, counts: np.ndarray, scores: np.ndarray, wall_s: float,
            target: str) -> dict:
    with np.load(HERE / "expected.npz", allow_pickle=False) as z:
        exp = {k: z[k] for k in z.files}
    expected = read_expected(HERE)
    n = graph["samples"]
    labels = graph["data"]["labels"][:n]
    pred = scores.argmax(1)
    ref_pred = exp["predictions"][:n]
    return {
        "target": target, "samples": n, "lava_runs": 1,
        "steps": n * graph["meta"]["sample_steps"], "wall_s": wall_s,
        "accuracy": float(np.mean(pred == labels)),
        "reference_accuracy": float(np.mean(ref_pred == labels)),
        "prediction_agreement_with_reference": float(np.mean(pred == ref_pred)),
        "identical_layer_counts_with_reference": float(np.mean(
            (counts == exp["layer_counts"][:n]).all(1))),
        "identical_scores_with_reference": float(np.mean(
            (scores == exp["scores"][:n]).all(1))),
        "spikes_per_sample": {name: float(counts[:, i].mean())
                              for i, name in enumerate(expected["hidden_layers"])},
        "reference": expected["reference"],
    }


def parse_args(argv):
    p = runner_parser(__doc__)
    args = p.parse_args(argv)
    check_runner_args(p, args)
    return args


def main(argv=None) -> int:
    args = parse_args(argv)
    try:
        check_bundle(HERE)
        read_expected(HERE)  # checked before the run, read again after it
        install_py311_fix()
        if args.target == "loihi2":
            select_host(args)
        graph = build_graph(HERE, args.target, args.samples)
        cfg = run_config(args.target)
    except ValueError as err:  # BundleError and bad values
        print(f"run.py: error: {' '.join(str(err).split())}", file=sys.stderr)
        return 2
    n, r = graph["samples"], graph["meta"]["sample_steps"]
    if args.dry_run:
        print(f"dry run ({args.target}): netx network of {len(graph['net'].layers)} layers, "
              f"{len(graph['host'])} host Processes, {len(graph['adapters'])} adapters; "
              f"{type(cfg).__name__}; {n * r} steps in one run")
        DRY_RUN.update(graph=graph, run_cfg=cfg)
        return 0
    from lava.magma.core.run_conditions import RunSteps

    t0 = time.perf_counter()
    net = graph["net"]
    try:
        net.run(condition=RunSteps(num_steps=n * r), run_cfg=cfg)
        spikes = [s.data.get() for s in graph["sinks"]]
        v = graph["monitor"].get_data()
        v = v[list(v)[0]]["v"]  # (steps, n_output)
    finally:
        net.stop()
    wall = time.perf_counter() - t0
    counts, scores = readout(graph, spikes, np.rint(v).astype(np.int64))
    rep = results(graph, counts, scores, wall, args.target)
    out = Path(args.out) if args.out else HERE / f"results_{args.target}.json"
    rep = {"format": RESULTS_FORMAT, "version": RESULTS_VERSION, **rep}
    tmp = out.with_name(out.name + ".tmp")
    tmp.write_text(json.dumps(rep, indent=1) + "\n")
    tmp.replace(out)  # atomic: a killed run leaves no half-written results file
    print(f"{args.target}: accuracy {rep['accuracy'] * 100:.2f} % on {n} digits "
          f"(lavalab {rep['reference_accuracy'] * 100:.2f} %); predictions agree with "
          f"lavalab on {rep['prediction_agreement_with_reference'] * 100:.2f} %, identical "
          f"readout scores on {rep['identical_scores_with_reference'] * 100:.2f} %; one Lava "
          f"run of {n * r} steps in {wall:.1f} s")
    print(f"wrote {out}")
    return 0


#: what the last ``--dry-run`` built (for tests that check the wiring)
DRY_RUN: dict = {}

if __name__ == "__main__":
    sys.exit(main())
