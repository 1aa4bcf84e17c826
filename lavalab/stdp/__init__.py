"""The STDP family (Diehl & Cook, tinySNN): one train / assign / score path
(:mod:`.scoring`) behind ``lavalab train`` (:mod:`.training`), ``assign`` / ``evaluate``
(:mod:`.evaluation`), ``plot`` (:mod:`.figures`) and the studies (:mod:`lavalab.study`).

Modules: :mod:`.config` (TrainConfig, the inference network), :mod:`.files` (model files),
:mod:`.backend` (runs on the engine / Lava / Loihi), :mod:`.scoring`, :mod:`.training`,
:mod:`.evaluation`, :mod:`.figures`.
This package re-exports their public names.
"""

from lavalab.backends import BackendUnavailable
from lavalab.stdp.backend import event_summary, frozen_counts, require_backend
from lavalab.stdp.config import (
    TRAIN_DT_MS,
    TrainConfig,
    fixed_units,
    inference_spec,
    resolve_inference,
)
from lavalab.stdp.evaluation import assign, evaluate
from lavalab.stdp.figures import plot
from lavalab.stdp.files import Model, load_model, model_bytes, model_from_bytes, save_model
from lavalab.stdp.scoring import (
    assign_frozen,
    assignment_warnings,
    classify,
    learn,
    score,
    train_and_score,
)
from lavalab.stdp.training import train

__all__ = ["TrainConfig", "BackendUnavailable", "TRAIN_DT_MS", "train", "assign", "evaluate",
           "plot", "load_model", "save_model", "model_bytes", "model_from_bytes", "Model",
           "event_summary", "frozen_counts", "require_backend", "inference_spec",
           "resolve_inference", "fixed_units", "learn", "assign_frozen", "classify", "score",
           "train_and_score", "assignment_warnings"]
