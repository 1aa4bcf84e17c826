"""Timestep and precision studies (TopSpark, tinySNN): library functions behind
``lavalab study timesteps`` and ``lavalab study precision``.

A study is a list of configurations. Each one compiles the network (passes of
:mod:`lavalab.compile`), trains it on the engine, assigns labels, classifies the test
samples and analyses its event counts (energy, latency, memory). Results go to
``out/results.json`` (one row per finished configuration, written atomically the moment
it finishes) and ``out/results.csv``; a rerun with the same setup skips finished rows, so
an interrupted study resumes where it stopped (a configuration is the unit of work: one
that was running is redone). Configurations run in parallel threads (the engine's compiled
loop releases the GIL) or, with ``executor=ExecutorSpec("dask", ...)``, one Dask task each on a
cluster (:mod:`lavalab.executor`): a task returns its row and model bytes and this process
writes them, so the files, resume and summary are the same as after a local run.

Trade-offs:

- TopSpark: ``S = A - (tau * Ln + eps * En)`` with ``A`` the accuracy in percent, ``Ln``
  and ``En`` the inference latency and energy per sample normalised to the baseline T0
  (T0 = 1), ``tau``, ``eps`` >= 0 set by the user.
- tinySNN: ``R = acc - mu * M_norm`` with ``acc`` in percent and ``M_norm = M_q / M_0``
  the memory footprint relative to the FP32 model.
"""

from __future__ import annotations

import csv
import functools
import io
import tempfile
import threading
import time
import warnings
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from lavalab import model_io, plots, validate
from lavalab.compile import quantize as qz
from lavalab.compile.analysis import analyse
from lavalab.compile.enhance import policy_from_name
from lavalab.compile.ir import FLOAT_BITS, PrecisionBudget, TimeBudget
from lavalab.compile.pipeline import compile_network
from lavalab.data import DATASETS, load_dataset
from lavalab.engine import EVENT_NAMES, infer, make_net, run
from lavalab.executor import ExecutorSpec, Task, open_executor, write_files
from lavalab.experiment import load_model
from lavalab.fixed import ROUNDING_MODES
from lavalab.loihi_spec import ENERGY_TABLES, TARGETS
from lavalab.networks.snn import KINDS, build, init_weights, spec_to_dict
from lavalab.protocol import (
    ASSIGN_SEED_OFFSET,
    TEST_SEED_OFFSET,
    assign_labels,
    predict_all_activity,
    predict_proportion,
)

__all__ = ["StudySetup", "ResultStore", "timestep_study", "precision_study",
           "tradeoff_s", "reward_r", "pareto_front", "train_and_score", "score"]

RESULTS_FORMAT = "lavalab-study"
#: 2: the file stores the grid of each run (``grid``) and the units of its columns;
#: version-1 files (no grid) are still read and rewritten as version 2.
RESULTS_VERSION = 2
READABLE_VERSIONS = (1, 2)
#: Units of the result columns (ASCII names: uJ = microjoule, us = microsecond).
UNITS = {"accuracy": "percent", "accuracy_proportion": "percent",
         "energy_train_uJ": "microjoule per sample", "energy_infer_uJ": "microjoule per sample",
         "latency_infer_us": "microsecond per sample",
         "latency_train_us": "microsecond per sample", "memory_kB": "kibibyte",
         "memory_bits": "bit"}


@dataclass(frozen=True)
class StudySetup:
    """What every configuration of a study shares.

    network, neurons, rule : the network (``lavalab.networks.snn.build``)
    train_samples : training samples (from the start of the training split)
    test_samples : test samples (from the start of the test split; 10000 = full MNIST)
    assign_samples : label assignment on the last ``assign_samples`` training samples
    seed : weights, encoder and rounding seed
    target : ``loihi1`` or ``loihi2`` (core mapping and design rules)
    energy_table : per-operation table (``lavalab.loihi_spec.ENERGY_TABLES``)
    """

    network: str = "tinysnn"
    neurons: int = 100
    rule: str | None = None
    train_samples: int = 5000
    test_samples: int = 2000
    assign_samples: int = 2000
    seed: int = 0
    dataset: str = "mnist"
    data_root: str | None = None
    target: str = "loihi1"
    energy_table: str = "davies2018"

    def __post_init__(self):
        for name, allowed in (("network", KINDS), ("dataset", DATASETS),
                              ("target", tuple(TARGETS)),
                              ("energy_table", tuple(ENERGY_TABLES)),
                              ("rule", (None, "stdp1", "stdp2"))):
            if getattr(self, name) not in allowed:
                raise ValueError(f"{name}={getattr(self, name)!r} is not one of {allowed}")
        for name, lo, hi in (("neurons", 1, 3600), ("train_samples", 1, 10**7),
                             ("test_samples", 1, 10**7), ("assign_samples", 1, 10**7),
                             ("seed", 0, 2**31 - 2)):
            # numpy integers are accepted and stored as int (JSON-able, comparable)
            object.__setattr__(self, name, validate.integer(name, getattr(self, name), lo, hi))
        if self.assign_samples > self.train_samples:
            raise ValueError(f"assign_samples={self.assign_samples} exceeds train_samples="
                             f"{self.train_samples}")


