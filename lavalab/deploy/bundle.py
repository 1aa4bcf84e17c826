"""``lavalab deploy MODEL --out BUNDLE``: a self-contained Loihi 2 deploy bundle.

A trained fixed-point model is lowered to Lava's stock Processes
(:func:`lavalab.deploy.stock.lower_model`) and written, with the input and the expected
results of ``samples`` test digits, into a folder that runs with numpy and Lava only (no
lavalab import), on Lava's CPU simulation (``run.py --target sim``) or on a Loihi 2 chip
(``run.py --target loihi2``):

============== ===========================================================================
file           content
============== ===========================================================================
bundle.json    format ``lavalab-loihi2-bundle`` version 1, versions it was built with,
               SHA-256 of every other file (``run.py`` refuses a mismatch, exit 2)
network.json   ``lavalab-stock-network`` v1: populations (stock ``LIFReset`` registers),
network.npz    connections (``Dense``: pre, post, exponent); integer arrays, no pickle
input.npz      ``raster_bits``: the exact input raster the engine used, every digit one
               after the other (``np.packbits`` along the inputs, (steps, ceil(n/8)));
               ``labels``
expected.npz   engine spike counts and predictions per digit, neuron assignments, and the
expected.json  stock reference (:func:`lavalab.deploy.lava_stock.simulate_stock`: the
               stock arithmetic without Lava) with the lowering's measured cost
partition.json the compile layer's core map on Loihi 2 (neurons per core per population)
run.py         the runner; ``stock_network.py`` (loader), ``host_io.py`` (host Processes)
README.md      versions, the INRC commands, what to send back
============== ===========================================================================
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import io
import json
import platform
from pathlib import Path

import numpy as np

from lavalab import loihi_spec as spec
from lavalab import model_io

__all__ = ["BUNDLE_FORMAT", "BUNDLE_VERSION", "NETWORK_FORMAT", "NETWORK_VERSION",
           "EXPECTED_FORMAT", "EXPECTED_VERSION", "RESULTS_FORMAT", "RESULTS_VERSION",
           "read_results", "seal_bundle",
           "TEMPLATES", "WITHOUT_LAVALAB", "write_bundle", "network_files", "partition_of",
           "run_bundle_sim"]

BUNDLE_FORMAT = "lavalab-loihi2-bundle"
BUNDLE_VERSION = 1
NETWORK_FORMAT = "lavalab-stock-network"
NETWORK_VERSION = 1
#: ``expected.json`` and ``run.py``'s ``results_<target>.json`` (the same names as in
#: templates/bundle_common.py, which the bundle's run.py reads)
EXPECTED_FORMAT = "lavalab-bundle-expected"
EXPECTED_VERSION = 1
RESULTS_FORMAT = "lavalab-bundle-results"
RESULTS_VERSION = 1
TEMPLATES = ("run.py", "bundle_common.py", "stock_network.py", "host_io.py")
_TEMPLATE_DIR = Path(__file__).resolve().parent / "templates"

#: ``python -I -c WITHOUT_LAVALAB SCRIPT ARGS`` runs SCRIPT with lavalab unimportable (as in
#: the INRC's Lava environment)
WITHOUT_LAVALAB = """
import runpy, sys
class Block:
    def find_spec(self, name, path=None, target=None):
        if name == "lavalab" or name.startswith("lavalab."):
            raise ModuleNotFoundError(f"No module named {name!r} (blocked)")
        return None
