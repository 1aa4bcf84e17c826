"""Train and evaluate networks on a backend: the jobs behind ``lavalab train`` / ``evaluate``.

Outputs of ``train`` in ``out``: ``model.npz`` (weights, theta, label assignments; see
:mod:`lavalab.model_io`), ``train.json`` (configuration, wall time, samples/s, spikes and
event counts per layer) and, while running, ``checkpoint.npz`` (the complete network state
after the last finished chunk; a rerun with the same configuration resumes from it).
"""

from __future__ import annotations

import platform
import time
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import numpy as np

from lavalab import model_io
from lavalab.backends import BACKENDS
from lavalab.data import DATASETS, load_dataset
from lavalab.dynamics.stdp import RULES
from lavalab.engine import EVENT_NAMES, infer, make_net, run
from lavalab.networks.snn import (
    INITS,
    KINDS,
    NetworkSpec,
    build,
    default_inference,
    init_weights,
    lower_network,
    spec_from_dict,
    spec_to_dict,
)
from lavalab.protocol import (
    ASSIGN_SEED_OFFSET,
    TEST_SEED_OFFSET,
    assign_labels,
    classification_report,
    predict_all_activity,
    predict_proportion,
)

__all__ = ["TrainConfig", "BackendUnavailable", "train", "evaluate", "load_model",
           "event_summary", "Model", "plot", "inference_spec", "assign"]

Q, EXP_IN = 255.0, 0  # weight lowering: w_int = round(w * 255), v_scale = 64 * 255
#: ``train`` warns when more than this fraction of the neurons is left unassigned.
UNASSIGNED_WARN = 0.10
#: ... and when one class holds more than this multiple of its fair share of the assigned
#: neurons (e.g. 1234 of D&C-1600's neurons on "0" after one epoch of STDP1: 80.8 %).
CLASS_SHARE_WARN = 3.0


def assignment_warnings(assignments, n_classes: int, n_assign: int) -> list[str]:
    """What the label assignment of a trained model says is wrong: more than
    ``UNASSIGNED_WARN`` of the neurons unassigned (-1), or one class holding more than
    ``CLASS_SHARE_WARN`` times its fair share of the assigned ones (``train`` and the
    studies report these)."""
    a = np.asarray(assignments)
    out = []
    n, unassigned = len(a), int((a < 0).sum())
    if unassigned > UNASSIGNED_WARN * n:
        out.append(f"{unassigned} of {n} neurons ({unassigned / n:.0%}, more than "
                   f"{UNASSIGNED_WARN:.0%}) never fired on the assignment samples "
                   f"({n_assign}) and are not assigned a class: the network has not learned "
                   "to use them (train on more samples)")
    assigned = a[a >= 0]
    if len(assigned):
        n_cls = max(int(assigned.max()) + 1, n_classes)
        per = np.bincount(assigned, minlength=n_cls)
        top = int(per.argmax())
        if per[top] > CLASS_SHARE_WARN * len(assigned) / n_cls:
            out.append(f"{int(per[top])} of {len(assigned)} assigned neurons "
                       f"({per[top] / len(assigned):.0%}, more than {CLASS_SHARE_WARN:g}x the "
                       f"fair share of {n_cls} classes) respond most to class {top}: the "
                       "network has not learned to tell the classes apart (train longer, or "
                       "see the learning mechanisms in the README)")
    return out


class BackendUnavailable(RuntimeError):
    """The requested backend cannot run on this machine (the message says what is needed)."""