# Everything is imported when the module loads (no imports inside functions): a study runs
# for a long time and must not pick up half-edited files of a working tree midway.

# --- results ---------------------------------------------------------------------------

class ResultStore:
    """``results.json`` + ``results.csv`` of a study in ``out``: rows keyed by ``key``.

    Opening a folder whose results belong to another study or setup raises (the message
    names the differences), so results of different setups are never mixed. The file is
    checked when read: its format and version, and every row (fields, types, ranges, a key
    that matches its fields); a damaged or hand-edited file is refused naming it.

    The grid of configurations (``grid``: timesteps, enhancements, bits, ...) is not part of
    the setup: a rerun with another grid computes only its missing rows and reports only
    its own rows (``summary["rows"]``); rows of other grids stay in the file but never
    drive a summary. ``grid`` in the file is the grid of the last run.
    """

    def __init__(self, out, study: str, setup: dict, columns: tuple[str, ...],
                 grid: dict | None = None):
        self.out = validate.out_dir(out)
        self.path = self.out / "results.json"
        self.study, self.setup, self.columns = study, setup, columns
        self.grid = grid or {}
        self._lock = threading.Lock()
        self.rows: dict[str, dict] = {}
        if self.path.exists():
            self.rows = self._read(study, setup)
        self.out.mkdir(parents=True, exist_ok=True)
        model_io.remove_stale_temp(self.out)

    def _read(self, study: str, setup: dict) -> dict[str, dict]:
        old = model_io.load_json(self.path)
        if old.get("format") != RESULTS_FORMAT or old.get("study") != study:
            raise ValueError(f"{self.path} is not a '{study}' study result; use another "
                             "--out")
        if old.get("version") not in READABLE_VERSIONS:
            raise model_io.ModelFileError(
                f"{self.path}: version {old.get('version')!r}, this lavalab reads versions "
                f"{READABLE_VERSIONS}; use another --out")
        stored = old.get("setup")
        if not isinstance(stored, dict):
            raise model_io.ModelFileError(f"{self.path}: damaged: 'setup' is not an object")
        if stored != setup:
            diff = {k: (stored.get(k), v) for k, v in setup.items() if stored.get(k) != v}
            raise ValueError(f"{self.path} holds results of another setup (stored vs now: "
                             f"{diff}); use another --out")
        rows = old.get("rows", [])
        if not isinstance(rows, list):
            raise model_io.ModelFileError(f"{self.path}: damaged: 'rows' is not a list")
        out: dict[str, dict] = {}
        for i, r in enumerate(rows):
            try:
                _check_row(study, r)
            except (ValueError, TypeError) as err:
                raise model_io.ModelFileError(
                    f"{self.path}: row {i} is invalid ({err}); delete the row (it is "
                    "recomputed) or use another --out") from None
            if r["key"] in out:
                raise model_io.ModelFileError(f"{self.path}: row key {r['key']!r} appears "
                                              "twice; delete one or use another --out")
            out[r["key"]] = r
        return out

    def done(self, key: str, model: Path | None = None) -> bool:
        """Whether ``key`` has a row (and, when given, its trained ``model`` file exists:
        a row whose model is gone is recomputed)."""
        return key in self.rows and (model is None or model.is_file())

    def add(self, row: dict, summary: dict | None = None) -> None:
        with self._lock:
            self.rows[row["key"]] = row
            self.write(summary)

    def write(self, summary: dict | None = None) -> None:
        doc = {"format": RESULTS_FORMAT, "version": RESULTS_VERSION, "study": self.study,
               "setup": self.setup, "grid": self.grid, "units": UNITS,
               "rows": list(self.rows.values())}
        if summary is not None:
            doc["summary"] = summary
        model_io.write_json(self.path, doc)
        tmp = self.out / "results.csv.tmp"
        with open(tmp, "w", newline="") as fh:
            wr = csv.DictWriter(fh, fieldnames=list(self.columns), extrasaction="ignore")
            wr.writeheader()
            for r in self.rows.values():
                wr.writerow({k: _fmt(r.get(k)) for k in self.columns})
        tmp.replace(self.out / "results.csv")


def _num(row: dict, name: str, lo: float = -np.inf, hi: float = np.inf,
         integer: bool = False, optional: bool = False):
    if name not in row:
        raise ValueError(f"missing {name!r}")
    v = row[name]
    if v is None and optional:
        return None
    if integer:
        return validate.integer(name, v, int(lo), int(hi) if np.isfinite(hi) else 2**62)
    return validate.real(name, v, lo, hi)