sys.meta_path.insert(0, Block())
script = sys.argv[1]
sys.argv = sys.argv[1:]
runpy.run_path(script, run_name="__main__")
"""


def run_bundle_sim(bundle, *args: str, timeout: float | None = None):
    """``python BUNDLE/run.py --target sim ARGS`` in a fresh interpreter (``-I``: no
    PYTHONPATH, no user site) where lavalab cannot be imported; the CompletedProcess."""
    import subprocess
    import sys

    bundle = Path(bundle)
    cmd = [sys.executable, "-I", "-c", WITHOUT_LAVALAB, str(bundle / "run.py"),
           "--target", "sim", *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout,
                          cwd=bundle.parent)


def network_files(low) -> tuple[dict, dict]:
    """``(network.json content, network.npz arrays)`` of a
    :class:`~lavalab.deploy.stock.StockLowering` (every Process a stock ``LIFReset`` or
    ``Dense``)."""
    pops, conns, arrays = {}, {}, {}
    for name, p in (("exc", low.exc), ("inh", low.inh)):
        if p is None:
            continue
        pops[name] = {"n": p.n, "du": p.du, "dv": p.dv, "vth": p.vth, "bias_exp": p.bias_exp,
                      "process": "lava.proc.lif.process.LIFReset"}
        arrays[f"{name}.bias_mant"] = np.asarray(p.bias_mant, np.int32)
    for name, pre, post, w, exp in (
            ("dense_in", "input", "exc", low.w_in, low.exp_in),
            ("dense_ei", "exc", "inh", low.w_ei, low.exp_ei),
            ("dense_ie", "inh", "exc", low.w_ie, low.exp_ie),
            ("dense_lat", "exc", "exc", low.w_lat, low.exp_lat)):
        if w is None:
            continue
        conns[name] = {"pre": pre, "post": post, "weight_exp": int(exp),
                       "process": "lava.proc.dense.process.Dense"}
        arrays[f"{name}.weights"] = np.asarray(w, np.int32)
    meta = {"format": NETWORK_FORMAT, "version": NETWORK_VERSION, "kind": low.kind,
            "n_input": low.n_input, "sample_steps": low.sample_steps,
            "present_steps": low.present_steps, "rest_steps": low.rest_steps,
            "weight_bits": spec.WEIGHT_BITS, "populations": pops, "connections": conns,
            "approximations": list(low.approximations), "lowering": low.metadata}
    return meta, arrays


def partition_of(model_spec, neurons_per_core: int | None = None) -> dict:
    """The compile layer's Loihi 2 core map of the network, as ``partition.json``:
    population -> neurons per core, cores, and each core's neuron range and load."""
    from lavalab.compile.ir import layer_graph
    from lavalab.compile.mapping import map_to_cores

    cmap = map_to_cores(layer_graph(model_spec), "loihi2", neurons_per_core)
    pops = {}
    for p in ("exc", "inh"):
        cores = cmap.cores_of(p)
        if not cores:
            continue
        pops[p] = {"neurons_per_core": max(c.n_neurons for c in cores), "cores": len(cores),
                   "blocks": [{"start": c.start, "stop": c.stop, "synapses": c.synapses,
                               "memory_bits": c.memory_bits, "fan_in": c.fan_in,
                               "fan_out": c.fan_out} for c in cores]}
    return {"target": "loihi2", "source": "lavalab.compile.mapping.map_to_cores",
            "limits": {"neurons_per_core": spec.LOIHI2.neurons_per_core,
                       "synapse_memory_bits_per_core": spec.LOIHI2.synapse_memory_bits_per_core,
                       "fan_in_per_core": spec.LOIHI2.fan_in_per_core,
                       "fan_out_per_core": spec.LOIHI2.fan_out_per_core,
                       "source": spec.LOIHI2.source},
            "populations": pops}


def _learning_rule(model) -> dict:
    """The JSON form of the model's STDP1 as ``Loihi2FLearningRule`` arguments, checked by
    building the rule with Lava (one-line ``ValueError`` when it has no form)."""
    from lava.magma.core.learning.learning_rule import Loihi2FLearningRule

    from lavalab.deploy.stock import stock_learning_rule_args

    try:
        args = stock_learning_rule_args(model.fixed.stdp, model.seed)
        Loihi2FLearningRule(**args)
    except ValueError as err:
        raise ValueError(f"on-chip learning: the model's learning rule has no Loihi 2 form "
                         f"({err}); lavalab compile --learning names the parameters to "
                         "change") from None
    return args


def _version(dist: str) -> str:
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return "not installed"


