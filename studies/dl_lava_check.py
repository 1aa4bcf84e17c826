"""Torch vs Lava fixed_pt (netx) check of a trained supervised model or training checkpoint.

Usage: python studies/dl_lava_check.py MODEL_OR_CKPT OUT.json [TORCH_SAMPLES] [LAVA_SAMPLES]

Evaluates the first TORCH_SAMPLES MNIST test digits in torch (default 10000), the first
LAVA_SAMPLES (default 1000) on Lava fixed_pt through the netx export, their agreement,
and the energy / latency analysis of the torch counts (davies2018, loihi2). OUT.json is a
``lavalab-dl-lava-check`` record, version 1.
"""

import json
import sys
import time

import torch

import lavalab  # noqa: F401  (before any lava import)
from lavalab import model_io
from lavalab.compile.supervised import analyse_supervised, lower_supervised
from lavalab.data import load_dataset
from lavalab.networks.supervised import spec_from_dict
from lavalab.supervised.evaluate import agreement, evaluate_lava, evaluate_torch
from lavalab.supervised.model import SupervisedNet, encode
from lavalab.supervised.train import load_model

FORMAT = "lavalab-dl-lava-check"  # version: lavalab.model_io.VERSION (write_report)


def _load(path):
    if path.endswith(".npz"):
        net, meta = load_model(path)
        return net, {"epochs_trained": len(meta.get("history", []))}
    st = torch.load(path, map_location="cpu", weights_only=False)
    net = SupervisedNet(spec_from_dict(st["spec"]))
    with torch.no_grad():
        net(encode(load_dataset("mnist", "test").images[:1], net.spec))
    net.load_state_dict(st["model"])
    net.eval()
    return net, {"epochs_trained": st["epoch"], "history": st["history"]}


def main():
    path, out = sys.argv[1], sys.argv[2]
    nt = int(sys.argv[3]) if len(sys.argv) > 3 else 10000
    nl = int(sys.argv[4]) if len(sys.argv) > 4 else 1000
    torch.set_num_threads(1)
    net, info = _load(path)
    te = load_dataset("mnist", "test")
    doc = {"model": path, **info}
    a = evaluate_torch(net, te.images[:nt], te.labels[:nt])
    doc["torch"] = a.summary()
    print("torch", doc["torch"], flush=True)
    row, rep = analyse_supervised(lower_supervised(net), a.events)
    doc["analysis"] = row
    doc["energy_by_category_pj"] = rep.energy_by_category_pj()
    print("analysis", row, flush=True)
    t0 = time.time()
    b = evaluate_lava(net, te.images[:nl], te.labels[:nl], progress=False)
    doc["lava"] = b.summary()
    a_sub = evaluate_torch(net, te.images[:nl], te.labels[:nl])
    doc["torch_on_lava_subset"] = a_sub.summary()
    doc["agreement"] = agreement(a_sub, b)
    doc["lava_wall_s"] = time.time() - t0
    print("lava", doc["lava"], doc["agreement"], flush=True)
    model_io.write_report(out, FORMAT, json.loads(json.dumps(doc, default=float)))


if __name__ == "__main__":
    main()