@dataclass(frozen=True)
class TrainConfig:
    network: str = "diehl-cook"
    neurons: int = 100
    rule: str | None = None
    timesteps: int = 350
    rest: int = 150
    samples: int = 1000
    backend: str = "engine"
    precision: str = "fixed"
    seed: int = 0
    dataset: str = "mnist"
    data_root: str | None = None
    assign_samples: int = 10000
    checkpoint_every: int = 1000
    one_spike: bool | None = None
    w_init: str | None = None  # None: the network's default (lavalab.networks.snn.DEFAULTS)
    input_gain: float | None = None  # mV per unit input weight; None: the network's 0.5
    # how the trained network is assigned, evaluated and deployed: its step (ms; divides
    # the 1 ms training step) and one spike per step; None: the network's default
    # (lavalab.networks.snn.DEFAULTS)
    inference_dt_ms: float | None = None
    one_spike_infer: bool | None = None
    # a finished model (folder or model.npz of lavalab train) to continue training: its
    # weights and theta start this run, which trains ``samples`` more samples of the
    # stream after the model's own (its epochs continue)
    init_from: str | None = None

    def __post_init__(self):
        def bad(name, allowed):
            raise ValueError(f"{name}={getattr(self, name)!r} is not one of {allowed}")
        if self.network not in KINDS:
            bad("network", KINDS)
        if self.rule not in (None, *RULES):
            bad("rule", RULES)
        for name in ("one_spike", "one_spike_infer"):
            if getattr(self, name) not in (None, True, False):
                bad(name, (None, True, False))
        if self.w_init not in (None, *INITS):
            bad("w_init", INITS)
        if self.backend not in BACKENDS:
            bad("backend", BACKENDS)
        if self.precision not in ("fixed", "float"):
            bad("precision", ("fixed", "float"))
        if self.dataset not in DATASETS:
            bad("dataset", DATASETS)
        from lavalab import validate

        for name, lo, hi in (("neurons", 1, 3600), ("timesteps", 1, 100000), ("rest", 2, 100000),
                             ("samples", 1, 10**7), ("seed", 0, 2**31 - 2),
                             ("assign_samples", 1, 10**7), ("checkpoint_every", 1, 10**7)):
            # numpy integers are accepted and stored as int (JSON-able, comparable)
            object.__setattr__(self, name, validate.integer(name, getattr(self, name), lo, hi))
        if self.input_gain is not None:
            object.__setattr__(self, "input_gain",
                               validate.real("input_gain", self.input_gain, 1e-6, 1e3))
        if self.inference_dt_ms is not None:
            object.__setattr__(self, "inference_dt_ms", _step_divisor(
                "inference_dt_ms", self.inference_dt_ms, TRAIN_DT_MS))

    def inference(self) -> tuple[float, bool]:
        """The resolved ``(inference step in ms, one_spike_infer)``: the given values, else
        the network's defaults."""
        return resolve_inference(self.network, self.neurons, self.inference_dt_ms,
                                 self.one_spike_infer)

    def spec(self, n_input: int) -> NetworkSpec:
        extra = {} if self.input_gain is None else {"input_gain": self.input_gain}
        if self.w_init is not None:
            extra["w_init"] = self.w_init
        return build(self.network, self.neurons, n_input, rule=self.rule,
                     one_spike=self.one_spike, present_steps=self.timesteps,
                     rest_steps=self.rest, **extra)


TRAIN_DT_MS = 1.0  # the step lavalab trains at (NetworkSpec's default)


def resolve_inference(network: str, neurons: int, dt_ms: float | None,
                      one_spike_infer: bool | None) -> tuple[float, bool]:
    """``(inference step in ms, one_spike_infer)`` of a ``network`` of ``neurons``: the
    given values, None ones from its size defaults (``lavalab.networks.snn.DEFAULTS``)."""
    d_dt, d_one = default_inference(network, neurons)
    dt = dt_ms if dt_ms is not None else (TRAIN_DT_MS if d_dt is None else d_dt)
    return dt, d_one if one_spike_infer is None else one_spike_infer


def fixed_units(f) -> tuple:
    """What a fixed-point network's stored weights and theta mean (weight scale, voltage
    scale, input exponent, weight range, neuron LSB): a model's integers run unchanged on
    another lowering only when these are equal."""
    return (f.q, f.v_scale, f.exp_in, f.stdp.w_max, f.exc.v_lsb)
MAX_SUBSTEPS = 16


def _step_divisor(name: str, dt, train_dt: float) -> float:
    """``dt`` (ms) checked to divide ``train_dt`` into 1..MAX_SUBSTEPS equal steps."""
    from lavalab import validate

    dt = validate.real(name, dt, 1e-6, train_dt)
    k = round(train_dt / dt)
    if not 1 <= k <= MAX_SUBSTEPS or abs(k * dt - train_dt) > 1e-9 * train_dt:
        raise ValueError(f"{name}={dt} does not divide the {train_dt:g} ms training step into "
                         f"1..{MAX_SUBSTEPS} equal steps (allowed: {train_dt:g} / k, e.g. "
                         f"{train_dt / 2:g} or {train_dt / 4:g})")
    return train_dt / k


def inference_spec(spec: NetworkSpec, dt_ms: float, one_spike_infer: bool = False
                   ) -> NetworkSpec:
    """The network a model trained as ``spec`` runs inference as: at step ``dt_ms`` (a
    divisor of ``spec.dt_ms``; the same physical presentation and rest, ``k = spec.dt_ms /
    dt_ms`` times the steps, the per-step constants (decays, refractory steps, input spike
    probability) re-derived by :func:`lavalab.compile.discretize.discretize_time`) and with
    or without one excitatory spike per step (``one_spike_infer``). Weights and theta keep
    their units (checked for the fixed-point lowering)."""
    from lavalab.compile.discretize import discretize_time
    from lavalab.compile.ir import TimeBudget

    dt = _step_divisor("inference_dt_ms", dt_ms, spec.dt_ms)
    if one_spike_infer not in (True, False):
        raise ValueError(f"one_spike_infer={one_spike_infer!r} is not one of (True, False)")
    new = spec
    if dt != spec.dt_ms:
        k = round(spec.dt_ms / dt)
        new = discretize_time(spec, TimeBudget(spec.present_steps * k, dt,
                                               rest_steps=spec.rest_steps * k)).spec
        a, b = (fixed_units(lower_network(x, Q, EXP_IN)) for x in (spec, new))
        if a != b:  # weights / theta would change meaning
            raise ValueError(f"inference_dt_ms={dt_ms}: the fixed-point lowering at that "
                             f"step stores weights or theta in other units ({b} vs {a})")
    if new.exc.one_spike_infer != one_spike_infer:
        new = replace(new, exc=replace(new.exc, one_spike_infer=one_spike_infer))
    return new


