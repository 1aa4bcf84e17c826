"""Timestep and precision studies: trade-off functions, resumable results, rows."""

import json

import numpy as np
import pytest

from lavalab import model_io, study
from lavalab.study import StudySetup, pareto_front, precision_study, reward_r, timestep_study
from lavalab.study import precision as prec
from lavalab.study import setup as setup_mod
from lavalab.study import store as store_mod
from lavalab.study import timesteps as timesteps_mod
from lavalab.study.stats import paired

#: Too little training: the network collapses to chance (the warnings' test case).
TINY = StudySetup(network="tinysnn", neurons=10, train_samples=60, test_samples=40,
                  assign_samples=40)
#: The smallest setup that learns above chance (about 30-45 %): studies choose here.
LEARNS = StudySetup(network="diehl-cook", neurons=10, train_samples=400, test_samples=100,
                    assign_samples=200)


def test_tradeoff_functions_by_hand():
    assert study.tradeoff_s(80.0, 0.5, 0.25, tau=10, eps=4) == pytest.approx(80 - 5 - 1)
    assert reward_r(90.0, 0.25, mu=8) == pytest.approx(88.0)
    pts = [(80, 100), (79, 50), (78, 60), (85, 200), (85, 250), (79, 50)]
    # (78, 60) is beaten by (79, 50); (85, 250) by (85, 200); the two (79, 50) tie
    assert pareto_front(pts) == [0, 1, 3, 5]


def test_aggregate_runs_by_hand():
    runs = [{"key": "T5-none", "seed": 0, "model": "m0", "timesteps": 5, "accuracy": 80.0,
             "loihi_ok": True, "notes": "", "warnings": ["w"]},
            {"key": "T5-none", "seed": 2, "model": "m2", "timesteps": 5, "accuracy": 84.0,
             "loihi_ok": False, "notes": "n", "warnings": []}]
    row = study.aggregate_runs(runs)
    assert row["timesteps"] == 5 and row["accuracy"] == 82.0
    assert row["accuracy_std"] == pytest.approx(2 ** 0.5 * 2)  # sample std: sqrt(8)
    assert row["accuracy_seeds"] == [80.0, 84.0] and row["seeds"] == [0, 2]
    assert row["models"] == ["m0", "m2"] and row["loihi_ok"] is False
    assert row["warnings"] == ["seed 0: w"] and row["notes"] == "n"
    assert study.aggregate_runs(runs[:1])["accuracy_std"] == 0.0


