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
cluster (:mod:`lavalab.executor`): a task (one configuration and seed) returns its run's row
and model bytes and this process writes them, so the files, resume and summary are the same
as after a local run.

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
import numbers
import tempfile
import threading
import time
import warnings
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import numpy as np

from lavalab import model_io, plots, validate
from lavalab.compile import quantize as qz
from lavalab.compile.analysis import analyse
from lavalab.compile.enhance import policy_from_name
from lavalab.compile.ir import FLOAT_BITS, PrecisionBudget, TimeBudget
from lavalab.compile.pipeline import CompiledNetwork, compile_network
from lavalab.data import DATASETS, load_dataset
from lavalab.engine import EVENT_NAMES, infer, make_net, run
from lavalab.executor import ExecutorSpec, Task, open_executor, write_files
from lavalab.experiment import (
    TRAIN_DT_MS,
    _step_divisor,
    assignment_warnings,
    fixed_units,
    inference_spec,
    load_model,
    resolve_inference,
)
from lavalab.fixed import ROUNDING_MODES
from lavalab.loihi_spec import ENERGY_TABLES, TARGETS
from lavalab.networks.snn import (
    KINDS,
    build,
    default_mechanisms,
    init_weights,
    spec_to_dict,
)
from lavalab.protocol import (
    ASSIGN_SEED_OFFSET,
    N_CLASSES,
    TEST_SEED_OFFSET,
    assign_labels,
    predict_all_activity,
    predict_proportion,
)

__all__ = ["StudySetup", "ResultStore", "timestep_study", "precision_study",
           "compiled_for_inference",
           "tradeoff_s", "reward_r", "pareto_front", "train_and_score", "score"]

RESULTS_FORMAT = "lavalab-study"
#: 2: the file stores the grid of each run (``grid``) and the units of its columns;
#: version-1 files (no grid) are still read and rewritten as version 2.
#: 3: timestep / precision studies keep one run per (configuration, seed) in ``runs``;
#: ``rows`` are their aggregates over the run's seeds (mean, ``<col>_std``, ``<col>_seeds``).
#: Version-1/2 files (one seed, ``setup.seed``) are read as the runs of that seed.
RESULTS_VERSION = 3
READABLE_VERSIONS = (1, 2, 3)
#: Units of the result columns (ASCII names: uJ = microjoule, us = microsecond).
UNITS = {"accuracy": "percent", "accuracy_proportion": "percent",
         "energy_train_uJ": "microjoule per sample", "energy_infer_uJ": "microjoule per sample",
         "latency_infer_us": "microsecond per sample",
         "latency_train_us": "microsecond per sample", "memory_kB": "kibibyte",
         "memory_bits": "bit", "static_energy_infer_uJ": "microjoule per sample",
         "energy_infer_layers_uJ": "microjoule per sample", "energy_train_layers_uJ":
         "microjoule per sample", "accuracy_std": "percentage points (sample std over seeds)",
         "accuracy_delta": "percentage points"}


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
    inference_dt_ms, one_spike_infer : the network every configuration is assigned labels
        and tested as (:func:`lavalab.experiment.inference_spec`: the same physical time at
        a step dividing the 1 ms training step, with or without one excitatory spike per
        step); None: the network's defaults by size (``lavalab.networks.snn.DEFAULTS``:
        0.5 ms with one spike per step from 900 neurons, the training network below)
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
    inference_dt_ms: float | None = None
    one_spike_infer: bool | None = None

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
        if self.inference_dt_ms is not None:
            object.__setattr__(self, "inference_dt_ms", _step_divisor(
                "inference_dt_ms", self.inference_dt_ms, TRAIN_DT_MS))
        if self.one_spike_infer not in (None, True, False):
            raise ValueError(f"one_spike_infer={self.one_spike_infer!r} is not one of "
                             "(None, True, False)")
        object.__setattr__(self, "one_spike_infer", None if self.one_spike_infer is None
                           else bool(self.one_spike_infer))

    def inference(self) -> tuple[float, bool]:
        """The resolved ``(inference step in ms, one_spike_infer)``: the given values, else
        the network's defaults at this size."""
        return resolve_inference(self.network, self.neurons, self.inference_dt_ms,
                                 self.one_spike_infer)


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
        return self._rows_of(model_io.load_json(self.path), study, setup)

    def _rows_of(self, old: dict, study: str, setup: dict) -> dict[str, dict]:
        """The checked rows of the loaded document ``old`` of ``self.path``."""
        if not isinstance(old, dict):
            raise model_io.ModelFileError(f"{self.path}: damaged: not a JSON object")
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
        stored = {**_legacy_setup(setup), **stored}
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
        doc.update(getattr(self, "extra", {}))
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


#: Columns of a seeded study whose rows carry ``<col>_std`` and ``<col>_seeds``.
SPREAD_COLUMNS = ("accuracy", "val_accuracy", "accuracy_proportion", "energy_train_uJ",
                  "energy_infer_uJ", "latency_infer_us", "latency_train_us", "exc_spikes_train",
                  "exc_spikes_test", "neurons_assigned")
#: Fields of a run that are about the run, not the configuration (not aggregated).
_RUN_ONLY = ("seed", "model", "warnings")


