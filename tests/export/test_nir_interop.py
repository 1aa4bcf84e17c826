"""The NIR files ``lavalab export --format nir`` writes, run by the importers users have
(snnTorch 1.0's ``import_from_nir``, Norse 1.1's ``from_nir``; nothing patched) on the
same input spikes as lavalab's float model, for trained STDP models (D&C and tinySNN,
12 neurons on 8x8 digits).

Two references: (a) the float model with what NIR's LIF holds (no refractory period,
reset to 0, as both importers reset): spike counts must be identical per digit and
neuron, except Norse on D&C (its executor delivers E -> I -> E inhibition one step
earlier than Lava's two Dense hops: stated tolerance below); (b) the model as trained
(refractory period, reset to v_reset): the importers' predictions must agree with its
predictions on most digits.
"""

from dataclasses import replace

import numpy as np
import pytest

from lavalab.dynamics.encoding import poisson_raster
from lavalab.engine import EVENT_NAMES, infer, intensities, make_net
from lavalab.export.nir_graph import read_nir, to_nir, write_nir
from lavalab.export.nir_run import run_importer
from lavalab.protocol import predict_all_activity
from lavalab.stdp import Model

DIGITS = 50
SEED = 11


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """Two small trained models: {kind: Model}."""
    from lavalab.stdp import TrainConfig, load_model, train

    root = tmp_path_factory.mktemp("nir-interop")
    out = {}
    for kind in ("diehl-cook", "tinysnn"):
        train(TrainConfig(network=kind, neurons=12, timesteps=40, rest=10, samples=20,
                          assign_samples=20, checkpoint_every=20, dataset="digits",
                          input_gain=4.0), root / kind, progress=False)
        out[kind] = load_model(root / kind)
    return out


@pytest.fixture(scope="module")
def raster():
    from lavalab.data import load_dataset

    imgs = load_dataset("digits", "test").images[:DIGITS]
    return imgs


def nir_representable(m):
    """The model with what NIR's LIF (and both importers) hold: no refractory period, reset
    to 0, no one-spike-per-step rule."""
    s = m.spec
    ex = replace(s.exc, t_ref_ms=0.0, v_reset=0.0, one_spike_infer=False)
    inh = replace(s.inh, t_ref_ms=0.0, v_reset=0.0) if s.inh else None
    s = replace(s, exc=ex, inh=inh)
    return Model(s, "fixed", m.seed, m.w, m.theta, m.assignments, m.proportions, {})


def float_counts(m, imgs):
    """lavalab's float model on ``imgs``: {layer: spike counts per digit (and neuron)}."""
    f = m.fixed
    unit = f.v_scale / 64
    c, ev = infer(make_net(m.spec, "float", m.w * 2.0**f.exp_in / unit, m.theta / f.v_scale,
                           seed=SEED), imgs)
    return {"exc": c, "inh": ev[:, EVENT_NAMES.index("inh_spikes")]}


def importer_counts(m, imgs, importer, path):
    s = m.spec
    write_nir(m, path)  # the default file
    r = poisson_raster(intensities(imgs), s.max_rate_hz, s.dt_ms, s.present_steps,
                       s.rest_steps, SEED)
    return run_importer(importer, read_nir(path), r, s.sample_steps)


@pytest.mark.parametrize("importer", ["snntorch", "norse"])
@pytest.mark.parametrize("kind", ["diehl-cook", "tinysnn"])
def test_importer_spikes_equal_float_model(trained, raster, tmp_path, kind, importer):
    m = nir_representable(trained[kind])
    ref = float_counts(m, raster)
    got = importer_counts(m, raster, importer, tmp_path / "m.nir")
    assert ref["exc"].sum() > 2 * DIGITS  # the network is active
    if kind == "diehl-cook":
        assert (got["inh"].sum(1) == got["exc"].sum(1)).all()  # 1:1 E -> I
    if kind == "diehl-cook" and importer == "norse":
        # stated tolerance (measured: 128 vs 163 spikes, 80 % of predictions agree):
        # inhibition one step earlier makes fewer spikes, rarely a different winner
        assert 0.6 * ref["exc"].sum() <= got["exc"].sum() <= ref["exc"].sum()
        pa = predict_all_activity(got["exc"], m.assignments)
        pf = predict_all_activity(ref["exc"], m.assignments)
        assert (pa == pf).mean() >= 0.7
    else:
        np.testing.assert_array_equal(got["exc"], ref["exc"])
        if kind == "diehl-cook":
            np.testing.assert_array_equal(got["inh"].sum(1), ref["inh"])


@pytest.mark.parametrize("importer", ["snntorch", "norse"])
@pytest.mark.parametrize("kind", ["diehl-cook", "tinysnn"])
def test_importer_predictions_agree_with_trained_model(trained, raster, tmp_path, kind,
                                                       importer):
    """The model as trained (refractory period, reset to v_reset, which no importer holds):
    predictions agree on >= 75 % of 50 digits (measured: see docs/interop.md)."""
    m = trained[kind]
    ref = float_counts(m, raster)
    got = importer_counts(m, raster, importer, tmp_path / "m.nir")
    pa = predict_all_activity(got["exc"], m.assignments)
    pf = predict_all_activity(ref["exc"], m.assignments)
    assert (pa == pf).mean() >= 0.75, (pa, pf)


def test_theta_fold_is_what_makes_snntorch_agree(trained, raster, tmp_path):
    """A broken export fails: without the theta fold the counts move away."""
    m = nir_representable(trained["tinysnn"])
    ref = float_counts(m, raster)
    m0 = Model(m.spec, "fixed", m.seed, m.w, np.zeros_like(m.theta), m.assignments,
               m.proportions, {})
    got = importer_counts(m0, raster, "snntorch", tmp_path / "m0.nir")
    assert np.abs(got["exc"] - ref["exc"]).sum() > 0.1 * ref["exc"].sum()


def test_default_file_folds_theta_into_weights(trained):
    m = trained["diehl-cook"]
    f = m.fixed
    g = to_nir(m)
    v_th = (f.exc.vth << 6) / f.v_scale
    scale = v_th / (v_th + m.theta / f.v_scale)
    np.testing.assert_allclose(g.nodes["w_in"].weight,
                               m.w * 2.0**f.exp_in / (f.v_scale / 64) * scale[:, None])
    assert np.unique(g.nodes["exc"].v_threshold).size == 1
    assert g.metadata["target"] == "snntorch" and g.metadata["dt_s"] == 1e-4
    np.testing.assert_allclose(g.nodes["exc"].r * g.metadata["dt_s"], g.nodes["exc"].tau_mem)


def test_snntorch_refuses_the_generic_file(trained):
    from snntorch.import_nir import import_from_nir

    with pytest.raises(AssertionError, match="v_threshold"):
        import_from_nir(to_nir(trained["diehl-cook"], "generic"))
