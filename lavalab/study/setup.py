"""What every configuration of an STDP study shares (:class:`StudySetup`), its samples
(loaded once per process) and the network a configuration is tested as."""

from __future__ import annotations

import functools
from dataclasses import asdict, dataclass

import numpy as np

from lavalab import validate
from lavalab.compile.pipeline import CompiledNetwork, compile_network
from lavalab.data import DATASETS, load_dataset
from lavalab.loihi_spec import ENERGY_TABLES, TARGETS
from lavalab.networks.snn import KINDS, default_mechanisms
from lavalab.stdp.config import (
    TRAIN_DT_MS,
    _step_divisor,
    fixed_units,
    inference_spec,
    resolve_inference,
)


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
        and tested as (:func:`lavalab.stdp.config.inference_spec`: the same physical time at
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


def compiled_for_inference(c: CompiledNetwork, setup: StudySetup,
                           v_range_mv: float | None = None) -> CompiledNetwork:
    """The network a configuration compiled as ``c`` (its training network) is assigned
    labels and tested as: ``setup``'s inference step and one_spike_infer
    (:func:`lavalab.stdp.config.inference_spec`), compiled with ``c``'s precision budget
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


def _plot_title(setup: StudySetup, seeds) -> str:
    """Network, N, seeds and samples of a study, for its plots' titles."""
    dt, one = setup.inference()
    infer = "" if (dt, one) == (TRAIN_DT_MS, False) else (
        f", tested at {dt:g} ms" + (" with one spike per step" if one else ""))
    return (f"{setup.network}-{setup.neurons}, {setup.dataset}, seeds "
            f"{','.join(map(str, seeds))} (n = {len(seeds)}), {setup.train_samples} train / "
            f"{setup.test_samples} test samples{infer}")
