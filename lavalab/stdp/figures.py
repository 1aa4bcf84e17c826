"""``lavalab plot``: a trained STDP model's receptive fields and a test sample's spike raster
(the figures themselves: :mod:`lavalab.plots`)."""

from __future__ import annotations

from pathlib import Path

from lavalab.data import load_dataset
from lavalab.engine import make_net, run
from lavalab.protocol import (
    TEST_SEED_OFFSET,
)
from lavalab.stdp.files import load_model, model_folder


def plot(model_dir, out=None, sample: int = 0, data_root: str | None = None) -> list[Path]:
    """Write ``receptive_fields.png`` and ``raster.png`` (test sample ``sample``)."""
    from lavalab import plots, validate
    from lavalab.dynamics.encoding import poisson_raster
    from lavalab.engine import intensities

    model = load_model(model_dir)
    out = validate.out_dir(model_folder(model_dir) if out is None else out)
    shape = tuple(model.meta["input_shape"])
    test = load_dataset(model.meta["dataset"], "test", data_root)
    sample = validate.integer("sample", sample, 0, len(test) - 1)
    out.mkdir(parents=True, exist_ok=True)
    w = model.w / (model.fixed.q if model.fixed is not None else 1.0)
    p1 = plots.receptive_fields(w, shape, out / "receptive_fields.png",
                                f"{model.spec.kind}-{model.spec.n_exc}: input weights")
    img = test.images[sample:sample + 1]
    seed = model.seed + TEST_SEED_OFFSET
    net = make_net(model.spec, model.precision, model.w, model.theta, seed=seed,
                   fixed=model.fixed)
    _, _, exc = run(net, img, learn=False, record=True)
    s = model.spec
    inp = poisson_raster(intensities(img), s.max_rate_hz, s.dt_ms, s.present_steps,
                         s.rest_steps, seed)
    p2 = plots.spike_raster(inp, exc, out / "raster.png", s.present_steps,
                            f"test sample {sample} (label {test.labels[sample]}): "
                            f"{int(inp.sum())} input, {int(exc.sum())} excitatory spikes")
    return [p1, p2]
