"""``lavalab deploy``: the bundle runs without lavalab, in one Lava run, and agrees with
the engine; damaged or mismatched inputs are refused in one line (exit 2)."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
from bundles import SAMPLES, run_bundle

from lavalab.cli import main


@pytest.mark.parametrize("network", ["diehl-cook", "tinysnn"])
def test_bundle_runs_on_lava_sim_without_lavalab(built, network):
    _, bundle = built[network]
    r = run_bundle(bundle, "--target", "sim")
    assert r.returncode == 0, r.stderr
    rep = json.loads((bundle / "results_sim.json").read_text())
    exp = json.loads((bundle / "expected.json").read_text())
    assert rep["lava_runs"] == 1 and rep["samples"] == SAMPLES
    assert (rep["format"], rep["version"]) == ("lavalab-bundle-results", 1)
    assert rep["steps"] == SAMPLES * json.loads((bundle / "network.json").read_text())[
        "sample_steps"]
    # Lava computes exactly what the bundle's stock reference says, digit by digit ...
    assert rep["identical_exc_counts_with_stock_reference"] == 1.0
    assert rep["prediction_agreement_with_stock_reference"] == 1.0
    # ... so its agreement with the engine is the lowering's measured cost (README)
    assert rep["prediction_agreement_with_engine"] == exp[
        "stock_reference_agreement_with_engine"]
    assert set(rep["spikes_per_sample"]) == set(exp["engine_spikes_per_sample"])
    assert "agree with the engine" in r.stdout
    # the one long Lava run reports its progress on stderr (a line per digit here)
    assert f"digit {SAMPLES - 1}/{SAMPLES}" in r.stderr and "s left" in r.stderr
    readme = (bundle / "README.md").read_text()
    assert "use_slurm_host" in readme and "results_loihi2.json" in readme
    assert "lava-nc" in readme


def test_bundle_files_are_plain_and_versioned(built):
    _, bundle = built["diehl-cook"]
    manifest = json.loads((bundle / "bundle.json").read_text())
    assert (manifest["format"], manifest["version"]) == ("lavalab-loihi2-bundle", 1)
    assert {"run.py", "network.npz", "network.json", "input.npz", "expected.npz",
            "partition.json", "README.md"} <= set(manifest["files"])
    exp = json.loads((bundle / "expected.json").read_text())
    assert (exp["format"], exp["version"]) == ("lavalab-bundle-expected", 1)
    for name in ("network.npz", "input.npz", "expected.npz"):
        with np.load(bundle / name, allow_pickle=False) as z:  # no object arrays
            assert all(z[k].dtype != object for k in z.files)
    for name in ("run.py", "stock_network.py", "host_io.py"):
        assert "lavalab" not in "".join(
            line for line in (bundle / name).read_text().splitlines(True)
            if line.lstrip().startswith(("import", "from")))


def test_damaged_or_mismatched_bundle_is_refused(built, tmp_path):
    _, bundle = built["tinysnn"]
    bad = tmp_path / "bad"
    shutil.copytree(bundle, bad)
    data = bytearray((bad / "network.npz").read_bytes())
    data[len(data) // 2] ^= 0xFF
    (bad / "network.npz").write_bytes(bytes(data))
    r = run_bundle(bad, "--target", "sim")
    assert r.returncode == 2
    assert r.stderr.count("\n") == 1 and "network.npz does not match bundle.json" in r.stderr
    shutil.copyfile(bundle / "network.npz", bad / "network.npz")
    m = json.loads((bad / "bundle.json").read_text())
    (bad / "bundle.json").write_text(json.dumps({**m, "version": 99}))
    r = run_bundle(bad, "--target", "sim")
    assert r.returncode == 2 and "version 99" in r.stderr and r.stderr.count("\n") == 1


def test_deploy_refuses_a_damaged_model_in_one_line(built, tmp_path, capsys):
    model, _ = built["diehl-cook"]
    bad = tmp_path / "m"
    bad.mkdir()
    (bad / "model.npz").write_bytes((model / "model.npz").read_bytes()[:200])
    assert main(["deploy", str(bad), "--out", str(tmp_path / "b")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("lavalab deploy: error:") and err.count("\n") == 1
    assert main(["deploy", str(model), "--out", str(tmp_path / "b2"), "--samples",
                 "100000"]) == 2
    assert "samples" in capsys.readouterr().err


def test_evaluate_backend_loihi_points_to_the_bundle(built, capsys):
    model, _ = built["diehl-cook"]
    assert main(["evaluate", str(model), "--backend", "loihi", "--samples", "2"]) == 2
    assert "lavalab deploy" in capsys.readouterr().err


def test_deploy_verify_runs_the_bundle_and_records_it(built, tmp_path, capsys):
    model, _ = built["tinysnn"]
    out = tmp_path / "v"
    assert main(["deploy", str(model), "--out", str(out), "--samples", "2", "--verify"]) == 0
    assert "verified: run.py --target sim without lavalab" in capsys.readouterr().out
    sim = json.loads((out / "bundle.json").read_text())["simulated"]
    assert sim["lava_runs"] == 1 and sim["identical_exc_counts_with_stock_reference"] == 1.0
    assert "Verified when built" in (out / "README.md").read_text()
    assert run_bundle(out, "--target", "sim").returncode == 0  # hashes still match


def _exact_model(model, out, **stdp):
    """The trained model with what the stock LIF cannot express switched off (no
    refractory period, reset to 0, theta 0; a lower threshold so that the tiny model
    spikes): its lowering is exact."""
    from lavalab import model_io

    meta, arrays = model_io.load_npz(model / "model.npz", model_io.MODEL_FORMAT)
    for pop in ("exc", "inh"):
        if meta["spec"].get(pop):
            meta["spec"][pop].update(v_reset=0.0, t_ref_ms=0.0,
                                     v_th=meta["spec"][pop]["v_th"] / 4)
    meta["spec"]["stdp"].update(stdp)
    arrays["theta"] = np.zeros_like(arrays["theta"])
    out.mkdir()
    meta = {k: v for k, v in meta.items() if k not in ("format", "version")}
    model_io.save_npz(out / "model.npz", model_io.MODEL_FORMAT, meta, arrays)
    return out


@pytest.mark.parametrize("network", ["diehl-cook", "tinysnn"])
def test_exact_lowering_bundle_equals_the_engine_digit_by_digit(built, tmp_path, network):
    from lavalab.deploy.bundle import write_bundle

    model = _exact_model(built[network][0], tmp_path / "exact")
    info = write_bundle(model, tmp_path / "b", samples=SAMPLES)
    assert info["expected"]["exact_lowering"]
    r = run_bundle(tmp_path / "b", "--target", "sim")
    assert r.returncode == 0, r.stderr
    rep = json.loads((tmp_path / "b" / "results_sim.json").read_text())
    assert rep["exact_lowering"] and rep["prediction_agreement_with_engine"] == 1.0
    assert rep["identical_exc_counts_with_engine"] == 1.0
    assert sum(rep["spikes_per_sample"].values()) > 0  # the digits do make spikes


def test_learning_bundle_learns_on_lava_or_is_refused(built, tmp_path, capsys):
    """--learning: the input synapses are a stock LearningDense running STDP1 in Lava's
    product-of-traces form; a rule without a learning-engine form is refused in one line."""
    model, _ = built["diehl-cook"]
    assert main(["deploy", str(model), "--out", str(tmp_path / "r"), "--learning"]) == 2
    err = capsys.readouterr().err
    assert "on-chip learning" in err and err.count("\n") == 1
    ok = _exact_model(model, tmp_path / "m", eta_pre=3e-2, eta_post=2e-2)  # compile hints
    assert main(["deploy", str(ok), "--out", str(tmp_path / "b"), "--samples", "2",
                 "--learning"]) == 0
    net = json.loads((tmp_path / "b" / "network.json").read_text())
    assert "learning" in net["connections"]["dense_in"]
    r = run_bundle(tmp_path / "b", "--target", "sim")
    assert r.returncode == 0, r.stderr
    rep = json.loads((tmp_path / "b" / "results_sim.json").read_text())
    assert rep["learning"]["weights_changed"]["dense_in"] > 0
    with np.load(tmp_path / "b" / rep["learning"]["learned_weights"]) as z:
        assert 0 <= z["dense_in"].min() and z["dense_in"].max() <= 255
