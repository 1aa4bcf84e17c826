"""``lavalab report`` (a study folder as a Markdown or HTML page: tables, decisions with
their paired intervals, figures) and ``lavalab study refresh`` (re-derive a study's summary
from its stored per-seed rows, without re-training)."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path


def add_parser(sub) -> None:
    """Register ``lavalab report``."""
    p = sub.add_parser("report", help="render a study folder (tables, decisions, figures) "
                                      "as Markdown or HTML")
    p.add_argument("results_dir", metavar="RESULTS_DIR", help="a study folder "
                   "(e.g. studies/results/topspark-dc400)")
    p.add_argument("--format", choices=("md", "html"), default="md",
                   help="md (default) or a self-contained html page")
    p.add_argument("--out", metavar="FILE", default=None,
                   help="write the page here (default: standard output); figure links "
                        "are made relative to it")
    p.set_defaults(func=_cmd_report)


def add_refresh_parser(stsub) -> None:
    """Register ``lavalab study refresh``."""
    p = stsub.add_parser("refresh", help="re-derive the summary (paired decisions over "
                                         "seeds) of study folders from their stored rows")
    p.add_argument("results_dirs", metavar="RESULTS_DIR", nargs="+",
                   help="study folders (each with results.json) whose summary is re-derived")
    p.add_argument("--figures", action="store_true",
                   help="also redraw the study's figures from the stored rows")
    p.set_defaults(func=_cmd_refresh)


def _cmd_report(args: argparse.Namespace) -> int:
    if args.out:
        args.hold_out(args.out, folder=False)  # held until the end (lavalab.runlock)
    from lavalab import report

    src = Path(args.results_dir)
    if not src.is_dir() and not (src.is_file() and src.suffix == ".json"):
        raise ValueError(f"RESULTS_DIR {str(src)!r} is not a study folder")
    if src.is_dir() and not any(src.glob("*.json")) and not any(src.glob("*.csv")):
        raise ValueError(f"RESULTS_DIR {str(src)!r} holds no results (no .json or .csv "
                         "file): give a study folder")
    if args.out:
        from lavalab import validate

        out = validate.out_file(args.out)
        prefix = os.path.relpath(src if src.is_dir() else src.parent,
                                 out.parent.resolve() if out.parent != Path() else Path())
    else:
        out, prefix = None, str(src)
    if src.is_dir():
        prefix = Path(prefix).as_posix()
    page = (report.render_html(src, figure_prefix=prefix) if args.format == "html"
            else report.render(src, figure_prefix=prefix))
    if out is None:
        sys.stdout.write(page)
    else:
        from lavalab.model_io import write_bytes

        write_bytes(out, page.encode())  # atomic
        print(f"wrote {out}")
    return 0


def _cmd_refresh(args: argparse.Namespace) -> int:
    from lavalab.study.refresh import refresh_summary

    for d in args.results_dirs:
        args.hold_out(d, flag="RESULTS_DIR")  # held until the end (lavalab.runlock)
        summary = refresh_summary(d, figures=args.figures)
        print(f"{d}:")
        for k, v in summary.items():
            if k.endswith("decision_line"):
                print(f"  {k.removesuffix('_decision_line') or 'decision'}: {v}")
        for line in summary.get("decisions", []):
            print(f"  {line}")
    return 0
