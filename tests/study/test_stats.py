"""Paired statistics (lavalab.study.stats) against hand-computed values."""

import math

import pytest

from lavalab.study import stats


def test_t_quantiles_match_tables():
    assert stats.t_quantile(1) == pytest.approx(12.7062, abs=1e-4)
    assert stats.t_quantile(2) == pytest.approx(4.3027, abs=1e-4)
    assert stats.t_quantile(4) == pytest.approx(2.7764, abs=1e-4)
    with pytest.raises(ValueError):
        stats.t_quantile(0)


def test_paired_three_seeds_hand_computed():
    # d = [1, 2, 3]: mean 2, sd 1, half = t(0.975, 2) / sqrt(3) = 2.48414
    p = stats.paired([11.0, 22.0, 33.0], [10.0, 20.0, 30.0])
    assert p["n_pairs"] == 3
    assert p["diff_pct"] == pytest.approx(2.0)
    assert p["diff_sd_pct"] == pytest.approx(1.0)
    lo, hi = p["diff_ci95_pct"]
    assert lo == pytest.approx(2.0 - 2.48414, abs=1e-4)
    assert hi == pytest.approx(2.0 + 2.48414, abs=1e-4)


def test_paired_two_seeds_hand_computed():
    # d = [0, 2]: mean 1, sd sqrt(2), half = 12.7062 * sqrt(2) / sqrt(2)
    p = stats.paired([1.0, 3.0], [1.0, 1.0])
    assert p["diff_ci95_pct"] == pytest.approx([1 - 12.7062, 1 + 12.7062], abs=1e-3)


def test_one_seed_has_no_interval():
    p = stats.paired([89.0], [90.0])
    assert p == {"diff_pct": -1.0, "diff_ci95_pct": None, "diff_sd_pct": None, "n_pairs": 1}
    assert stats.within(p, 2.0) == "yes (no interval, n = 1)"
    assert stats.within(stats.paired([87.0], [90.0]), 2.0) == "no (no interval, n = 1)"
    assert "no interval" in stats.decision_line(p, 2.0)


def test_pairing_removes_the_seed_effect():
    # seeds differ by 5 points, the arms by exactly -0.5 in each: a zero-width interval
    base = [90.0, 85.0, 80.0]
    p = stats.paired([b - 0.5 for b in base], base)
    assert p["diff_ci95_pct"] == pytest.approx([-0.5, -0.5])
    assert stats.within(p, 2.0) == "yes"
    assert stats.within(p, 0.4) == "no"


def test_within_is_decided_on_the_lower_bound():
    # d = [-0.5, 0, -1.5]: mean -2/3, sd 0.763763, half 4.302653 * sd / sqrt(3) = 1.89733
    p = stats.paired([90.0, 91.0, 89.0], [90.5, 91.0, 90.5])
    lo, hi = p["diff_ci95_pct"]
    assert lo == pytest.approx(-2 / 3 - 1.89733, abs=1e-4)
    assert hi == pytest.approx(-2 / 3 + 1.89733, abs=1e-4)
    assert stats.within(p, 2.0) == "not distinguishable"   # lo < -2 < hi
    assert stats.within(p, 3.0) == "yes"                   # lo >= -3
    assert stats.within(p, 1.0) == "not distinguishable"
    far = stats.paired([80.0, 80.5, 79.5], [90.0, 90.0, 90.0])
    assert stats.within(far, 2.0) == "no"


def test_decision_line_format():
    p = {"diff_pct": -0.54, "diff_ci95_pct": [-1.30, 0.22], "n_pairs": 3}
    assert stats.decision_line(p, 2.0) == (
        "within 2 points: yes, paired diff -0.54 [-1.30, +0.22], n = 3")
    assert stats.decision_line(p).startswith("not distinguishable, paired diff")
    assert stats.decision_line({"diff_pct": 1, "diff_ci95_pct": [0.1, 2], "n_pairs": 3},
                               what="x").startswith("x: better")


def test_paired_rows_pairs_by_seed():
    base = {"accuracy": 90.0, "seeds": [0, 1, 2], "accuracy_seeds": [90.0, 91.0, 89.0]}
    row = {"accuracy": 89.0, "seeds": [2, 0], "accuracy_seeds": [88.0, 89.0]}
    p = stats.paired_rows(row, base)
    assert p["paired_seeds"] == [2, 0]
    assert p["diff_pct"] == pytest.approx(-1.0)  # (88-89 + 89-90) / 2
    assert stats.paired_rows({"accuracy": 1.0, "seed": 7}, base) is None
    single = stats.paired_rows({"accuracy": 88.0, "seed": 1}, {"accuracy": 90.0, "seed": 1})
    assert single["n_pairs"] == 1 and single["diff_pct"] == pytest.approx(-2.0)


def test_paired_rejects_unequal_arms():
    with pytest.raises(ValueError):
        stats.paired([1.0, 2.0], [1.0])
    with pytest.raises(ValueError):
        stats.paired([], [])


@pytest.mark.parametrize("shift", [-3.0, -1.0, 0.0, 2.5])
def test_interval_contains_mean_and_shifts(shift):
    base = [90.0, 88.0, 91.0, 87.0]
    x = [91.0, 87.5, 90.0, 88.0]
    p0 = stats.paired(x, base)
    p = stats.paired([v + shift for v in x], base)
    assert p["diff_pct"] == pytest.approx(p0["diff_pct"] + shift)
    assert p["diff_ci95_pct"] == pytest.approx([c + shift for c in p0["diff_ci95_pct"]])
    lo, hi = p["diff_ci95_pct"]
    assert lo <= p["diff_pct"] <= hi
    assert math.isclose(hi - p["diff_pct"], p["diff_pct"] - lo)


def test_summary_fields():
    f = stats.summary_fields(stats.paired([89.5, 90.0, 90.5], [90.0, 90.0, 90.0]), 2.0,
                             "T88")
    assert f["decision"] == "yes" and f["n_pairs"] == 3
    assert f["decision_line"].startswith("T88: within 2 points: yes")
    assert stats.summary_fields(None, 2.0)["decision"] == "no common seeds"