def aggregate_runs(runs: list[dict]) -> dict:
    """One row from the runs (one per seed) of a configuration: fields equal in every run
    as they are; other numbers as their mean; for :data:`SPREAD_COLUMNS` also
    ``<col>_std`` (sample standard deviation, ddof = 1; 0 for one seed) and ``<col>_seeds``
    (the per-seed values, in the order of ``seeds``); ``loihi_ok`` / ``deployable`` only if
    every run is; ``warnings`` prefixed by their seed."""
    if not runs:
        raise ValueError("no runs to aggregate")
    row: dict = {}
    for k, v0 in runs[0].items():
        if k in _RUN_ONLY:
            continue
        vals = [r.get(k) for r in runs]
        if all(v == v0 for v in vals):
            row[k] = v0
        elif isinstance(v0, (bool, np.bool_)):
            row[k] = all(bool(v) for v in vals)
        elif all(isinstance(v, numbers.Real) for v in vals):
            row[k] = float(np.mean(vals))
        elif all(isinstance(v, dict) for v in vals) and all(v.keys() == v0.keys()
                                                            for v in vals):
            row[k] = {n: float(np.mean([v[n] for v in vals])) for n in v0}  # per layer
        elif all(v is None or isinstance(v, str) for v in vals):
            row[k] = "; ".join(validate.unique(v for v in vals if v))
        else:
            row[k] = None  # mixed (a number in one seed, None in another)
    for k in SPREAD_COLUMNS:
        vals = [r.get(k) for r in runs]
        if k in row and all(isinstance(v, numbers.Real) for v in vals):
            row[f"{k}_std"] = float(np.std(vals, ddof=1)) if len(vals) > 1 else 0.0
            row[f"{k}_seeds"] = [float(v) for v in vals]
    row["seeds"] = [int(r["seed"]) for r in runs]
    row["n_seeds"] = len(runs)
    row["models"] = [r.get("model") for r in runs]
    row["warnings"] = [f"seed {r['seed']}: {w}" for r in runs for w in r.get("warnings", [])]
    return row


class SeededResultStore(ResultStore):
    """A :class:`ResultStore` of one run per (configuration ``key``, ``seed``) (``runs``);
    ``rows`` are the aggregates (:func:`aggregate_runs`) over ``seeds``, the seeds of this
    run, rebuilt from the runs whenever one is added. The seed is not part of ``setup``: a
    rerun with more seeds computes only the runs it lacks. A run names its model file
    (``model``, relative to ``out``); a run whose model file is gone is recomputed.

    Files of versions 1 and 2 (one seed, ``setup["seed"]``, models in ``models/<key>.npz``)
    are read as the runs of that seed."""

    def __init__(self, out, study: str, setup: dict, columns: tuple[str, ...],
                 grid: dict | None = None, seeds=(0,)):
        self.seeds = list(seeds)
        self.runs: dict[tuple[str, int], dict] = {}
        super().__init__(out, study, setup, columns, {**(grid or {}), "seeds": self.seeds})

    def _read(self, study: str, setup: dict) -> dict[str, dict]:
        old = model_io.load_json(self.path)
        version = old.get("version") if isinstance(old, dict) else None
        if version == RESULTS_VERSION:
            stored_setup = old.get("setup")
            if not isinstance(stored_setup, dict) or "seed" in stored_setup:
                raise model_io.ModelFileError(f"{self.path}: damaged: version {version} "
                                              "'setup' must be an object without 'seed'")
            # format, study, setup checked; rows are derived from the runs (not read)
            self._rows_of({**old, "rows": []}, study, setup)
            runs = old.get("runs")
            if not isinstance(runs, list):
                raise model_io.ModelFileError(f"{self.path}: damaged: 'runs' is not a list")
        else:  # version 1 / 2: the rows are the runs of setup["seed"]
            stored_setup = old.get("setup") if isinstance(old, dict) else None
            legacy = dict(stored_setup) if isinstance(stored_setup, dict) else {}
            seed = legacy.pop("seed", None)
            doc = dict(old) if isinstance(old, dict) else {}
            doc["setup"] = legacy
            super_rows = self._rows_of(doc, study, setup)
            runs = [{**r, "seed": seed, "model": None if "@" in r["key"]
                     else f"models/{r['key'].replace('/', '_')}.npz",
                     "warnings": []} for r in super_rows.values()]
        for i, r in enumerate(runs):
            try:
                _check_row(study, r)
                validate.integer("seed", r.get("seed"), 0, 2**31 - 2)
                m = r.get("model")
                if m is not None and (not isinstance(m, str) or m.startswith("/")
                                      or ".." in Path(m).parts):
                    raise ValueError(f"model={m!r} is not a path inside the study folder")
                w = r.get("warnings", [])
                if not (isinstance(w, list) and all(isinstance(x, str) for x in w)):
                    raise ValueError(f"warnings={w!r} is not a list of texts")
            except (ValueError, TypeError) as err:
                raise model_io.ModelFileError(
                    f"{self.path}: run {i} is invalid ({err}); delete the run (it is "
                    "recomputed) or use another --out") from None
            k = (r["key"], int(r["seed"]))
            if k in self.runs:
                raise model_io.ModelFileError(f"{self.path}: run {k} appears twice; delete "
                                              "one or use another --out")
            self.runs[k] = r
        return self._aggregate_all()

    def _aggregate_all(self) -> dict[str, dict]:
        keys = validate.unique(k for k, _ in self.runs)
        out = {}
        for key in keys:
            runs = [self.runs[(key, s)] for s in self.seeds if (key, s) in self.runs]
            if runs:
                out[key] = aggregate_runs(runs)
        return out

    def done_run(self, key: str, seed: int) -> bool:
        """Whether ``key`` has a run for ``seed`` (and its model file, if it names one)."""
        r = self.runs.get((key, seed))
        return r is not None and (r.get("model") is None
                                  or (self.out / r["model"]).is_file())

    def model_path(self, key: str, seed: int) -> Path:
        """Where the model of ``key`` for ``seed`` is (or goes)."""
        r = self.runs.get((key, seed))
        if r is not None and r.get("model"):
            return self.out / r["model"]
        return self.out / _model_relpath(key, seed)

    def add_run(self, run: dict, summary: dict | None = None) -> None:
        with self._lock:
            self.runs[(run["key"], int(run["seed"]))] = run
            runs = [self.runs[(run["key"], s)] for s in self.seeds
                    if (run["key"], s) in self.runs]
            self.rows[run["key"]] = aggregate_runs(runs)
            self.write(summary)

    def complete(self, keys) -> list[str]:
        """The ``keys`` that lack a run for one of :attr:`seeds`."""
        return [k for k in keys if any((k, s) not in self.runs for s in self.seeds)]

    def write(self, summary: dict | None = None) -> None:
        self.extra = {"runs": list(self.runs.values())}
        super().write(summary)


