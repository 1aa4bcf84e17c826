"""``lavalab report`` and ``lavalab study refresh``: one study folder as Markdown / HTML."""

import shutil
from pathlib import Path

import pytest

from lavalab.cli import main
from lavalab.report import _mini_html, to_html

RESULTS = Path(__file__).resolve().parents[1] / "studies" / "results"


def test_report_markdown_has_decisions_percent_and_figures(capsys):
    assert main(["report", str(RESULTS / "topspark-tinysnn400-stdp2")]) == 0
    page = capsys.readouterr().out
    assert "### Decisions" in page
    assert "within 2 points: yes, paired diff" in page and "n = 3" in page
    assert "timesteps.png)" in page and "accuracy %" in page


def test_report_html_to_file(tmp_path, capsys):
    out = tmp_path / "page.html"
    assert main(["report", str(RESULTS / "precision-tinysnn400"), "--format", "html",
                 "--out", str(out)]) == 0
    page = out.read_text()
    assert page.startswith("<!DOCTYPE html>") and "<table>" in page
    assert "paired diff" in page
    # figures linked relative to the written page
    assert 'src="' in page and "precision-tinysnn400/precision_pareto.png" in page


def test_report_bad_dir_is_one_line_exit_2(tmp_path, capsys):
    assert main(["report", str(tmp_path / "missing")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "not a study folder" in err[0]


def test_study_refresh_command(tmp_path, capsys):
    d = tmp_path / "latency"
    shutil.copytree(RESULTS / "latency-mnist-h256", d,
                    ignore=shutil.ignore_patterns("*.png"))
    assert main(["study", "refresh", str(d)]) == 0
    assert "vs cuba at T = 1: within 2 points" in capsys.readouterr().out


def test_minimal_html_converter():
    html = _mini_html("# T\n\ntext `x` **b**\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n- one\n"
                      "- two\n\n![f](d/f.png)\n\n```\n<code>\n```")
    assert "<h1>T</h1>" in html and "<code>x</code>" in html
    assert "<strong>b</strong>" in html
    assert "<th>a</th>" in html and "<td>2</td>" in html and "<li>two</li>" in html
    assert '<img alt="f" src="d/f.png">' in html and "&lt;code&gt;" in html
    assert to_html("x", "a<b").count("<title>a&lt;b</title>") == 1


@pytest.mark.parametrize("fmt", ["md", "html"])
def test_report_single_json(tmp_path, capsys, fmt):
    assert main(["report", str(RESULTS / "deploy-agreement.json"), "--format", fmt]) == 0
    assert capsys.readouterr().out.strip()