def _assign(backend: str, spec: NetworkSpec, precision: str, w, theta, images, labels,
            seed: int):
    """Labels of a frozen network (``spec`` is the inference network): assignments,
    proportions and the wall time."""
    fixed = lower_network(spec, Q, EXP_IN) if precision == "fixed" else None
    net = make_net(spec, precision, w, theta, seed=seed, fixed=fixed)
    t0 = time.perf_counter()
    counts, _ = _infer(backend, spec, precision, net, images, seed + ASSIGN_SEED_OFFSET)
    assignments, proportions, _ = assign_labels(counts, labels)
    return assignments, proportions, time.perf_counter() - t0


@dataclass
class Model:
    spec: NetworkSpec
    precision: str
    seed: int
    w: np.ndarray
    theta: np.ndarray
    assignments: np.ndarray
    proportions: np.ndarray
    meta: dict

    @property
    def budget(self):
        """The model's :class:`~lavalab.compile.ir.PrecisionBudget`: the one it was
        quantized with (models of a precision study), else Loihi's default (8-bit weights)
        for a fixed-point model or FP32 for a float one."""
        from lavalab.compile.ir import FLOAT_BITS, PrecisionBudget

        b = self.meta.get("precision_budget")
        if b is not None:
            return PrecisionBudget(**b)
        if self.precision == "fixed":
            return PrecisionBudget()
        return PrecisionBudget(weight_bits=FLOAT_BITS, neuron_bits=FLOAT_BITS)

    @property
    def fixed(self):
        """The model's Loihi integers: its precision budget's format (models of a precision
        study) or the default 8-bit lowering."""
        if self.precision != "fixed":
            return None
        if "precision_budget" not in self.meta:
            return lower_network(self.spec, Q, EXP_IN)
        from lavalab.compile.quantize import quantize_network

        return quantize_network(self.spec, self.budget, v_range=self.meta.get("v_range_mv"),
                                seed=self.seed)


def event_summary(events: np.ndarray, spec: NetworkSpec, inh_spikes=None) -> dict:
    """Per-layer event counts, per sample (mean) and in total, from engine event rows."""
    ev = np.asarray(events, np.int64)
    s = len(ev)
    col = {n: ev[:, i] for i, n in enumerate(EVENT_NAMES)}
    steps = spec.sample_steps
    layers = {
        "input": {"spikes": col["input_spikes"]},
        "exc": {"neuron_updates": np.full(s, spec.n_exc * steps), "spikes": col["exc_spikes"]},
        "synapses_input": {"synaptic_events": col["syn_events_input"],
                           "weight_updates": col["weight_updates"]},
        "synapses_inhibition": {"synaptic_events": col["syn_events_inhibition"]},
    }
    if spec.has_inh:
        layers["inh"] = {"neuron_updates": np.full(s, spec.n_exc * steps),
                         "spikes": col["inh_spikes"]}
    return {layer: {k: {"per_sample": float(v.mean()) if s else 0.0, "total": int(v.sum())}
                    for k, v in d.items()} for layer, d in layers.items()}


def _require_backend(name: str) -> None:
    if name in ("lava", "loihi"):
        # Lava fixes multiprocessing's start method ("fork") at import; import it before
        # anything (tqdm's lock) initialises the default context.
        import lava.magma.core.process.process  # noqa: F401
    if name == "loihi":
        from lavalab.backends import INRC_HINT, loihi_available

        if not loihi_available():
            raise BackendUnavailable("backend 'loihi' needs Intel's lava-loihi, which is "
                                     + INRC_HINT)


