"""Run a lavalab NIR file in sinabs 3.1.3 (``sinabs.from_nir``), inside sinabs' own
environment (``bench/sinabs_venv.py``; it cannot import lavalab: nir 1.0.4 there).

    VENV/bin/python bench/sinabs_driver.py FILE.nir RASTER.npy PERIOD OUT.npz

``RASTER.npy``: bool (samples * period, n_input). The samples run as one batch, one step
per call (sinabs' layers keep v_mem between calls); counts per layer go to ``OUT.npz``.
"""

from __future__ import annotations

import sys

import nir
import numpy as np
import torch
from sinabs import from_nir
from sinabs.utils import reset_states


def main(path, raster_path, period, out):
    period = int(period)
    raster = np.load(raster_path)
    n_s = len(raster) // period
    g = nir.read(path)
    layers = [k for k in ("exc", "inh") if k in g.nodes]
    mod = from_nir(g, batch_size=n_s)
    rec = {}
    for k in layers:
        getattr(mod, k).register_forward_hook(
            lambda m, i, o, k=k: rec.__setitem__(k, o.detach().numpy()))
    x = torch.from_numpy(raster[:n_s * period].astype(np.float32).reshape(n_s, period, -1))
    counts = {k: 0 for k in layers}
    reset_states(mod)
    state = None
    with torch.no_grad():
        for t in range(period):
            _, state = mod(x[:, t], state)
            for k in layers:
                counts[k] = counts[k] + rec[k].reshape(n_s, -1)
    np.savez(out, **counts)


if __name__ == "__main__":
    main(*sys.argv[1:])
