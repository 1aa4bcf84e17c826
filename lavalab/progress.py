"""Progress bars of this process: the one thread lock every tqdm bar shares.

A base module (no lavalab imports): the training jobs (:mod:`lavalab.stdp`,
:mod:`lavalab.exact.train`) and the study executors (:mod:`lavalab.study.executor`) use it.
"""

from __future__ import annotations

import threading

__all__ = ["use_thread_progress_lock"]

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
