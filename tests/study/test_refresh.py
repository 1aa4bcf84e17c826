"""lavalab.study.refresh: summaries re-derived from the stored rows of committed studies."""

import json
import shutil
from pathlib import Path

import pytest

from lavalab.study.refresh import refresh_summary
from lavalab.study.stats import paired

RESULTS = Path(__file__).resolve().parents[2] / "studies" / "results"


def _copy(name, tmp_path, strip=True):
    dst = tmp_path / name
    shutil.copytree(RESULTS / name, dst, ignore=shutil.ignore_patterns("*.png"))
    if strip:  # as written before the paired statistics
        doc = json.loads((dst / "results.json").read_text())
        doc["summary"] = {k: v for k, v in doc["summary"].items()
                          if "decision" not in k and "diff" not in k
                          and "n_pairs" not in k and "paired" not in k}
        (dst / "results.json").write_text(json.dumps(doc))
    return dst


def test_timesteps_summary_gets_paired_intervals(tmp_path):
    d = _copy("topspark-tinysnn400-stdp2", tmp_path)
    s = refresh_summary(d)
    doc = json.loads((d / "results.json").read_text())
    rows = {r["key"]: r for r in doc["rows"]}
    base = rows["T350-none"]["accuracy_seeds"]
    f = rows[s["fewest_timesteps_within_2pct"]]
    p = paired(f["accuracy_seeds"], base)
    assert s["within_2pct_diff_ci95_pct"] == pytest.approx(p["diff_ci95_pct"])
    assert s["within_2pct_n_pairs"] == 3 and p["diff_ci95_pct"][0] >= -2
    assert s["within_2pct_decision"] == "yes"
    assert len(s["decisions"]) == len(s["rows"]) - 1
    # every reduced-T row decided on its interval's lower bound
    for k in s["rows"]:
        lo, hi = paired(rows[k]["accuracy_seeds"], base)["diff_ci95_pct"]
        want = "yes" if lo >= -2 else "no" if hi < -2 else "not distinguishable"
        assert rows[k]["within_2_points"] == want


def test_one_seed_study_says_no_interval(tmp_path):
    d = _copy("tinysnn100-precision", tmp_path, strip=False)  # a version-1 file
    s = refresh_summary(d)
    assert "no interval" in s["chosen_decision_line"] and s["chosen_n_pairs"] == 1
    assert json.loads((d / "results.json").read_text())["version"] == 3
    assert refresh_summary(d) == s  # the rewritten file reads back the same


def test_latency_dt_and_search_summaries(tmp_path):
    lat = refresh_summary(_copy("latency-mnist-h256", tmp_path))
    assert lat["paired_vs_baseline"] and all(d["baseline"] == "cuba"
                                             for d in lat["paired_vs_baseline"])
    dt_dir = _copy("bats-mnist-dt-study", tmp_path)
    dt = refresh_summary(dt_dir, figures=True)
    assert {d["dt"] for d in dt["paired_vs_exact"]} and "per_dt" in dt
    assert (dt_dir / "pareto.png").is_file()  # redrawn from the stored rows
    se = refresh_summary(_copy("search-dc400", tmp_path))
    assert "selected_vs_linear_val" in se["per_T"]["88"] and se["decisions"]


def test_refuses_what_it_cannot_rederive(tmp_path):
    with pytest.raises(ValueError, match="no results.json"):
        refresh_summary(tmp_path)
    with pytest.raises(ValueError, match="exact-train"):
        refresh_summary(_copy("bats-mnist-dt0", tmp_path, strip=False))