def _lava_events(spec, images, seed, t0, out) -> np.ndarray:
    """Engine-layout event rows for a Lava run (input spikes regenerated exactly)."""
    from lavalab.dynamics.encoding import poisson_raster
    from lavalab.engine import intensities

    ev = np.zeros((len(images), len(EVENT_NAMES)), np.int64)
    raster = poisson_raster(intensities(images), spec.max_rate_hz, spec.dt_ms,
                            spec.present_steps, spec.rest_steps, seed, t0)
    per = raster.reshape(len(images), spec.sample_steps, -1).sum(axis=(1, 2))
    n = spec.n_exc
    exc = out["counts"].sum(axis=1)
    inh = out["inh_counts"].sum(axis=1) if out.get("inh_counts") is not None else np.zeros_like(exc)
    ev[:, 0], ev[:, 1], ev[:, 2], ev[:, 3] = per, exc, inh, per * n
    ev[:, 4] = exc + inh * (n - 1) if spec.has_inh else exc * (n - 1)
    ev[-1, 5] = out.get("weight_updates", 0)  # Lava counts updates per run, not per sample
    return ev


def _cycled(data, lo: int, hi: int):
    """Training samples ``lo..hi-1`` of an epoch-cycled stream over ``data``: sample ``k``
    is image ``k % len(data)`` (Diehl & Cook's ``j % 60000``), so ``samples`` larger than
    the training set trains for several epochs in the set's order."""
    idx = np.arange(lo, hi) % len(data)
    return data.images[idx], data.labels[idx]


