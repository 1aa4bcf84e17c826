"""Render committed study results as Markdown pages.

A pure reader: it reads a study folder (``results.json`` or another ``*.json`` record,
``*.csv`` tables, ``*.png`` figures, ``README.md`` / ``COMMAND.md`` notes) with the
standard library only and writes Markdown. It imports nothing of the simulator, Lava,
torch or matplotlib, so the documentation build can call it on any machine.

Accuracies are shown in percent: a column whose name says accuracy (or agreement) is
taken as a fraction when every value lies in [0, 1], its name does not end in ``_pct`` and
the record's ``units`` table does not say ``percent``, and multiplied by 100 (files
written before the ``_pct`` names stay readable).

Examples
--------
>>> from lavalab.report import render, render_index       # doctest: +SKIP
>>> print(render("studies/results/topspark-dc400"))        # doctest: +SKIP
>>> print(render_index("studies/results"))                  # doctest: +SKIP
"""

from __future__ import annotations

import csv
import html
import json
import math
import re
import shutil
from pathlib import Path

__all__ = ["render", "render_html", "render_index", "study_dirs", "to_html", "write_pages"]

#: Columns shown first, in this order, when a table has them (others follow up to MAX_COLS).
PREFERRED = (
    "network", "neurons", "mechanism", "method", "key", "scheme", "weight_bits",
    "neuron_bits", "rounding", "params", "policy", "stage", "timesteps", "infer_timesteps",
    "enhancement", "dt", "epoch", "epochs", "seed", "seeds", "samples", "model",
    "accuracy", "diff_pct", "diff_ci95_pct", "n_pairs", "within_2_points", "decision",
    "val_accuracy", "test_accuracy", "train_accuracy", "accuracy_deployable",
    "accuracy_proportion", "stock_accuracy", "engine_accuracy", "agreement",
    "stock_accuracy_pct", "engine_accuracy_pct", "agreement_pct",
    "energy_train_uJ", "energy_infer_uJ", "latency_infer_us", "memory_kB",
    "spikes_per_neuron", "spikes_per_sample", "spikes_hidden", "spikes_output",
    "S", "R", "deployable", "loihi_ok",
)
#: Columns never shown in a table (long per-seed lists, histories, free text).
HIDDEN = re.compile(
    r"(_seeds$|_per_seed$|^history$|^warnings$|_layers_uJ$|^models$|^runs$|^notes$"
    r"|^loihi_rule$|^approximations$|^units$|decision_line$|^decisions$|^paired_seeds$"
    r"|^criterion$)"
)
MAX_COLS = 12
MAX_ROWS = 80
_PERCENT = re.compile(r"(accuracy|agreement|identical)")
_NOT_PERCENT = re.compile(r"(_std|std_|delta|points)")
_NOTES = ("README.md", "COMMAND.md")


def _is_num(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _file_error(msg: str) -> ValueError:
    """:class:`lavalab.model_io.ModelFileError` (imported when needed: rendering a page
    imports no numpy)."""
    from lavalab.model_io import ModelFileError

    return ModelFileError(msg)


def _number(v):
    """A CSV cell as int / float when it reads as one, else the string."""
    if not isinstance(v, str):
        return v
    try:
        return int(v)
    except ValueError:
        pass
    try:
        f = float(v)
    except ValueError:
        return v
    return f if math.isfinite(f) else v


def _fmt(v) -> str:
    if v is None:
        return ""
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, float):
        if v == int(v) and abs(v) < 1e6:
            return str(int(v))
        return f"{v:.4g}" if abs(v) < 1e-2 or abs(v) >= 1e5 else f"{v:.2f}"
    if isinstance(v, (list, tuple)):
        return ", ".join(_fmt(x) for x in v)
    return str(v).replace("|", "\\|").replace("\n", " ")


