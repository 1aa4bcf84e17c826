"""Running a study's configurations: a configuration's result row (its scoring: the one
STDP path, :mod:`lavalab.stdp.scoring`) and files, the tasks on an executor and their
results written into the study folder."""

from __future__ import annotations

import io

import numpy as np

from lavalab.compile.analysis import analyse
from lavalab.engine import EVENT_NAMES
from lavalab.protocol import (
    N_CLASSES,
)
from lavalab.stdp.scoring import assignment_warnings
from lavalab.study.executor import Task, write_files
from lavalab.study.selection import COLLAPSE_FACTOR
from lavalab.study.setup import StudySetup
from lavalab.study.store import ResultStore, SeededResultStore


def _row(c, setup: StudySetup, res: dict, ci=None) -> dict:
    """A result row's measured columns: accuracy, spikes, wall times, and the analysis of
    the compiled network ``c`` trained as and ``ci`` tested as (default ``c``): energy,
    latency, memory, design rules. ``res`` without ``train_events`` (no training run)
    leaves the training columns to the caller."""
    ev_tr, ev_te = res.get("train_events"), res["test_events"]
    i_exc = EVENT_NAMES.index("exc_spikes")
    a = analyse(c, setup.energy_table, ev_tr, ev_te, inference=ci)
    return dict(accuracy=100 * res["accuracy"],
                accuracy_proportion=100 * res["accuracy_proportion"],
                exc_spikes_train=None if ev_tr is None else float(ev_tr[:, i_exc].mean()),
                exc_spikes_test=float(ev_te[:, i_exc].mean()),
                neurons_assigned=res["neurons_assigned"],
                train_wall_s=res.get("train_s"), test_wall_s=res["test_s"],
                **a, deployable=a["loihi_ok"])


def _arrays_bytes(**arrays) -> bytes:
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    return buf.getvalue()


def _arrays_from_bytes(data: bytes) -> dict[str, np.ndarray]:
    with np.load(io.BytesIO(data), allow_pickle=False) as z:
        return {k: z[k] for k in z.files}


def _store_result(store: ResultStore, keep_row: bool = True):
    """``on_result`` of a study's tasks: write the task's files (atomically) into the
    study folder, then add its row (a run whose model file exists counts as done): to a
    :class:`SeededResultStore` as the run of its (key, seed)."""
    def on_result(task: Task, res: dict) -> None:
        write_files(store.out, res.get("files", {}))
        if keep_row and res.get("row") is not None:
            if isinstance(store, SeededResultStore):
                store.add_run(res["row"])
            else:
                store.add(res["row"])
    return on_result


def _run_parallel(ex, tasks: list[Task], on_result, desc: str, progress: bool,
                  unit: str = "sample") -> None:
    """Run ``tasks`` on the executor ``ex`` (:mod:`lavalab.study.executor`); each result goes to
    ``on_result`` in this thread as soon as its task finishes."""
    ex.run(tasks, on_result, desc, progress, unit)


def _run_warnings(spec, res: dict, assign_samples: int,
                  accuracy_pct: float | None = None) -> list[str]:
    """What is wrong with one trained run: no spikes, the label assignment
    (:func:`lavalab.stdp.scoring.assignment_warnings`), a theta that never moved, an accuracy
    near chance."""
    out = []
    i_exc = EVENT_NAMES.index("exc_spikes")
    ev = res.get("train_events")
    trained = ev is not None and res.get("train_s", 0.0) > 0
    if trained and int(np.asarray(ev)[:, i_exc].sum()) == 0:
        out.append("no excitatory neuron fired during training: the model cannot classify")
    out += assignment_warnings(res["assignments"], N_CLASSES, assign_samples)
    if (trained and spec.exc.theta_plus > 0 and int(np.asarray(ev)[:, i_exc].sum()) > 0
            and float(np.max(res["theta"])) == 0.0):
        out.append("theta is frozen: the adaptive threshold never grew during training "
                   "(theta_plus is lost to rounding, or no neuron spiked while learning)")
    if accuracy_pct is None:
        accuracy_pct = 100 * res["accuracy"]
    chance = 100.0 / N_CLASSES
    if accuracy_pct < COLLAPSE_FACTOR * chance:
        out.append(f"accuracy {accuracy_pct:.2f} % is near chance ({chance:g} %): collapsed")
    return out


def _task_key(key: str, seed: int) -> str:
    """The name of the task of configuration ``key``'s run of ``seed``."""
    return f"{key} seed {seed}"
