"""Paired statistics across seeds: the one place a study's decisions get their intervals.

Two arms of a decision (e.g. a reduced T and the baseline T0) are run with the same seeds;
the paired differences ``d_i = x_i - base_i`` (in percentage points when the inputs are
accuracies in percent) give the mean difference and its 95 % confidence interval from the
t-distribution with ``n - 1`` degrees of freedom:

.. math:: \\bar d \\pm t_{0.975, n-1} \\, s_d / \\sqrt{n}

"Within ``X`` points of the baseline" is decided on the interval's lower bound
(``lo >= -X``): *yes* when the lower bound clears ``-X``, *no* when the upper bound does
not reach it (``hi < -X``), *not distinguishable* when the interval spans ``-X``. With one
seed no interval exists and the decision says so (the point difference is still given).

A pure module (numpy, scipy.stats for the t quantile); nothing of the simulator.
"""

from __future__ import annotations

import math

__all__ = ["decision_line", "interval_text", "is_within", "paired", "paired_rows",
           "summary_fields", "t_quantile", "within"]

#: Coverage of the reported intervals.
LEVEL = 0.95


def t_quantile(dof: int, level: float = LEVEL) -> float:
    """The two-sided ``level`` quantile of Student's t with ``dof`` degrees of freedom."""
    from scipy import stats

    if dof < 1:
        raise ValueError(f"dof={dof} must be >= 1")
    return float(stats.t.ppf(0.5 + level / 2.0, dof))


def paired(x, base) -> dict:
    """Mean paired difference ``x - base`` and its 95 % interval.

    Parameters
    ----------
    x, base : sequence of float
        The per-seed values of the two arms, same seeds in the same order.

    Returns
    -------
    dict
        ``diff_pct`` (mean difference), ``diff_ci95_pct`` ([lo, hi], or None with one
        pair), ``diff_sd_pct`` (sample std of the differences, ddof = 1; None with one
        pair) and ``n_pairs``.
    """
    x, base = [float(v) for v in x], [float(v) for v in base]
    if len(x) != len(base):
        raise ValueError(f"paired arms differ in length: {len(x)} vs {len(base)}")
    if not x:
        raise ValueError("no pairs")
    d = [a - b for a, b in zip(x, base, strict=True)]
    n = len(d)
    mean = sum(d) / n
    if n == 1:
        return {"diff_pct": mean, "diff_ci95_pct": None, "diff_sd_pct": None, "n_pairs": 1}
    sd = math.sqrt(sum((v - mean) ** 2 for v in d) / (n - 1))
    half = t_quantile(n - 1) * sd / math.sqrt(n)
    return {"diff_pct": mean, "diff_ci95_pct": [mean - half, mean + half],
            "diff_sd_pct": sd, "n_pairs": n}


def paired_rows(row: dict, base: dict, col: str = "accuracy") -> dict | None:
    """:func:`paired` over the seeds two aggregated rows share (``<col>_seeds`` in the
    order of ``seeds``; a row without them counts as one run of its ``seed``/``seeds``).
    None when the rows share no seed or lack ``col``."""
    def per_seed(r: dict) -> dict[int, float]:
        vals = r.get(f"{col}_seeds")
        seeds = r.get("seeds")
        if isinstance(vals, list) and isinstance(seeds, list) and len(vals) == len(seeds):
            return {int(s): float(v) for s, v in zip(seeds, vals, strict=True)}
        if r.get(col) is None:
            return {}
        seed = r.get("seed", seeds[0] if isinstance(seeds, list) and len(seeds) == 1
                     else 0)
        return {int(seed): float(r[col])}

    a, b = per_seed(row), per_seed(base)
    common = [s for s in a if s in b]
    if not common:
        return None
    return {**paired([a[s] for s in common], [b[s] for s in common]),
            "paired_seeds": common}


def within(p: dict, margin: float) -> str:
    """The decision "within ``margin`` points of the baseline" for a :func:`paired`
    result: ``"yes"`` (interval lower bound >= -margin), ``"no"`` (upper bound < -margin),
    ``"not distinguishable"`` (the interval spans -margin), or, with one pair,
    ``"yes (no interval, n = 1)"`` / ``"no (no interval, n = 1)"`` on the point
    difference."""
    ci = p.get("diff_ci95_pct")
    if ci is None:
        ok = p["diff_pct"] >= -margin
        return f"{'yes' if ok else 'no'} (no interval, n = 1)"
    lo, hi = ci
    if lo >= -margin:
        return "yes"
    if hi < -margin:
        return "no"
    return "not distinguishable"


def is_within(p: dict, margin: float) -> bool:
    """Whether :func:`within` says yes (with one pair: on the point difference)."""
    return within(p, margin).startswith("yes")


def interval_text(p: dict) -> str:
    """``paired diff -0.54 [-1.30, +0.22], n = 3`` (or the one-seed form)."""
    if p.get("diff_ci95_pct") is None:
        return f"paired diff {p['diff_pct']:+.2f}, n = {p['n_pairs']}, no interval"
    lo, hi = p["diff_ci95_pct"]
    return f"paired diff {p['diff_pct']:+.2f} [{lo:+.2f}, {hi:+.2f}], n = {p['n_pairs']}"


def decision_line(p: dict, margin: float | None = None, what: str = "") -> str:
    """One line for a report: ``"within 2 points: yes, paired diff -0.54 [-1.30, +0.22],
    n = 3"``; without ``margin``: whether the difference is distinguishable from 0."""
    head = f"{what}: " if what else ""
    if margin is not None:
        return f"{head}within {margin:g} points: {within(p, margin)}, {interval_text(p)}"
    ci = p.get("diff_ci95_pct")
    if ci is None:
        verdict = "no interval (n = 1)"
    elif ci[0] > 0:
        verdict = "better"
    elif ci[1] < 0:
        verdict = "worse"
    else:
        verdict = "not distinguishable"
    return f"{head}{verdict}, {interval_text(p)}"


def summary_fields(p: dict | None, margin: float | None = None, what: str = "") -> dict:
    """The fields a summary carries for one decision: ``diff_pct``, ``diff_ci95_pct``,
    ``n_pairs``, ``paired_seeds``, ``decision`` (and ``decision_line``)."""
    if p is None:
        return {"diff_pct": None, "diff_ci95_pct": None, "n_pairs": 0,
                "decision": "no common seeds", "decision_line": f"{what}: no common seeds"}
    if margin is not None:
        decision = within(p, margin)
    else:
        decision = decision_line(p).split(",")[0]
    return {"diff_pct": p["diff_pct"], "diff_ci95_pct": p["diff_ci95_pct"],
            "n_pairs": p["n_pairs"], "paired_seeds": p.get("paired_seeds"),
            "decision": decision, "decision_line": decision_line(p, margin, what)}