def _model_relpath(key: str, seed: int) -> str:
    """Where a new run's model file goes, relative to the study folder."""
    return f"models/seed{seed}/{key.replace('/', '_')}.npz"


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
    if isinstance(v, (list, tuple)):  # per-seed values, warnings
        return " | ".join(str(_fmt(x)) for x in v)
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
    """Run ``tasks`` on the executor ``ex`` (:mod:`lavalab.executor`); each result goes to
    ``on_result`` in this thread as soon as its task finishes."""
    ex.run(tasks, on_result, desc, progress, unit)


# --- timestep study (TopSpark) ----------------------------------------------------------

TIMESTEP_COLUMNS = ("key", "timesteps", "infer_timesteps", "rest_steps", "enhancement",
                    "accuracy", "accuracy_std", "accuracy_seeds", "accuracy_delta", "seeds",
                    "accuracy_proportion", "energy_train_uJ", "energy_infer_uJ",
                    "latency_infer_us", "latency_train_us", "Ln", "En", "S",
                    "exc_spikes_train", "exc_spikes_test", "synops_infer", "cores",
                    "neurons_assigned", "deployable", "active_update_fraction_infer",
                    "static_energy_infer_uJ", "train_wall_s", "test_wall_s", "warnings")
#: A configuration whose mean accuracy is below this many times chance (100 / classes %)
#: has collapsed; a collapsed baseline withholds the study's choice.
COLLAPSE_FACTOR = 2.0


def _pick(pool: list[dict], broken: str | None, key):
    """A study's choice: the row of ``pool`` (the rows allowed to be chosen) with the
    largest ``key``, or ``(None, why)`` when the baseline is ``broken`` or ``pool`` is
    empty."""
    if broken:
        return None, broken
    if not pool:
        return None, "no configuration passes the Loihi design rules (--deployable-only)"
    return max(pool, key=key), None


def tradeoff_s(accuracy_pct: float, ln: float, en: float, tau: float, eps: float) -> float:
    """TopSpark's ``S = A - (tau * Ln + eps * En)`` (A in percent)."""
    return accuracy_pct - (tau * ln + eps * en)


def _seed_list(seeds, setup: StudySetup) -> list[int]:
    """``seeds`` checked (default: ``[setup.seed]``)."""
    if seeds is None:
        return [setup.seed]
    vals = [validate.integer("seeds", s, 0, 2**31 - 2) for s in seeds]
    if not vals:
        raise ValueError("seeds is empty: give at least one seed")
    if len(set(vals)) != len(vals):
        raise ValueError(f"seeds={vals} repeats a seed")
    return vals


def _setup_dict(setup: StudySetup) -> dict:
    """The stored setup of a seeded study: every field but the seed; the inference network
    as resolved (a change of the size defaults then refuses to mix results)."""
    d = asdict(setup)
    d.pop("seed")
    d["inference_dt_ms"], d["one_spike_infer"] = setup.inference()
    d["w_init"] = default_mechanisms(setup.network, setup.neurons)[2]
    return d


#: Setup fields of result files written before they existed: what those studies ran.
LEGACY_SETUP = {"inference_dt_ms": TRAIN_DT_MS, "one_spike_infer": False}


def _legacy_setup(setup: dict) -> dict:
    """What a result file without the fields of :data:`LEGACY_SETUP` and ``w_init`` ran:
    the plain inference network, and from 400 neurons the uniform start (the default of
    every lavalab before the samples start from 900 neurons); below 400 the start is not
    recorded and taken as today's."""
    out = {k: v for k, v in LEGACY_SETUP.items() if k in setup}
    if "w_init" in setup:
        out["w_init"] = "uniform" if setup.get("neurons", 0) >= 400 else setup["w_init"]
    return out


def compiled_for_inference(c: CompiledNetwork, setup: StudySetup,
                           v_range_mv: float | None = None) -> CompiledNetwork:
    """The network a configuration compiled as ``c`` (its training network) is assigned
    labels and tested as: ``setup``'s inference step and one_spike_infer
    (:func:`lavalab.experiment.inference_spec`), compiled with ``c``'s precision budget
    (and ``v_range_mv``) and target; ``c`` itself when that changes nothing. Weights and
    theta keep their units (checked), so a model trained as ``c`` runs on it as it is."""
    ispec = inference_spec(c.spec, *setup.inference())
    if ispec == c.spec:
        return c
    ci = compile_network(ispec, None, c.precision, c.target, v_range_mv=v_range_mv,
                         seed=setup.seed, check=False)
    if fixed_units(ci.fixed) != fixed_units(c.fixed):
        raise ValueError(f"inference_dt_ms={ispec.dt_ms}: the fixed-point format of the "
                         f"inference network stores weights or theta in other units "
                         f"({fixed_units(ci.fixed)} vs {fixed_units(c.fixed)})")
    return ci


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


