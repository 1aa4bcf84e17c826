"""``lavalab deploy`` of a supervised network (``lavalab dl train``, ``lavalab import``): a
self-contained bundle around its lava-dl netx file.

A supervised network is a chain of CUBA layers that lava-dl's netx builds from stock
``Dense`` and ``LIF`` Processes (the ones with Loihi 2 chip models), so the bundle carries
the netx HDF5 itself rather than lavalab's own network files; lowering it is exact (the
tests check Lava's integers against SLAYER's forward pass). The folder runs with numpy and
Lava only (no lavalab import): ``python BUNDLE/run.py --target sim|loihi2``.

============== ===========================================================================
file           content
============== ===========================================================================
bundle.json    format ``lavalab-loihi2-bundle`` version 1, ``"family": "supervised"``,
               versions it was built with, SHA-256 of every other file
network.net    the netx HDF5 (``lavalab dl export``'s file)
network.json   ``lavalab-netx-network`` v1: input size, layer widths, T, input message
               bits, steps per digit (T + layers: netx's reset interval)
input.npz      ``x`` (digits, inputs, T): the encoded input (graded payloads for the
               direct encoding, 0/1 for rate); ``labels``
expected.npz   lavalab's reference for the same input (SLAYER's forward pass of the
expected.json  exported integers): ``predictions``, ``layer_counts`` (hidden spikes per
               digit and layer), ``scores`` (readout voltage summed over T, Lava's
               integer units)
partition.json the compile layer's core map on Loihi 2 and its design rules (information;
               netx names its own Processes, so the mapping is left to lava-loihi)
run.py         the runner (``templates/run_netx.py``), ``bundle_common.py``
README.md      versions, the commands, what to send back
============== ===========================================================================
"""

from __future__ import annotations

import platform
from pathlib import Path

import numpy as np

from lavalab import model_io
from lavalab.deploy.bundle import (
    _TEMPLATE_DIR,
    BUNDLE_FORMAT,
    BUNDLE_VERSION,
    EXPECTED_FORMAT,
    EXPECTED_VERSION,
    _version,
    _write_json,
    _write_npz,
    seal_bundle,
)

__all__ = ["NETX_NETWORK_FORMAT", "NETX_NETWORK_VERSION", "is_supervised_model",
           "write_supervised_bundle"]

#: lavalab.supervised.train.MODEL_FORMAT (named here so that telling the families apart
#: does not import torch)
SUPERVISED_FORMAT = "lavalab-supervised-model"
NETX_NETWORK_FORMAT = "lavalab-netx-network"
NETX_NETWORK_VERSION = 1
#: template -> name in the bundle
_TEMPLATES = {"run_netx.py": "run.py", "bundle_common.py": "bundle_common.py"}
#: pixels per image of the datasets (lavalab.data.DATASETS)
_PIXELS = {"mnist": 28 * 28, "fashion-mnist": 28 * 28, "digits": 8 * 8}


def is_supervised_model(path) -> bool:
    """Whether ``path`` is a supervised model file (``lavalab dl train`` / ``import``):
    an ``.npz`` whose ``meta`` names the supervised model format."""
    from lavalab import model_io

    path = Path(path)
    if not path.is_file():
        return False
    try:
        model_io.load_npz(path, SUPERVISED_FORMAT)
    except model_io.ModelFileError:
        return False
    return True


def _dataset_for(meta: dict, dataset: str | None, n_input: int) -> str:
    """The dataset whose test digits go into the bundle: ``dataset`` if given, else the
    model's; its image size must be the network's input."""
    name = dataset or meta.get("dataset")
    if name is None:
        fits = [d for d, px in _PIXELS.items() if px == n_input]
        raise ValueError(f"the model does not say which dataset it was trained on (an "
                         f"imported network): give --dataset ({', '.join(fits) or 'none'} "
                         f"has {n_input} pixels)")
    if name not in _PIXELS:
        raise ValueError(f"--dataset {name} is not one of {tuple(_PIXELS)}")
    pixels = _PIXELS[name]
    if pixels != n_input:
        raise ValueError(f"--dataset {name} has {pixels} pixels per image, the network "
                         f"{n_input} inputs")
    return name