def train(cfg: TrainConfig, out, progress: bool = True, restart: bool = False,
          force: bool = False) -> dict:
    """Train, assign labels, write ``model.npz`` and ``train.json`` into ``out``.

    A finished model already in ``out`` is never replaced unless ``force`` (then the
    outputs derived from the old model, ``eval.json`` and its plots, are removed once the
    new model is written). ``out`` is checked for writability before any work and created
    only after the data loaded."""
    from tqdm import tqdm

    from lavalab import validate
    from lavalab.progress import use_thread_progress_lock

    use_thread_progress_lock()

    _require_backend(cfg.backend)
    out = validate.out_dir(out)
    if (out / "model.npz").exists() and not force:
        raise ValueError(f"{out / 'model.npz'} holds a finished model; use --force "
                         "(force=True) to replace it, or another --out")
    data = load_dataset(cfg.dataset, "train", cfg.data_root)
    spec = cfg.spec(int(np.prod(data.shape)))
    out.mkdir(parents=True, exist_ok=True)
    model_io.remove_stale_temp(out)
    fixed = lower_network(spec, Q, EXP_IN) if cfg.precision == "fixed" else None
    if cfg.init_from is None:
        prev = 0  # samples of the stream trained before this run
        w0 = init_weights(spec, cfg.seed, data.images)
        w0 = np.rint(w0 * Q).astype(np.int64) if fixed is not None else w0
        net = make_net(spec, cfg.precision, w0, seed=cfg.seed, fixed=fixed)
    else:
        prev, w0, theta0 = _continued(cfg, spec)
        net = make_net(spec, cfg.precision, w0, theta0, seed=cfg.seed, fixed=fixed,
                       t=prev * spec.sample_steps)
    done = 0
    events = np.zeros((cfg.samples, len(EVENT_NAMES)), np.int64)  # one row per sample
    ckpt = out / "checkpoint.npz"
    cfg_meta = asdict(cfg)
    if ckpt.exists() and not restart:
        meta, arrays = model_io.load_npz(ckpt, model_io.CHECKPOINT_FORMAT)
        stored = meta.get("config")
        stored = ({**asdict(TrainConfig()), **stored} if isinstance(stored, dict) else {})
        if stored != cfg_meta:
            diff = {k: (stored.get(k), v) for k, v in cfg_meta.items() if stored.get(k) != v}
            raise ValueError(f"{ckpt} belongs to another configuration (checkpoint vs now: "
                             f"{diff}); use another --out or restart")
        done = _check_checkpoint(ckpt, meta, arrays, net, cfg)
        net.t = (prev + done) * spec.sample_steps
        events[:done] = arrays.pop("events")
        for k, v in arrays.items():
            net.arrays[k][...] = v
    done_at_start = done
    t_start = time.perf_counter()
    bar = tqdm(total=cfg.samples, initial=done, unit="sample", disable=not progress,
               desc=f"train {cfg.network}-{cfg.neurons} [{cfg.backend}, {cfg.precision}]")
    while done < cfg.samples:
        chunk, _ = _cycled(data, prev + done,
                           prev + min(done + cfg.checkpoint_every, cfg.samples))
        if cfg.backend == "engine":
            _, ev, _ = run(net, chunk, learn=True)
        else:
            res = _run_lava_chunk(cfg, spec, fixed, net, chunk)
            ev = _lava_events(spec, chunk, cfg.seed, net.t, res)
            net.arrays["w"][...] = res["w"]
            net.arrays["theta"][...] = res["theta"]
            net.t += len(chunk) * spec.sample_steps
        events[done:done + len(chunk)] = ev
        done += len(chunk)
        model_io.save_npz(ckpt, model_io.CHECKPOINT_FORMAT,
                          {"config": cfg_meta, "samples_done": done, "t": net.t},
                          {**net.arrays, "events": events[:done]})
        bar.update(len(chunk))
    bar.close()
    train_s = time.perf_counter() - t_start
    # label assignment on the last training samples, weights and theta frozen, with the
    # network the model is evaluated and deployed as (its inference step and one_spike)
    ispec = inference_spec(spec, *cfg.inference())
    n_assign = min(cfg.assign_samples, prev + cfg.samples)  # the end of the whole stream
    assign_images, assign_labels_ = _cycled(data, prev + cfg.samples - n_assign,
                                            prev + cfg.samples)
    assignments, proportions, assign_s = _assign(cfg.backend, ispec, cfg.precision, net.w,
                                                 net.theta, assign_images, assign_labels_,
                                                 cfg.seed)
    meta = {"spec": spec_to_dict(ispec), "precision": cfg.precision, "seed": cfg.seed,
            "q": Q, "exp_in": EXP_IN, "config": cfg_meta, "dataset": cfg.dataset,
            "input_shape": list(data.shape)}
    if ispec != spec:
        meta["train_spec"] = spec_to_dict(spec)
    if prev:
        meta["continued"] = {"model": cfg.init_from, "samples_before": prev}
    model_io.save_npz(out / "model.npz", model_io.MODEL_FORMAT, meta,
                      {"w": net.w, "theta": net.theta, "assignments": assignments,
                       "proportions": proportions})
    for stale in STALE_WITH_MODEL:  # they described the model just replaced
        (out / stale).unlink(missing_ok=True)
    warnings = []
    exc_spikes = int(events[:, EVENT_NAMES.index("exc_spikes")].sum())
    if exc_spikes == 0:
        warnings.append("no excitatory neuron fired during training: the input is too weak "
                        "for this network (raise --input-gain, e.g. 4 for --dataset digits, "
                        "or --timesteps); the model cannot classify")
    else:
        warnings += assignment_warnings(assignments, len(np.unique(data.labels)), n_assign)
    ran = cfg.samples - done_at_start  # samples trained by this run (not a resumed part)
    report = {
        "warnings": warnings,
        "config": cfg_meta, "samples": cfg.samples, "wall_s": train_s,
        # what the defaults resolved to (lavalab.networks.snn.DEFAULTS)
        "mechanisms": {"rule": spec.stdp.rule, "one_spike": bool(spec.exc.one_spike),
                       "w_init": spec.w_init, "inference_dt_ms": ispec.dt_ms,
                       "one_spike_infer": bool(ispec.exc.one_spike_infer)},
        "resumed_from_sample": done_at_start, "samples_this_run": ran,
        # a continued model: the samples before this run, and the whole stream's
        "init_from": None if cfg.init_from is None else {"model": cfg.init_from,
                                                         "samples": prev},
        "samples_total": prev + cfg.samples,
        "samples_per_s": ran / train_s if train_s > 0 and ran else None,
        "steps_per_s": ran * spec.sample_steps / train_s if train_s > 0 and ran else None,
        "assignment": {"samples": n_assign, "wall_s": assign_s,
                       "neurons_assigned": int((assignments >= 0).sum()),
                       "neurons_unassigned": int((assignments < 0).sum()),
                       "neurons_per_class": np.bincount(assignments[assignments >= 0],
                                                        minlength=10).tolist()},
        "theta_mean": float(np.mean(net.theta)), "events": event_summary(events, spec),
        "platform": {"python": platform.python_version(), "machine": platform.machine()},
    }
    model_io.write_json(out / "train.json", report)
    ckpt.unlink(missing_ok=True)
    return report


def _continued(cfg: TrainConfig, spec) -> tuple[int, np.ndarray, np.ndarray]:
    """``(samples trained before, w, theta)`` of the finished model ``cfg.init_from``,
    checked to be this network (trained as ``spec``, at ``cfg.precision``, on
    ``cfg.dataset``, with ``cfg.seed``), so training continues where it stopped."""
    model = load_model(cfg.init_from)
    src = cfg.init_from
    trained_as = (spec_from_dict(model.meta["train_spec"]) if "train_spec" in model.meta
                  else model.spec)
    if trained_as != spec:
        a, b = spec_to_dict(trained_as), spec_to_dict(spec)
        diff = sorted(k for k in b if a.get(k) != b[k])
        raise ValueError(f"--init-from {src}: trained as another network ({', '.join(diff)} "
                         "differ); give the network, size and mechanisms it was trained with")
    for name, have, want in (("precision", model.precision, cfg.precision),
                             ("dataset", model.meta.get("dataset"), cfg.dataset),
                             ("seed", model.seed, cfg.seed)):
        if have != want:
            raise ValueError(f"--init-from {src}: its {name} is {have!r}, this run's "
                             f"{want!r}")
    end = _stream_end(model, src)
    if end is None:
        raise ValueError(f"--init-from {src}: not a model of lavalab train (no training "
                         "samples in its file)")
    return end, np.array(model.w), np.array(model.theta)