def _check_row(study: str, r) -> None:
    """A stored result row as this module writes it (ValueError / TypeError otherwise)."""
    if not isinstance(r, dict):
        raise ValueError(f"a {type(r).__name__}, not an object")
    key = r.get("key")
    if not isinstance(key, str) or not key:
        raise ValueError(f"key={key!r} is not a name")
    if study not in ("timesteps", "precision"):
        # studies of other network families (exact-dt, latency, ...) keep their own
        # columns: every number must at least be finite
        for name, v in r.items():
            if isinstance(v, float) and not np.isfinite(v):
                raise ValueError(f"{name}={v!r} is not a finite number")
        return
    _num(r, "accuracy", 0, 100)
    _num(r, "accuracy_proportion", 0, 100)
    _num(r, "energy_infer_uJ", 0)
    _num(r, "energy_train_uJ", 0, optional=True)
    if study == "timesteps":
        T = _num(r, "timesteps", 1, 10**6, integer=True)
        Ti = _num(r, "infer_timesteps", 1, 10**6, integer=True)
        _num(r, "latency_infer_us", 1e-300)
        e = r.get("enhancement")
        if not isinstance(e, str):
            raise ValueError(f"enhancement={e!r} is not a name")
        want = (f"T{T}-{e}" if T == Ti else
                f"T{T}-none@{Ti}-{e.removesuffix(', inference only')}")
        if key != want:
            raise ValueError(f"key {key!r} does not match its fields (expected {want!r})")
    else:
        b = _num(r, "weight_bits", 2, 32, integer=True)
        if not (b <= 16 or b == FLOAT_BITS):
            raise ValueError(f"weight_bits={b} is outside 2..16 (or 32)")
        _num(r, "memory_bits", 1e-300)
        _num(r, "memory_kB", 0)
        if (key == "fp32") != (r.get("scheme") == "float"):
            raise ValueError(f"key {key!r} does not match scheme={r.get('scheme')!r}")


def _fmt(v):
    if isinstance(v, float):
        return f"{v:.6g}"
    return "" if v is None else v


# --- one configuration -------------------------------------------------------------------

@dataclass
class _Data:
    train_x: np.ndarray
    train_y: np.ndarray
    test_x: np.ndarray
    test_y: np.ndarray

    dataset: str = "mnist"

    @property
    def n_input(self) -> int:
        return int(np.prod(self.train_x.shape[1:]))

    @property
    def shape(self) -> list[int]:
        return [int(v) for v in self.train_x.shape[1:]]


def _load(setup: StudySetup) -> _Data:
    """The study's samples. Loaded once per process (tasks of a study, on threads or on a
    Dask worker, share them; the arrays are read-only)."""
    return _load_cached(setup.dataset, setup.data_root, setup.train_samples,
                        setup.test_samples)


@functools.lru_cache(maxsize=4)
def _load_cached(dataset: str, root: str | None, train_samples: int, test_samples: int
                 ) -> _Data:
    tr = load_dataset(dataset, "train", root)
    te = load_dataset(dataset, "test", root)
    for name, n, d in (("train_samples", train_samples, tr),
                       ("test_samples", test_samples, te)):
        if n > len(d):
            raise ValueError(f"{name}={n} exceeds the {len(d)} samples of {dataset}")
    arrays = [np.array(a) for a in (tr.images[:train_samples], tr.labels[:train_samples],
                                    te.images[:test_samples], te.labels[:test_samples])]
    for a in arrays:
        a.setflags(write=False)
    return _Data(*arrays, dataset)


def train_and_score(spec, precision: str, fixed, w0, data: _Data, setup: StudySetup,
                    bar=None) -> dict:
    """Train ``spec`` from weights ``w0`` on the engine, assign labels, classify the test
    samples. Returns accuracy, per-sample event rows of training and testing, wall times
    and the trained arrays."""
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
    res = score(spec, precision, fixed, net.w, net.theta, data, setup)
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
               input_shape=(28, 28)) -> Path:
    """A configuration's trained model as a ``model.npz`` that :func:`lavalab.experiment.
    load_model` (and ``lavalab evaluate``) reads: weights, theta, label assignments, the
    dataset and image shape it was trained on; ``budget`` (a PrecisionBudget) and
    ``v_range_mv`` recreate its fixed-point format."""
    shape = [int(v) for v in input_shape]
    if int(np.prod(shape)) != spec.n_input:
        raise ValueError(f"input_shape={shape} does not match the network's {spec.n_input} "
                         "inputs")
    meta = {"spec": spec_to_dict(spec), "precision": precision, "seed": seed,
            "dataset": dataset, "input_shape": shape}
    if budget is not None:
        meta["precision_budget"] = asdict(budget)
        meta["v_range_mv"] = v_range_mv
    return model_io.save_npz(path, model_io.MODEL_FORMAT, meta,
                             {"w": res["w"], "theta": res["theta"],
                              "assignments": res["assignments"],
                              "proportions": res["proportions"]})


