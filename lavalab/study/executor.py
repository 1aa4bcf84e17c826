"""Where a study's configurations run: a local thread pool (default) or a Dask cluster.

A study is a list of :class:`Task`: one per configuration (and seed). A task is a
module-level function and plain arguments (numbers, strings, typed specs, bytes); it
returns its result as data - a JSON-able ``row`` and the ``files`` it made as bytes
(``.npz`` model bytes) - never engine objects or compiled (numba) state. The client (the
process running the study) receives each result the moment it finishes and writes it into
the study's folder atomically, so:

- workers need no shared file system (a task writes nothing the client needs);
- a rerun resumes exactly as after a local run (same files, same rows);
- a worker that dies loses only the configuration it was running: the others' results are
  already written, the study ends with :class:`StudyIncomplete` (one line, no traceback
  on the command line) and the same command computes only the missing configuration.

Executors:

``threads`` (default)
    ``workers`` threads in this process (the engine's compiled loops release the GIL).
    The progress bar counts samples.
``dask``
    ``scheduler="tcp://HOST:PORT"``: the workers of a running Dask cluster (started with
    ``dask scheduler`` and ``dask worker tcp://HOST:PORT`` on each machine, see docs/studies.md);
    without ``scheduler``: a :class:`distributed.LocalCluster` of ``workers`` worker
    processes with ``threads_per_worker`` threads each. Worker processes are started with
    ``spawn`` (Dask's default; Lava fixes the ``fork`` method of this process, which Dask's
    own multiprocessing context does not use). The progress bar counts finished
    configurations. Dask retries a task whose worker died on another worker up to
    ``distributed.scheduler.allowed-failures`` times (Dask's default 3) before giving up on it.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor, as_completed
from contextlib import contextmanager
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from lavalab import validate
from lavalab.progress import bar_options, use_thread_progress_lock

__all__ = ["EXECUTORS", "ExecutorSpec", "Task", "StudyIncomplete", "ThreadExecutor",
           "DaskExecutor", "open_executor", "folder_task", "write_files", "add_arguments",
           "spec_from_args"]

EXECUTORS = ("threads", "dask")
#: Address schemes of Dask's communication layer accepted for ``scheduler``.
SCHEMES = ("tcp", "tls", "ucx", "ws", "wss")
DEFAULT_WORKERS = 2


@dataclass(frozen=True)
class ExecutorSpec:
    """How a study runs its tasks.

    kind : ``threads`` (this process) or ``dask``
    workers : threads (``threads``) or LocalCluster worker processes (``dask`` without
        ``scheduler``); None = 2. Must be None with ``scheduler`` (the cluster's own workers
        run the tasks).
    scheduler : address of a running Dask scheduler, ``tcp://HOST:PORT`` (``dask`` only)
    threads_per_worker : threads per LocalCluster worker process (``dask`` only)
    connect_timeout_s : how long to wait for the scheduler to answer (and for a first worker)
    """

    kind: str = "threads"
    workers: int | None = None
    scheduler: str | None = None
    threads_per_worker: int = 1
    connect_timeout_s: float = 5.0

    def __post_init__(self):
        if self.kind not in EXECUTORS:
            raise ValueError(f"executor={self.kind!r} is not one of {EXECUTORS}")
        if self.workers is not None:
            object.__setattr__(self, "workers", validate.integer("workers", self.workers, 1, 64))
        object.__setattr__(self, "threads_per_worker", validate.integer(
            "threads_per_worker", self.threads_per_worker, 1, 64))
        object.__setattr__(self, "connect_timeout_s", validate.real(
            "connect_timeout_s", self.connect_timeout_s, 0.1, 3600))
        if self.scheduler is not None:
            if self.kind != "dask":
                raise ValueError(f"--scheduler {self.scheduler} needs --executor dask "
                                 f"(executor is {self.kind!r})")
            if self.workers is not None:
                raise ValueError(f"--workers {self.workers} sizes a local pool or LocalCluster; "
                                 f"with --scheduler {self.scheduler} the cluster's own workers "
                                 "run the tasks (start more with `dask worker`)")
            if self.threads_per_worker != 1:
                raise ValueError(f"--threads-per-worker {self.threads_per_worker} sizes a "
                                 f"LocalCluster; with --scheduler {self.scheduler} the "
                                 "workers' own --nthreads apply")
            object.__setattr__(self, "scheduler", scheduler_address(self.scheduler))
        elif self.kind != "dask" and self.threads_per_worker != 1:
            raise ValueError("--threads-per-worker needs --executor dask")

    @property
    def n_workers(self) -> int:
        return DEFAULT_WORKERS if self.workers is None else self.workers


def _probe_scheduler(address: str, timeout_s: float) -> None:
    """Connect to ``address`` and read Dask's handshake within ``timeout_s``: Dask's own
    ``connect`` waits for the handshake without a deadline, so a port that accepts the
    connection and never answers would hang the Client. TimeoutError / OSError otherwise."""
    import asyncio

    from distributed.comm import connect

    async def probe():
        comm = await asyncio.wait_for(connect(address, timeout=timeout_s), timeout_s)
        await comm.close()

    asyncio.run(probe())


def scheduler_address(text: str) -> str:
    """``text`` as a Dask address ``scheme://host:port`` (a bare ``host:port`` is tcp);
    ValueError naming it otherwise."""
    if not isinstance(text, str) or not text.strip():
        raise ValueError(f"--scheduler {text!r} is not an address like tcp://HOST:PORT")
    addr = text.strip() if "://" in text else "tcp://" + text.strip()
    parts = urlsplit(addr)
    try:
        port = parts.port
    except ValueError:
        port = None
    if (parts.scheme not in SCHEMES or not parts.hostname or port is None or port == 0
            or parts.path not in ("", "/") or parts.query or parts.fragment):
        raise ValueError(f"--scheduler {text!r} is not an address like tcp://HOST:PORT "
                         f"(scheme one of {SCHEMES}, port 1..65535)")
    return f"{parts.scheme}://{parts.netloc}"


@dataclass(frozen=True)
class Task:
    """One configuration: ``fn(*args)`` returns a dict with ``row`` (JSON-able, or None) and
    ``files`` ({path relative to the study folder: bytes}), plus anything the study's
    ``on_result`` reads. ``fn`` must be a module-level function (workers import it) taking
    a keyword ``bar`` (a progress bar with ``update(n)``, or None); ``size`` is its share
    of the local progress bar (e.g. its training samples)."""

    key: str
    fn: Callable[..., dict]
    args: tuple = ()
    size: int = 1


class StudyIncomplete(RuntimeError):
    """Some tasks did not finish because their worker (or the cluster) was lost; the
    finished ones are saved. ``failed`` maps task keys to the reason."""

    def __init__(self, failed: dict[str, str], finished: int):
        self.failed = dict(failed)
        self.finished = finished
        reasons = "; ".join(f"{k}: {v}" for k, v in list(self.failed.items())[:5])
        more = f" (and {len(self.failed) - 5} more)" if len(self.failed) > 5 else ""
        super().__init__(
            f"{len(self.failed)} of {len(self.failed) + finished} configurations did not "
            f"finish ({reasons}{more}); the {finished} finished are saved: run the same "
            "command again to compute only the missing ones")


@dataclass
class _Outcome:
    finished: int = 0
    lost: dict[str, str] = field(default_factory=dict)
    error: BaseException | None = None

    def settle(self) -> None:
        # an exception raised by a task's own code is re-raised as it is (ValueError etc.
        # keep their meaning); lost workers only report the configurations they cost
        if self.error is not None:
            raise self.error
        if self.lost:
            raise StudyIncomplete(self.lost, self.finished)


class ThreadExecutor:
    """Tasks on ``workers`` threads of this process; results handed to ``on_result`` in the
    calling thread as they finish."""

    kind = "threads"
    #: tasks run where the client's files are (a task may work in place)
    shared_files = True

    def __init__(self, workers: int = DEFAULT_WORKERS):
        self.workers = validate.integer("workers", workers, 1, 64)

    def share(self, obj):
        """A handle to pass ``obj`` (e.g. bytes several tasks need) to tasks."""
        return obj

    def run(self, tasks: list[Task], on_result: Callable[[Task, dict], None], desc: str,
            progress: bool, unit: str = "sample") -> None:
        from tqdm import tqdm

        if not tasks:
            return
        use_thread_progress_lock()
        out = _Outcome()
        with tqdm(total=sum(t.size for t in tasks), unit=unit, desc=desc,
                  disable=not progress, smoothing=0.05, **bar_options()) as bar:
            with ThreadPoolExecutor(max_workers=min(self.workers, len(tasks))) as pool:
                futures = {pool.submit(t.fn, *t.args, bar=bar): t for t in tasks}
                try:
                    for f in as_completed(futures):
                        try:
                            res = f.result()
                        except Exception as err:  # noqa: BLE001 - re-raised after the others
                            out.error = out.error or err
                            continue
                        on_result(futures[f], res)
                        out.finished += 1
                except BaseException:
                    for f in futures:
                        f.cancel()
                    raise
        out.settle()

    def close(self) -> None:
        pass


def _lavalab_version() -> str:
    import lavalab

    return lavalab.__version__


class DaskExecutor:
    """Tasks on a Dask cluster: connects to ``spec.scheduler`` or starts a LocalCluster.
    Results come back to this process (no shared file system needed)."""

    kind = "dask"
    shared_files = False

    def __init__(self, spec: ExecutorSpec):
        import logging

        from distributed import Client, LocalCluster

        import lavalab

        self.spec = spec
        self.cluster = None
        if spec.scheduler is None:
            # starting a process fixes multiprocessing's default start method (the standard
            # library's spawn asks for it); Lava must set it ("fork") at import: import it
            # first, so Lava still loads in this process afterwards
            import lava.magma.core.process.process  # noqa: F401

            self.cluster = LocalCluster(n_workers=spec.n_workers,
                                        threads_per_worker=spec.threads_per_worker,
                                        processes=True, dashboard_address=":0",
                                        silence_logs=logging.ERROR)
            address = self.cluster.scheduler_address
        else:
            address = spec.scheduler
        try:
            if self.cluster is None:
                _probe_scheduler(address, spec.connect_timeout_s)
            self.client = Client(address, timeout=f"{spec.connect_timeout_s}s",
                                 set_as_default=False)
        except (OSError, TimeoutError) as err:
            self._close_cluster()
            why = " ".join(str(err).split())
            raise ValueError(f"--scheduler {address}: no Dask scheduler answered within "
                             f"{spec.connect_timeout_s:g} s" + (f" ({why})" if why else "")
                             ) from None
        except Exception as err:  # noqa: BLE001 (whatever a non-Dask reply makes Dask raise)
            # Dask reads its reply as a message header (MemoryError, decoding errors)
            self._close_cluster()
            raise ValueError(f"--scheduler {address}: what answers there is not a Dask "
                             f"scheduler ({type(err).__name__}: "
                             f"{' '.join(str(err).split())[:200]})") from None
        except BaseException:
            self._close_cluster()
            raise
        try:
            self.client.wait_for_workers(1, timeout=spec.connect_timeout_s)
        except (OSError, TimeoutError):
            self.close()
            raise ValueError(f"--scheduler {address}: the scheduler has no workers; start "
                             f"some with `dask worker {address}`") from None
        versions = self.client.run(_lavalab_version)
        bad = {w: v for w, v in versions.items() if v != lavalab.__version__}
        if bad:
            self.close()
            raise ValueError(f"--scheduler {address}: workers run another lavalab version "
                             f"({bad}; this client: {lavalab.__version__}): install the "
                             "same version on every machine")
        self.address = address

    def share(self, obj):
        """``obj`` sent to the cluster once; tasks receive it as an argument."""
        return self.client.scatter(obj, hash=False)

    def run(self, tasks: list[Task], on_result: Callable[[Task, dict], None], desc: str,
            progress: bool, unit: str = "sample") -> None:
        from distributed import as_completed as dask_completed
        from tqdm import tqdm

        if not tasks:
            return
        tag = uuid.uuid4().hex[:8]
        waiting = list(reversed(tasks))
        futures = {}
        running = dask_completed([], loop=self.client.loop)

        def fill() -> None:
            # as many tasks in flight as the cluster has worker threads (asked each time:
            # workers may join or leave): none waits on a worker behind another, so a
            # worker that dies holds only the configurations it was running
            slots = max(1, sum(self.client.nthreads().values()))
            while waiting and running.count() < slots:
                t = waiting.pop()
                f = self.client.submit(t.fn, *t.args, key=f"{t.key}-{tag}", pure=False)
                futures[f] = t
                running.add(f)

        out = _Outcome()
        try:
            with tqdm(total=len(tasks), unit="config", desc=desc, disable=not progress,
                      smoothing=0.0, **bar_options()) as bar:
                fill()
                for f in running:
                    t = futures.pop(f)
                    try:
                        res = f.result()
                    except Exception as err:  # noqa: BLE001 - sorted below
                        lost = _lost_reason(err)
                        if lost is None:
                            out.error = out.error or err
                        else:
                            out.lost[t.key] = lost
                    else:
                        on_result(t, res)
                        out.finished += 1
                    f.release()
                    bar.update(1)
                    fill()
        except BaseException:
            self.client.cancel(list(futures))
            raise
        out.settle()

    def _close_cluster(self) -> None:
        if self.cluster is not None:
            self.cluster.close()
            self.cluster = None

    def close(self) -> None:
        client = getattr(self, "client", None)
        if client is not None:
            client.close()
            self.client = None
        self._close_cluster()


def _lost_reason(err: BaseException) -> str | None:
    """Why a task's result never arrived when the cause is the cluster (its worker died,
    the scheduler went away), not the task's code; None otherwise."""
    from concurrent.futures import CancelledError

    from distributed.client import FutureCancelledError
    from distributed.comm.core import CommClosedError
    from distributed.scheduler import KilledWorker

    if isinstance(err, KilledWorker):
        return "its worker died while running it (KilledWorker)"
    if isinstance(err, FutureCancelledError):
        return "cancelled: the scheduler lost it"
    if isinstance(err, (CommClosedError, CancelledError)):
        return f"the connection to the cluster failed ({type(err).__name__})"
    return None