def timestep_study(setup: StudySetup, out, timesteps=(350, 175, 100, 50),
                   enhancements=("none", "linear", "proportional"), baseline: int | None = None,
                   tau: float = 5.0, eps: float = 5.0, workers: int = 2,
                   progress: bool = True, infer_timesteps=(),
                   infer_enhancement: str = "linear", seeds=None,
                   deployable_only: bool = False,
                   executor: ExecutorSpec | None = None) -> dict:
    """TopSpark's study: train and test at every ``T`` in ``timesteps`` with each
    enhancement policy (``lavalab.compile.enhance.POLICIES``); the baseline ``T0``
    (default: the largest T) is run once, unenhanced. Every configuration is trained and
    tested once per seed in ``seeds`` (default ``[setup.seed]``); rows carry the mean over
    seeds, ``<col>_std`` and ``<col>_seeds``, and every decision (``S``, within 2 points
    of T0) is made on the means. Returns the summary (the chosen T by the trade-off ``S``;
    withheld when the baseline collapsed) and writes results into ``out``.

    ``infer_timesteps``: also test the T0 model at these reduced presentation times
    (training stays at T0): ``infer_enhancement`` is applied with ``r = T / T0`` and the
    learned theta is scaled like the threshold gap. These rows (``T0-none@T-policy``)
    carry the T0 training figures. ``deployable_only``: choose among configurations the
    Loihi design rules accept.

    ``executor``: where the runs (one task per configuration and seed) go
    (:mod:`lavalab.executor`; an :class:`ExecutorSpec`, or an open executor); None:
    ``workers`` threads."""
    validate.out_dir(out)  # before any work; created only once the data loaded
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
    seeds = _seed_list(seeds, setup)
    deployable_only = validate.flag("deployable_only", deployable_only)
    for T in infer_timesteps:
        if not 1 <= T < t0:
            raise ValueError(f"infer_timesteps T={T} is outside the allowed range 1..{t0 - 1}")
    for name, v in (("tau", tau), ("eps", eps)):
        if not (np.isfinite(v) and v >= 0):
            raise ValueError(f"{name}={v} must be a finite number >= 0")
    configs = []
    for T in timesteps:
        if T > t0:
            raise ValueError(f"timesteps T={T} exceed the baseline T0={t0}")
        for e in (["none"] if T == t0 else list(enhancements)):
            configs.append((T, e))
    _load(setup)  # refuses a wrong data setup before any task starts
    with open_executor(executor, workers) as ex:
        return _timestep_study(ex, setup, out, timesteps, enhancements, configs, t0, tau,
                               eps, progress, infer_timesteps, infer_enhancement, seeds,
                               deployable_only)


def _timestep_study(ex, setup: StudySetup, out, timesteps, enhancements, configs, t0, tau,
                    eps, progress, infer_timesteps, infer_enhancement, seeds,
                    deployable_only) -> dict:
    setup_d = {**_setup_dict(setup), "baseline": t0}
    grid = {"timesteps": timesteps, "enhancements": enhancements,
            "infer_timesteps": infer_timesteps, "infer_enhancement": infer_enhancement}
    store = SeededResultStore(out, "timesteps", setup_d, TIMESTEP_COLUMNS, grid, seeds)
    keys = [f"T{T}-{e}" for T, e in configs] + [f"T{t0}-none@{Ti}-{infer_enhancement}"
                                                   for Ti in infer_timesteps]
    todo = [(T, e, s) for s in seeds for T, e in configs
            if not store.done_run(f"T{T}-{e}", s)]
    tasks = [Task(_task_key(f"T{T}-{e}", s), _timestep_task,
                  (replace(setup, seed=s), t0, T, e), setup.train_samples)
             for T, e, s in todo]
    _run_parallel(ex, tasks, _store_result(store), "timestep study", progress)
    todo_infer = [(Ti, s) for s in seeds for Ti in infer_timesteps
                  if not store.done_run(f"T{t0}-none@{Ti}-{infer_enhancement}", s)]
    models = {s: ex.share(store.model_path(f"T{t0}-none", s).read_bytes())
              for s in validate.unique(s for _, s in todo_infer)}
    tasks = []
    for Ti, s in todo_infer:
        base_run = store.runs[(f"T{t0}-none", s)]
        trained = {k: base_run.get(k) for k in _TRAIN_COLUMNS}  # training happened at T0
        tasks.append(Task(_task_key(f"T{t0}-none@{Ti}-{infer_enhancement}", s),
                          _infer_only_task, (replace(setup, seed=s), t0, Ti,
                                             infer_enhancement, models[s], trained)))
    _run_parallel(ex, tasks, _store_result(store), "reduced-T inference", progress,
                  unit="config")
    summary = _timestep_summary(store, t0, tau, eps, keys, deployable_only)
    store.write(summary)
    plots.timestep_study([store.rows[k] for k in keys], summary, store.out,
                         _plot_title(setup, seeds))
    return summary