def test_timestep_study_seeds_rows_and_resumes(tmp_path, monkeypatch):
    out = tmp_path / "ts"
    s1 = timestep_study(LEARNS, out, timesteps=[350], workers=1, progress=False)
    assert s1["chosen"] == "T350-none" and s1["baseline_ok"] and s1["seeds"] == [0]
    first = json.loads((out / "results.json").read_text())["runs"][0]
    calls = []
    real = timesteps_mod.train_and_score
    monkeypatch.setattr(timesteps_mod, "train_and_score",
                        lambda *a, **k: calls.append(a[5].seed) or real(*a, **k))
    s2 = timestep_study(LEARNS, out, timesteps=[350, 175], workers=2, progress=False,
                        infer_timesteps=[175], seeds=[0, 1])
    # seed 0 of T0 was not trained again; everything else once per seed
    assert sorted(calls) == [0, 0, 0, 1, 1, 1, 1]
    doc = json.loads((out / "results.json").read_text())
    assert doc["version"] == 3 and "seed" not in doc["setup"]
    assert doc["grid"]["seeds"] == [0, 1]
    rows = {r["key"]: r for r in doc["rows"]}
    runs = {(r["key"], r["seed"]): r for r in doc["runs"]}
    assert set(rows) == {"T350-none", "T175-none", "T175-linear", "T175-proportional",
                         "T350-none@175-linear"}
    assert len(runs) == 10
    assert runs[("T350-none", 0)]["train_wall_s"] == first["train_wall_s"]  # not redone
    for key, r in rows.items():
        accs = [runs[(key, s)]["accuracy"] for s in (0, 1)]
        assert r["accuracy_seeds"] == accs and r["seeds"] == [0, 1]
        assert r["accuracy"] == pytest.approx(np.mean(accs))
        assert r["accuracy_std"] == pytest.approx(np.std(accs, ddof=1))
        assert r["accuracy_delta"] == pytest.approx(r["accuracy"] - rows["T350-none"][
            "accuracy"])
        assert r["S"] == pytest.approx(r["accuracy"] - 5 * r["Ln"] - 5 * r["En"])
        assert r["deployable"] is True
    inf = rows["T350-none@175-linear"]  # the T0 model, tested at T = 175
    assert (inf["timesteps"], inf["infer_timesteps"], inf["rest_steps"]) == (350, 175, 75)
    assert inf["energy_train_uJ"] == rows["T350-none"]["energy_train_uJ"]
    assert rows["T350-none"]["Ln"] == 1.0 and rows["T350-none"]["En"] == 1.0
    # half the steps per sample: about half the latency (barrier + per-step work)
    assert rows["T175-none"]["Ln"] == pytest.approx(0.5, rel=0.05)
    # decisions on the means: the chosen row has the largest mean S
    best = max((rows[k] for k in s2["rows"]), key=lambda r: r["S"])
    assert s2["chosen"] == best["key"]
    assert s2["chosen_accuracy"] == best["accuracy"]
    # "within 2 points" on the lower bound of the paired 95 % interval over the seeds
    base_accs = rows["T350-none"]["accuracy_seeds"]
    for r in rows.values():
        p = paired(r["accuracy_seeds"], base_accs)
        assert r["diff_pct"] == pytest.approx(p["diff_pct"]) and r["n_pairs"] == 2
        assert r["diff_ci95_pct"] == pytest.approx(p["diff_ci95_pct"])
    within = [r for r in rows.values() if r["timesteps"] == r["infer_timesteps"]
              and paired(r["accuracy_seeds"], base_accs)["diff_ci95_pct"][0] >= -2]
    assert s2["fewest_timesteps_within_2pct"] == min(
        within, key=lambda r: (r["infer_timesteps"], -r["accuracy"]))["key"]
    if best["models"][0]:
        assert s2["chosen_model"] == str(out / best["models"][0])
        assert (out / best["models"][0]).is_file()
    for f in ("results.csv", "timesteps.png", "models/seed1/T175-linear.npz"):
        assert (out / f).exists()
    csv_lines = (out / "results.csv").read_text().splitlines()
    assert len(csv_lines) == 6 and csv_lines[0].startswith("key,timesteps,infer_timesteps")

    def boom(*a, **k):
        raise AssertionError("a finished configuration was trained again")
    monkeypatch.setattr(timesteps_mod, "train_and_score", boom)
    monkeypatch.setattr(timesteps_mod, "score", boom)
    assert timestep_study(LEARNS, out, timesteps=[350, 175], workers=2, progress=False,
                          infer_timesteps=[175], seeds=[1, 0])["chosen"] == s2["chosen"]
    with pytest.raises(ValueError, match="another setup"):
        timestep_study(StudySetup(network="diehl-cook", neurons=12, train_samples=400,
                                  test_samples=100, assign_samples=200), out,
                       timesteps=[350])