def _percent_scale(rows: list[dict], col: str, units: dict) -> float | None:
    """100 when ``col`` holds fractions, 1 when it holds percent, None if not an accuracy."""
    base = col[:-5] if col.endswith("_mean") else col
    if not _PERCENT.search(base) or _NOT_PERCENT.search(base):
        return None
    if base.endswith("_pct") or "percent" in str(units.get(base, "")):
        return 1.0
    vals = [r[col] for r in rows if _is_num(r.get(col))]
    if not vals:
        return None
    return 100.0 if all(0.0 <= v <= 1.0 for v in vals) else 1.0


def _columns(rows: list[dict]) -> list[str]:
    present: list[str] = []
    for r in rows:
        for k, v in r.items():
            if k not in present and not HIDDEN.search(k) and not isinstance(v, dict):
                present.append(k)
    # a "<x>_std" column is shown inside "<x>" (or "<x>_mean") as mean ± std
    shown = [c for c in present if not (c.endswith("_std") and (
        c[:-4] in present or c[:-4] + "_mean" in present))]

    def rank(c: str) -> tuple[int, int]:
        base = c[:-5] if c.endswith("_mean") else c
        return (PREFERRED.index(base) if base in PREFERRED else len(PREFERRED),
                present.index(c))

    return sorted(shown, key=rank)[:MAX_COLS]


def _table(rows: list[dict], units: dict | None = None) -> str:
    """A list of records as a Markdown table (selected columns, accuracy in percent)."""
    units = units or {}
    rows = [r for r in rows if isinstance(r, dict)]
    if not rows:
        return ""
    cols = _columns(rows)
    scale = {c: _percent_scale(rows, c, units) for c in cols}
    head = []
    for c in cols:
        base = c[:-5] if c.endswith("_mean") else c
        head.append(f"{base.removesuffix('_pct')} %" if scale[c] else base)
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(cols)]
    for r in rows[:MAX_ROWS]:
        cells = []
        for c in cols:
            v = r.get(c)
            base = c[:-5] if c.endswith("_mean") else c
            std = r.get(base + "_std")
            if scale[c] and _is_num(v):
                cell = f"{v * scale[c]:.2f}"
                if _is_num(std) and std > 0:
                    cell += f" ± {std * scale[c]:.2f}"
            else:
                cell = _fmt(v)
                if _is_num(v) and _is_num(std) and std > 0:
                    cell += f" ± {_fmt(std)}"
            cells.append(cell)
        lines.append("| " + " | ".join(cells) + " |")
    if len(rows) > MAX_ROWS:
        lines.append(f"\n({len(rows) - MAX_ROWS} more rows in the file.)")
    return "\n".join(lines)


def _scalars(d: dict, prefix: str = "", depth: int = 2) -> list[tuple[str, object]]:
    out: list[tuple[str, object]] = []
    for k, v in d.items():
        name = f"{prefix}{k}"
        if HIDDEN.search(str(k)):
            continue
        if isinstance(v, dict) and depth > 1:
            out.extend(_scalars(v, name + ".", depth - 1))
        elif _is_num(v) or isinstance(v, (str, bool)) or v is None:
            out.append((name, v))
        elif isinstance(v, list) and len(v) <= 8 and all(
                _is_num(x) or isinstance(x, str) for x in v):
            out.append((name, v))
    return out


def _kv_table(d: dict, units: dict | None = None) -> str:
    units = units or {}
    pairs = _scalars(d)
    if not pairs:
        return ""
    lines = ["| field | value |", "|---|---|"]
    for k, v in pairs:
        leaf = k.rsplit(".", 1)[-1]
        if _is_num(v) and _PERCENT.search(leaf) and not _NOT_PERCENT.search(leaf):
            scale = 1.0 if ("percent" in str(units.get(leaf, "")) or v > 1.0
                            or leaf.endswith("_pct")) else 100.0
            lines.append(f"| {k} | {v * scale:.2f} % |")
        else:
            lines.append(f"| {k} | {_fmt(v)} |")
    return "\n".join(lines)