def _task_key(key: str, seed: int) -> str:
    """The name of the task of configuration ``key``'s run of ``seed``."""
    return f"{key} seed {seed}"


def _timestep_task(setup: StudySetup, t0: int, T: int, e: str, bar=None) -> dict:
    """The run of one configuration of the timestep study for ``setup.seed`` (a task): the
    network compiled at ``T`` presentation steps with policy ``e``, trained and tested;
    its run row and model bytes."""
    data = _load(setup)
    s = setup.seed
    base = build(setup.network, setup.neurons, data.n_input, rule=setup.rule)
    c = compile_network(base, TimeBudget(T, baseline_timesteps=t0),
                        target=setup.target, enhancement=e, check=False)
    ci = compiled_for_inference(c, setup)
    w0 = init_weights(c.spec, s, data.train_x)
    w0 = np.rint(w0 * c.fixed.q).astype(np.int64)
    res = train_and_score(c.spec, "fixed", c.fixed, w0, data, setup, bar,
                          infer_net=(ci.spec, ci.fixed))
    key = f"T{T}-{e}"
    path = _model_relpath(key, s)
    model = _model_bytes(ci.spec, "fixed", s, res, dataset=data.dataset,
                         input_shape=data.shape, train_spec=c.spec)
    return {"row": {"key": key, "seed": s, "model": path, "timesteps": T,
                    "infer_timesteps": T, "rest_steps": c.spec.rest_steps, "enhancement": e,
                    "warnings": _run_warnings(c.spec, res, setup.assign_samples),
                    **_row(c, setup, res, ci)},
            "files": {path: model}}


#: Columns an inference-only row takes from the T0 run it tests.
_TRAIN_COLUMNS = ("energy_train_uJ", "latency_train_us", "weight_updates_train",
                  "energy_train_layers_uJ", "exc_spikes_train", "train_wall_s")


def _plot_title(setup: StudySetup, seeds) -> str:
    """Network, N, seeds and samples of a study, for its plots' titles."""
    dt, one = setup.inference()
    infer = "" if (dt, one) == (TRAIN_DT_MS, False) else (
        f", tested at {dt:g} ms" + (" with one spike per step" if one else ""))
    return (f"{setup.network}-{setup.neurons}, {setup.dataset}, seeds "
            f"{','.join(map(str, seeds))} (n = {len(seeds)}), {setup.train_samples} train / "
            f"{setup.test_samples} test samples{infer}")


def _infer_only_task(setup: StudySetup, t0: int, Ti: int, policy: str, model_bytes: bytes,
                     trained: dict, bar=None) -> dict:
    """Test the T0 model of ``setup.seed`` (its file's bytes) at ``Ti`` presentation steps
    (enhanced by ``policy``), discretising the study's network from scratch (so the
    schedule equals a model trained at ``Ti``); ``trained``: the T0 run's training
    columns."""
    data = _load(setup)
    base = build(setup.network, setup.neurons, data.n_input, rule=setup.rule)
    model = _model_from_bytes(model_bytes)
    c = compile_network(base, TimeBudget(Ti, baseline_timesteps=t0),
                        target=setup.target, enhancement=policy, check=False)
    ci = compiled_for_inference(c, setup)
    spec = c.spec
    gap = (spec.exc.v_th - spec.exc.v_reset) / (model.spec.exc.v_th - model.spec.exc.v_reset)
    theta = np.rint(np.asarray(model.theta, np.float64) * gap).astype(np.int64)
    res = score(ci.spec, "fixed", ci.fixed, model.w, theta, data, setup)
    row = {"key": f"T{t0}-none@{Ti}-{policy}", "seed": setup.seed, "model": None,
           "timesteps": t0, "infer_timesteps": Ti,
           "rest_steps": spec.rest_steps, "enhancement": f"{policy}, inference only",
           "warnings": _run_warnings(spec, res, setup.assign_samples),
           **_row(c, setup, res, ci)}
    row.update(trained)  # training happened at T0
    if bar is not None:
        bar.update(1)
    return {"row": row, "files": {}}


def _baseline_check(base: dict, what: str) -> str:
    """Why the baseline row ``base`` cannot anchor a choice ('' when it can)."""
    chance = 100.0 / N_CLASSES
    if base["accuracy"] < COLLAPSE_FACTOR * chance:
        return (f"the baseline {what} collapsed: mean accuracy {base['accuracy']:.2f} % is "
                f"below {COLLAPSE_FACTOR:g} x chance ({chance:g} %); train on more samples "
                "or check the configuration")
    return ""


def _spread(r: dict) -> str:
    """``mean ± std % (n seeds)`` of a row's accuracy."""
    return (f"{r['accuracy']:.2f} ± {r.get('accuracy_std', 0.0):.2f} % "
            f"(n = {r.get('n_seeds', 1)})")


