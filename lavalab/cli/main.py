"""The ``lavalab`` command line: the parser of every command, and the one place that turns
a known error into one line on stderr and exit code 2.

Each command family registers its own subcommands (:mod:`lavalab.cli.info`,
:mod:`~lavalab.cli.demo`, :mod:`~lavalab.cli.stdp`, :mod:`~lavalab.cli.study`,
:mod:`~lavalab.cli.search`, :mod:`~lavalab.cli.exact`, :mod:`~lavalab.cli.dl`,
:mod:`~lavalab.cli.compile`, :mod:`~lavalab.cli.export`, :mod:`~lavalab.cli.deploy`);
their commands import the simulators (numba, torch, Lava, dask, matplotlib) when they
run, so building the parser, ``--help`` and every argument error answer at once.
"""

from __future__ import annotations

import argparse
import sys

from lavalab.cli import compile as compile_cli
from lavalab.cli import demo, deploy, dl, exact, export, importer, info, report, search, stdp, study
from lavalab.cli.args import Parser, finish

__all__ = ["main", "build_parser"]


def build_parser() -> argparse.ArgumentParser:
    """The parser of ``lavalab`` and all its subcommands."""
    p = Parser(
        prog="lavalab",
        description="Loihi-targeted spiking neural networks on Lava.",
    )
    sub = p.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    info.add_parser(sub)
    demo.add_parser(sub)
    stdp.add_parsers(sub)  # train, assign, evaluate, plot

    st = sub.add_parser("study", help="timestep (TopSpark) or precision (tinySNN) study")
    stsub = st.add_subparsers(dest="study", metavar="STUDY")
    stsub.required = True
    exact.add_parser(sub)  # exact-spike-time networks (BATS)
    exact.add_study_parser(stsub)
    study.add_timesteps_parser(stsub)
    study.add_precision_parser(stsub)
    search.add_study_parser(stsub)  # TopSpark's enhancement search
    dl.add_study_parser(stsub)  # supervised networks (lava-dl SLAYER)
    report.add_refresh_parser(stsub)  # re-derive a summary from its stored rows
    dl.add_parser(sub)

    compile_cli.add_parser(sub)
    export.add_parser(sub)
    deploy.add_parser(sub)
    importer.add_parser(sub)  # NIR graphs as supervised models
    report.add_parser(sub)
    finish(p)
    return p


def _known_errors() -> tuple[type[BaseException], ...]:
    """The errors a command reports as one line (exit 2): bad values and files (ValueError,
    with DataError and ModelFileError), OSError (--out on a full disk, a vanished folder,
    ... named by the message), an unfinished study, an unavailable backend."""
    from lavalab.backends import BackendUnavailable
    from lavalab.study.executor import StudyIncomplete

    return (ValueError, OSError, StudyIncomplete, BackendUnavailable)


def main(argv: list[str] | None = None) -> int:
    """Run ``lavalab`` with ``argv`` (default: the process's); returns the exit code."""
    args = build_parser().parse_args(argv)
    import signal
    import threading

    # SIGTERM ends the run like Ctrl-C: `finally` blocks run, temporary files are removed
    main_thread = threading.current_thread() is threading.main_thread()
    old = signal.signal(signal.SIGTERM, _terminate) if main_thread else None
    try:
        return args.func(args)
    except Exception as err:
        if not isinstance(err, _known_errors()):
            raise
        msg = " ".join(str(err).split())
        print(f"lavalab {args.command}: error: {msg}", file=sys.stderr)
        return 2
    finally:
        if main_thread:
            signal.signal(signal.SIGTERM, old)


def _terminate(signum, frame):
    raise SystemExit(128 + signum)