def test_timestep_study_tests_the_inference_network(tmp_path, monkeypatch, capsys):
    """With an inference step and one spike per step (the defaults from 900 neurons) every
    configuration is assigned and tested as that network: its model file is that network
    (evaluated independently by ``lavalab.stdp.evaluate`` to the row's accuracy),
    its inference energy and latency are priced at twice the steps, and the design rules
    see the one-spike inference. Result files of before these fields resume as the plain
    network they ran."""
    from dataclasses import replace

    from lavalab.stdp import evaluate, load_model

    fine = replace(LEARNS, inference_dt_ms=0.5, one_spike_infer=True)
    plain = replace(LEARNS, inference_dt_ms=1.0, one_spike_infer=False)
    assert LEARNS.inference() == (1.0, False)  # 10 neurons: the plain network by default
    assert StudySetup(neurons=900).inference() == (0.5, True)
    s_fine = timestep_study(fine, tmp_path / "fine", timesteps=[350, 175],
                            enhancements=["linear"], workers=1, progress=False)
    s_plain = timestep_study(plain, tmp_path / "plain", timesteps=[350], workers=1,
                             progress=False)
    doc = json.loads((tmp_path / "fine" / "results.json").read_text())
    assert (doc["setup"]["inference_dt_ms"], doc["setup"]["one_spike_infer"]) == (0.5, True)
    rows = {r["key"]: r for r in doc["rows"]}
    plain_row = json.loads((tmp_path / "plain" / "results.json").read_text())["rows"][0]
    for key, present in (("T350-none", 350), ("T175-linear", 175)):
        path = tmp_path / "fine" / rows[key]["models"][0]
        m = load_model(path)
        assert (m.spec.dt_ms, m.spec.present_steps) == (0.5, 2 * present)
        assert m.spec.exc.one_spike_infer and m.meta["train_spec"]["dt_ms"] == 1.0
        ev = evaluate(path, samples=LEARNS.test_samples, out=tmp_path / "ev")
        assert ev["accuracy_pct"] == pytest.approx(rows[key]["accuracy"])
        assert rows[key]["deployable"] is False
        assert "one_spike_not_on_chip" in rows[key]["loihi_rule"]
    # twice the steps of the same physical time (each with a barrier) and fewer spikes:
    # between the plain test's latency and twice it (priced as the plain network: ~1)
    assert 1.3 < rows["T350-none"]["latency_infer_us"] / plain_row["latency_infer_us"] <= 2
    # training is the same network in both: the same training energy
    assert rows["T350-none"]["energy_train_uJ"] == pytest.approx(plain_row["energy_train_uJ"])
    assert plain_row["deployable"] is True and s_plain["baseline_ok"] and s_fine["baseline_ok"]
    # the hand-off says when the chosen model cannot go to Loihi, and why
    assert s_plain["chosen_deployable"] is True
    assert s_fine["chosen_deployable"] is False
    assert s_fine["chosen_loihi_rule"].startswith("one_spike_not_on_chip")
    from lavalab.cli import main

    capsys.readouterr()
    assert main(["study", "timesteps", "--network", "diehl-cook", "--neurons", "10",
                 "--train-samples", "400", "--test-samples", "100", "--assign-samples", "200",
                 "--timesteps", "350,175", "--enhancement", "linear", "--inference-dt", "0.5",
                 "--one-spike-infer", "--quiet", "--out", str(tmp_path / "fine")]) == 0
    text = capsys.readouterr().out
    assert "(not deployable: design rule one_spike_not_on_chip;" in text
    assert "compile for Loihi" not in text
    with pytest.raises(ValueError, match="another setup"):
        timestep_study(plain, tmp_path / "fine", timesteps=[350], workers=1, progress=False)
    # a file written before the fields existed is the plain network it ran
    p = tmp_path / "plain" / "results.json"
    old = json.loads(p.read_text())
    del old["setup"]["inference_dt_ms"], old["setup"]["one_spike_infer"]
    del old["setup"]["w_init"]
    del old["sha256"]  # nor their digest
    p.write_text(json.dumps(old))

    def boom(*a, **k):
        raise AssertionError("a finished configuration was trained again")
    monkeypatch.setattr(timesteps_mod, "train_and_score", boom)
    assert timestep_study(LEARNS, tmp_path / "plain", timesteps=[350], workers=1,
                          progress=False)["chosen"] == s_plain["chosen"]
    with pytest.raises(ValueError, match="inference_dt_ms=0.3"):
        replace(LEARNS, inference_dt_ms=0.3)
    # from 400 neurons a file without w_init started from uniform weights (every lavalab
    # before the samples start from 900): at 1600 it is another setup than today's
    assert setup_mod._setup_dict(StudySetup(neurons=1600))["w_init"] == "samples"
    assert store_mod._legacy_setup(setup_mod._setup_dict(StudySetup(neurons=1600))) == {
        "inference_dt_ms": 1.0, "one_spike_infer": False, "w_init": "uniform"}
    assert store_mod._legacy_setup(setup_mod._setup_dict(StudySetup(neurons=400)))["w_init"] == \
        "uniform"


