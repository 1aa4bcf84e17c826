"""mkdocs hook: generate the results pages and the CLI reference before every build.

Listed under ``hooks:`` in mkdocs.yml (no plugin needed). Writes, at build time:

- ``docs/results/*.md`` and the figures, from ``studies/results/`` via :mod:`lavalab.report`;
- ``docs/reference/cli.md``, from the argparse parser of ``lavalab.cli.build_parser()``.

Both are generated files (listed in .gitignore), rewritten only when their text changes so
that ``mkdocs serve`` does not loop.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"

# Source documents are named by their paper, never by their file number.
_PAPERS = {
    "0": "TopSpark", "1": "TopSpark", "2": "the MRF latency paper", "3": "BATS",
    "4": "tinySNN",
}


def scrub(text: str) -> str:
    """Name papers instead of source-file numbers and drop tracker references."""
    text = re.sub(r"(?i)\bseed 00(\d)\b", lambda m: _PAPERS.get(m.group(1), "the paper"), text)
    text = re.sub(r"\s*\((?:see )?issue \d+(?:'s section)?\)", "", text)
    return re.sub(r"\bissue[ -](\d+)\b", "an earlier change", text)


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists() or path.read_text() != text:
        path.write_text(text)


def _subparsers(parser: argparse.ArgumentParser):
    for action in parser._actions:  # argparse keeps subcommands only here
        if isinstance(action, argparse._SubParsersAction):
            helps = {a.dest: a.help for a in action._choices_actions}
            for name, sub in action.choices.items():
                yield name, sub, helps.get(name)


def cli_markdown(parser: argparse.ArgumentParser) -> str:
    """Every command's usage and options, from the parser itself."""
    old = os.environ.get("COLUMNS")
    os.environ["COLUMNS"] = "100"  # argparse wraps to $COLUMNS: fixed, so the page is stable
    try:
        lines = [
            "# CLI reference",
            "",
            "Generated from the argparse parser (`lavalab.cli.build_parser()`) at every "
            "documentation build: what `lavalab COMMAND --help` prints. Bad input exits "
            "with status 2 and one line naming the value; `compile` exits 3 naming a "
            "violated Loihi design rule. How every command ends (exit statuses, `--debug`, "
            "the lock on `--out`, interruption, a full disk): "
            "[the command-line contract](../developer.md#the-command-line-contract).",
            "",
            "```text",
            parser.format_help().rstrip(),
            "```",
        ]

        def walk(p, path, depth):
            for name, sub, help_ in _subparsers(p):
                full = f"{path} {name}"
                lines.extend(["", "#" * min(depth, 4) + f" `{full}`", ""])
                if help_:
                    lines.extend([help_, ""])
                lines.extend(["```text", sub.format_help().rstrip(), "```"])
                walk(sub, full, depth + 1)

        walk(parser, parser.prog, 2)
    finally:
        if old is None:
            os.environ.pop("COLUMNS", None)
        else:
            os.environ["COLUMNS"] = old
    return "\n".join(lines) + "\n"


def generate() -> None:
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    from lavalab.report import write_pages

    write_pages(ROOT / "studies" / "results", DOCS / "results", rewrite=scrub)
    from lavalab.cli import build_parser

    _write(DOCS / "reference" / "cli.md", scrub(cli_markdown(build_parser())))


def on_pre_build(config, **kwargs) -> None:  # mkdocs event: before the files are collected
    generate()


if __name__ == "__main__":
    generate()
