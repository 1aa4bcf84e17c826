"""The studies' figures: timestep study (TopSpark) and precision study (tinySNN)."""

from __future__ import annotations

import textwrap
from pathlib import Path

from lavalab.plots import DOUBLE_COLUMN_IN, _plt, _save

__all__ = ["timestep_study", "precision_study"]


def _t_inf(r: dict) -> int:
    return r.get("infer_timesteps", r["timesteps"])


#: Distinct colours (Okabe-Ito, colour-blind safe, then tab10) and markers for lines.
COLOURS = ("#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442",
           "#000000", "tab:brown", "tab:gray", "tab:olive", "tab:cyan", "tab:purple",
           "tab:pink", "tab:red", "tab:green", "tab:blue", "tab:orange")
MARKERS = ("o", "s", "^", "D", "v", "P", "X", "<", ">", "*", "h", "p", "8", "d", "H", "1",
           "2", "3")


def _style(i: int) -> dict:
    """Colour and marker of line ``i``: no two lines of a figure share both."""
    return {"color": COLOURS[i % len(COLOURS)], "marker": MARKERS[i % len(MARKERS)]}


def _err(r: dict, col: str) -> float:
    """Standard deviation over seeds of ``col`` (0 without one)."""
    v = r.get(f"{col}_std")
    return float(v) if isinstance(v, (int, float)) else 0.0


def _integer_ticks(ax, values) -> None:
    """x ticks at exactly ``values`` (integers)."""
    vals = sorted({int(v) for v in values})
    ax.set_xticks(vals)
    ax.set_xticklabels([str(v) for v in vals])
    ax.minorticks_off()


def _heading(head: str, title: str, width: int = 90) -> str:
    """A figure's heading and its setup line, wrapped to the figure's width (a
    double-column figure holds about 90 characters of title text)."""
    return "\n".join([head, *textwrap.wrap(title, width)]) if title else head