def _json_sections(path: Path) -> list[str]:
    """Markdown sections for one JSON record: setup, summary, rows."""
    try:
        data = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, ValueError) as err:
        raise _file_error(f"{path}: unreadable or damaged JSON "
                             f"({' '.join(str(err).split())[:200]})") from None
    if isinstance(data, list):
        return [_table(data)] if data and isinstance(data[0], dict) else []
    if not isinstance(data, dict):
        return []
    units = data.get("units") if isinstance(data.get("units"), dict) else {}
    out: list[str] = []
    if isinstance(data.get("setup"), dict):
        out.append("### Setup\n\n" + _kv_table(data["setup"], units))
    summary = data.get("summary")
    decisions = _decisions(summary)
    if decisions:
        out.append("### Decisions\n\n" + decisions)
    if isinstance(summary, list):
        out.append("### Summary\n\n" + _table(summary, units))
    elif isinstance(summary, dict):
        kv = _kv_table(summary, units)
        if kv:
            out.append("### Summary\n\n" + kv)
        for k, v in summary.items():
            if isinstance(v, list) and v and isinstance(v[0], dict):
                out.append(f"### Summary: {k}\n\n" + _table(v, units))
    if isinstance(data.get("rows"), list):
        out.append("### Rows\n\n" + _table(data["rows"], units))
    if not out:  # a flat record: its fields, without the format header
        kv = _kv_table({k: v for k, v in data.items() if k not in ("format", "version")},
                       units)
        if kv:
            out.append(kv)
    return [s for s in out if s.strip()]


def _decisions(summary) -> str:
    """The decision lines of a summary (paired statistics over seeds, written by
    ``lavalab.study``) as a Markdown list, with the criterion; '' when it has none (a
    summary written before the paired statistics: rerun ``lavalab study refresh``)."""
    if not isinstance(summary, dict):
        return ""
    lines: list[str] = []
    for k, v in summary.items():
        if k.endswith("decision_line") and isinstance(v, str):
            name = k[:-len("decision_line")].rstrip("_").replace("_", " ") or "decision"
            lines.append(f"- **{name}**: {v}")
    for v in summary.get("decisions") or []:
        if isinstance(v, str):
            lines.append(f"- {v}")
    if not lines:
        return ""
    crit = summary.get("criterion")
    head = f"Criterion: {crit}.\n\n" if isinstance(crit, str) else ""
    return head + "\n".join(lines)


def _csv_table(path: Path) -> str:
    try:
        with path.open(newline="") as fh:
            rows = [{k: _number(v) for k, v in r.items() if k is not None}
                    for r in csv.DictReader(fh)]
    except (OSError, UnicodeDecodeError, csv.Error) as err:
        raise _file_error(f"{path}: unreadable or damaged CSV "
                             f"({' '.join(str(err).split())[:200]})") from None
    return _table(rows)


def _demote(text: str, levels: int = 2) -> str:
    """Push Markdown headings down ``levels`` levels (outside code fences)."""
    out, fence = [], False
    for line in text.splitlines():
        if line.lstrip().startswith(("```", "~~~")):
            fence = not fence
        if not fence and re.match(r"#{1,6} ", line):
            line = "#" * levels + line
        out.append(line)
    return "\n".join(out)


def _title(folder: Path) -> str:
    for name in _NOTES:
        p = folder / name
        if p.is_file():
            for line in p.read_text().splitlines():
                if line.startswith("# "):
                    return line[2:].strip()
    return folder.name


