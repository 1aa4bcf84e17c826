"""Progress bars of this process: the one thread lock every tqdm bar shares.

A base module (no lavalab imports): the training jobs (:mod:`lavalab.stdp`,
:mod:`lavalab.exact.train`) and the study executors (:mod:`lavalab.study.executor`) use it.
"""

from __future__ import annotations

import sys
import threading

__all__ = ["use_thread_progress_lock", "bar_options", "progress_bar", "NON_TTY_MININTERVAL"]

#: Seconds between two redraws of a bar whose output is not a terminal (a log file, a
#: pipe, a batch job's output): a line every half minute, not ten a second.
NON_TTY_MININTERVAL = 30.0

#: The one lock every progress bar of this process shares (:func:`use_thread_progress_lock`).
_PROGRESS_LOCK = threading.RLock()


def use_thread_progress_lock() -> None:
    """Give tqdm a thread lock instead of its default multiprocessing lock (which fixes
    multiprocessing's start method; Lava must set it, "fork", at import). The same lock
    object every time: replacing the lock while another thread holds it (a bar written
    from a task while the client writes a result line) fails on release."""
    from tqdm import tqdm

    if getattr(tqdm, "_lock", None) is not _PROGRESS_LOCK:
        tqdm.set_lock(_PROGRESS_LOCK)


def _is_tty(stream) -> bool:
    isatty = getattr(stream, "isatty", None)
    if isatty is None:
        return False
    try:
        return bool(isatty())
    except (ValueError, OSError):  # a closed or detached stream
        return False


def bar_options(file=None) -> dict:
    """tqdm keyword arguments for a bar written to ``file`` (default: standard error):
    none on a terminal; on anything else, redraws at most every
    :data:`NON_TTY_MININTERVAL` seconds (``mininterval``, ``maxinterval``)."""
    if _is_tty(sys.stderr if file is None else file):
        return {}
    return {"mininterval": NON_TTY_MININTERVAL, "maxinterval": 2 * NON_TTY_MININTERVAL}


def progress_bar(*args, **kwargs):
    """A tqdm bar with the process's thread lock (:func:`use_thread_progress_lock`) that
    prints sparsely when its output is not a terminal (:func:`bar_options`); keyword
    arguments given here win."""
    from tqdm import tqdm

    use_thread_progress_lock()
    return tqdm(*args, **{**bar_options(kwargs.get("file")), **kwargs})
