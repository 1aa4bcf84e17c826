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
:mod:`.timesteps`, :mod:`.precision`, :mod:`.search`, :mod:`.latency`, :mod:`.dt`. This
package re-exports the STDP studies' public names.
"""

from lavalab.study.precision import precision_study
from lavalab.study.selection import pareto_front, reward_r, tradeoff_s
from lavalab.study.setup import StudySetup, compiled_for_inference
from lavalab.study.store import ResultStore, SeededResultStore, aggregate_runs
from lavalab.study.timesteps import timestep_study

__all__ = ["StudySetup", "ResultStore", "SeededResultStore", "aggregate_runs",
           "timestep_study", "precision_study", "compiled_for_inference", "tradeoff_s",
           "reward_r", "pareto_front"]