def _row(c, setup: StudySetup, res: dict) -> dict:
    """A result row's measured columns: accuracy, spikes, wall times, and the analysis of
    the compiled network ``c`` (energy, latency, memory, design rules). ``res`` without
    ``train_events`` (no training run) leaves the training columns to the caller."""
    ev_tr, ev_te = res.get("train_events"), res["test_events"]
    i_exc = EVENT_NAMES.index("exc_spikes")
    return dict(accuracy=100 * res["accuracy"],
                accuracy_proportion=100 * res["accuracy_proportion"],
                exc_spikes_train=None if ev_tr is None else float(ev_tr[:, i_exc].mean()),
                exc_spikes_test=float(ev_te[:, i_exc].mean()),
                neurons_assigned=res["neurons_assigned"],
                train_wall_s=res.get("train_s"), test_wall_s=res["test_s"],
                **analyse(c, setup.energy_table, ev_tr, ev_te))


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
    study folder, then add its row (a row whose model file exists counts as done)."""
    def on_result(task: Task, res: dict) -> None:
        write_files(store.out, res.get("files", {}))
        if keep_row and res.get("row") is not None:
            store.add(res["row"])
    return on_result


def _run_parallel(ex, tasks: list[Task], on_result, desc: str, progress: bool,
                  unit: str = "sample") -> None:
    """Run ``tasks`` on the executor ``ex`` (:mod:`lavalab.executor`); each result goes to
    ``on_result`` in this thread as soon as its task finishes."""
    ex.run(tasks, on_result, desc, progress, unit)


# --- timestep study (TopSpark) ----------------------------------------------------------

TIMESTEP_COLUMNS = ("key", "timesteps", "infer_timesteps", "rest_steps", "enhancement",
                    "accuracy",
                    "accuracy_proportion", "energy_train_uJ", "energy_infer_uJ",
                    "latency_infer_us", "latency_train_us", "Ln", "En", "S",
                    "exc_spikes_train", "exc_spikes_test", "synops_infer", "cores",
                    "neurons_assigned", "train_wall_s", "test_wall_s")


def tradeoff_s(accuracy_pct: float, ln: float, en: float, tau: float, eps: float) -> float:
    """TopSpark's ``S = A - (tau * Ln + eps * En)`` (A in percent)."""
    return accuracy_pct - (tau * ln + eps * en)


def timestep_study(setup: StudySetup, out, timesteps=(350, 175, 100, 50),
                   enhancements=("none", "linear", "proportional"), baseline: int | None = None,
                   tau: float = 5.0, eps: float = 5.0, workers: int = 2,
                   progress: bool = True, infer_timesteps=(),
                   infer_enhancement: str = "linear",
                   executor: ExecutorSpec | None = None) -> dict:
    """TopSpark's study: train and test at every ``T`` in ``timesteps`` with each
    enhancement policy (``lavalab.compile.enhance.POLICIES``); the baseline ``T0``
    (default: the largest T) is run once, unenhanced. Returns the summary (the chosen T
    by the trade-off ``S``) and writes results into ``out``.

    ``infer_timesteps``: also test the T0 model at these reduced presentation times
    (training stays at T0): ``infer_enhancement`` is applied with ``r = T / T0`` and the
    learned theta is scaled like the threshold gap. These rows (``T0-none@T-policy``)
    carry the T0 training figures.

    ``executor``: where the configurations run (:mod:`lavalab.executor`; an
    :class:`ExecutorSpec`, or an open executor); None: ``workers`` threads."""
    validate.out_dir(out)  # before any work; created only once the data loaded
    with open_executor(executor, workers) as ex:
        return _timestep_study(ex, setup, out, timesteps, enhancements, baseline, tau, eps,
                               workers, progress, infer_timesteps, infer_enhancement)


