"""Choosing among a study's configurations: the trade-offs, the Pareto front, the pick and
its model hand-off.

Trade-offs:

- TopSpark: ``S = A - (tau * Ln + eps * En)`` with ``A`` the accuracy in percent, ``Ln``
  and ``En`` the inference latency and energy per sample normalised to the baseline T0
  (T0 = 1), ``tau``, ``eps`` >= 0 set by the user.
- tinySNN: ``R = acc - mu * M_norm`` with ``acc`` in percent and ``M_norm = M_q / M_0``
  the memory footprint relative to the FP32 model.
"""

from __future__ import annotations

from lavalab.protocol import (
    N_CLASSES,
)
from lavalab.study import stats
from lavalab.study.store import SeededResultStore

#: A configuration whose mean accuracy is below this many times chance (100 / classes %)
#: has collapsed; a collapsed baseline withholds the study's choice.
COLLAPSE_FACTOR = 2.0


def _pick(pool: list[dict], broken: str | None, key):
    """A study's choice: the row of ``pool`` (the rows allowed to be chosen) with the
    largest ``key``, or ``(None, why)`` when the baseline is ``broken`` or ``pool`` is
    empty."""
    if broken:
        return None, broken
    if not pool:
        return None, "no configuration passes the Loihi design rules (--deployable-only)"
    return max(pool, key=key), None


def tradeoff_s(accuracy_pct: float, ln: float, en: float, tau: float, eps: float) -> float:
    """TopSpark's ``S = A - (tau * Ln + eps * En)`` (A in percent)."""
    return accuracy_pct - (tau * ln + eps * en)


def _baseline_check(base: dict, what: str) -> str:
    """Why the baseline row ``base`` cannot anchor a choice ('' when it can)."""
    chance = 100.0 / N_CLASSES
    if base["accuracy"] < COLLAPSE_FACTOR * chance:
        return (f"the baseline {what} collapsed: mean accuracy {base['accuracy']:.2f} % is "
                f"below {COLLAPSE_FACTOR:g} x chance ({chance:g} %); train on more samples "
                "or check the configuration")
    return ""


def _spread(r: dict) -> str:
    """``mean ± std % (n seeds)`` of a row's accuracy."""
    return (f"{r['accuracy']:.2f} ± {r.get('accuracy_std', 0.0):.2f} % "
            f"(n = {r.get('n_seeds', 1)})")


def _model_handoff(store: SeededResultStore, row: dict) -> dict:
    """The chosen row's model file (its first seed's; every seed's in ``chosen_models``)
    and the command that compiles it for Loihi."""
    models = [m for m in row.get("models", []) if m]
    if not models:  # an inference-only row: its model is the T0 model, retimed
        return {"chosen_model": None, "chosen_models": [], "compile_command": None}
    path = store.out / models[0]
    return {"chosen_model": str(path), "chosen_models": [str(store.out / m) for m in models],
            "chosen_deployable": bool(row.get("loihi_ok")),
            "chosen_loihi_rule": row.get("loihi_rule") or "",
            "compile_command": f"lavalab compile --model {path} --target "
                               f"{store.setup['target']}",
            "deploy_command": f"lavalab evaluate {path} --backend lava-stock"}


def reward_r(accuracy_pct: float, m_norm: float, mu: float) -> float:
    """tinySNN's ``R = acc - mu * M_norm`` (acc in percent)."""
    return accuracy_pct - mu * m_norm


def pareto_front(points) -> list[int]:
    """Indices of the (accuracy, memory) points no other point beats: higher-or-equal
    accuracy with lower-or-equal memory, one of them strictly."""
    idx = []
    for i, (a, m) in enumerate(points):
        dominated = any((a2 >= a and m2 <= m) and (a2 > a or m2 < m)
                        for j, (a2, m2) in enumerate(points) if j != i)
        if not dominated:
            idx.append(i)
    return idx


#: How "within 2 points of the baseline" is decided (:mod:`lavalab.study.stats`).
WITHIN_CRITERION = ("paired over seeds: the 95 % t-interval of the accuracy difference to "
                    "{base} has lower bound >= -2 percentage points (one seed: the "
                    "difference >= -2, no interval)")
#: The margin, in percentage points, of "within 2 points of the baseline".
WITHIN_POINTS = 2.0


def _paired_fields(r: dict, base: dict, col: str = "accuracy") -> None:
    """The paired ``col`` difference of row ``r`` to the baseline row over their common
    seeds (``diff_pct``, ``diff_ci95_pct``, ``n_pairs``), the decision "within 2 points"
    (``within_2_points``) and its ``decision_line``, set in place."""
    p = stats.paired_rows(r, base, col)
    f = stats.summary_fields(p, WITHIN_POINTS, f"{r['key']} vs {base['key']}")
    r["diff_pct"], r["diff_ci95_pct"] = f["diff_pct"], f["diff_ci95_pct"]
    r["n_pairs"], r["within_2_points"] = f["n_pairs"], f["decision"]
    r["decision_line"] = f["decision_line"]


def _prefixed(prefix: str, r: dict) -> dict:
    """A row's paired fields (:func:`_paired_fields`) for the summary, under ``prefix``."""
    return {f"{prefix}diff_pct": r["diff_pct"], f"{prefix}diff_ci95_pct": r["diff_ci95_pct"],
            f"{prefix}n_pairs": r["n_pairs"], f"{prefix}decision": r["within_2_points"],
            f"{prefix}decision_line": r["decision_line"]}
