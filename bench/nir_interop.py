"""How well the NIR files of ``lavalab export --format nir`` run in other libraries'
importers: snnTorch 1.0.0 and Norse 1.1.0 (lavalab's environment) and sinabs 3.1.3 (its
own environment, ``bench/sinabs_venv.py``: it pins nir<=1.0.4), against lavalab's float
model on the same input spikes.

    python bench/nir_interop.py --model MODEL_DIR [--dl-model MLP.npz] [--digits 200]
        [--out bench/nir_interop.json]

For each importer: per-layer spikes per digit and the agreement of the all-activity
predictions with (a) the model as trained (refractory period, reset to v_reset) and
(b) the model as NIR's LIF holds it (no refractory period, reset to 0), and the
fraction of digits whose excitatory counts are identical to (b)'s neuron for neuron.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
SEED = 11
FORMAT, VERSION = "lavalab-bench-nir-interop", 1  # of the --out file


def nir_representable(m):
    from lavalab.stdp import Model

    s = m.spec
    ex = replace(s.exc, t_ref_ms=0.0, v_reset=0.0, one_spike_infer=False)
    inh = replace(s.inh, t_ref_ms=0.0, v_reset=0.0) if s.inh else None
    return Model(replace(s, exc=ex, inh=inh), "fixed", m.seed, m.w, m.theta, m.assignments,
                 m.proportions, {})


def float_counts(m, imgs):
    from lavalab.engine import EVENT_NAMES, infer, make_net

    f = m.fixed
    c, ev = infer(make_net(m.spec, "float", m.w * 2.0**f.exp_in / (f.v_scale / 64),
                           m.theta / f.v_scale, seed=SEED), imgs)
    return {"exc": c, "inh": ev[:, EVENT_NAMES.index("inh_spikes")]}


def run_sinabs(m, raster, tmp):
    sys.path.insert(0, str(HERE))
    import sinabs_venv

    from lavalab.export.nir_graph import write_nir

    py = sinabs_venv.build()
    write_nir(m, tmp / "s.nir", "sinabs")
    np.save(tmp / "r.npy", raster)
    subprocess.run([str(py), str(HERE / "sinabs_driver.py"), str(tmp / "s.nir"),
                    str(tmp / "r.npy"), str(m.spec.sample_steps), str(tmp / "s.npz")],
                   check=True)
    z = np.load(tmp / "s.npz")
    return {k: z[k] for k in z.files}


def summary(got, ref_full, ref_nir, assignments):
    from lavalab.protocol import predict_all_activity

    p = predict_all_activity(got["exc"], assignments)
    row = {"prediction_agreement_trained": float((p == predict_all_activity(
               ref_full["exc"], assignments)).mean()),
           "prediction_agreement_nir_model": float((p == predict_all_activity(
               ref_nir["exc"], assignments)).mean()),
           "identical_exc_counts_nir_model": float(
               (np.asarray(got["exc"]) == ref_nir["exc"]).all(1).mean())}
    for k, v in got.items():
        row[f"{k}_spikes_per_digit"] = float(np.asarray(v).sum() / len(v))
    return row


def dl_mlp(path, dataset, digits, tmp) -> dict:
    """A lava-dl SLAYER MLP: SLAYER's forward pass vs the importers (default file and the
    ``norse`` one): hidden spike counts and prediction agreement."""
    import torch

    from lavalab.data import load_dataset
    from lavalab.export.nir_dl import supervised_to_nir
    from lavalab.export.nir_graph import read_nir, write_graph
    from lavalab.export.nir_run import run_importer
    from lavalab.supervised.model import encode
    from lavalab.supervised.train import load_model

    net, _ = load_model(path)
    spec = net.spec
    imgs = load_dataset(dataset, "test").images[:digits]
    x = encode(imgs, spec, seed=0)
    with torch.no_grad():
        spikes, v = net(x)
    ref = v.sum(-1).argmax(1).numpy()
    ref_c = [z.sum(-1).numpy() for z in spikes]
    layers = [f"lif{i}" for i in range(len(spec.hidden))]
    raster = x.permute(0, 2, 1).reshape(-1, spec.n_input).numpy()
    out = {"model": str(path), "sizes": list(spec.sizes), "timesteps": spec.timesteps,
           "encoding": spec.encoding, "digits": digits,
           "slayer_hidden_spikes_per_digit": [float(c.sum() / digits) for c in ref_c],
           "importers": {}}
    for importer, target in (("snntorch", "snntorch"), ("norse", "snntorch"),
                             ("norse", "norse")):
        write_graph(supervised_to_nir(net, target), tmp / "dl.nir")
        r = run_importer(importer, read_nir(tmp / "dl.nir"), raster, spec.timesteps,
                         layers=layers, readout="readout")
        row = {"prediction_agreement": float((r["readout_v"].argmax(1) == ref).mean()),
               "hidden_spikes_per_digit": [float(r[k].sum() / digits) for k in layers],
               "identical_hidden_counts": float(np.mean(
                   [(r[k] == c).all(1).mean() for k, c in zip(layers, ref_c, strict=True)]))}
        out["importers"][f"{importer} (--for {target})"] = row
        print("dl", importer, target, json.dumps(row), flush=True)
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", required=True, help="trained STDP model folder")
    ap.add_argument("--dataset", default="mnist")
    ap.add_argument("--digits", type=int, default=200)
    ap.add_argument("--no-sinabs", action="store_true")
    ap.add_argument("--dl-model", help="a lavalab dl train model (.npz) to measure too")
    ap.add_argument("--out", default=str(HERE / "nir_interop.json"))
    a = ap.parse_args(argv)
    from lavalab.data import load_dataset
    from lavalab.dynamics.encoding import poisson_raster
    from lavalab.engine import intensities
    from lavalab.export.nir_graph import read_nir, write_nir
    from lavalab.export.nir_run import run_importer
    from lavalab.stdp import load_model

    m = load_model(a.model)
    s = m.spec
    imgs = load_dataset(a.dataset, "test").images[:a.digits]
    raster = poisson_raster(intensities(imgs), s.max_rate_hz, s.dt_ms, s.present_steps,
                            s.rest_steps, SEED)
    mn = nir_representable(m)
    ref_full, ref_nir = float_counts(m, imgs), float_counts(mn, imgs)
    res = {"format": FORMAT, "version": VERSION, "model": str(a.model), "network": s.kind,
           "n_exc": s.n_exc, "dataset": a.dataset,
           "digits": a.digits, "steps_per_digit": s.sample_steps, "seed": SEED,
           "float_trained": {f"{k}_spikes_per_digit": float(v.sum() / len(v))
                             for k, v in ref_full.items()},
           "float_nir_model": {f"{k}_spikes_per_digit": float(v.sum() / len(v))
                               for k, v in ref_nir.items()},
           "importers": {}}
    # the file is the same for the trained and the NIR-representable model (refractory
    # period and reset are not in it): one run per importer, compared with both
    runs = [("snntorch", "snntorch"), ("norse", "snntorch"), ("norse", "norse")]
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        for importer, target in runs:
            t0 = time.perf_counter()
            write_nir(m, tmp / "m.nir", target)
            got = run_importer(importer, read_nir(tmp / "m.nir"), raster, s.sample_steps)
            row = summary(got, ref_full, ref_nir, m.assignments)
            row["seconds"] = round(time.perf_counter() - t0, 2)
            res["importers"][f"{importer} (--for {target})"] = row
            print(importer, target, json.dumps(row), flush=True)
        if not a.no_sinabs:
            try:
                got = run_sinabs(m, raster, tmp)
                row = summary(got, ref_full, ref_nir, m.assignments)
            except (subprocess.CalledProcessError, OSError) as err:
                row = {"error": str(err)}
            res["importers"]["sinabs (--for sinabs)"] = row
            print("sinabs", json.dumps(row), flush=True)
        if a.dl_model:
            res["dl_mlp"] = dl_mlp(a.dl_model, a.dataset, a.digits, tmp)
    out = Path(a.out)
    tmp_out = out.with_suffix(".json.tmp")
    tmp_out.write_text(json.dumps(res, indent=1) + "\n")
    os.replace(tmp_out, out)
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