def _timestep_study(ex, setup: StudySetup, out, timesteps, enhancements, baseline, tau, eps,
                    workers, progress, infer_timesteps, infer_enhancement) -> dict:
    timesteps = sorted({validate.integer("timesteps", t, 1, 100000) for t in timesteps},
                       reverse=True)
    if not timesteps:
        raise ValueError("timesteps is empty: give at least one T (the baseline T0)")
    t0 = timesteps[0] if baseline is None else validate.integer("baseline", baseline, 1,
                                                                 100000)
    if t0 not in timesteps:
        raise ValueError(f"baseline T0={t0} is not one of the timesteps {timesteps}")
    enhancements = validate.unique(enhancements)  # duplicates would train twice
    if not enhancements and len(timesteps) > 1:
        raise ValueError("enhancements is empty: give at least one policy for the reduced T")
    for name in (*enhancements, infer_enhancement):
        policy_from_name(name)
    infer_timesteps = sorted({validate.integer("infer_timesteps", t, 1, 100000)
                              for t in infer_timesteps}, reverse=True)
    workers = validate.integer("workers", workers, 1, 64)
    for T in infer_timesteps:
        if not 1 <= T < t0:
            raise ValueError(f"infer_timesteps T={T} is outside the allowed range 1..{t0 - 1}")
    for name, v in (("tau", tau), ("eps", eps)):
        if not (np.isfinite(v) and v >= 0):
            raise ValueError(f"{name}={v} must be a finite number >= 0")
    _load(setup)  # refuses a wrong data setup before any task starts
    configs = []
    for T in timesteps:
        if T > t0:
            raise ValueError(f"timesteps T={T} exceed the baseline T0={t0}")
        for e in (["none"] if T == t0 else list(enhancements)):
            configs.append((T, e))
    setup_d = {**asdict(setup), "baseline": t0}
    grid = {"timesteps": timesteps, "enhancements": enhancements,
            "infer_timesteps": infer_timesteps, "infer_enhancement": infer_enhancement}
    store = ResultStore(out, "timesteps", setup_d, TIMESTEP_COLUMNS, grid)
    keys = [f"T{T}-{e}" for T, e in configs] + [f"T{t0}-none@{Ti}-{infer_enhancement}"
                                                   for Ti in infer_timesteps]
    todo = [(T, e) for T, e in configs
            if not store.done(f"T{T}-{e}", store.out / "models" / f"T{T}-{e}.npz")]

    tasks = [Task(f"T{T}-{e}", _timestep_task, (setup, t0, T, e), setup.train_samples)
             for T, e in todo]
    _run_parallel(ex, tasks, _store_result(store), "timestep study", progress)
    todo_infer = [Ti for Ti in infer_timesteps
                  if not store.done(f"T{t0}-none@{Ti}-{infer_enhancement}")]
    if todo_infer:
        base_row = store.rows[f"T{t0}-none"]
        trained = {k: base_row.get(k) for k in _TRAIN_COLUMNS}  # training happened at T0
        model = ex.share((store.out / "models" / f"T{t0}-none.npz").read_bytes())
        tasks = [Task(f"T{t0}-none@{Ti}-{infer_enhancement}", _infer_only_task,
                      (setup, t0, Ti, infer_enhancement, model, trained)) for Ti in todo_infer]
        _run_parallel(ex, tasks, _store_result(store), "reduced-T inference", progress,
                      unit="config")
    summary = _timestep_summary(store, t0, tau, eps, keys)
    store.write(summary)
    plots.timestep_study([store.rows[k] for k in keys], summary, store.out)
    return summary


def _timestep_task(setup: StudySetup, t0: int, T: int, e: str, bar=None) -> dict:
    """One configuration of the timestep study (a task): the network compiled at ``T``
    presentation steps with policy ``e``, trained and tested; its row and model bytes."""
    data = _load(setup)
    base = build(setup.network, setup.neurons, data.n_input, rule=setup.rule)
    c = compile_network(base, TimeBudget(T, baseline_timesteps=t0),
                        target=setup.target, enhancement=e, check=False)
    w0 = np.rint(init_weights(c.spec, setup.seed) * c.fixed.q).astype(np.int64)
    res = train_and_score(c.spec, "fixed", c.fixed, w0, data, setup, bar)
    model = _model_bytes(c.spec, "fixed", setup.seed, res, dataset=data.dataset,
                         input_shape=data.shape)
    return {"row": {"key": f"T{T}-{e}", "timesteps": T, "infer_timesteps": T,
                    "rest_steps": c.spec.rest_steps, "enhancement": e,
                    **_row(c, setup, res)},
            "files": {f"models/T{T}-{e}.npz": model}}


#: Columns an inference-only row takes from the T0 row it tests.
_TRAIN_COLUMNS = ("energy_train_uJ", "latency_train_us", "weight_updates_train",
                  "exc_spikes_train", "train_wall_s")


