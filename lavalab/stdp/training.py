"""``lavalab train``: train an STDP network on a backend and assign its labels.

Outputs in ``out``: ``model.npz`` (weights, theta, label assignments; see
:mod:`lavalab.model_io`), ``train.json`` (configuration, set-up and training seconds, wall
and CPU (:mod:`lavalab.timing`), samples/s of the training alone, spikes and event counts
per layer) and, while running, ``checkpoint.npz`` (the complete network state
after the last finished chunk; a rerun with the same configuration resumes from it).
"""

from __future__ import annotations

import platform
from dataclasses import asdict

import numpy as np

from lavalab import model_io
from lavalab.data import load_dataset
from lavalab.engine import EVENT_NAMES, make_net
from lavalab.networks.snn import (
    init_weights,
    lower_network,
    spec_from_dict,
    spec_to_dict,
)
from lavalab.stdp.backend import cycled, event_summary, require_backend, warm_up
from lavalab.stdp.config import EXP_IN, Q, TrainConfig, inference_spec
from lavalab.stdp.files import STALE_WITH_MODEL, load_model, stream_end
from lavalab.stdp.scoring import assign_frozen, assignment_warnings, learn
from lavalab.timing import JobClock


def train(cfg: TrainConfig, out, progress: bool = True, restart: bool = False,
          force: bool = False) -> dict:
    """Train, assign labels, write ``model.npz`` and ``train.json`` into ``out``.

    A finished model already in ``out`` is never replaced unless ``force`` (then the
    outputs derived from the old model, ``eval.json`` and its plots, are removed once the
    new model is written); a model beside the last checkpoint of this configuration is
    the output of a run killed while finishing, which this call completes. A killed run
    resumes from ``checkpoint.npz`` bit for bit. ``out`` is checked for writability before
    any work and created only after the data and the ``init_from`` model loaded.
    ``train.json``'s timing:
    :mod:`lavalab.timing`."""
    clock = JobClock()
    from lavalab import validate
    from lavalab.progress import progress_bar, use_thread_progress_lock

    use_thread_progress_lock()

    require_backend(cfg.backend)
    out = validate.out_dir(out)
    if (out / "model.npz").exists() and not force and not _died_finishing(out, cfg, restart):
        raise ValueError(f"{out / 'model.npz'} holds a finished model; use --force "
                         "(force=True) to replace it, or another --out")
    data = load_dataset(cfg.dataset, "train", cfg.data_root)
    spec = cfg.spec(int(np.prod(data.shape)))
    fixed = lower_network(spec, Q, EXP_IN) if cfg.precision == "fixed" else None
    if cfg.init_from is None:
        prev = 0  # samples of the stream trained before this run
        w0 = init_weights(spec, cfg.seed, data.images)
        w0 = np.rint(w0 * Q).astype(np.int64) if fixed is not None else w0
        net = make_net(spec, cfg.precision, w0, seed=cfg.seed, fixed=fixed)
    else:  # --init-from checked before ``out`` is created
        prev, w0, theta0 = _continued(cfg, spec)
        net = make_net(spec, cfg.precision, w0, theta0, seed=cfg.seed, fixed=fixed,
                       t=prev * spec.sample_steps)
    out.mkdir(parents=True, exist_ok=True)
    model_io.remove_stale_temp(out)
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
    ispec = inference_spec(spec, *cfg.inference())
    ifixed = lower_network(ispec, Q, EXP_IN) if cfg.precision == "fixed" else None
    warm_up(cfg.backend, spec, cfg.precision, fixed, net.w, net.theta, data.images, cfg.seed,
            learn=True)  # the kernels' compile or cache load: set-up, not training
    warm_up(cfg.backend, ispec, cfg.precision, ifixed, net.w, net.theta, data.images,
            cfg.seed, learn=False)
    bar = progress_bar(total=cfg.samples, initial=done, unit="sample", disable=not progress,
               desc=f"train {cfg.network}-{cfg.neurons} [{cfg.backend}, {cfg.precision}]")

    def checkpoint(n: int, ev: np.ndarray) -> None:  # after each chunk of this run
        events[done_at_start:done_at_start + n] = ev
        model_io.save_npz(ckpt, model_io.CHECKPOINT_FORMAT,
                          {"config": cfg_meta, "samples_done": done_at_start + n, "t": net.t},
                          {**net.arrays, "events": events[:done_at_start + n]})
    with clock.work():
        learn(net, data.images, prev + done, prev + cfg.samples, backend=cfg.backend,
              chunk=cfg.checkpoint_every, bar=bar, on_chunk=checkpoint)
    bar.close()
    ran = cfg.samples - done_at_start  # samples trained by this run (not a resumed part)
    timing = clock.fields(ran, "train")
    # label assignment on the last training samples, weights and theta frozen, with the
    # network the model is evaluated and deployed as (its inference step and one_spike)
    n_assign = min(cfg.assign_samples, prev + cfg.samples)  # the end of the whole stream
    lo, hi = prev + cfg.samples - n_assign, prev + cfg.samples
    assign_clock = JobClock()  # only its work is read: the assignment's wall and CPU time
    with assign_clock.work():
        assignments, proportions, _ = assign_frozen(
            ispec, cfg.precision, ifixed, net.w, net.theta, cycled(data.images, lo, hi),
            cycled(data.labels, lo, hi), cfg.seed, cfg.backend)
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
    report = {
        "warnings": warnings,
        "config": cfg_meta, "samples": cfg.samples,
        # set-up apart from the training of this run (lavalab.timing); wall_s = train_s
        **timing, "wall_s": timing["train_s"],
        # what the defaults resolved to (lavalab.networks.snn.DEFAULTS)
        "mechanisms": {"rule": spec.stdp.rule, "one_spike": bool(spec.exc.one_spike),
                       "w_init": spec.w_init, "inference_dt_ms": ispec.dt_ms,
                       "one_spike_infer": bool(ispec.exc.one_spike_infer)},
        "resumed_from_sample": done_at_start, "samples_this_run": ran,
        # a continued model: the samples before this run, and the whole stream's
        "init_from": None if cfg.init_from is None else {"model": cfg.init_from,
                                                         "samples": prev},
        "samples_total": prev + cfg.samples,
        "steps_per_s": (ran * spec.sample_steps / timing["train_s"]
                        if timing["samples_per_s"] else None),
        "assignment": {"samples": n_assign, "wall_s": assign_clock.work_s,
                       "cpu_s": assign_clock.work_cpu_s,
                       "neurons_assigned": int((assignments >= 0).sum()),
                       "neurons_unassigned": int((assignments < 0).sum()),
                       "neurons_per_class": np.bincount(assignments[assignments >= 0],
                                                        minlength=10).tolist()},
        "theta_mean": float(np.mean(net.theta)), "events": event_summary(events, spec),
        "platform": {"python": platform.python_version(), "machine": platform.machine()},
    }
    model_io.write_report(out / "train.json", "lavalab-train-report", report)
    ckpt.unlink(missing_ok=True)
    clock.finish()
    return report


def _died_finishing(out, cfg: TrainConfig, restart: bool) -> bool:
    """Whether ``out`` holds the last checkpoint of this very configuration (every sample
    trained) beside its model: the run was killed after writing ``model.npz`` and before
    ``train.json``; the same command again finishes it (the model is recomputed from the
    checkpoint, bit for bit the same) instead of refusing the half-finished folder."""
    ckpt = out / "checkpoint.npz"
    if restart or not ckpt.is_file():
        return False
    try:
        meta, _ = model_io.load_npz(ckpt, model_io.CHECKPOINT_FORMAT)
    except model_io.ModelFileError:
        return False
    stored = meta.get("config")
    return (isinstance(stored, dict) and {**asdict(TrainConfig()), **stored} == asdict(cfg)
            and meta.get("samples_done") == cfg.samples)


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
    end = stream_end(model, src)
    if end is None:
        raise ValueError(f"--init-from {src}: not a model of lavalab train (no training "
                         "samples in its file)")
    return end, np.array(model.w), np.array(model.theta)


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