def _timestep_summary(store: SeededResultStore, t0: int, tau: float, eps: float,
                      keys: list[str], deployable_only: bool = False) -> dict:
    """The summary over the rows ``keys`` (this run's grid) only, decided on means."""
    rows = [store.rows[k] for k in keys]
    base = store.rows.get(f"T{t0}-none")
    if base is None:
        raise RuntimeError(f"the baseline T0={t0} has no result")
    for r in rows:
        r.setdefault("infer_timesteps", r["timesteps"])
        r["Ln"] = r["latency_infer_us"] / base["latency_infer_us"]
        r["En"] = r["energy_infer_uJ"] / base["energy_infer_uJ"]
        r["S"] = tradeoff_s(r["accuracy"], r["Ln"], r["En"], tau, eps)
        r["accuracy_delta"] = r["accuracy"] - base["accuracy"]
        r["deployable"] = bool(r.get("loihi_ok"))
    broken = _baseline_check(base, f"T0 = {t0}")
    warnings_ = ([broken] if broken else []) + [f"{r['key']}, {w}" for r in rows
                                                for w in r.get("warnings", [])]
    out = {"baseline": base["key"], "baseline_accuracy": base["accuracy"],
           "baseline_accuracy_std": base.get("accuracy_std", 0.0),
           "seeds": list(store.seeds), "tau": tau, "eps": eps, "rows": list(keys),
           "criterion": "mean accuracy over seeds >= mean T0 accuracy - 2 percentage points",
           "deployable_only": deployable_only, "baseline_ok": not broken,
           "warnings": warnings_, "chosen": None}
    pool = [r for r in rows if r["deployable"] or not deployable_only]
    best, why = _pick(pool, broken, key=lambda r: (r["S"], -r["infer_timesteps"],
                                                    -r["timesteps"]))
    if why:
        out["withheld"] = why
    else:
        out.update({"chosen": best["key"],
                    "chosen_timesteps": best["timesteps"],
                    "chosen_infer_timesteps": best["infer_timesteps"],
                    "chosen_enhancement": best["enhancement"],
                    "chosen_accuracy": best["accuracy"],
                    "chosen_accuracy_std": best.get("accuracy_std", 0.0),
                    **_model_handoff(store, best)})
    if broken:
        return out
    # fewest timesteps within 2 points of T0: training and inference at T (TopSpark's
    # setting), and, when inference-only rows exist, training at T0 and inference at T
    for name, group in (("", [r for r in pool if r["timesteps"] == r["infer_timesteps"]]),
                        ("_inference_only",
                         [r for r in pool if r["timesteps"] != r["infer_timesteps"]])):
        within2 = [r for r in group if r["accuracy"] >= base["accuracy"] - 2.0]
        if not within2:
            continue
        f = min(within2, key=lambda r: (r["infer_timesteps"], r["timesteps"], -r["accuracy"]))
        out.update({
            f"fewest_timesteps_within_2pct{name}": f["key"],
            f"accuracy_within_2pct{name}": f["accuracy"],
            f"accuracy_std_within_2pct{name}": f.get("accuracy_std", 0.0),
            f"accuracy_delta_points_within_2pct{name}": f["accuracy"] - base["accuracy"],
            f"timestep_reduction_within_2pct{name}": t0 / f["infer_timesteps"],
            f"energy_ratio_train_within_2pct{name}": base["energy_train_uJ"]
            / f["energy_train_uJ"],
            f"energy_ratio_infer_within_2pct{name}": base["energy_infer_uJ"]
            / f["energy_infer_uJ"],
            f"latency_ratio_within_2pct{name}": base["latency_infer_us"]
            / f["latency_infer_us"]})
    return out


def _model_handoff(store: SeededResultStore, row: dict) -> dict:
    """The chosen row's model file (its first seed's; every seed's in ``chosen_models``)
    and the command that compiles it for Loihi."""
    models = [m for m in row.get("models", []) if m]
    if not models:  # an inference-only row: its model is the T0 model, retimed
        return {"chosen_model": None, "chosen_models": [], "compile_command": None}
    path = store.out / models[0]
    return {"chosen_model": str(path), "chosen_models": [str(store.out / m) for m in models],
            "chosen_deployable": bool(row.get("loihi_ok")),
            "chosen_loihi_rule": row.get("loihi_rule") or "",
            "compile_command": f"lavalab compile --model {path} --target "
                               f"{store.setup['target']}",
            "deploy_command": f"lavalab evaluate {path} --backend lava-stock"}


# --- precision study (tinySNN) ------------------------------------------------------------

PRECISION_COLUMNS = ("key", "scheme", "weight_bits", "neuron_bits", "rounding", "params",
                     "accuracy", "accuracy_proportion", "memory_bits", "memory_kB",
                     "M_norm", "R", "pareto", "energy_train_uJ", "energy_infer_uJ",
                     "loihi_ok", "loihi_rule", "exc_spikes_train", "exc_spikes_test",
                     "neurons_assigned", "train_wall_s", "test_wall_s", "notes",
                     "accuracy_std", "accuracy_seeds", "accuracy_delta", "seeds",
                     "deployable", "warnings")


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
                    workers: int = 2, progress: bool = True, seeds=None,
                    deployable_only: bool = False,
                    executor: ExecutorSpec | None = None) -> dict:
    """tinySNN's study: the FP32 model (float engine) and, for every weight precision in
    ``bits`` (2..16), scheme (PTQ: quantize the trained FP32 model; ITQ: train in the
    quantized integer arithmetic), rounding and quantized parameters (``w``: weights only;
    ``wn``: weights and neuron parameters v, v_th, theta at the same bit width), accuracy,
    memory footprint ``M``, reward ``R`` and the Pareto front. Every configuration runs
    once per seed in ``seeds`` (default ``[setup.seed]``; PTQ quantizes the FP32 model of
    the same seed); decisions are made on the means over seeds. ``deployable_only``: the
    model is chosen among configurations the Loihi design rules accept (``deployable``).
    Returns the summary.

    ``executor``: where the runs (one task per configuration and seed) go
    (:mod:`lavalab.executor`; an :class:`ExecutorSpec`, or an open executor); None:
    ``workers`` threads."""
    validate.out_dir(out)  # before any work; created only once the data loaded
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
    seeds = _seed_list(seeds, setup)
    deployable_only = validate.flag("deployable_only", deployable_only)
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
    with open_executor(executor, workers) as ex:
        return _precision_study(ex, setup, out, bits, schemes, roundings, params, timesteps,
                                mu, progress, seeds, deployable_only)