def write_supervised_bundle(model_path, out, samples: int = 100, data_root: str | None = None,
                            dataset: str | None = None, seed: int = 0, force: bool = False,
                            verify: bool = False) -> dict:
    """Write the bundle of the supervised model file ``model_path`` for its first
    ``samples`` test digits into ``out`` (module doc); returns the manifest plus
    ``expected`` and ``partition``. ``seed`` seeds a rate encoding's draw (as ``lavalab dl
    evaluate``). ``out`` must be new or empty (``force``: replace). ``verify``: run the
    finished bundle's ``run.py --target sim`` without lavalab and record its results."""
    from lavalab.compile.mapping import map_to_cores
    from lavalab.compile.rules import DesignRuleError
    from lavalab.compile.supervised import check_supervised_rules, lower_supervised
    from lavalab.data import load_dataset
    from lavalab.supervised.evaluate import evaluate_torch, export_netx, steps_per_sample
    from lavalab.supervised.model import encode
    from lavalab.supervised.train import load_model

    out = Path(out)
    if out.exists() and not out.is_dir():
        raise ValueError(f"--out {out} is a file (give a new folder)")
    if out.exists() and any(out.iterdir()) and not force:
        raise ValueError(f"--out {out} exists and is not empty (give a new folder)")
    net, meta = load_model(model_path)
    s = net.spec
    name = _dataset_for(meta, dataset, s.n_input)
    test = load_dataset(name, "test", data_root)
    if not 1 <= samples <= len(test):
        raise ValueError(f"--samples {samples} is outside 1..{len(test)} ({name} test set)")
    test = test.subset(samples)
    fixed = lower_supervised(net)
    cmap = map_to_cores(fixed.graph, "loihi2")
    try:
        check_supervised_rules(fixed, cmap, "loihi2")
        rules = "all passed"
    except DesignRuleError as err:
        raise ValueError(f"{model_path}: does not fit Loihi 2: {err}") from err

    out.mkdir(parents=True, exist_ok=True)
    export_netx(net, out / "network.net")  # refuses Omega (projection_is_stock_neuron)
    labels = np.asarray(test.labels, np.int64)
    x = encode(test.images, s, seed=seed).numpy()
    if not np.array_equal(x, np.rint(x)):
        raise ValueError("the encoded input is not integer (internal)")
    ref = evaluate_torch(net, test.images, labels, seed=seed, batch_size=len(labels))
    scores = np.rint(ref.scores * 2.0 ** 12).astype(np.int64)  # Lava's integer units
    _write_npz(out / "input.npz", {"x": x.astype(np.int32), "labels": labels})
    _write_npz(out / "expected.npz", {"predictions": ref.predictions.astype(np.int64),
                                      "layer_counts": ref.events[:, 1:-1].astype(np.int64),
                                      "scores": scores})
    hidden = [f"h{i}" for i in range(len(s.hidden))]
    net_meta = {"format": NETX_NETWORK_FORMAT, "version": NETX_NETWORK_VERSION,
                "n_input": s.n_input, "layers": list(s.sizes[1:]), "timesteps": s.timesteps,
                "input_message_bits": s.input_message_bits,
                "sample_steps": steps_per_sample(s), "encoding": s.encoding}
    _write_json(out / "network.json", net_meta)
    expected = {"format": EXPECTED_FORMAT, "version": EXPECTED_VERSION,
                "samples": samples, "seed": seed, "dataset": name, "hidden_layers": hidden,
                "reference": "lavalab's SLAYER forward pass of the exported integers",
                "reference_accuracy": float(np.mean(ref.predictions == labels)),
                "reference_spikes_per_sample": dict(zip(
                    hidden, map(float, ref.events[:, 1:-1].mean(0)), strict=True)),
                "exact_lowering": True, "approximations": []}
    _write_json(out / "expected.json", expected)
    part = {"target": "loihi2", "source": "lavalab.compile.mapping.map_to_cores",
            "design_rules": rules, "cores": cmap.cores_used,
            "populations": {p.name: len(cmap.cores_of(p.name))
                            for p in fixed.graph.populations if p.on_chip},
            "note": "information only: netx names its own Processes and lava-loihi maps them"}
    _write_json(out / "partition.json", part)
    for src, dst in _TEMPLATES.items():
        model_io.write_bytes(out / dst, (_TEMPLATE_DIR / src).read_bytes())
    versions = {"lavalab": _version("lavalab"), "python": platform.python_version(),
                "lava-nc": _version("lava-nc"), "lava-dl": _version("lava-dl"),
                "numpy": np.__version__}
    manifest = {"format": BUNDLE_FORMAT, "version": BUNDLE_VERSION, "family": "supervised",
                "model": str(Path(model_path).resolve()), "n_input": s.n_input,
                "layers": net_meta["layers"], "samples": samples,
                "sample_steps": net_meta["sample_steps"], "built_with": versions}

    seal_bundle(out, manifest, lambda sim: _readme(manifest, expected, part, sim), verify,
                ("prediction_agreement_with_reference", "identical_layer_counts_with_reference",
                 "identical_scores_with_reference"))
    return {**manifest, "expected": expected, "partition": part}