def timestep_study(rows: list[dict], summary: dict, out, title: str = "") -> list[Path]:
    """``timesteps.png``: accuracy, energy per sample (training and inference) and
    inference latency per sample against the inference T (2 x 2 panels, a paper's text
    width), one line per enhancement policy (inference-only reductions of the T0 model are
    a line of their own), the baseline T0 a dashed reference line in every panel, error
    bars = standard deviation over seeds; the configuration chosen by S is circled (none
    when the choice was withheld). ``title`` names network, N, seeds
    and samples."""
    plt = _plt()
    out = Path(out)
    base = next(r for r in rows if r["key"] == summary["baseline"])
    policies = sorted({r["enhancement"] for r in rows if r["key"] != base["key"]}) or ["none"]
    fig, axes = plt.subplots(2, 2, figsize=(DOUBLE_COLUMN_IN, 5.6))
    axes = axes.ravel()
    panels = (("accuracy", "accuracy (%)"), ("energy_train_uJ", "training energy / sample (µJ)"),
              ("energy_infer_uJ", "inference energy / sample (µJ)"),
              ("latency_infer_us", "inference latency / sample (µs)"))
    chosen = next((r for r in rows if r["key"] == summary.get("chosen")), None)
    t0 = _t_inf(base)
    handles = {}
    for ax, (col, label) in zip(axes, panels, strict=True):
        for i, pol in enumerate(policies):
            pts = sorted((r for r in rows if r["enhancement"] == pol and r is not base),
                         key=_t_inf)
            pts = [r for r in pts if r.get(col) is not None]
            if not pts:
                continue
            h = ax.errorbar([_t_inf(r) for r in pts], [r[col] for r in pts],
                            yerr=[_err(r, col) for r in pts], capsize=2, ms=4, lw=1.2,
                            label=f"enhancement: {pol}", **_style(i))
            handles.setdefault(h.get_label(), h)
        if base.get(col) is not None:  # the baseline T0: the reference every T is set against
            h = ax.axhline(base[col], color="k", ls="--", lw=1,
                           label=f"baseline T0 = {t0} (mean)")
            handles.setdefault(h.get_label(), h)
        if chosen is not None and chosen.get(col) is not None:
            (h,) = ax.plot([_t_inf(chosen)], [chosen[col]], "o", ms=12, mfc="none",
                           mec="red", mew=1.3, label=f"chosen by S ({chosen['key']})")
            handles.setdefault(h.get_label(), h)
        ax.set_xlabel("timesteps per sample T (inference)")
        ax.set_ylabel(label)
        ax.grid(alpha=0.3)
        _integer_ticks(ax, [_t_inf(r) for r in rows])
    h = axes[0].axhline(base["accuracy"] - 2.0, color="gray", ls=":", lw=1,
                        label="T0 mean accuracy - 2 points")
    handles.setdefault(h.get_label(), h)
    fig.legend(list(handles.values()), list(handles), loc="lower center",
               ncol=min(2, len(handles)), frameon=False, bbox_to_anchor=(0.5, 0.0))
    head = f"timestep study: S = A - ({summary['tau']:g} Ln + {summary['eps']:g} En)"
    if summary.get("chosen") is None and summary.get("withheld"):
        head += "\nchoice WITHHELD: " + summary["withheld"][:80]
    fig.suptitle(_heading(head, title))
    fig.tight_layout(rect=(0, 0.01 + 0.03 * ((len(handles) + 1) // 2), 1, 1))
    return [_save(fig, out / "timesteps.png", tight=False)]


def precision_study(rows: list[dict], summary: dict, out, title: str = "") -> list[Path]:
    """``precision_pareto.png`` (accuracy vs memory footprint, Pareto front joined, the
    model chosen by R circled, error bars over seeds) and ``precision_bits.png`` (accuracy
    vs weight bits per scheme / rounding / quantized parameters; one colour and marker per
    line, integer bit ticks, legend outside the data)."""
    plt = _plt()
    out = Path(out)
    fig, ax = plt.subplots(figsize=(DOUBLE_COLUMN_IN, 3.6))
    marks = {"float": "*", "ptq": "o", "itq": "s"}
    names = {"float": "fp32", "ptq": "ptq", "itq": "itq"}  # as in the row keys
    for i, (scheme, mk) in enumerate(marks.items()):
        pts = [r for r in rows if r["scheme"] == scheme]
        if pts:
            ax.errorbar([r["memory_kB"] for r in pts], [r["accuracy"] for r in pts],
                        yerr=[_err(r, "accuracy") for r in pts], fmt=mk, capsize=2,
                        ms=9 if scheme == "float" else 5, alpha=0.8,
                        color=COLOURS[i], label=names[scheme])
    front = sorted((r for r in rows if r.get("pareto")), key=lambda r: r["memory_kB"])
    ax.plot([r["memory_kB"] for r in front], [r["accuracy"] for r in front], "k--", lw=1,
            label="Pareto front")
    ch = next((r for r in rows if r["key"] == summary.get("chosen")), None)
    if ch is not None:
        ax.plot([ch["memory_kB"]], [ch["accuracy"]], "o", ms=15, mfc="none", mec="red",
                mew=1.5, label=f"chosen by R ({ch['key']})"
                + (", deployable only" if summary.get("deployable_only") else ""))
    ax.set_xscale("log")
    from matplotlib.ticker import LogLocator, NullFormatter, StrMethodFormatter

    ax.xaxis.set_major_locator(LogLocator(subs=(1.0, 2.0, 5.0)))
    ax.xaxis.set_major_formatter(StrMethodFormatter("{x:g}"))  # plain kB, not 2x10^1
    ax.xaxis.set_minor_formatter(NullFormatter())
    ax.set_xlabel("memory footprint M (kB, log scale)")
    ax.set_ylabel("accuracy (%)")
    ax.grid(alpha=0.3, which="both")
    ax.legend(loc="upper left", bbox_to_anchor=(1.02, 1.0), borderaxespad=0)
    head = f"precision study: R = acc - {summary['mu']:g} M_norm"
    if ch is None and summary.get("withheld"):
        head += "\nchoice WITHHELD: " + summary["withheld"][:90]
    ax.set_title(_heading(head, title))
    p1 = _save(fig, out / "precision_pareto.png")
    fig, ax = plt.subplots(figsize=(DOUBLE_COLUMN_IN, 3.6))
    groups = sorted({(r["scheme"], r["rounding"], r["params"]) for r in rows
                     if r["scheme"] != "float"})
    for i, g in enumerate(groups):
        pts = sorted((r for r in rows if (r["scheme"], r["rounding"], r["params"]) == g),
                     key=lambda r: r["weight_bits"])
        ax.errorbar([r["weight_bits"] for r in pts], [r["accuracy"] for r in pts],
                    yerr=[_err(r, "accuracy") for r in pts], capsize=2, ms=5, lw=1.2,
                    ls="-" if g[0] == "itq" else "--",
                    label=f"{g[0]} {g[1]} q{'WN' if g[2] == 'wn' else 'W'}",
                    **_style(i))
    fp = next((r for r in rows if r["key"] == "fp32"), None)
    if fp is not None:
        ax.axhline(fp["accuracy"], color="k", ls="--", lw=1, label="baseline fp32 (mean)")
    ax.set_xlabel("weight bits")
    ax.set_ylabel("accuracy (%)")
    ax.grid(alpha=0.3)
    _integer_ticks(ax, [r["weight_bits"] for r in rows if r["scheme"] != "float"] or [8])
    ax.legend(loc="upper left", bbox_to_anchor=(1.02, 1.0), borderaxespad=0)
    ax.set_title(_heading("precision study: accuracy vs weight bits", title))
    p2 = _save(fig, out / "precision_bits.png")
    return [p1, p2]
