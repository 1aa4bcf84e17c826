"""What several commands print: a table of result rows, a study's choice and warnings."""

from __future__ import annotations

import sys

__all__ = ["print_rows", "report_study"]


def print_rows(rows: list[dict], cols: tuple[str, ...]) -> None:
    """``rows`` as a right-aligned table of the columns ``cols`` (floats to 4 digits)."""
    def f(v):
        if isinstance(v, float):
            return f"{v:.4g}"
        return str(v)
    table = [[f(r.get(c)) for c in cols] for r in rows]
    widths = [max(len(c), *(len(t[i]) for t in table)) for i, c in enumerate(cols)]
    print("  ".join(c.rjust(w) for c, w in zip(cols, widths, strict=True)))
    for t in table:
        print("  ".join(v.rjust(w) for v, w in zip(t, widths, strict=True)))


def report_study(summary: dict, command: str) -> None:
    """A study's warnings on stderr; the choice (or why it is withheld) and the model
    hand-off on stdout."""
    for w in summary.get("warnings", []):
        print(f"lavalab {command}: warning: {w}", file=sys.stderr)
    if summary.get("chosen") is None:
        print(f"lavalab {command}: warning: no configuration chosen: "
              f"{summary.get('withheld', 'withheld')}", file=sys.stderr)
    elif summary.get("compile_command"):
        if summary.get("chosen_deployable", True):
            print(f"chosen model: {summary['chosen_model']}\n  compile for Loihi: "
                  f"{summary['compile_command']}\n  run on Lava's stock processes: "
                  f"{summary['deploy_command']}")
        else:
            rule = summary.get("chosen_loihi_rule", "").split(":")[0]
            print(f"chosen model: {summary['chosen_model']} (not deployable: design rule "
                  f"{rule}; --deployable-only chooses among deployable configurations)")
