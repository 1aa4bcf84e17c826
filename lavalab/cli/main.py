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
import errno
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
    p.add_argument("--debug", action="store_true",
                   help="show the Python traceback of an error (before its one-line "
                   "answer), e.g. lavalab --debug train ...")
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
    ... named by the message), an unfinished study, an unavailable backend, an --out
    another run holds, a package that is not installed."""
    from lavalab.backends import BackendUnavailable
    from lavalab.runlock import OutputInUse
    from lavalab.study.executor import StudyIncomplete

    return (ValueError, OSError, StudyIncomplete, BackendUnavailable, OutputInUse,
            ModuleNotFoundError)


#: errno of a full disk (or an exhausted quota).
_FULL = (errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC))


def main(argv: list[str] | None = None) -> int:
    """Run ``lavalab`` with ``argv`` (default: the process's); returns the exit code.

    The contract of every command: a known error (a bad value, path or file, a full disk,
    an --out another run holds) is one line on stderr and exit 2; an unexpected exception
    (a bug) is one line and exit 1; Ctrl-C is one line and exit 130, SIGTERM exit 143
    (``finally`` blocks run: temporary files go, the --out lock is released);
    ``lavalab --debug ...`` adds the Python traceback to each.
    """
    args = build_parser().parse_args(argv)
    import contextlib
    import shlex
    import signal
    import threading

    from lavalab import runlock

    line = shlex.join(["lavalab", *(sys.argv[1:] if argv is None else map(str, argv))])
    # SIGTERM ends the run like Ctrl-C: `finally` blocks run, temporary files are removed
    main_thread = threading.current_thread() is threading.main_thread()
    old = signal.signal(signal.SIGTERM, _terminate) if main_thread else None
    try:
        with contextlib.ExitStack() as held:
            # a command calls args.hold_out(its --out) first: held until it ends
            args.hold_out = lambda path, folder=True, flag="--out": held.enter_context(
                runlock.hold(path, folder=folder, command=line, flag=flag))
            return args.func(args)
    except (_Terminated, KeyboardInterrupt, Exception) as err:  # noqa: BLE001 - a bug
        code, text = _answer(err, args)  # is one line too (--debug: its traceback)
        if args.debug:
            import traceback

            traceback.print_exc()
        print(f"lavalab {args.command}: {text}", file=sys.stderr)
        _drop_frames(err)
        return code
    finally:
        if main_thread:
            signal.signal(signal.SIGTERM, old)


def _one_line(err: BaseException) -> str:
    return " ".join(str(err).split())


def _answer(err: BaseException, args: argparse.Namespace) -> tuple[int, str]:
    """Exit code and one line (after ``lavalab COMMAND: ``) of an exception that ended a
    command."""
    again = "what was finished is kept: run the same command again to resume"
    if isinstance(err, _Terminated):
        return err.code, f"terminated (SIGTERM); {again}"
    if isinstance(err, KeyboardInterrupt):
        return 130, f"interrupted (Ctrl-C); {again}"
    if not isinstance(err, _known_errors()):
        return 1, (f"internal error: {type(err).__name__}: {_one_line(err)} (a bug; rerun "
                   "with --debug for the traceback)")
    if isinstance(err, OSError) and err.errno in _FULL:
        where = err.filename or getattr(args, "out", None) or "the output"
        return 2, (f"error: no space left on the device writing {where} ({err.strerror}); "
                   "what was finished before is kept: free some space and run the same "
                   "command again to resume")
    if isinstance(err, ModuleNotFoundError):
        return 2, f"error: a package this command needs is not installed: {_one_line(err)}"
    return 2, f"error: {_one_line(err)}"


def _drop_frames(err: BaseException) -> None:
    """Free what the interrupted frames hold now, quietly: a half-written archive (numpy's
    zip file of an interrupted save) would otherwise complain on stderr when collected."""
    import traceback

    hook = sys.unraisablehook
    sys.unraisablehook = lambda unraisable: None
    try:
        traceback.clear_frames(err.__traceback__)
        err.__traceback__ = None
        import gc

        gc.collect()
    finally:
        sys.unraisablehook = hook


class _Terminated(SystemExit):
    """SIGTERM, raised in the main thread (exit code 128 + 15)."""


def _terminate(signum, frame):
    raise _Terminated(128 + signum)