def _stream_end(model, src) -> int | None:
    """How many samples of the training stream made ``model`` (its run's, and those of the
    runs it continued); None when its file does not say (not a model of ``train``)."""
    cfg = model.meta.get("config")
    own = cfg.get("samples") if isinstance(cfg, dict) else None
    before = (model.meta.get("continued") or {}).get("samples_before", 0)
    if own is None:
        return None
    if not all(isinstance(v, int) and v >= 0 for v in (own, before)) or own < 1:
        raise model_io.ModelFileError(f"{src}: invalid model: its training samples "
                                      f"({own!r}, before: {before!r}) are not counts")
    return before + own


#: Files derived from a model (``evaluate``, ``plot``): removed when the model is replaced.
STALE_WITH_MODEL = ("eval.json", "receptive_fields.png", "raster.png")


def _check_checkpoint(path, meta: dict, arrays: dict, net, cfg: TrainConfig) -> int:
    """Validate a checkpoint's contents against the network it resumes; returns the
    samples done. Raises ModelFileError naming the file for anything missing or off."""
    from lavalab import validate

    spec = net.spec
    try:
        done = validate.integer("samples_done", meta.get("samples_done"), 1, cfg.samples)
        t = validate.integer("t", meta.get("t"), 1, 2**62)
        if t != done * spec.sample_steps:
            raise ValueError(f"t={t} does not match samples_done={done} x "
                             f"{spec.sample_steps} steps per sample")
        missing = sorted(set(net.arrays) - set(arrays) | ({"events"} - set(arrays)))
        if missing:
            raise ValueError(f"missing entries {missing}")
        extra = sorted(set(arrays) - set(net.arrays) - {"events"})
        if extra:
            raise ValueError(f"unknown entries {extra}")
        for k, ref in net.arrays.items():
            a = arrays[k]
            if a.shape != ref.shape:
                raise ValueError(f"{k} has shape {a.shape}, expected {ref.shape}")
            if not np.can_cast(a.dtype, ref.dtype, "same_kind"):
                raise ValueError(f"{k} has dtype {a.dtype}, expected {ref.dtype}")
            if a.dtype.kind == "f" and not np.all(np.isfinite(a)):
                raise ValueError(f"{k} holds NaN or infinite values")
        validate.weights(arrays["w"], spec, net.precision, net.fixed)
        validate.theta(arrays["theta"], spec, net.precision, net.fixed)
        ev = arrays["events"]
        if ev.shape != (done, len(EVENT_NAMES)) or ev.dtype.kind not in "iu" or (
                ev.size and ev.min() < 0):
            raise ValueError(f"events has shape {ev.shape} {ev.dtype}, expected ({done}, "
                             f"{len(EVENT_NAMES)}) non-negative integers")
    except ValueError as err:
        raise model_io.ModelFileError(f"{path}: invalid checkpoint ({err}); delete it or "
                                      "use --restart") from None
    return done


def _run_lava_chunk(cfg, spec, fixed, net, images, learn=True):
    from lavalab.backends.lava import run_lava

    return run_lava(spec, cfg.precision, net.w, net.theta, images, seed=cfg.seed, learn=learn,
                    fixed=fixed, hardware=cfg.backend == "loihi", t_offset=net.t)


def _infer(backend, spec, precision, net, images, seed):
    """Frozen-network spike counts (S, n_exc) and event rows on ``backend``."""
    frozen = make_net(spec, precision, net.w, net.theta, seed=seed, fixed=net.fixed)
    if backend == "engine":
        return infer(frozen, images)
    from lavalab.backends.lava import run_lava

    res = run_lava(spec, precision, net.w, net.theta, images, seed=seed, learn=False,
                   fixed=net.fixed, hardware=backend == "loihi")
    return res["counts"], _lava_events(spec, images, seed, 0, res)


def load_model(path) -> Model:
    """Load ``model.npz`` (a file, or a folder holding one)."""
    path = Path(path)
    if path.is_dir():
        path = path / "model.npz"
    meta, a = model_io.load_npz(path, model_io.MODEL_FORMAT)
    try:
        return _checked_model(meta, a)
    except (ValueError, TypeError, KeyError) as err:  # a damaged or hand-edited file
        what = f"missing entry {err}" if isinstance(err, KeyError) else str(err)
        raise model_io.ModelFileError(f"{path}: invalid model: {what}") from None


