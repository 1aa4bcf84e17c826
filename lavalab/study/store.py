"""A study's results on disk: ``results.json`` + ``results.csv`` (:class:`ResultStore`),
one run per (configuration, seed) and its aggregates over seeds (:class:`SeededResultStore`,
:func:`aggregate_runs`)."""

from __future__ import annotations

import csv
import io
import numbers
import threading
from pathlib import Path

import numpy as np

from lavalab import model_io, validate
from lavalab.compile.ir import FLOAT_BITS
from lavalab.stdp.config import (
    TRAIN_DT_MS,
)

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


# --- results ---------------------------------------------------------------------------

class ResultStore:
    """``results.json`` + ``results.csv`` of a study in ``out``: rows keyed by ``key``.

    Opening a folder whose results belong to another study or setup raises (the message
    names the differences), so results of different setups are never mixed. The file is
    checked when read: its format and version, and every row (fields, types, ranges, a key
    that matches its fields); a damaged or hand-edited file is refused naming it.

    The grid of configurations (``grid``: timesteps, enhancements, bits, seeds, ...) is
    not part of the setup: a rerun with another grid computes only its missing rows, and
    its outputs are kept apart from those of other grids, never merged: once the study
    names its grid's keys (:meth:`select`), ``rows`` of ``results.json``, ``results.csv``,
    the summary and the figures hold exactly those rows; rows of other grids move to
    ``other_rows`` (never read by a summary; a later grid that contains them reuses them
    instead of computing them again). ``grid`` in the file is the grid of the last run.
    """

    def __init__(self, out, study: str, setup: dict, columns: tuple[str, ...],
                 grid: dict | None = None):
        self.out = validate.out_dir(out)
        self.path = self.out / "results.json"
        self.study, self.setup, self.columns = study, setup, columns
        self.grid = grid or {}
        self._lock = threading.Lock()
        self.rows: dict[str, dict] = {}
        self.keys: list[str] | None = None  # the current grid's rows (None: every row)
        if self.path.exists():
            self.rows = self._read(study, setup)
        self.out.mkdir(parents=True, exist_ok=True)
        model_io.remove_stale_temp(self.out)

    def _read(self, study: str, setup: dict) -> dict[str, dict]:
        doc = model_io.load_json(self.path)
        rows = self._rows_of(doc, study, setup)
        model_io.check_digest(self.path, doc)  # after the checks: those name what is off
        return rows

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
        rows, other = old.get("rows", []), old.get("other_rows", [])
        if not isinstance(rows, list) or not isinstance(other, list):
            raise model_io.ModelFileError(f"{self.path}: damaged: 'rows' or 'other_rows' "
                                          "is not a list")
        rows = rows + other
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

    def select(self, keys) -> None:
        """Name the current grid's rows (in their order): what ``rows``, ``results.csv``,
        :meth:`grid_rows` and so the summary hold from now on; other rows are kept apart
        (``other_rows``)."""
        self.keys = validate.unique(keys)

    def grid_rows(self) -> list[dict]:
        """The rows of the current grid that exist (every row before :meth:`select`)."""
        if self.keys is None:
            return list(self.rows.values())
        return [self.rows[k] for k in self.keys if k in self.rows]

    def done(self, key: str, model: Path | None = None) -> bool:
        """Whether ``key`` has a row (and, when given, its trained ``model`` file exists:
        a row whose model is gone is recomputed)."""
        return key in self.rows and (model is None or model.is_file())

    def add(self, row: dict, summary: dict | None = None) -> None:
        with self._lock:
            self.rows[row["key"]] = row
            self.write(summary)

    def write(self, summary: dict | None = None) -> None:
        rows = self.grid_rows()
        doc = {"format": RESULTS_FORMAT, "version": RESULTS_VERSION, "study": self.study,
               "setup": self.setup, "grid": self.grid, "units": UNITS, "rows": rows}
        other = self._other_rows()
        if other:
            doc["other_rows"] = other
        doc.update(getattr(self, "extra", {}))
        if summary is not None:
            doc["summary"] = summary
        buf = io.StringIO()
        wr = csv.DictWriter(buf, fieldnames=list(self.columns), extrasaction="ignore")
        wr.writeheader()
        for r in rows:
            wr.writerow({k: _fmt(r.get(k)) for k in self.columns})
        # the CSV first: results.json (what a rerun trusts) is written last
        model_io.write_bytes(self.out / "results.csv", buf.getvalue().encode())
        model_io.write_json(self.path, doc, digest=True)

    def _other_rows(self) -> list[dict]:
        """Rows outside the current grid (kept apart in ``other_rows``)."""
        keys = set(self.keys or self.rows)
        return [r for k, r in self.rows.items() if k not in keys]


#: Columns of a seeded study whose rows carry ``<col>_std`` and ``<col>_seeds``.
SPREAD_COLUMNS = ("accuracy", "val_accuracy", "accuracy_proportion", "energy_train_uJ",
                  "energy_infer_uJ", "latency_infer_us", "latency_train_us", "exc_spikes_train",
                  "exc_spikes_test", "neurons_assigned")
#: Fields of a run that are about the run, not the configuration (not aggregated).
_RUN_ONLY = ("seed", "model", "warnings")


def read_document(path) -> dict:
    """A study's ``results.json`` for a reader outside the study (a script printing its
    table): a JSON object of this format and a readable version whose digest matches;
    ``ModelFileError`` (a ValueError) naming the file otherwise."""
    doc = model_io.load_json(path)
    if doc.get("format") != RESULTS_FORMAT or doc.get("version") not in READABLE_VERSIONS:
        raise model_io.ModelFileError(
            f"{path}: format {doc.get('format')!r} version {doc.get('version')!r}, expected "
            f"{RESULTS_FORMAT!r} version {READABLE_VERSIONS}")
    model_io.check_digest(path, doc)
    return doc


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
            self._rows_of({**old, "rows": [], "other_rows": []}, study, setup)
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
        if isinstance(old, dict):
            model_io.check_digest(self.path, old)  # after the checks: those name what is off
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

    def _other_rows(self) -> list[dict]:
        return []  # rows are derived from the runs, which are all kept


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