def test_version2_file_is_read_as_runs_of_its_seed(tmp_path, monkeypatch):
    """A results.json of lavalab <= 0.x (version 2: one seed in the setup, models in
    models/<key>.npz) resumes: its rows are the runs of that seed."""
    out = tmp_path / "old"
    timestep_study(LEARNS, out, timesteps=[350], workers=1, progress=False, seeds=[3])
    doc = json.loads((out / "results.json").read_text())
    (out / "models" / "seed3" / "T350-none.npz").rename(out / "models" / "T350-none.npz")
    old = {"format": doc["format"], "version": 2, "study": "timesteps",
           "setup": {**doc["setup"], "seed": 3}, "grid": {"timesteps": [350]},
           "units": doc["units"], "rows": [{k: v for k, v in r.items()
                                            if k not in ("seed", "model", "warnings")}
                                           for r in doc["runs"]]}
    (out / "results.json").write_text(json.dumps(old))

    def boom(*a, **k):
        raise AssertionError("the version-2 row was trained again")
    monkeypatch.setattr(timesteps_mod, "train_and_score", boom)
    s = timestep_study(LEARNS, out, timesteps=[350], workers=1, progress=False, seeds=[3])
    assert s["chosen"] == "T350-none" and s["baseline_accuracy"] == old["rows"][0]["accuracy"]
    assert s["chosen_model"] == str(out / "models" / "T350-none.npz")
    doc = json.loads((out / "results.json").read_text())
    assert doc["version"] == 3 and doc["runs"][0]["seed"] == 3
    (out / "results.json").write_text(json.dumps({**old, "version": 9}))
    with pytest.raises(model_io.ModelFileError, match="version 9"):
        timestep_study(LEARNS, out, timesteps=[350], progress=False, seeds=[3])


def test_collapsed_baseline_withholds_the_choice(tmp_path, capsys):
    """10-step samples give too few input spikes to learn (accuracy near chance, neurons
    unassigned): every place says so and nothing is chosen."""
    from lavalab.cli import main

    out = tmp_path / "collapse"
    rc = main(["study", "timesteps", "--network", "tinysnn", "--neurons", "10",
               "--train-samples", "60", "--test-samples", "40", "--assign-samples", "40",
               "--timesteps", "10,5", "--enhancement", "linear", "--seeds", "0,1",
               "--quiet", "--out", str(out)])
    assert rc == 0
    err = capsys.readouterr().err
    assert "warning: the baseline T0 = 10 collapsed" in err
    assert "never fired on the assignment samples" in err
    assert "no configuration chosen" in err
    doc = json.loads((out / "results.json").read_text())
    sm = doc["summary"]
    assert sm["chosen"] is None and not sm["baseline_ok"] and "collapsed" in sm["withheld"]
    assert "fewest_timesteps_within_2pct" not in sm
    base = next(r for r in doc["rows"] if r["key"] == "T10-none")
    assert base["accuracy"] < 20 and any("near chance" in w for w in base["warnings"])
    assert any(w.startswith("seed 1: ") for w in base["warnings"])
    assert "near chance" in (out / "results.csv").read_text()