def _precision_study(ex, setup: StudySetup, out, bits, schemes, roundings, params,
                     timesteps, mu, progress, seeds, deployable_only) -> dict:
    budgets = [PrecisionBudget(weight_bits=b, neuron_bits=b if (p == "wn" and b <= 24) else 24,
                               rounding=r, scheme=s, quantize_neurons=p == "wn")
               for b in bits if b != FLOAT_BITS for s in schemes for r in roundings
               for p in params]
    setup_d = {**_setup_dict(setup), "timesteps": timesteps}
    grid = {"bits": bits, "schemes": schemes, "roundings": roundings, "params": params}
    store = SeededResultStore(out, "precision", setup_d, PRECISION_COLUMNS, grid, seeds)
    keys = ["fp32"] + [b.label for b in budgets]
    fp32: dict[int, bytes] = {}  # per seed: the FP32 model's w, theta and training events

    # the FP32 model of a seed is needed by PTQ and for the calibration of neuron ranges:
    # trained first; a finished one is read back (its model file and training events),
    # and trained again only when those files are gone
    todo = [(b, s) for s in seeds for b in budgets if not store.done_run(b.label, s)]
    uses_fp32 = {s for b, s in todo if b.scheme == "ptq" or b.quantize_neurons}
    for s in uses_fp32:
        fp32_bytes = _finished_fp32(store, s) if store.done_run("fp32", s) else None
        if fp32_bytes is not None:
            fp32[s] = fp32_bytes
    need = [s for s in seeds if not store.done_run("fp32", s)
            or (s in uses_fp32 and s not in fp32)]
    had_run = {s: store.done_run("fp32", s) for s in need}
    write = _store_result(store)

    def on_fp32(task: Task, res: dict) -> None:
        seed = res["row"]["seed"]
        fp32[seed] = res["fp32"]
        if not had_run[seed]:  # a finished run keeps its row (its files are rewritten)
            write(task, res)
        else:  # its files were gone: write those (never replace a finished one)
            write_files(store.out, {k: v for k, v in res["files"].items()
                                    if not (store.out / k).exists()})
    _run_parallel(ex, [Task(_task_key("fp32", s), _fp32_task,
                            (replace(setup, seed=s), timesteps), setup.train_samples)
                       for s in need], on_fp32, "precision study: fp32", progress)
    shared = {s: ex.share(fp32[s]) for s in validate.unique(s for _, s in todo)
              if s in fp32}
    tasks = [Task(_task_key(b.label, s), _precision_task,
                  (replace(setup, seed=s), timesteps, b, shared.get(s)), setup.train_samples)
             for b, s in todo]
    with warnings.catch_warnings():  # recorded per row instead (the "notes" column)
        warnings.simplefilter("ignore", qz.QuantizationWarning)
        _run_parallel(ex, tasks, _store_result(store), "precision study", progress)
    summary = _precision_summary(store, mu, keys, deployable_only)
    store.write(summary)
    plots.precision_study([store.rows[k] for k in keys], summary, store.out,
                          _plot_title(setup, seeds))
    return summary


def _fp32_events_relpath(seed: int) -> str:
    """Where the FP32 run of ``seed`` keeps its per-sample training events (PTQ rows price
    their training with them)."""
    return _model_relpath("fp32", seed).removesuffix(".npz") + "-train-events.npz"


def _finished_fp32(store: SeededResultStore, seed: int) -> bytes | None:
    """The arrays :func:`_fp32_task` returns (w, theta, training events) of the finished
    FP32 run of ``seed``, read from its files; None when a file is missing or damaged."""
    run = store.runs.get(("fp32", seed), {})
    model_path = store.out / run["model"] if run.get("model") else None
    events_path = store.out / _fp32_events_relpath(seed)
    if model_path is None or not model_path.is_file() or not events_path.is_file():
        return None
    try:
        model = load_model(model_path)
        ev = _arrays_from_bytes(events_path.read_bytes())["train_events"]
    except (OSError, ValueError, KeyError, model_io.ModelFileError):
        return None
    if ev.ndim != 2 or ev.shape[1] != len(EVENT_NAMES) or model.precision != "float":
        return None
    return _arrays_bytes(w=model.w, theta=model.theta, train_events=ev)


def _precision_compiled(setup: StudySetup, timesteps: int, b: PrecisionBudget,
                        v_range=None):
    data = _load(setup)
    net = build(setup.network, setup.neurons, data.n_input, rule=setup.rule)
    return compile_network(net, TimeBudget(timesteps), b, setup.target, v_range_mv=v_range,
                           seed=setup.seed, check=False)