def folder_task(fn: Callable, args: tuple, inputs: dict[str, bytes] | None = None,
                bar=None) -> dict:
    """Run ``fn(folder, *args)`` in a fresh scratch folder holding ``inputs`` ({relative
    path: bytes}, e.g. a checkpoint to resume from) and return every file it left there as
    ``{"row": None, "files": {relative path: bytes}}``: how a task that writes a folder
    (``lavalab.stdp.train`` / ``evaluate``) runs on a worker without the client's
    file system. Temporary files (``*.tmp``) are not returned."""
    import tempfile
    from pathlib import Path

    from lavalab.model_io import TMP_SUFFIX

    with tempfile.TemporaryDirectory(prefix="lavalab-task-") as tmp:
        root = Path(tmp) / "run"
        write_files(root, inputs or {})
        root.mkdir(parents=True, exist_ok=True)
        fn(str(root), *args)
        files = {p.relative_to(root).as_posix(): p.read_bytes()
                 for p in sorted(root.rglob("*"))
                 if p.is_file() and not p.name.endswith(TMP_SUFFIX)}
    return {"row": None, "files": files}


def write_files(folder, files: dict[str, bytes], last: tuple[str, ...] = ()) -> None:
    """Write ``files`` ({path relative to ``folder``: bytes}) atomically, those named in
    ``last`` after all others (e.g. the file whose presence marks the work done)."""
    from pathlib import Path

    from lavalab.model_io import write_bytes

    folder = Path(folder)
    for rel in sorted(files, key=lambda r: (r in last, r)):
        path = Path(rel)
        if path.is_absolute() or ".." in path.parts or not path.parts:
            raise ValueError(f"file {rel!r} is outside the folder {folder}")
        write_bytes(folder / path, files[rel])