def test_timestep_study_refuses_bad_input(tmp_path):
    with pytest.raises(ValueError, match="baseline T0=50 is not one of"):
        timestep_study(TINY, tmp_path, timesteps=[40], baseline=50)
    with pytest.raises(ValueError, match="enhancement='cubic'"):
        timestep_study(TINY, tmp_path, timesteps=[40], enhancements=["cubic"])
    with pytest.raises(ValueError, match="tau=-1"):
        timestep_study(TINY, tmp_path, timesteps=[40], tau=-1)
    with pytest.raises(ValueError, match=r"infer_timesteps T=40 is outside .* 1..39"):
        timestep_study(TINY, tmp_path, timesteps=[40], infer_timesteps=[40])
    with pytest.raises(ValueError, match="assign_samples=100 exceeds train_samples=60"):
        StudySetup(train_samples=60, assign_samples=100)


def test_precision_study_rows_memory_and_pareto(tmp_path):
    out = tmp_path / "pr"
    summary = precision_study(TINY, out, bits=[32, 4], schemes=["ptq", "itq"],
                              roundings=["nearest"], params=["w", "wn"], timesteps=30,
                              workers=2, progress=False)
    rows = {r["key"]: r for r in json.loads((out / "results.json").read_text())["rows"]}
    assert set(rows) == {"fp32", "ptq-4b-nearest-qW", "ptq-4/4b-nearest-qWN",
                         "itq-4b-nearest-qW", "itq-4/4b-nearest-qWN"}
    n, m = 10, 784
    # M = Nw*Bw + sum Nn_k*Bn_k: input and lateral weights, v / v_th / theta per neuron
    assert rows["fp32"]["memory_bits"] == n * m * 32 + n * (n - 1) * 32 + n * 3 * 32
    assert rows["itq-4b-nearest-qW"]["memory_bits"] == n * m * 4 + n * (n - 1) * 8 + n * 3 * 24
    assert rows["itq-4/4b-nearest-qWN"]["memory_bits"] == n * m * 4 + n * (n - 1) * 8 + n * 3 * 4
    assert rows["fp32"]["M_norm"] == 1.0 and not rows["fp32"]["loihi_ok"]
    assert not rows["fp32"]["deployable"]
    assert "weights_fit_bits" in rows["fp32"]["loihi_rule"]
    assert rows["itq-4b-nearest-qW"]["loihi_ok"] and rows["itq-4b-nearest-qW"]["deployable"]
    assert "neuron_state_fits" in rows["itq-4/4b-nearest-qWN"]["loihi_rule"]
    for r in rows.values():
        assert r["R"] == pytest.approx(r["accuracy"] - 10.0 * r["M_norm"])
    front = [k for k, r in rows.items() if r["pareto"]]
    assert sorted(front) == sorted(summary["pareto"])
    # the choice is withheld exactly when the FP32 baseline is near chance (below 2x chance;
    # test_collapsed_baseline_withholds_the_choice makes one collapse on purpose)
    if rows["fp32"]["accuracy"] < 20:
        assert summary["chosen"] is None and "FP32 collapsed" in summary["withheld"]
    else:
        assert summary["chosen"] in rows and not summary.get("withheld")
    # PTQ models are the FP32 model quantized: their training events are FP32's
    assert rows["ptq-4b-nearest-qW"]["energy_train_uJ"] != rows["itq-4b-nearest-qW"][
        "energy_train_uJ"]
    assert (out / "precision_pareto.png").exists() and (out / "precision_bits.png").exists()
    from lavalab.stdp import load_model
    mdl = load_model(out / "models" / "seed0" / "itq-4b-nearest-qW.npz")
    assert mdl.fixed.stdp.w_max == 15 and int(np.max(mdl.w)) <= 15


