"""Studies: the timestep and precision studies of the STDP networks (TopSpark, tinySNN)
behind ``lavalab study timesteps`` and ``lavalab study precision``, the enhancement
search (:mod:`.search`), the supervised latency study (:mod:`.latency`) and the exact-time
dt study (:mod:`.dt`).

A study is a list of configurations. Each one compiles the network (passes of
:mod:`lavalab.compile`), trains it on the engine, assigns labels, classifies the test
samples and analyses its event counts (energy, latency, memory). Results go to
``out/results.json`` (one row per finished configuration, written atomically the moment
it finishes) and ``out/results.csv``; a rerun with the same setup skips finished rows, so
an interrupted study resumes where it stopped (a configuration is the unit of work: one
that was running is redone). Configurations run in parallel threads (the engine's compiled
loop releases the GIL) or, with ``executor=ExecutorSpec("dask", ...)``, one Dask task each on a
cluster (:mod:`lavalab.study.executor`): a task (one configuration and seed) returns its
run's row and model bytes and this process writes them, so the files, resume and summary
are the same as after a local run.

Modules: :mod:`.store` (result files), :mod:`.setup` (what a study shares, its data),
:mod:`.runner` (one configuration, tasks, result writing), :mod:`.selection` (trade-offs,
Pareto front, the pick), :mod:`.executor` (threads or Dask), :mod:`.plots`,
:mod:`.timesteps`, :mod:`.precision`, :mod:`.search`, :mod:`.latency`, :mod:`.dt`,
:mod:`.stats` (paired statistics over seeds), :mod:`.refresh` (a summary re-derived from
the stored rows). This
package re-exports the STDP studies' public names.
"""

import importlib

#: public name -> the module that defines it. Imported on first use (PEP 562), so that
#: ``lavalab.study.executor`` (which the CLI's parser needs) does not load the engine.
_EXPORTS = {
    "StudySetup": "setup", "compiled_for_inference": "setup",
    "ResultStore": "store", "SeededResultStore": "store", "aggregate_runs": "store",
    "timestep_study": "timesteps", "precision_study": "precision",
    "tradeoff_s": "selection", "reward_r": "selection", "pareto_front": "selection",
}
__all__ = list(_EXPORTS)


def __getattr__(name: str):
    if name in _EXPORTS:
        return getattr(importlib.import_module(f"lavalab.study.{_EXPORTS[name]}"), name)
    raise AttributeError(f"module 'lavalab.study' has no attribute {name!r}")


def __dir__():
    return sorted([*globals(), *_EXPORTS])