def render(results_dir, fmt: str = "md", figure_prefix: str | None = None) -> str:
    """Render one study folder as a Markdown page.

    Parameters
    ----------
    results_dir : str or pathlib.Path
        A folder of ``studies/results/`` (or a single ``.json`` record).
    fmt : str
        Output format; only ``"md"`` (Markdown) is supported.
    figure_prefix : str, optional
        Path prefix of the image links (default: the folder's name, as
        :func:`write_pages` lays the figures out).

    Returns
    -------
    str
        The page: title, the notes (``README.md`` / ``COMMAND.md``), the figures as image
        links, and the tables of every JSON record and CSV file.
    """
    if fmt != "md":
        raise ValueError(f"fmt={fmt!r}: only 'md' is supported")
    path = Path(results_dir)
    if path.is_file():
        body = "\n\n".join(_json_sections(path))
        return f"# {path.stem}\n\n`{path.name}`\n\n{body}\n"
    if not path.is_dir():
        raise ValueError(f"results_dir={str(path)!r} is not a folder")
    prefix = path.name if figure_prefix is None else figure_prefix
    parts = [f"# {_title(path)}", f"Study folder: `studies/results/{path.name}/`."]
    for name in _NOTES:
        p = path / name
        if p.is_file():
            text = p.read_text()
            lines = text.splitlines()
            if lines and lines[0].startswith("# "):
                text = "\n".join(lines[1:])
            parts.append(f"## Notes ({name})\n\n" + _demote(text.strip()))
    pngs = sorted(path.glob("*.png"))
    if pngs:
        links = [f"![{p.stem}]({prefix + '/' if prefix else ''}{p.name})" for p in pngs]
        parts.append("## Figures\n\n" + "\n\n".join(links))
    jsons = sorted(path.glob("*.json"))
    covered: set[str] = set()
    for p in jsons:
        sections = _json_sections(p)
        if sections:
            parts.append(f"## `{p.name}`\n\n" + "\n\n".join(sections))
            covered.add(p.stem)
    for p in sorted(path.glob("*.csv")):
        # a CSV next to its JSON record (results.csv / results.json) repeats it
        if p.stem in covered:
            continue
        table = _csv_table(p)
        if table:
            parts.append(f"## `{p.name}`\n\n" + table)
    return "\n\n".join(parts) + "\n"


_CSS = ("body{font-family:sans-serif;max-width:60em;margin:2em auto;padding:0 1em;"
        "line-height:1.4}table{border-collapse:collapse;font-size:90%;margin:1em 0}"
        "th,td{border:1px solid #bbb;padding:2px 6px;text-align:right}"
        "th{background:#eee}img{max-width:100%}code{background:#f4f4f4}")


def to_html(markdown_text: str, title: str = "lavalab report") -> str:
    """A self-contained HTML page of ``markdown_text`` (the ``markdown`` package with its
    ``tables`` extension when installed, else a minimal converter of headings, tables,
    lists, images and paragraphs)."""
    try:
        import markdown as md  # optional
    except ImportError:
        body = _mini_html(markdown_text)
    else:
        body = md.markdown(markdown_text, extensions=["tables", "fenced_code"])
    esc = html.escape(title)
    return (f"<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>{esc}</title>"
            f"<style>{_CSS}</style></head><body>\n{body}\n</body></html>\n")


def _inline(text: str) -> str:
    t = html.escape(text, quote=False)
    t = re.sub(r"!\[([^\]]*)\]\(([^)]+)\)", r'<img alt="\1" src="\2">', t)
    t = re.sub(r"\[([^\]]*)\]\(([^)]+)\)", r'<a href="\2">\1</a>', t)
    t = re.sub(r"\*\*([^*]+)\*\*", r"<strong>\1</strong>", t)
    return re.sub(r"`([^`]+)`", r"<code>\1</code>", t)


def _mini_html(text: str) -> str:
    """Headings, pipe tables, ``-`` lists, code fences and paragraphs to HTML."""
    out, para, lines, i = [], [], text.splitlines(), 0

    def flush():
        if para:
            out.append("<p>" + _inline(" ".join(para)) + "</p>")
            para.clear()

    while i < len(lines):
        line = lines[i]
        if line.startswith("```"):
            flush()
            j = i + 1
            while j < len(lines) and not lines[j].startswith("```"):
                j += 1
            out.append("<pre><code>" + html.escape("\n".join(lines[i + 1:j]))
                       + "</code></pre>")
            i = j + 1
            continue
        m = re.match(r"(#{1,6}) (.*)", line)
        if m:
            flush()
            n = len(m.group(1))
            out.append(f"<h{n}>{_inline(m.group(2))}</h{n}>")
        elif line.startswith("|"):
            flush()
            rows = []
            while i < len(lines) and lines[i].startswith("|"):
                rows.append([c.strip() for c in lines[i].strip().strip("|").split(" | ")])
                i += 1
            head, body = rows[0], [r for r in rows[1:] if not set("".join(r)) <= set("-|")]
            out.append("<table><tr>" + "".join(f"<th>{_inline(c)}</th>" for c in head)
                       + "</tr>" + "".join("<tr>" + "".join(f"<td>{_inline(c)}</td>"
                                                            for c in r) + "</tr>"
                                           for r in body) + "</table>")
            continue
        elif line.startswith("- "):
            flush()
            items = []
            while i < len(lines) and lines[i].startswith("- "):
                items.append(f"<li>{_inline(lines[i][2:])}</li>")
                i += 1
            out.append("<ul>" + "".join(items) + "</ul>")
            continue
        elif not line.strip():
            flush()
        else:
            para.append(line.strip())
        i += 1
    flush()
    return "\n".join(out)


