"""Running a study's configurations: one configuration trained and scored, its result row
and files, the tasks on an executor and their results written into the study folder."""

from __future__ import annotations

import io
import tempfile
import time
from dataclasses import asdict
from pathlib import Path

import numpy as np

from lavalab import model_io
from lavalab.compile.analysis import analyse
from lavalab.engine import EVENT_NAMES, infer, make_net, run
from lavalab.experiment import (
    assignment_warnings,
    load_model,
)
from lavalab.networks.snn import spec_to_dict
from lavalab.protocol import (
    ASSIGN_SEED_OFFSET,
    N_CLASSES,
    TEST_SEED_OFFSET,
    assign_labels,
    predict_all_activity,
    predict_proportion,
)
from lavalab.study.executor import Task, write_files
from lavalab.study.selection import COLLAPSE_FACTOR
from lavalab.study.setup import StudySetup, _Data
from lavalab.study.store import ResultStore, SeededResultStore


def train_and_score(spec, precision: str, fixed, w0, data: _Data, setup: StudySetup,
                    bar=None, infer_net: tuple | None = None) -> dict:
    """Train ``spec`` from weights ``w0`` on the engine, assign labels, classify the test
    samples; ``infer_net``: ``(spec, fixed)`` of the network labels are assigned and the
    test run on (:func:`compiled_for_inference`; default: the training network). Returns
    accuracy, per-sample event rows of training and testing, wall times and the trained
    arrays."""
    net = make_net(spec, precision, w0, seed=setup.seed, fixed=fixed)
    events = np.zeros((len(data.train_x), len(EVENT_NAMES)), np.int64)
    t0 = time.perf_counter()
    chunk = 500
    for lo in range(0, len(data.train_x), chunk):
        _, ev, _ = run(net, data.train_x[lo:lo + chunk], learn=True)
        events[lo:lo + len(ev)] = ev
        if bar is not None:
            bar.update(len(ev))
    train_s = time.perf_counter() - t0
    ispec, ifixed = infer_net or (spec, fixed)
    res = score(ispec, precision, ifixed, net.w, net.theta, data, setup)
    return dict(res, train_events=events, train_s=train_s, w=net.w, theta=net.theta)


def score(spec, precision: str, fixed, w, theta, data: _Data, setup: StudySetup) -> dict:
    """Assign labels with frozen ``w``/``theta`` on the last training samples, classify the
    test samples (all-activity and proportion voting); test event rows and wall time."""
    na = setup.assign_samples
    frozen = make_net(spec, precision, w, theta, seed=setup.seed + ASSIGN_SEED_OFFSET, fixed=fixed)
    counts, _ = infer(frozen, data.train_x[-na:])
    assignments, proportions, _ = assign_labels(counts, data.train_y[-na:])
    frozen = make_net(spec, precision, w, theta, seed=setup.seed + TEST_SEED_OFFSET, fixed=fixed)
    t1 = time.perf_counter()
    counts, test_events = infer(frozen, data.test_x)
    test_s = time.perf_counter() - t1
    acc = float((predict_all_activity(counts, assignments) == data.test_y).mean())
    acc_p = float((predict_proportion(counts, assignments, proportions)
                   == data.test_y).mean())
    return dict(accuracy=acc, accuracy_proportion=acc_p, test_events=test_events,
                test_s=test_s, neurons_assigned=int((assignments >= 0).sum()),
                assignments=assignments, proportions=proportions)


def save_model(path, spec, precision: str, seed: int, res: dict, budget=None,
               v_range_mv: float | None = None, dataset: str = "mnist",
               input_shape=(28, 28), train_spec=None) -> Path:
    """A configuration's trained model as a ``model.npz`` that :func:`lavalab.experiment.
    load_model` (and ``lavalab evaluate``) reads: weights, theta, label assignments, the
    dataset and image shape it was trained on; ``budget`` (a PrecisionBudget) and
    ``v_range_mv`` recreate its fixed-point format. ``spec`` is the network it runs
    inference as; ``train_spec`` the one it was trained as, when that differs (as
    ``lavalab train`` stores it)."""
    shape = [int(v) for v in input_shape]
    if int(np.prod(shape)) != spec.n_input:
        raise ValueError(f"input_shape={shape} does not match the network's {spec.n_input} "
                         "inputs")
    meta = {"spec": spec_to_dict(spec), "precision": precision, "seed": seed,
            "dataset": dataset, "input_shape": shape}
    if train_spec is not None and train_spec != spec:
        meta["train_spec"] = spec_to_dict(train_spec)
    if budget is not None:
        meta["precision_budget"] = asdict(budget)
        meta["v_range_mv"] = v_range_mv
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    return model_io.save_npz(path, model_io.MODEL_FORMAT, meta,
                             {"w": res["w"], "theta": res["theta"],
                              "assignments": res["assignments"],
                              "proportions": res["proportions"]})


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


def _model_bytes(*args, **kwargs) -> bytes:
    """:func:`save_model`'s file as bytes (a task returns them; the client writes them)."""
    with tempfile.TemporaryDirectory() as tmp:
        return save_model(Path(tmp) / "model.npz", *args, **kwargs).read_bytes()


def _model_from_bytes(data: bytes):
    """A model file's bytes (:func:`_model_bytes`) read back by ``load_model``."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "model.npz"
        path.write_bytes(data)
        return load_model(path)


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
    (:func:`lavalab.experiment.assignment_warnings`), a theta that never moved, an accuracy
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
