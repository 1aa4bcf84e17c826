"""Timestep and precision studies: trade-off functions, resumable results, rows."""

import json

import numpy as np
import pytest

from lavalab import study
from lavalab.study import StudySetup, pareto_front, precision_study, reward_r, timestep_study

TINY = StudySetup(network="tinysnn", neurons=10, train_samples=60, test_samples=40,
                  assign_samples=40)


def test_tradeoff_functions_by_hand():
    assert study.tradeoff_s(80.0, 0.5, 0.25, tau=10, eps=4) == pytest.approx(80 - 5 - 1)
    assert reward_r(90.0, 0.25, mu=8) == pytest.approx(88.0)
    pts = [(80, 100), (79, 50), (78, 60), (85, 200), (85, 250), (79, 50)]
    # (78, 60) is beaten by (79, 50); (85, 250) by (85, 200); the two (79, 50) tie
    assert pareto_front(pts) == [0, 1, 3, 5]


def test_timestep_study_writes_rows_and_resumes(tmp_path, monkeypatch):
    out = tmp_path / "ts"
    s1 = timestep_study(TINY, out, timesteps=[40], workers=1, progress=False)
    assert s1["chosen"] == "T40-none"
    first = json.loads((out / "results.json").read_text())["rows"][0]
    s2 = timestep_study(TINY, out, timesteps=[40, 20], workers=2, progress=False,
                        infer_timesteps=[20])
    doc = json.loads((out / "results.json").read_text())
    rows = {r["key"]: r for r in doc["rows"]}
    assert set(rows) == {"T40-none", "T20-none", "T20-linear", "T20-proportional",
                         "T40-none@20-linear"}
    inf = rows["T40-none@20-linear"]  # the T0 model, tested at T = 20 (gap, theta x 0.5)
    assert (inf["timesteps"], inf["infer_timesteps"], inf["rest_steps"]) == (40, 20, 9)
    assert inf["energy_train_uJ"] == rows["T40-none"]["energy_train_uJ"]
    assert inf["energy_infer_uJ"] == pytest.approx(rows["T20-linear"]["energy_infer_uJ"],
                                                   rel=0.2)
    assert rows["T40-none"]["train_wall_s"] == first["train_wall_s"]  # not redone
    assert rows["T20-none"]["rest_steps"] == 9  # round(150 * 20 / 350)
    assert rows["T40-none"]["Ln"] == 1.0 and rows["T40-none"]["En"] == 1.0
    for r in rows.values():
        assert r["S"] == pytest.approx(r["accuracy"] - 5 * r["Ln"] - 5 * r["En"])
        assert r["energy_infer_uJ"] > 0 and r["latency_infer_us"] > 0
    # half the steps per sample: about half the latency (barrier + per-step work)
    assert rows["T20-none"]["Ln"] == pytest.approx(29 / 57, rel=0.05)
    assert s2["chosen"] in rows
    for f in ("results.csv", "timesteps.png", "models/T20-linear.npz"):
        assert (out / f).exists()
    csv_lines = (out / "results.csv").read_text().splitlines()
    assert len(csv_lines) == 6 and csv_lines[0].startswith("key,timesteps,infer_timesteps")

    def boom(*a, **k):
        raise AssertionError("a finished configuration was trained again")
    monkeypatch.setattr(study, "train_and_score", boom)
    monkeypatch.setattr(study, "score", boom)
    assert timestep_study(TINY, out, timesteps=[40, 20], workers=2, progress=False,
                          infer_timesteps=[20])["chosen"] == s2["chosen"]
    with pytest.raises(ValueError, match="another setup"):
        timestep_study(StudySetup(network="tinysnn", neurons=12, train_samples=60,
                                  test_samples=40, assign_samples=40), out, timesteps=[40])


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
    assert "weights_fit_bits" in rows["fp32"]["loihi_rule"]
    assert rows["itq-4b-nearest-qW"]["loihi_ok"]
    assert "neuron_state_fits" in rows["itq-4/4b-nearest-qWN"]["loihi_rule"]
    for r in rows.values():
        assert r["R"] == pytest.approx(r["accuracy"] - 10.0 * r["M_norm"])
    front = [k for k, r in rows.items() if r["pareto"]]
    assert sorted(front) == sorted(summary["pareto"])
    best = max(rows.values(), key=lambda r: r["R"])
    assert summary["chosen"] == best["key"]
    # PTQ models are the FP32 model quantized: their training events are FP32's
    assert rows["ptq-4b-nearest-qW"]["energy_train_uJ"] != rows["itq-4b-nearest-qW"][
        "energy_train_uJ"]
    assert (out / "precision_pareto.png").exists() and (out / "precision_bits.png").exists()
    from lavalab.experiment import load_model
    mdl = load_model(out / "models" / "itq-4b-nearest-qW.npz")
    assert mdl.fixed.stdp.w_max == 15 and int(np.max(mdl.w)) <= 15


def test_precision_study_refuses_bad_bits(tmp_path):
    with pytest.raises(ValueError, match="bits=20 is outside the allowed range 2..16"):
        precision_study(TINY, tmp_path, bits=[20])