def _infer_only_task(setup: StudySetup, t0: int, Ti: int, policy: str, model_bytes: bytes,
                     trained: dict, bar=None) -> dict:
    """Test the T0 model (its file's bytes) at ``Ti`` presentation steps (enhanced by
    ``policy``), discretising the study's network from scratch (so the schedule equals a
    model trained at ``Ti``); ``trained``: the T0 row's training columns."""
    data = _load(setup)
    base = build(setup.network, setup.neurons, data.n_input, rule=setup.rule)
    model = _model_from_bytes(model_bytes)
    c = compile_network(base, TimeBudget(Ti, baseline_timesteps=t0),
                        target=setup.target, enhancement=policy, check=False)
    spec = c.spec
    gap = (spec.exc.v_th - spec.exc.v_reset) / (model.spec.exc.v_th - model.spec.exc.v_reset)
    theta = np.rint(np.asarray(model.theta, np.float64) * gap).astype(np.int64)
    res = score(spec, "fixed", c.fixed, model.w, theta, data, setup)
    row = {"key": f"T{t0}-none@{Ti}-{policy}", "timesteps": t0, "infer_timesteps": Ti,
           "rest_steps": spec.rest_steps, "enhancement": f"{policy}, inference only",
           **_row(c, setup, res)}
    row.update(trained)
    if bar is not None:
        bar.update(1)
    return {"row": row, "files": {}}


def _timestep_summary(store: ResultStore, t0: int, tau: float, eps: float,
                      keys: list[str]) -> dict:
    """The summary over the rows ``keys`` (this run's grid) only."""
    rows = [store.rows[k] for k in keys]
    base = store.rows.get(f"T{t0}-none")
    if base is None:
        raise RuntimeError(f"the baseline T0={t0} has no result")
    for r in rows:
        r.setdefault("infer_timesteps", r["timesteps"])
        r["Ln"] = r["latency_infer_us"] / base["latency_infer_us"]
        r["En"] = r["energy_infer_uJ"] / base["energy_infer_uJ"]
        r["S"] = tradeoff_s(r["accuracy"], r["Ln"], r["En"], tau, eps)
    best = max(rows, key=lambda r: (r["S"], -r["infer_timesteps"], -r["timesteps"]))
    out = {"baseline": base["key"], "tau": tau, "eps": eps, "rows": list(keys),
           "chosen": best["key"],
           "chosen_timesteps": best["timesteps"],
           "chosen_infer_timesteps": best["infer_timesteps"],
           "chosen_enhancement": best["enhancement"]}
    # fewest timesteps within 2 % of T0: training and inference at T (TopSpark's setting),
    # and, when inference-only rows exist, training at T0 and inference at T
    for name, group in (("", [r for r in rows if r["timesteps"] == r["infer_timesteps"]]),
                        ("_inference_only",
                         [r for r in rows if r["timesteps"] != r["infer_timesteps"]])):
        within2 = [r for r in group if r["accuracy"] >= base["accuracy"] - 2.0]
        if not within2:
            continue
        f = min(within2, key=lambda r: (r["infer_timesteps"], r["timesteps"], -r["accuracy"]))
        out.update({
            f"fewest_timesteps_within_2pct{name}": f["key"],
            f"timestep_reduction_within_2pct{name}": t0 / f["infer_timesteps"],
            f"energy_ratio_train_within_2pct{name}": base["energy_train_uJ"]
            / f["energy_train_uJ"],
            f"energy_ratio_infer_within_2pct{name}": base["energy_infer_uJ"]
            / f["energy_infer_uJ"],
            f"latency_ratio_within_2pct{name}": base["latency_infer_us"]
            / f["latency_infer_us"]})
    return out


# --- precision study (tinySNN) ------------------------------------------------------------

PRECISION_COLUMNS = ("key", "scheme", "weight_bits", "neuron_bits", "rounding", "params",
                     "accuracy", "accuracy_proportion", "memory_bits", "memory_kB",
                     "M_norm", "R", "pareto", "energy_train_uJ", "energy_infer_uJ",
                     "loihi_ok", "loihi_rule", "exc_spikes_train", "exc_spikes_test",
                     "neurons_assigned", "train_wall_s", "test_wall_s", "notes")


def reward_r(accuracy_pct: float, m_norm: float, mu: float) -> float:
    """tinySNN's ``R = acc - mu * M_norm`` (acc in percent)."""
    return accuracy_pct - mu * m_norm


def pareto_front(points) -> list[int]:
    """Indices of the (accuracy, memory) points no other point beats: higher-or-equal
    accuracy with lower-or-equal memory, one of them strictly."""
    idx = []
    for i, (a, m) in enumerate(points):
        dominated = any((a2 >= a and m2 <= m) and (a2 > a or m2 < m)
                        for j, (a2, m2) in enumerate(points) if j != i)
        if not dominated:
            idx.append(i)
    return idx