def test_precision_study_resumes_a_new_grid_without_training_fp32_again(tmp_path,
                                                                        monkeypatch):
    """A rerun with more PTQ rows reads the finished FP32 model and its training events back
    (same rows as a fresh study); only a study folder without them trains FP32 again."""
    kw = dict(roundings=["nearest"], params=["w"], timesteps=30, workers=1, progress=False)
    out, fresh = tmp_path / "pr", tmp_path / "fresh"
    precision_study(TINY, out, bits=[32, 8], schemes=["ptq"], **kw)
    assert (out / "models" / "seed0" / "fp32-train-events.npz").is_file()
    real = prec._fp32_task

    def boom(*a, **k):
        raise AssertionError("the finished FP32 model was trained again")
    monkeypatch.setattr(prec, "_fp32_task", boom)
    precision_study(TINY, out, bits=[32, 8, 4], schemes=["ptq"], **kw)
    monkeypatch.setattr(prec, "_fp32_task", real)
    precision_study(TINY, fresh, bits=[32, 8, 4], schemes=["ptq"], **kw)
    rows, ref = ({r["key"]: r for r in json.loads((d / "results.json").read_text())["rows"]}
                 for d in (out, fresh))
    for key in ("ptq-4b-nearest-qW", "ptq-8b-nearest-qW"):
        for col in ("accuracy", "energy_train_uJ", "energy_infer_uJ", "memory_bits"):
            assert rows[key][col] == ref[key][col], (key, col)
    # without the events file (a folder of an older lavalab): trained once more, and the
    # finished model file is kept as it was
    (out / "models" / "seed0" / "fp32-train-events.npz").unlink()
    before = (out / "models" / "seed0" / "fp32.npz").stat().st_mtime_ns
    calls = []
    monkeypatch.setattr(prec, "_fp32_task", lambda *a, **k: calls.append(1) or real(*a, **k))
    precision_study(TINY, out, bits=[32, 8, 4, 6], schemes=["ptq"], **kw)
    assert calls == [1] and (out / "models" / "seed0" / "fp32-train-events.npz").is_file()
    assert (out / "models" / "seed0" / "fp32.npz").stat().st_mtime_ns == before


def test_precision_study_deployable_only_hands_the_model_to_compile(tmp_path, capsys):
    from lavalab.cli import main

    out = tmp_path / "pr"
    args = ["study", "precision", "--network", "diehl-cook", "--neurons", "10",
            "--train-samples", "400", "--test-samples", "100", "--assign-samples", "200",
            "--bits", "32,8", "--schemes", "ptq", "--roundings", "nearest", "--params",
            "w,wn", "--timesteps", "350", "--seeds", "0,1", "--quiet", "--out", str(out)]
    assert main(args + ["--mu", "0"]) == 0
    sm = json.loads((out / "results.json").read_text())["summary"]
    rows = {r["key"]: r for r in json.loads((out / "results.json").read_text())["rows"]}
    assert sm["seeds"] == [0, 1] and sm["baseline_ok"]
    # mu = 0: R is the mean accuracy
    assert sm["chosen"] == max(rows.values(), key=lambda r: (r["accuracy"],
                                                             -r["memory_bits"]))["key"]
    capsys.readouterr()
    assert main(args + ["--mu", "0", "--deployable-only"]) == 0
    text = capsys.readouterr().out
    sm = json.loads((out / "results.json").read_text())["summary"]
    assert sm["deployable_only"] and sm["chosen"] == "ptq-8b-nearest-qW"
    assert sm["deployable"] == ["ptq-8b-nearest-qW"]  # fp32 and qWN break a design rule
    assert sm["chosen_model"] == str(out / "models" / "seed0" / "ptq-8b-nearest-qW.npz")
    assert sm["compile_command"] in text
    cmd = sm["compile_command"].split()
    assert cmd[:2] == ["lavalab", "compile"]
    assert main(cmd[1:] + ["--samples", "5"]) == 0  # Loihi design rules accept it


def test_precision_study_refuses_bad_bits(tmp_path):
    with pytest.raises(ValueError, match="bits=20 is outside the allowed range 2..16"):
        precision_study(TINY, tmp_path, bits=[20])
