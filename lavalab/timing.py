"""Honest timing of a job: its set-up apart from its work, wall and CPU seconds.

A base module (no lavalab imports). Every job that writes a result file with timing
(``lavalab train`` / ``assign`` / ``evaluate``, the stock-Lava evaluation, ``lavalab dl
train`` / ``evaluate``, ``lavalab exact train``) times itself with a :class:`JobClock` and
writes its :meth:`JobClock.fields`:

``setup_s`` / ``setup_cpu_s``
    wall / process CPU seconds from the job's origin to the start of its work. The origin is
    the moment ``import lavalab`` ran (:data:`IMPORTED_AT`: for the command line, the process
    start less the interpreter's own start-up) or, in a process that runs jobs one after
    another (a test session, a notebook), the end of the previous job, whichever is later.
    Set-up covers the imports the job makes, the data load, building the network and a
    warm-up: the kernels' first compile or cache load, run on one sample before the work's
    clock starts.
``train_s`` / ``infer_s`` and ``cpu_s``
    wall / process CPU seconds of the work alone. CPU seconds are ``time.process_time()``
    (user plus system time of all the process's threads) plus those of its finished child
    processes (``os.times()``: Lava's runtime runs each Lava run in child processes); a
    shared machine disturbs them less than wall time.
``samples_per_s``
    the samples of the work over its wall seconds: ``samples / train_s`` (or ``infer_s``),
    what a larger run costs per sample after its set-up.
"""

from __future__ import annotations

import os
import threading
import time
from contextlib import contextmanager

__all__ = ["IMPORTED_AT", "JobClock", "cpu_seconds"]

#: ``(wall, cpu)`` seconds (``time.perf_counter``, CPU as in the module docstring) when
#: lavalab was imported: the origin of a process's first job.
def cpu_seconds() -> float:
    """CPU seconds of this process and its finished children so far (module docstring)."""
    t = os.times()
    return time.process_time() + t.children_user + t.children_system


IMPORTED_AT = (time.perf_counter(), cpu_seconds())

_lock = threading.Lock()
#: The origin of this process's next job: the import, then the end of the latest job
#: (:meth:`JobClock.finish`). The one piece of module state; only the clocks move it.
_next_origin = IMPORTED_AT


def _now() -> tuple[float, float]:
    return time.perf_counter(), cpu_seconds()


class JobClock:
    """The clock of one job, started at its origin (see the module docstring).

    ``with clock.work(): ...`` (or :meth:`start_work` ... :meth:`stop_work`) times the
    work (several blocks add up); the set-up is everything from the origin to the first
    block's start. :meth:`finish` marks the job's
    end, the origin of the process's next job."""

    def __init__(self):
        with _lock:
            self._origin = _next_origin
        self._setup: tuple[float, float] | None = None
        self._started = self._origin
        self.work_s = 0.0  #: wall seconds of the work so far
        self.work_cpu_s = 0.0  #: process CPU seconds of the work so far
        self.samples = 0  #: samples of the work, when the work counts them itself

    def start_work(self) -> None:
        """The work starts (again); its first start ends the set-up."""
        self._started = _now()
        if self._setup is None:
            self._setup = (self._started[0] - self._origin[0],
                           self._started[1] - self._origin[1])

    def stop_work(self) -> None:
        """The work pauses (or ends): its seconds since :meth:`start_work` add up."""
        wall, cpu = _now()
        self.work_s += wall - self._started[0]
        self.work_cpu_s += cpu - self._started[1]

    @contextmanager
    def work(self):
        """Time the block as work (:meth:`start_work` ... :meth:`stop_work`)."""
        self.start_work()
        try:
            yield self
        finally:
            self.stop_work()

    @property
    def setup_s(self) -> float:
        """Wall seconds of the set-up (until now while no work started)."""
        return self._setup[0] if self._setup is not None else _now()[0] - self._origin[0]

    @property
    def setup_cpu_s(self) -> float:
        """Process CPU seconds of the set-up (until now while no work started)."""
        return self._setup[1] if self._setup is not None else _now()[1] - self._origin[1]

    def fields(self, samples: int | None = None, work: str = "train") -> dict:
        """The timing fields of a result file: ``setup_s``, ``setup_cpu_s``,
        ``{work}_s``, ``cpu_s`` and ``samples_per_s`` (``samples / {work}_s``, default
        :attr:`samples`; None without samples or work time)."""
        samples = self.samples if samples is None else samples
        rate = samples / self.work_s if samples and self.work_s > 0 else None
        return {"setup_s": self.setup_s, "setup_cpu_s": self.setup_cpu_s,
                f"{work}_s": self.work_s, "cpu_s": self.work_cpu_s, "samples_per_s": rate}

    def finish(self) -> None:
        """The job ended: the next job of this process starts its set-up here."""
        global _next_origin
        with _lock:
            _next_origin = _now()