def _fp32_task(setup: StudySetup, timesteps: int, bar=None) -> dict:
    """The precision study's FP32 run of ``setup.seed`` (a task): trained on the float
    engine; its run row, model bytes and (``fp32``) the bytes of its w, theta and training
    events."""
    data = _load(setup)
    s = setup.seed
    c32 = _precision_compiled(setup, timesteps,
                              PrecisionBudget(weight_bits=FLOAT_BITS, neuron_bits=FLOAT_BITS))
    base = c32.spec
    ci = compiled_for_inference(c32, setup)
    w0 = init_weights(base, s, data.train_x)
    res = train_and_score(base, "float", None, w0, data, setup, bar,
                          infer_net=(ci.spec, None))
    path = _model_relpath("fp32", s)
    model = _model_bytes(ci.spec, "float", s, res, dataset=data.dataset,
                         input_shape=data.shape, train_spec=base)
    events = _arrays_bytes(train_events=res["train_events"])
    return {"row": {"key": "fp32", "seed": s, "model": path, "scheme": "float",
                    "weight_bits": 32, "neuron_bits": 32, "rounding": "", "params": "w",
                    "notes": "", "warnings": _run_warnings(base, res, setup.assign_samples),
                    **_row(c32, setup, res, ci)},
            "files": {path: model, _fp32_events_relpath(s): events},
            "fp32": _arrays_bytes(w=res["w"], theta=res["theta"],
                                  train_events=res["train_events"])}


def _precision_task(setup: StudySetup, timesteps: int, b: PrecisionBudget,
                    fp32_bytes: bytes | None, bar=None) -> dict:
    """The run of one quantized configuration of the precision study for ``setup.seed``
    (a task); ``fp32_bytes``: the arrays of the FP32 model of the same seed
    (:func:`_fp32_task`), needed by PTQ and by ``wn``."""
    data = _load(setup)
    s = setup.seed
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
        ci = compiled_for_inference(c, setup, v_range)
        fixed = c.fixed
        if b.scheme == "ptq":  # quantize the trained FP32 model; no training
            w = qz.quantize_weights(fp32["w"], b, s)
            theta = qz.quantize_theta(fp32["theta"], fixed, b, s)
            res = dict(score(ci.spec, "fixed", ci.fixed, w, theta, data, setup),
                       train_events=fp32["train_events"], train_s=0.0, w=w, theta=theta)
            if bar is not None:
                bar.update(setup.train_samples)
        else:
            w0 = qz.quantize_weights(init_weights(base, s, data.train_x), b, s)
            res = train_and_score(base, "fixed", fixed, w0, data, setup, bar,
                                  infer_net=(ci.spec, ci.fixed))
    path = _model_relpath(b.label, s)
    model = _model_bytes(ci.spec, "fixed", s, res, b, v_range, dataset=data.dataset,
                         input_shape=data.shape, train_spec=base)
    notes = []
    if fixed.exc.theta_plus and qz.theta_frozen(fixed.exc.theta_plus,
                                                fixed.exc.v_lsb, b.rounding):
        notes.append(f"theta_plus below what {b.rounding} rounding keeps on the "
                     "neuron grid: theta is frozen")
    warn = _run_warnings(base, res, setup.assign_samples)
    if notes and not any("theta is frozen" in w for w in warn):
        warn.append(notes[0])
    row = {"key": b.label, "seed": s, "model": path, "scheme": b.scheme,
           "weight_bits": b.weight_bits,
           "neuron_bits": b.neuron_bits if b.quantize_neurons else 24,
           "rounding": b.rounding, "notes": "; ".join(notes), "warnings": warn,
           "params": "wn" if b.quantize_neurons else "w", **_row(c, setup, res, ci)}
    return {"row": row, "files": {path: model}}


def _precision_summary(store: SeededResultStore, mu: float, keys: list[str],
                       deployable_only: bool = False) -> dict:
    """The summary over the rows ``keys`` (this run's grid) only, decided on means."""
    rows = [store.rows[k] for k in keys]
    base = store.rows.get("fp32")
    if base is None:
        raise RuntimeError("the FP32 baseline has no result")
    for r in rows:
        r["M_norm"] = r["memory_bits"] / base["memory_bits"]
        r["R"] = reward_r(r["accuracy"], r["M_norm"], mu)
        r["accuracy_delta"] = r["accuracy"] - base["accuracy"]
        r["deployable"] = bool(r.get("deployable", r.get("loihi_ok")))
    front = pareto_front([(r["accuracy"], r["memory_bits"]) for r in rows])
    for i, r in enumerate(rows):
        r["pareto"] = i in front
    broken = _baseline_check(base, "FP32")
    no_loss = [r for r in rows if r["accuracy"] >= base["accuracy"] and r["key"] != "fp32"]
    out = {"baseline": "fp32", "baseline_accuracy": base["accuracy"],
           "baseline_accuracy_std": base.get("accuracy_std", 0.0),
           "seeds": list(store.seeds), "mu": mu, "rows": list(keys),
           "deployable_only": deployable_only, "baseline_ok": not broken,
           "warnings": ([broken] if broken else []) + [f"{r['key']}, {w}" for r in rows
                                                       for w in r.get("warnings", [])],
           "chosen": None,
           "pareto": [rows[i]["key"] for i in front],
           "deployable": [r["key"] for r in rows if r["deployable"]],
           "no_loss_vs_fp32": sorted(r["key"] for r in no_loss)}
    best, why = _pick([r for r in rows if r["deployable"] or not deployable_only], broken,
                      key=lambda r: (r["R"], -r["memory_bits"]))
    if why:
        out["withheld"] = why
    else:
        out.update({"chosen": best["key"], "chosen_accuracy": best["accuracy"],
                    "chosen_accuracy_std": best.get("accuracy_std", 0.0),
                    "chosen_memory_kB": best["memory_kB"],
                    "chosen_deployable": best["deployable"],
                    **_model_handoff(store, best)})
    return out