def _readme(manifest: dict, expected: dict, part: dict, simulated: dict | None) -> str:
    v = manifest["built_with"]
    sizes = " -> ".join(map(str, [manifest["n_input"], *manifest["layers"]]))
    lines = [
        "# lavalab deploy bundle (supervised network, lava-dl netx)", "",
        f"Network {sizes} (CUBA layers; the readout never fires), "
        f"{manifest['samples']} {expected['dataset']} test digits of "
        f"{manifest['sample_steps']} steps each, run in one Lava run. Built with lavalab "
        f"{v['lavalab']}, lava-nc {v['lava-nc']}, lava-dl {v['lava-dl']}, Python "
        f"{v['python']}, numpy {v['numpy']}.", "",
        "The lowering is exact: `network.net` holds the integers lavalab's SLAYER forward "
        "pass computes with, so `run.py` must reproduce its predictions, hidden spike counts "
        "and readout scores (`expected.npz`); lavalab's accuracy on these digits is "
        f"{expected['reference_accuracy'] * 100:.2f} %.", "",
        "## Run", "",
        "    python run.py --target sim            # Lava's CPU simulation (fixed_pt)",
        "    python run.py --target loihi2 --partition oheogulch   # Loihi 2 through SLURM",
        "    python run.py --target loihi2 --dry-run               # the wiring only", "",
        "It needs numpy, lava-nc and lava-dl (lava-loihi on the chip), not lavalab. "
        "`run.py` refuses a bundle whose files do not match `bundle.json` (exit 2). On "
        "`loihi2` the input enters through `PyToNxAdapter`, hidden spikes leave through "
        "`NxToPyAdapter`, and the readout voltage is read with Lava's `Monitor`; this path "
        "is built by `--dry-run` in lavalab's tests, not run on a chip.", "",
        f"Loihi 2 core map (`partition.json`): {part['cores']} core(s), design rules "
        f"{part['design_rules']}.", "",
        "Send back `results_loihi2.json` (accuracy, agreement with lavalab, wall time).",
    ]
    if simulated:
        lines += ["", "## Verified when built", "",
                  f"`run.py --target sim` without lavalab: accuracy "
                  f"{simulated['accuracy'] * 100:.2f} %, predictions agree with lavalab on "
                  f"{simulated['prediction_agreement_with_reference'] * 100:.2f} %, identical "
                  f"readout scores on {simulated['identical_scores_with_reference'] * 100:.2f}"
                  f" %, one Lava run of {simulated['steps']} steps in "
                  f"{simulated['wall_s']:.1f} s."]
    return "\n".join(lines) + "\n"