def _write_json(path: Path, obj) -> None:
    """``obj`` as indented JSON, atomically (temporary file + rename)."""
    model_io.write_bytes(path, (json.dumps(obj, indent=1) + "\n").encode())


def read_results(path) -> dict:
    """A ``results_<target>.json`` that a bundle's ``run.py`` wrote, after checking its format
    and version (:class:`lavalab.model_io.ModelFileError` naming the file otherwise)."""
    res = model_io.load_json(path)
    if (res.get("format"), res.get("version")) != (RESULTS_FORMAT, RESULTS_VERSION):
        raise model_io.ModelFileError(f"{path}: format {res.get('format')!r} version "
                                      f"{res.get('version')!r}, expected {RESULTS_FORMAT!r} "
                                      f"version {RESULTS_VERSION}")
    return res


def _write_npz(path: Path, arrays: dict) -> None:
    """``arrays`` as a compressed ``.npz`` (no pickle), atomically."""
    buf = io.BytesIO()
    np.savez_compressed(buf, **arrays)
    model_io.write_bytes(path, buf.getvalue())


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def write_bundle(model_dir, out, samples: int = 100, data_root: str | None = None,
                 theta_fold: str = "scale", neurons_per_core: int | None = None,
                 force: bool = False, verify: bool = False, learning: bool = False) -> dict:
    """Write the bundle of ``model_dir`` for its first ``samples`` test digits into ``out``
    (module doc); returns the manifest (``bundle.json``) plus the measured lowering cost.

    ``out`` must be new or empty (``force``: replace the bundle files in it). ``verify``:
    run the finished bundle's ``run.py --target sim`` without lavalab and record its
    results in ``bundle.json`` and the README (``RuntimeError`` if it fails).
    ``learning``: the input synapses become a stock ``LearningDense`` running the model's
    STDP1 in Lava's product-of-traces form (on-chip learning during the run; ``run.py``
    writes the learned weights); refused (``ValueError``) when the rule has no
    learning-engine form (``lavalab compile --learning`` names the parameters)."""
    from lavalab.data import load_dataset
    from lavalab.deploy.lava_stock import simulate_stock
    from lavalab.deploy.stock import lower_model
    from lavalab.dynamics.encoding import poisson_raster
    from lavalab.engine import infer, intensities, make_net
    from lavalab.protocol import N_CLASSES, TEST_SEED_OFFSET, predict_all_activity
    from lavalab.stdp.backend import event_summary
    from lavalab.stdp.files import load_model

    out = Path(out)
    if out.exists() and any(out.iterdir()) and not force:
        raise ValueError(f"--out {out} exists and is not empty (give a new folder)")
    model = load_model(model_dir)
    low = lower_model(model, theta_fold=theta_fold)
    s = model.spec
    test = load_dataset(model.meta.get("dataset", "mnist"), "test", data_root)
    if not 1 <= samples <= len(test):
        raise ValueError(f"samples={samples} is outside the allowed range 1..{len(test)}")
    test = test.subset(samples)
    seed = model.seed + TEST_SEED_OFFSET
    raster = poisson_raster(intensities(test.images), s.max_rate_hz, s.dt_ms, s.present_steps,
                            s.rest_steps, seed, 0)
    e_counts, e_events = infer(make_net(s, "fixed", model.w, model.theta, seed=seed,
                                        fixed=model.fixed), test.images, t0=0)
    e_pred = predict_all_activity(e_counts, model.assignments)
    ref = simulate_stock(low, test.images, seed, s.max_rate_hz, s.dt_ms)
    s_pred = predict_all_activity(ref["counts"], model.assignments)
    labels = np.asarray(test.labels, np.int64)

    net_meta, net_arrays = network_files(low)
    if learning:
        net_meta["connections"]["dense_in"]["learning"] = _learning_rule(model)
    out.mkdir(parents=True, exist_ok=True)
    _write_json(out / "network.json", net_meta)
    _write_npz(out / "network.npz", net_arrays)
    _write_npz(out / "input.npz", {"raster_bits": np.packbits(raster, axis=1),
                                   "labels": labels})
    expected_arrays = {"engine_exc_counts": e_counts, "engine_predictions": e_pred,
                       "stock_exc_counts": ref["counts"], "stock_predictions": s_pred,
                       "assignments": np.asarray(model.assignments, np.int64)}
    if ref["inh_counts"] is not None:
        expected_arrays["stock_inh_counts"] = ref["inh_counts"]
    _write_npz(out / "expected.npz", expected_arrays)
    ev = event_summary(e_events, s)
    agreement = float(np.mean(s_pred == e_pred))
    expected = {
        "format": EXPECTED_FORMAT, "version": EXPECTED_VERSION,
        "n_classes": N_CLASSES, "samples": samples, "seed": seed,
        "dataset": model.meta.get("dataset", "mnist"),
        "engine_accuracy": float(np.mean(e_pred == labels)),
        "stock_reference_accuracy": float(np.mean(s_pred == labels)),
        "stock_reference_agreement_with_engine": agreement,
        "stock_reference_identical_counts": float(np.mean(
            (ref["counts"] == e_counts).all(1))),
        "engine_spikes_per_sample": {k: ev[k]["spikes"]["per_sample"]
                                     for k in ("exc", "inh") if k in ev},
        "engine_events_per_sample": {k: {kk: vv["per_sample"] for kk, vv in v.items()
                                         if isinstance(vv, dict) and "per_sample" in vv}
                                     for k, v in ev.items() if isinstance(v, dict)},
        "exact_lowering": low.exact, "approximations": list(low.approximations),
    }
    _write_json(out / "expected.json", expected)
    part = partition_of(s, neurons_per_core)
    _write_json(out / "partition.json", part)
    for name in TEMPLATES:
        model_io.write_bytes(out / name, (_TEMPLATE_DIR / name).read_bytes())
    versions = {"lavalab": _version("lavalab"), "python": platform.python_version(),
                "lava-nc": _version("lava-nc"), "numpy": np.__version__}
    manifest = {"format": BUNDLE_FORMAT, "version": BUNDLE_VERSION,
                "model": str(Path(model_dir).resolve()), "kind": s.kind, "n_exc": s.n_exc,
                "n_input": s.n_input, "samples": samples,
                "sample_steps": low.sample_steps, "built_with": versions}
    from lavalab.deploy.readme import bundle_readme

    seal_bundle(out, manifest, lambda sim: bundle_readme(manifest, expected, part, net_meta,
                                                         sim), verify,
                ("prediction_agreement_with_engine", "prediction_agreement_with_stock_reference",
                 "identical_exc_counts_with_stock_reference", "spikes_per_sample"))
    return {**manifest, "expected": expected, "partition": part}