def precision_study(setup: StudySetup, out, bits=(32, 16, 8, 6, 4),
                    schemes=("ptq", "itq"), roundings=ROUNDING_MODES,
                    params=("w", "wn"), timesteps: int = 350, mu: float = 10.0,
                    workers: int = 2, progress: bool = True,
                    executor: ExecutorSpec | None = None) -> dict:
    """tinySNN's study: the FP32 model (float engine) and, for every weight precision in
    ``bits`` (2..16), scheme (PTQ: quantize the trained FP32 model; ITQ: train in the
    quantized integer arithmetic), rounding and quantized parameters (``w``: weights only;
    ``wn``: weights and neuron parameters v, v_th, theta at the same bit width), accuracy,
    memory footprint ``M``, reward ``R`` and the Pareto front. Returns the summary.

    ``executor``: where the configurations run (:mod:`lavalab.executor`; an
    :class:`ExecutorSpec`, or an open executor); None: ``workers`` threads."""
    validate.out_dir(out)  # before any work; created only once the data loaded
    with open_executor(executor, workers) as ex:
        return _precision_study(ex, setup, out, bits, schemes, roundings, params, timesteps,
                                mu, workers, progress)


def _precision_study(ex, setup: StudySetup, out, bits, schemes, roundings, params,
                     timesteps, mu, workers, progress) -> dict:
    bits = sorted({validate.integer("bits", b, 2, FLOAT_BITS) for b in bits}, reverse=True)
    for b in bits:
        if b != FLOAT_BITS and not 2 <= b <= 16:
            raise ValueError(f"bits={b} is outside the allowed range 2..16 (or 32 = float)")
    # duplicates would train the same configuration twice, in parallel, into one file
    schemes, roundings, params = (validate.unique(v) for v in (schemes, roundings, params))
    for name, v in (("bits", bits), ("schemes", schemes), ("roundings", roundings),
                    ("params", params)):
        if not v:
            raise ValueError(f"{name} is empty: give at least one value")
    timesteps = validate.integer("timesteps", timesteps, 1, 100000)
    workers = validate.integer("workers", workers, 1, 64)
    for s in schemes:
        if s not in ("ptq", "itq"):
            raise ValueError(f"scheme={s!r} is not one of ('ptq', 'itq')")
    for r in roundings:
        if r not in ROUNDING_MODES:
            raise ValueError(f"rounding={r!r} is not one of {ROUNDING_MODES}")
    for p in params:
        if p not in ("w", "wn"):
            raise ValueError(f"params={p!r} is not one of ('w', 'wn')")
    if not (np.isfinite(mu) and mu >= 0):
        raise ValueError(f"mu={mu} must be a finite number >= 0")
    _load(setup)  # refuses a wrong data setup before any task starts
    budgets = [PrecisionBudget(weight_bits=b, neuron_bits=b if (p == "wn" and b <= 24) else 24,
                               rounding=r, scheme=s, quantize_neurons=p == "wn")
               for b in bits if b != FLOAT_BITS for s in schemes for r in roundings
               for p in params]
    setup_d = {**asdict(setup), "timesteps": timesteps}
    grid = {"bits": bits, "schemes": schemes, "roundings": roundings, "params": params}
    store = ResultStore(out, "precision", setup_d, PRECISION_COLUMNS, grid)
    keys = ["fp32"] + [b.label for b in budgets]
    fp32 = []  # the FP32 model's w, theta and training events (bytes)

    # the FP32 model is needed by PTQ and for the calibration of neuron ranges: train it
    # first (again when resuming, unless nothing needs it)
    todo = [b for b in budgets if not store.done(b.label, store.out / "models"
                                                   / f"{b.label.replace('/', '_')}.npz")]
    need_fp32 = not store.done("fp32", store.out / "models" / "fp32.npz") or any(
        b.scheme == "ptq" or b.quantize_neurons for b in todo)
    if need_fp32:
        had_row = store.done("fp32", store.out / "models" / "fp32.npz")
        write = _store_result(store, keep_row=not had_row)

        def on_fp32(task: Task, res: dict) -> None:
            fp32.append(res["fp32"])
            write(task, res)
        _run_parallel(ex, [Task("fp32", _fp32_task, (setup, timesteps), setup.train_samples)],
                      on_fp32, "precision study: fp32", progress)
    shared = ex.share(fp32[0]) if fp32 and todo else None
    tasks = [Task(b.label, _precision_task, (setup, timesteps, b, shared), setup.train_samples)
             for b in todo]
    with warnings.catch_warnings():  # recorded per row instead (the "notes" column)
        warnings.simplefilter("ignore", qz.QuantizationWarning)
        _run_parallel(ex, tasks, _store_result(store), "precision study", progress)
    summary = _precision_summary(store, mu, keys)
    store.write(summary)
    plots.precision_study([store.rows[k] for k in keys], summary, store.out)
    return summary


def _precision_compiled(setup: StudySetup, timesteps: int, b: PrecisionBudget,
                        v_range=None):
    data = _load(setup)
    net = build(setup.network, setup.neurons, data.n_input, rule=setup.rule)
    return compile_network(net, TimeBudget(timesteps), b, setup.target, v_range_mv=v_range,
                           seed=setup.seed, check=False)


