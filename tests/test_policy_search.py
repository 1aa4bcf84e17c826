"""TopSpark's enhancement search: sensitivity and selection on a validation split."""

import json

import numpy as np
import pytest

from lavalab.study import StudySetup
from lavalab.study import search as policy_search
from lavalab.study.search import search_enhancement

LEARNS = StudySetup(network="diehl-cook", neurons=10, train_samples=400, test_samples=100,
                    assign_samples=200)


def test_validation_split_is_held_out_training_data():
    val, test = policy_search._split(LEARNS, 50)
    from lavalab.data import load_dataset
    tr = load_dataset("mnist", "train")
    np.testing.assert_array_equal(val.test_x, tr.images[400:450])  # after the training part
    np.testing.assert_array_equal(val.train_x, tr.images[:400])
    assert len(test.test_x) == 100 and val.train_x is test.train_x
    with pytest.raises(ValueError, match="train_samples \\+ val_samples = 60400 exceed"):
        policy_search._split(LEARNS, 60000)


def test_search_selects_on_validation_and_resumes(tmp_path, monkeypatch):
    out = tmp_path / "s"
    s = search_enhancement(LEARNS, out, timesteps=[100], params=["theta"], factors=[2.0],
                           val_samples=100, min_effect=0.0, workers=2, progress=False)
    rows = {r["key"]: r for r in json.loads((out / "results.json").read_text())["rows"]}
    lin, th2 = "tuned(vth=1,tref=1,theta=1,inh=1,lr=1)", "tuned(vth=1,tref=1,theta=2,inh=1,lr=1)"
    assert set(rows) == {"T350-none", f"T100-{lin}", f"T100-{th2}"}
    r = s["per_T"]["100"]
    a_lin, a_th = rows[f"T100-{lin}"]["val_accuracy"], rows[f"T100-{th2}"]["val_accuracy"]
    assert r["effect_points"] == {"theta": pytest.approx(abs(a_th - a_lin))}
    # selection by validation accuracy only (ties keep the linear rule)
    assert r["selected"] == (th2 if a_th > a_lin else lin)
    assert r["linear_test_accuracy"] == rows[f"T100-{lin}"]["accuracy"]
    assert r["selected_test_accuracy"] == rows[f"T100-{r['selected']}"]["accuracy"]
    assert s["baseline_test_accuracy"] == rows["T350-none"]["accuracy"]

    def boom(*a, **k):
        raise AssertionError("a finished candidate was trained again")
    monkeypatch.setattr(policy_search, "train_and_score", boom)
    assert search_enhancement(LEARNS, out, timesteps=[100], params=["theta"], factors=[2.0],
                              val_samples=100, min_effect=0.0, progress=False) == s
    with pytest.raises(ValueError, match="factors=\\[1.0\\] must be non-empty and not"):
        search_enhancement(LEARNS, tmp_path / "x", factors=[1.0])


def test_a_candidate_the_lowering_refuses_is_recorded_not_run(tmp_path):
    """Doubling D&C's inhibition weight exceeds the 8-bit weight range: that candidate is
    named in ``infeasible`` with the reason, the other factor runs, the search finishes."""
    out = tmp_path / "s"
    s = search_enhancement(LEARNS, out, timesteps=[100], params=["inh"], factors=[0.5, 2.0],
                           val_samples=100, min_effect=0.0, workers=1, progress=False)
    bad = "T100-tuned(vth=1,tref=1,theta=1,inh=2,lr=1)"
    assert list(s["infeasible"]) == [bad] and "does not fit 8 bits" in s["infeasible"][bad]
    keys = {r["key"] for r in json.loads((out / "results.json").read_text())["rows"]}
    assert bad not in keys and "T100-tuned(vth=1,tref=1,theta=1,inh=0.5,lr=1)" in keys
    assert s["per_T"]["100"]["selected"] != bad.removeprefix("T100-")