def seal_bundle(out: Path, manifest: dict, readme, verify: bool, keys: tuple) -> None:
    """Write the bundle's README (``readme(simulated)``) and, last, ``bundle.json`` with the
    SHA-256 of every other file (it vouches for them, and its own digest for itself). With
    ``verify``, run ``run.py --target sim`` without lavalab, record the run's figures
    (``samples``, ``steps``, ``wall_s``, ``accuracy`` and ``keys``) under ``simulated`` and
    write both again (``RuntimeError`` if the run fails)."""
    def seal(simulated):
        model_io.write_bytes(out / "README.md", readme(simulated).encode())
        manifest["files"] = {p.name: _sha256(p) for p in sorted(out.iterdir())
                             if p.is_file() and p.name != "bundle.json"
                             and not p.name.startswith("results_")}
        model_io.write_json(out / "bundle.json", manifest, digest=True)

    seal(None)
    if verify:
        r = run_bundle_sim(out)
        if r.returncode != 0:
            raise RuntimeError(f"{out}/run.py --target sim failed: "
                               f"{(r.stderr or r.stdout).strip().splitlines()[-1:]}")
        res = read_results(out / "results_sim.json")
        manifest["simulated"] = {k: res[k] for k in (
            "samples", "lava_runs", "steps", "wall_s", "accuracy", *keys)}
        seal(manifest["simulated"])