@contextmanager
def open_executor(executor: ExecutorSpec | ThreadExecutor | DaskExecutor | None = None,
                  workers: int = DEFAULT_WORKERS) -> Iterator[ThreadExecutor | DaskExecutor]:
    """The executor of ``executor`` (a spec: opened here and closed on exit; an open
    executor: used as is and left open; None: ``workers`` local threads)."""
    if isinstance(executor, (ThreadExecutor, DaskExecutor)):
        yield executor
        return
    spec = executor if executor is not None else ExecutorSpec(workers=workers)
    if not isinstance(spec, ExecutorSpec):
        raise ValueError(f"executor={executor!r} is not an ExecutorSpec or an executor")
    ex = ThreadExecutor(spec.n_workers) if spec.kind == "threads" else DaskExecutor(spec)
    try:
        yield ex
    finally:
        ex.close()


# --- command line ----------------------------------------------------------------------

def add_arguments(parser, default_workers: int = DEFAULT_WORKERS) -> None:
    """``--executor``, ``--scheduler``, ``--threads-per-worker`` (and ``--workers`` unless
    the parser has it) on a study's parser."""
    if not any("--workers" in a.option_strings for a in parser._actions):
        parser.add_argument("--workers", type=_workers, default=None,
                            help=f"configurations run in parallel: threads, or LocalCluster "
                            f"worker processes with --executor dask (default "
                            f"{default_workers}; not with --scheduler)")
    parser.add_argument("--executor", choices=EXECUTORS, default="threads",
                        help="where configurations run: threads of this process, or Dask "
                        "(a LocalCluster, or the cluster at --scheduler); default threads")
    parser.add_argument("--scheduler", default=None, metavar="tcp://HOST:PORT",
                        help="address of a running Dask scheduler (with --executor dask)")
    parser.add_argument("--threads-per-worker", type=_threads, default=1,
                        help="threads per LocalCluster worker (with --executor dask; "
                        "default 1)")
    parser.add_argument("--connect-timeout", type=_seconds, default=5.0, metavar="SECONDS",
                        help="how long to wait for the scheduler and a first worker "
                        "(default 5)")


def _int_arg(name: str, lo: int, hi: int):
    import argparse

    def parse(text: str) -> int:
        try:
            v = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{name} must be an integer, got {text!r}"
                                             ) from None
        if not lo <= v <= hi:
            raise argparse.ArgumentTypeError(f"{name}={v} is outside {lo}..{hi}")
        return v
    return parse


_workers = _int_arg("--workers", 1, 64)
_threads = _int_arg("--threads-per-worker", 1, 64)


def _seconds(text: str) -> float:
    import argparse

    try:
        v = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"--connect-timeout must be a number of seconds, "
                                         f"got {text!r}") from None
    if not 0.1 <= v <= 3600:
        raise argparse.ArgumentTypeError(f"--connect-timeout={text} is outside 0.1..3600")
    return v


def spec_from_args(args) -> ExecutorSpec:
    """The :class:`ExecutorSpec` of parsed ``args`` (ValueError naming a wrong flag)."""
    return ExecutorSpec(kind=args.executor, workers=args.workers, scheduler=args.scheduler,
                        threads_per_worker=args.threads_per_worker,
                        connect_timeout_s=args.connect_timeout)