def _checked_model(meta: dict, a: dict) -> Model:
    """A :class:`Model` from a file's contents, every field checked as the engine and the
    Lava backend need it (ValueError / TypeError / KeyError otherwise)."""
    from lavalab import validate

    spec = spec_from_dict(meta["spec"])
    precision = meta["precision"]
    if precision not in ("fixed", "float"):
        raise ValueError(f"precision={precision!r} is not one of ('fixed', 'float')")
    seed = validate.integer("seed", meta["seed"], 0, 2**31 - 2)
    dataset = meta.get("dataset", "mnist")  # files of lavalab <= 0.1 trained on MNIST
    if dataset not in DATASETS:
        raise ValueError(f"dataset={dataset!r} is not one of {DATASETS}")
    shape = meta.get("input_shape", [28, 28])
    if not (isinstance(shape, list) and len(shape) == 2
            and all(isinstance(v, int) and v >= 1 for v in shape)):
        raise ValueError(f"input_shape={shape!r} must be [height, width]")
    if shape[0] * shape[1] != spec.n_input:
        raise ValueError(f"input_shape={shape} ({dataset}) does not match the network's "
                         f"{spec.n_input} inputs")
    model = Model(spec, precision, seed, a["w"], a["theta"], a["assignments"],
                  a["proportions"], {**meta, "dataset": dataset, "input_shape": shape})
    fixed = model.fixed
    model.w = validate.weights(a["w"], spec, precision, fixed)
    model.theta = validate.theta(a["theta"], spec, precision, fixed)
    model.assignments = validate.assignments(a["assignments"], spec.n_exc)
    model.proportions = validate.proportions(a["proportions"], spec.n_exc)
    return model


def assign(model_dir, out, inference_dt_ms: float | None = None,
           one_spike_infer: bool | None = None, assign_samples: int | None = None,
           backend: str = "engine", data_root: str | None = None, force: bool = False) -> dict:
    """Re-derive how a trained model runs inference and assign its labels again: the same
    weights and theta, the network at step ``inference_dt_ms`` (a divisor of the training
    step) with or without ``one_spike_infer`` (None: as the model has them), labels from
    its last ``assign_samples`` training samples (default: as many as ``train`` used).
    Writes ``model.npz`` and ``assign.json`` into ``out``; a finished model there is
    replaced only with ``force``. Lets a user compare inference choices (e.g. the
    deployable network against one spike per step) on one training run."""
    from lavalab import validate

    if backend not in BACKENDS:
        raise ValueError(f"backend={backend!r} is not one of {BACKENDS}")
    _require_backend(backend)
    model = load_model(model_dir)
    src = _model_folder(model_dir)
    out = validate.out_dir(out)
    if (out / "model.npz").exists() and not force:
        raise ValueError(f"{out / 'model.npz'} holds a finished model; use --force "
                         "(force=True) to replace it, or another --out")
    train_spec = spec_from_dict(model.meta["train_spec"]) if "train_spec" in model.meta \
        else model.spec
    if train_spec.dt_ms != TRAIN_DT_MS and "train_spec" not in model.meta:
        raise ValueError(f"{src}: a model at dt {train_spec.dt_ms} ms without its training "
                         "network (train_spec) cannot be re-derived")
    dt = model.spec.dt_ms if inference_dt_ms is None else inference_dt_ms
    one = model.spec.exc.one_spike_infer if one_spike_infer is None else one_spike_infer
    ispec = inference_spec(train_spec, dt, one)
    cfg = model.meta.get("config") or {}
    data = load_dataset(model.meta["dataset"], "train", data_root)
    trained = _stream_end(model, src) or len(data)  # the end of the training stream
    n = assign_samples if assign_samples is not None else int(
        cfg.get("assign_samples", len(data)))
    n = validate.integer("assign_samples", n, 1, trained)
    images, labels = _cycled(data, trained - n, trained)
    if model.precision == "fixed" and "precision_budget" in model.meta:
        raise ValueError(f"{src}: a quantized model (precision study) keeps its own format; "
                         "assign supports models of lavalab train")
    assignments, proportions, wall = _assign(backend, ispec, model.precision, model.w,
                                             model.theta, images, labels, model.seed)
    meta = {k: v for k, v in model.meta.items() if k != "train_spec"}
    meta["spec"] = spec_to_dict(ispec)
    if ispec != train_spec:
        meta["train_spec"] = spec_to_dict(train_spec)
    out.mkdir(parents=True, exist_ok=True)
    model_io.save_npz(out / "model.npz", model_io.MODEL_FORMAT, meta,
                      {"w": model.w, "theta": model.theta, "assignments": assignments,
                       "proportions": proportions})
    for stale in STALE_WITH_MODEL:
        (out / stale).unlink(missing_ok=True)
    n_classes = len(np.unique(data.labels))
    report = {"model": str(src), "inference_dt_ms": ispec.dt_ms,
              "one_spike_infer": bool(ispec.exc.one_spike_infer), "samples": n,
              "first_sample": trained - n, "wall_s": wall, "backend": backend,
              "neurons_assigned": int((assignments >= 0).sum()),
              "neurons_per_class": np.bincount(assignments[assignments >= 0],
                                               minlength=n_classes).tolist(),
              "warnings": assignment_warnings(assignments, n_classes, n)}
    model_io.write_json(out / "assign.json", report)
    return report


