"""``lavalab deploy`` of supervised networks (``lavalab dl train``, ``lavalab import``): the
bundle runs its netx file on Lava without lavalab and must reproduce lavalab's reference
(SLAYER's forward pass of the exported integers) digit for digit: predictions, hidden spike
counts and readout scores. Lava's netx / Dense / LIF models are the independent reference."""

from __future__ import annotations

import importlib.util
import json

import eio_standin
import numpy as np
import pytest

from lavalab.cli import main
from lavalab.data import load_dataset
from lavalab.deploy.bundle import run_bundle_sim
from lavalab.deploy.supervised_bundle import SUPERVISED_FORMAT, is_supervised_model
from lavalab.networks.supervised import SupervisedSpec
from lavalab.supervised.train import MODEL_FORMAT, TrainConfig, save_model, train


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    """A dl model trained on 300 MNIST digits (root folder, model file)."""
    root = tmp_path_factory.mktemp("sdeploy")
    tr = load_dataset("mnist", "train")
    spec = SupervisedSpec(hidden=(24, 16), timesteps=1)
    net, _ = train(spec, TrainConfig(epochs=1, batch_size=50), tr.images[:300],
                   tr.labels[:300], progress=False)
    return root, save_model(root / "dl.npz", net, {"dataset": "mnist"})


def _results(bundle):
    r = run_bundle_sim(bundle, timeout=600)
    assert r.returncode == 0, r.stderr[-2000:]
    return json.loads((bundle / "results_sim.json").read_text())


def test_dl_model_bundle_reproduces_lavalab_on_lava(models, capsys):
    root, dl = models
    out = root / "b-dl"
    assert main(["deploy", str(dl), "--out", str(out), "--samples", "40"]) == 0
    said = capsys.readouterr().out
    assert "supervised 784 -> 24 -> 16 -> 10" in said and "exact" in said
    manifest = json.loads((out / "bundle.json").read_text())
    assert manifest["family"] == "supervised" and manifest["sample_steps"] == 1 + 3
    res = _results(out)  # python -I, lavalab unimportable
    assert res["samples"] == 40 and res["lava_runs"] == 1
    assert res["prediction_agreement_with_reference"] == 1.0
    assert res["identical_layer_counts_with_reference"] == 1.0
    assert res["identical_scores_with_reference"] == 1.0
    assert res["spikes_per_sample"]["h0"] > 0  # the hidden layer fires: the check means much
    assert res["accuracy"] == res["reference_accuracy"]


@pytest.mark.slow
def test_imported_model_bundle(models, capsys):
    """The same network exported to NIR and imported back: an imported model does not say
    its dataset."""
    root, dl = models
    nir, imported = root / "dl.nir", root / "imported.npz"
    assert main(["export", str(dl), "--format", "nir", "--out", str(nir)]) == 0
    assert main(["import", str(nir), "--out", str(imported)]) == 0
    out = root / "b-imp"
    rc = main(["deploy", str(imported), "--out", str(out), "--samples", "20"])
    assert rc == 2 and "--dataset" in capsys.readouterr().err  # the import does not say
    assert main(["deploy", str(imported), "--out", str(out), "--samples", "20",
                 "--dataset", "mnist"]) == 0
    res = _results(out)
    assert res["prediction_agreement_with_reference"] == 1.0
    assert res["identical_scores_with_reference"] == 1.0


def test_refusals(models, capsys, tmp_path):
    root, dl = models
    for argv, words in (
            (["--dataset", "digits"], ("digits", "64 pixels", "784")),
            (["--learning"], ("--learning", "supervised")),
            (["--neurons-per-core", "10"], ("--neurons-per-core",)),
    ):
        rc = main(["deploy", str(dl), "--out", str(tmp_path / "x"), *argv])
        err = capsys.readouterr().err.strip().splitlines()
        assert rc == 2 and len(err) == 1, err
        assert all(w in err[0] for w in words), err
    assert SUPERVISED_FORMAT == MODEL_FORMAT
    assert is_supervised_model(dl) and not is_supervised_model(tmp_path / "none.npz")


def test_damaged_bundle_is_refused(models, capsys):
    root, dl = models
    out = root / "b-damaged"
    assert main(["deploy", str(dl), "--out", str(out), "--samples", "5"]) == 0
    with open(out / "network.net", "r+b") as f:
        f.seek(200)
        b = f.read(1)
        f.seek(200)
        f.write(bytes([b[0] ^ 0xFF]))
    r = run_bundle_sim(out, timeout=300)
    assert r.returncode == 2 and "network.net does not match bundle.json" in r.stderr
    assert "Traceback" not in r.stderr


def test_loihi2_dry_run_wires_adapters(models, monkeypatch, tmp_path):
    root, dl = models
    out = root / "b-dry"
    assert main(["deploy", str(dl), "--out", str(out), "--samples", "3"]) == 0
    from lava.utils import loihi

    calls = []
    monkeypatch.setattr(loihi, "is_installed", lambda *a, **k: True)
    monkeypatch.setattr(loihi, "use_slurm_host", lambda **kw: calls.append(kw))
    eio_standin.install(monkeypatch)
    s = importlib.util.spec_from_file_location("sbundle_run_under_test", out / "run.py")
    run = importlib.util.module_from_spec(s)
    s.loader.exec_module(run)
    assert run.main(["--target", "loihi2", "--dry-run", "--partition", "oheogulch"]) == 0
    g = run.DRY_RUN["graph"]
    from lava.magma.core.run_configs import Loihi2HwCfg

    assert isinstance(run.DRY_RUN["run_cfg"], Loihi2HwCfg)
    assert calls and calls[0]["partition"] == "oheogulch"
    # one adapter into the chip, one out of it per hidden layer
    kinds = sorted(type(a).__name__ for a in g["adapters"])
    assert kinds == ["NxToPyAdapter", "NxToPyAdapter", "PyToNxAdapter"]
    assert np.array_equal(g["data"]["x"].shape, (3, 784, 1))
