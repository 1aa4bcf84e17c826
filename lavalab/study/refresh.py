"""Re-derive a study's summary from its stored per-seed rows, without re-training.

:func:`refresh_summary` reads ``results.json`` of a study folder, recomputes the summary
(the paired statistics of :mod:`lavalab.study.stats` included) from the stored runs / rows
with the same function the study uses, and writes ``results.json`` / ``results.csv`` back.
The summary's own parameters (the grid of the last run, ``tau``, ``eps``, ``mu``,
``deployable_only``) are taken from the stored summary. With ``figures=True`` the study's
figures are redrawn from the same rows.
"""

from __future__ import annotations

from pathlib import Path

from lavalab import model_io

__all__ = ["refresh_summary", "REFRESHABLE"]

#: The studies whose summary can be re-derived (``study`` field of ``results.json``).
REFRESHABLE = ("timesteps", "precision", "enhancement-search", "latency", "exact-dt")


def _seeded(folder: Path, doc: dict, columns):
    from lavalab.study.store import SeededResultStore

    grid = {k: v for k, v in (doc.get("grid") or {}).items() if k != "seeds"}
    summary = doc.get("summary") or {}
    setup = dict(doc["setup"])
    if "seed" in setup:  # a version-1/2 file: one seed, named in the setup
        seeds = [setup.pop("seed")]
    else:
        seeds = summary.get("seeds") or (doc.get("grid") or {}).get("seeds")
        if not seeds:
            seeds = sorted({int(r["seed"]) for r in doc.get("runs", [])})
    return SeededResultStore(folder, doc["study"], setup, columns, grid, seeds)


def _title(setup: dict, seeds) -> str:
    """:func:`lavalab.study.setup._plot_title` from a stored setup."""
    dt, one = setup.get("inference_dt_ms"), setup.get("one_spike_infer")
    infer = ""
    if dt is not None and (dt, bool(one)) != (1.0, False):
        infer = f", tested at {dt:g} ms" + (" with one spike per step" if one else "")
    return (f"{setup.get('network')}-{setup.get('neurons')}, {setup.get('dataset')}, seeds "
            f"{','.join(map(str, seeds))} (n = {len(seeds)}), {setup.get('train_samples')} "
            f"train / {setup.get('test_samples')} test samples{infer}")


def _redraw(study: str, folder: Path, store, summary: dict, keys: list[str]) -> None:
    if study in ("timesteps", "precision"):
        from lavalab.study import plots

        draw = plots.timestep_study if study == "timesteps" else plots.precision_study
        draw([store.rows[k] for k in keys], summary, folder,
             _title(store.setup, store.seeds))
    elif study == "latency":
        from lavalab.study.latency import plot_latency

        plot_latency(store.grid_rows(), folder / "latency.png")
    elif study == "exact-dt":
        from lavalab.study.dt import plot_dt_study

        plot_dt_study(store.grid_rows(), summary, folder)


def refresh_summary(results_dir, figures: bool = False) -> dict:
    """Recompute and write the summary of the study in ``results_dir``.

    Parameters
    ----------
    results_dir : str or pathlib.Path
        A study folder holding ``results.json``.
    figures : bool
        Also redraw the study's figures (not the enhancement search, which has none).

    Returns
    -------
    dict
        The new summary.

    Raises
    ------
    ValueError
        No ``results.json``, or a study without a summary to re-derive (its name says
        which).
    """
    folder = Path(results_dir)
    path = folder / "results.json"
    if not path.is_file():
        raise ValueError(f"{folder}: no results.json")
    doc = model_io.load_json(path)
    study = doc.get("study") if isinstance(doc, dict) else None
    if study not in REFRESHABLE:
        raise ValueError(f"{path}: study {study!r} has no summary to re-derive (one of "
                         f"{', '.join(REFRESHABLE)})")
    old = doc.get("summary") or {}
    # a version-1 summary names no grid: its rows are every stored row
    keys = list(old.get("rows") or [r["key"] for r in doc.get("rows", [])])
    if study == "timesteps":
        from lavalab.study.timesteps import TIMESTEP_COLUMNS, _timestep_summary

        store = _seeded(folder, doc, TIMESTEP_COLUMNS)
        t0 = doc["setup"].get("baseline") or int(old["baseline"].split("-")[0][1:])
        summary = _timestep_summary(store, int(t0), old["tau"], old["eps"], keys,
                                    bool(old.get("deployable_only", False)))
    elif study == "precision":
        from lavalab.study.precision import PRECISION_COLUMNS, _precision_summary

        store = _seeded(folder, doc, PRECISION_COLUMNS)
        summary = _precision_summary(store, old["mu"], keys,
                                     bool(old.get("deployable_only", False)))
    elif study == "enhancement-search":
        from lavalab.study.search import SEARCH_COLUMNS, paired_per_t

        store = _seeded(folder, doc, SEARCH_COLUMNS)
        summary = dict(old)
        paired_per_t(store.rows, summary)
    elif study == "latency":
        from lavalab.study.latency import LATENCY_COLUMNS, _summary
        from lavalab.study.store import ResultStore

        store = ResultStore(folder, study, doc["setup"], LATENCY_COLUMNS, doc.get("grid"))
        store.select(keys)  # the last run's grid: other rows stay apart
        summary = _summary(store)
    else:  # exact-dt
        from lavalab.study.dt import DT_COLUMNS, summarise
        from lavalab.study.store import ResultStore

        store = ResultStore(folder, study, doc["setup"], DT_COLUMNS, doc.get("grid"))
        store.select(keys)  # the last run's grid: other rows stay apart
        summary = summarise(store.grid_rows())
    store.select(keys)  # the last run's grid: rows of other grids stay apart
    store.write(summary)
    if figures:
        _redraw(study, folder, store, summary, keys)
    return summary