def evaluate(model_dir, samples: int | None = None, backend: str = "engine", out=None,
             seed: int | None = None, data_root: str | None = None) -> dict:
    """Classify the first ``samples`` test images (default: the whole test set of the
    model's dataset); write ``eval.json`` into ``out`` (default: the model's folder).

    Accuracies in ``eval.json`` are percentages (keys ``*_pct``)."""
    from lavalab import validate

    if backend not in BACKENDS:
        raise ValueError(f"backend={backend!r} is not one of {BACKENDS}")
    _require_backend(backend)
    model = load_model(model_dir)
    out = _model_folder(model_dir) if out is None else out
    out = validate.out_dir(out)
    dataset = model.meta["dataset"]
    test = load_dataset(dataset, "test", data_root)
    samples = len(test) if samples is None else samples
    samples = validate.integer("samples", samples, 1, len(test))
    test = test.subset(samples)
    seed = model.seed + TEST_SEED_OFFSET if seed is None else validate.seed(seed)
    net = make_net(model.spec, model.precision, model.w, model.theta, seed=seed,
                   fixed=model.fixed)
    t0 = time.perf_counter()
    counts, events = _infer(backend, model.spec, model.precision, net, test.images, seed)
    wall = time.perf_counter() - t0
    pred_all = predict_all_activity(counts, model.assignments)
    pred_prop = predict_proportion(counts, model.assignments, model.proportions)
    rep = classification_report(pred_all, test.labels)
    pct = lambda v: None if v is None else 100.0 * v  # noqa: E731
    report = {
        "model": str(Path(model_dir)), "backend": backend, "dataset": dataset,
        "samples": samples, "seed": seed,
        "accuracy_pct": pct(rep["accuracy"]),
        "accuracy_proportion_weighting_pct": pct(classification_report(
            pred_prop, test.labels)["accuracy"]),
        "per_class_accuracy_pct": [pct(v) for v in rep["per_class_accuracy"]],
        "confusion": rep["confusion"],
        "wall_s": wall, "samples_per_s": samples / wall if wall > 0 else None,
        "spikes_per_sample": {"exc": float(counts.sum(1).mean())},
        "events": event_summary(events, model.spec),
    }
    out.mkdir(parents=True, exist_ok=True)
    model_io.write_json(out / "eval.json", report)
    return report


def _model_folder(model_dir) -> Path:
    p = Path(model_dir)
    return p.parent if p.suffix == ".npz" else p


def plot(model_dir, out=None, sample: int = 0, data_root: str | None = None) -> list[Path]:
    """Write ``receptive_fields.png`` and ``raster.png`` (test sample ``sample``)."""
    from lavalab import plots, validate
    from lavalab.dynamics.encoding import poisson_raster
    from lavalab.engine import intensities

    model = load_model(model_dir)
    out = validate.out_dir(_model_folder(model_dir) if out is None else out)
    shape = tuple(model.meta["input_shape"])
    test = load_dataset(model.meta["dataset"], "test", data_root)
    sample = validate.integer("sample", sample, 0, len(test) - 1)
    out.mkdir(parents=True, exist_ok=True)
    w = model.w / (model.fixed.q if model.fixed is not None else 1.0)
    p1 = plots.receptive_fields(w, shape, out / "receptive_fields.png",
                                f"{model.spec.kind}-{model.spec.n_exc}: input weights")
    img = test.images[sample:sample + 1]
    seed = model.seed + TEST_SEED_OFFSET
    net = make_net(model.spec, model.precision, model.w, model.theta, seed=seed,
                   fixed=model.fixed)
    _, _, exc = run(net, img, learn=False, record=True)
    s = model.spec
    inp = poisson_raster(intensities(img), s.max_rate_hz, s.dt_ms, s.present_steps,
                         s.rest_steps, seed)
    p2 = plots.spike_raster(inp, exc, out / "raster.png", s.present_steps,
                            f"test sample {sample} (label {test.labels[sample]}): "
                            f"{int(inp.sum())} input, {int(exc.sum())} excitatory spikes")
    return [p1, p2]
