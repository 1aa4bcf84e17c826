"""lavalab.report: a study folder rendered to Markdown (tables, percent, figures, notes)."""

import csv
import json
import subprocess
import sys

import pytest

from lavalab.report import render, render_index, write_pages


def _study(folder, accuracy=0.9123, with_png=True):
    folder.mkdir(parents=True)
    record = {
        "format": "lavalab-study", "version": 3, "study": "timesteps",
        "setup": {"network": "tinysnn", "neurons": 100},
        "units": {"accuracy": "fraction"},
        "rows": [
            {"key": "T350-none", "timesteps": 350, "accuracy": accuracy,
             "accuracy_std": 0.0051, "energy_infer_uJ": 9.54, "history": [1, 2, 3]},
            {"key": "T88-linear", "timesteps": 88, "accuracy": 0.8, "energy_infer_uJ": 2.4},
        ],
        "summary": {"chosen": "T88-linear", "chosen_accuracy": 0.8},
    }
    (folder / "results.json").write_text(json.dumps(record))
    with (folder / "extra.csv").open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["method", "test_accuracy"])
        w.writerow(["cuba", "89.5"])
    (folder / "README.md").write_text("# A tiny study\n\nWhat ran.\n\n## Protocol\n\nText.\n")
    if with_png:
        (folder / "timesteps.png").write_bytes(b"\x89PNG\r\n\x1a\n")
    return folder


def test_render_tables_percent_figure_and_notes(tmp_path):
    page = render(_study(tmp_path / "ts-small"))
    assert page.startswith("# A tiny study")
    assert "What ran." in page and "#### Protocol" in page  # README text, headings demoted
    assert "![timesteps](ts-small/timesteps.png)" in page
    assert "| key | timesteps | accuracy % | energy_infer_uJ |" in page
    assert "| T350-none | 350 | 91.23 ± 0.51 | 9.54 |" in page  # fraction shown in percent
    assert "| T88-linear | 88 | 80.00 | 2.40 |" in page
    assert "| chosen_accuracy | 80.00 % |" in page
    assert "history" not in page
    assert "| cuba | 89.50 |" in page  # a CSV already in percent stays as it is


def test_render_percent_values_stay(tmp_path):
    page = render(_study(tmp_path / "s", accuracy=91.23, with_png=False))
    assert "| T350-none | 350 | 91.23 ± 0.01 | 9.54 |" in page  # percent column (max > 1)
    assert "## Figures" not in page


def test_render_rejects_other_formats_and_missing_folder(tmp_path):
    with pytest.raises(ValueError, match="fmt"):
        render(tmp_path, fmt="html")
    with pytest.raises(ValueError, match="not a folder"):
        render(tmp_path / "missing")


def test_index_and_pages(tmp_path):
    root = tmp_path / "results"
    _study(root / "ts-small")
    (root / "agreement.json").write_text(json.dumps(
        [{"network": "dc-100", "stock_accuracy": 0.8, "agreement": 0.982}]))
    index = render_index(root)
    assert "[ts-small](ts-small.md)" in index and "A tiny study" in index
    assert "| dc-100 | 80.00 | 98.20 |" in index
    out = tmp_path / "site"
    written = write_pages(root, out, rewrite=lambda s: s.replace("tiny", "small"))
    assert {p.name for p in written} == {"index.md", "ts-small.md"}
    assert (out / "ts-small" / "timesteps.png").is_file()
    assert "A small study" in (out / "ts-small.md").read_text()


def test_report_imports_no_engine():
    code = ("import sys, lavalab.report; "
            "bad = [m for m in ('torch', 'lava', 'numba', 'matplotlib', 'lavalab.engine', "
            "'lavalab.experiment', 'lavalab.study') if m in sys.modules]; print(bad)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.strip()
    assert out == "[]"