def _fp32_task(setup: StudySetup, timesteps: int, bar=None) -> dict:
    """The precision study's FP32 model (a task): trained on the float engine; its row,
    model bytes and (``fp32``) the bytes of its w, theta and training events."""
    data = _load(setup)
    c32 = _precision_compiled(setup, timesteps,
                              PrecisionBudget(weight_bits=FLOAT_BITS, neuron_bits=FLOAT_BITS))
    base = c32.spec
    w0 = init_weights(base, setup.seed)
    res = train_and_score(base, "float", None, w0, data, setup, bar)
    model = _model_bytes(base, "float", setup.seed, res, dataset=data.dataset,
                         input_shape=data.shape)
    return {"row": {"key": "fp32", "scheme": "float", "weight_bits": 32,
                    "neuron_bits": 32, "rounding": "", "params": "w",
                    **_row(c32, setup, res)},
            "files": {"models/fp32.npz": model},
            "fp32": _arrays_bytes(w=res["w"], theta=res["theta"],
                                  train_events=res["train_events"])}


def _precision_task(setup: StudySetup, timesteps: int, b: PrecisionBudget,
                    fp32_bytes: bytes | None, bar=None) -> dict:
    """One quantized configuration of the precision study (a task); ``fp32_bytes``: the
    FP32 model's arrays (:func:`_fp32_task`), needed by PTQ and by ``wn``."""
    data = _load(setup)
    fp32 = {} if fp32_bytes is None else _arrays_from_bytes(fp32_bytes)
    with warnings.catch_warnings():  # recorded per row instead (the "notes" column)
        warnings.simplefilter("ignore", qz.QuantizationWarning)
        base = _precision_compiled(setup, timesteps, PrecisionBudget(
            weight_bits=FLOAT_BITS, neuron_bits=FLOAT_BITS)).spec
        # range of v for qWN: threshold + the largest adaptive threshold the FP32
        # model learned (its theta is in input-weight units: x input_gain = mV)
        v_range = (qz.default_v_range_mv(base, float(np.max(fp32["theta"]))
                                         * base.input_gain)
                   if b.quantize_neurons else None)
        c = _precision_compiled(setup, timesteps, b, v_range)
        fixed = c.fixed
        if b.scheme == "ptq":  # quantize the trained FP32 model; no training
            w = qz.quantize_weights(fp32["w"], b, setup.seed)
            theta = qz.quantize_theta(fp32["theta"], fixed, b, setup.seed)
            res = dict(score(base, "fixed", fixed, w, theta, data, setup),
                       train_events=fp32["train_events"], train_s=0.0, w=w, theta=theta)
            if bar is not None:
                bar.update(setup.train_samples)
        else:
            w0 = qz.quantize_weights(init_weights(base, setup.seed), b, setup.seed)
            res = train_and_score(base, "fixed", fixed, w0, data, setup, bar)
    model = _model_bytes(base, "fixed", setup.seed, res, b, v_range, dataset=data.dataset,
                         input_shape=data.shape)
    notes = []
    if fixed.exc.theta_plus and qz.theta_frozen(fixed.exc.theta_plus,
                                                fixed.exc.v_lsb, b.rounding):
        notes.append(f"theta_plus below what {b.rounding} rounding keeps on the "
                     "neuron grid: theta is frozen")
    row = {"key": b.label, "scheme": b.scheme, "weight_bits": b.weight_bits,
           "neuron_bits": b.neuron_bits if b.quantize_neurons else 24,
           "rounding": b.rounding, "notes": "; ".join(notes),
           "params": "wn" if b.quantize_neurons else "w", **_row(c, setup, res)}
    return {"row": row, "files": {f"models/{b.label.replace('/', '_')}.npz": model}}


def _precision_summary(store: ResultStore, mu: float, keys: list[str]) -> dict:
    """The summary over the rows ``keys`` (this run's grid) only."""
    rows = [store.rows[k] for k in keys]
    base = store.rows.get("fp32")
    if base is None:
        raise RuntimeError("the FP32 baseline has no result")
    for r in rows:
        r["M_norm"] = r["memory_bits"] / base["memory_bits"]
        r["R"] = reward_r(r["accuracy"], r["M_norm"], mu)
    front = pareto_front([(r["accuracy"], r["memory_bits"]) for r in rows])
    for i, r in enumerate(rows):
        r["pareto"] = i in front
    best = max(rows, key=lambda r: (r["R"], -r["memory_bits"]))
    no_loss = [r for r in rows if r["accuracy"] >= base["accuracy"] and r["key"] != "fp32"]
    return {"baseline": "fp32", "baseline_accuracy": base["accuracy"], "mu": mu,
            "rows": list(keys),
            "chosen": best["key"], "chosen_accuracy": best["accuracy"],
            "chosen_memory_kB": best["memory_kB"],
            "pareto": [rows[i]["key"] for i in front],
            "no_loss_vs_fp32": sorted(r["key"] for r in no_loss)}