def render_html(results_dir, figure_prefix: str | None = None) -> str:
    """:func:`render` as a self-contained HTML page (``figure_prefix`` as in
    :func:`render`)."""
    page = render(results_dir, figure_prefix=figure_prefix)
    return to_html(page, _title(Path(results_dir)) if Path(results_dir).is_dir()
                   else Path(results_dir).stem)


def study_dirs(results_root) -> list[Path]:
    """The study folders under ``results_root`` (those holding a record or a figure)."""
    root = Path(results_root)
    return sorted(d for d in root.iterdir() if d.is_dir() and any(
        d.glob(g) for g in ("*.json", "*.csv", "*.png", "README.md", "COMMAND.md")))


def render_index(results_root, fmt: str = "md") -> str:
    """Render the index page of every study folder under ``results_root``.

    Parameters
    ----------
    results_root : str or pathlib.Path
        The ``studies/results`` folder.
    fmt : str
        Output format; only ``"md"``.

    Returns
    -------
    str
        A Markdown page linking ``<study>.md`` for each folder, and the tables of the
        loose ``*.json`` records at the top level.
    """
    if fmt != "md":
        raise ValueError(f"fmt={fmt!r}: only 'md' is supported")
    root = Path(results_root)
    lines = [
        "# Results",
        "",
        "Generated at build time from the committed `studies/results/` folders by "
        "`lavalab.report`; each page shows a study's notes, figures and tables "
        "(accuracy in percent).",
        "",
        "| study | title | figures |",
        "|---|---|---|",
    ]
    for d in study_dirs(root):
        n = len(list(d.glob("*.png")))
        lines.append(f"| [{d.name}]({d.name}.md) | {_fmt(_title(d))} | {n} |")
    loose = sorted(root.glob("*.json"))
    for p in loose:
        sections = _json_sections(p)
        if sections:
            lines += ["", f"## `{p.name}`", "", *sections]
    return "\n".join(lines) + "\n"


def _write_if_changed(path: Path, text: str) -> None:
    # unchanged pages keep their mtime, so a watching `mkdocs serve` does not rebuild forever
    if not path.is_file() or path.read_text() != text:
        from lavalab.model_io import write_bytes

        write_bytes(path, text.encode())  # atomic


def write_pages(results_root, out_dir, rewrite=None) -> list[Path]:
    """Write ``index.md``, one ``<study>.md`` per folder and copy the figures.

    Parameters
    ----------
    results_root : str or pathlib.Path
        The ``studies/results`` folder.
    out_dir : str or pathlib.Path
        Where the pages go (e.g. ``docs/results``); created if missing.
    rewrite : callable, optional
        ``str -> str`` applied to every page before it is written.

    Returns
    -------
    list of pathlib.Path
        The Markdown files written.
    """
    root, out = Path(results_root), Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    fix = rewrite or (lambda s: s)
    written = [out / "index.md"]
    _write_if_changed(written[0], fix(render_index(root)))
    for d in study_dirs(root):
        page = out / f"{d.name}.md"
        _write_if_changed(page, fix(render(d)))
        written.append(page)
        pngs = sorted(d.glob("*.png"))
        if pngs:
            (out / d.name).mkdir(exist_ok=True)
            for p in pngs:
                dst = out / d.name / p.name
                if not dst.exists() or dst.stat().st_mtime < p.stat().st_mtime:
                    shutil.copy2(p, dst)
    return written
