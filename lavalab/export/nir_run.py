"""Run an exported NIR file in the importers users have, step by step on a spike raster:
snnTorch 1.0 (``snntorch.import_nir.import_from_nir``) and Norse 1.1
(``norse.torch.from_nir``). Nothing is patched: each importer reads the file as written
for it (:mod:`lavalab.export.nir_graph`). Used by the export's tests and
``bench/nir_interop.py`` to compare the importers' spikes with lavalab's float model.

The samples run as one batch, each from the importer's initial state (snnTorch:
``utils.reset``; Norse: ``state=None``). Returns per-layer spike counts
``{layer: (samples, n)}`` of the layers (LIF nodes) named in ``layers``.
"""

from __future__ import annotations

import contextlib
import io

import numpy as np

__all__ = ["IMPORTERS", "run_importer"]

IMPORTERS = ("snntorch", "norse")


def _hook(rec, name):
    def f(mod, _inp, out):
        z = out[0] if isinstance(out, tuple) else out
        rec[name] = z.detach().numpy()
        if hasattr(mod, "mem"):  # snnTorch keeps v in the module (init_hidden)
            rec[name + "_v"] = mod.mem.detach().numpy()
        elif isinstance(out, tuple) and isinstance(out[1], tuple):  # Norse CubaLIF state
            rec[name + "_v"] = out[1][1].v.detach().numpy()
    return f


def run_importer(importer: str, graph, raster, period: int, layers=("exc", "inh"),
                 readout: str | None = None) -> dict:
    """Spike counts per sample of ``graph`` (a :class:`nir.NIRGraph`, not changed) run by
    ``importer`` on ``raster`` ((samples * period, n_input), spikes or graded values);
    with ``readout``, also ``counts[readout + "_v"]``: that layer's membrane potential
    summed over the steps (a non-spiking readout's class score)."""
    import copy

    import torch

    if importer not in IMPORTERS:
        raise ValueError(f"importer={importer!r} is not one of {IMPORTERS}")
    g = copy.deepcopy(graph)
    dt = float(g.metadata["dt_s"])
    layers = [k for k in layers if k in g.nodes]
    if readout is not None and readout not in layers:
        layers.append(readout)
    sizes = {k: int(np.size(g.nodes[k].v_threshold)) for k in layers}
    torch.set_num_threads(1)
    quiet = io.StringIO()  # snnTorch's importer prints as it goes
    if importer == "snntorch":
        from snntorch import utils
        from snntorch.import_nir import import_from_nir

        with contextlib.redirect_stdout(quiet):
            mod = import_from_nir(g)

        def start():
            utils.reset(mod)
    else:
        import norse.torch as nt

        mod = nt.from_nir(g, dt=dt)

        def start():
            pass
    rec = {}
    for k in layers:
        getattr(mod, k).register_forward_hook(_hook(rec, k))
    n_s = len(raster) // period
    # the samples are independent (each from the initial state): one batch, period steps
    x = torch.from_numpy(np.asarray(raster[:n_s * period], np.float32)
                         .reshape(n_s, period, -1))
    counts = {k: np.zeros((n_s, sizes[k]), np.int64) for k in layers}
    if readout is not None:
        counts[readout + "_v"] = np.zeros((n_s, sizes[readout]))
    with torch.no_grad(), contextlib.redirect_stdout(quiet):
        start()
        state = None
        for t in range(period):
            _, state = mod(x[:, t], state)
            for k in layers:
                counts[k] += rec[k].reshape(n_s, sizes[k]).astype(bool)
            if readout is not None:
                counts[readout + "_v"] += rec[readout + "_v"].reshape(n_s, sizes[readout])
    return counts
