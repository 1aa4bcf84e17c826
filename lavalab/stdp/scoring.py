"""The one STDP train-and-score path of lavalab, shared by ``lavalab train`` / ``assign`` /
``evaluate`` (:mod:`lavalab.stdp.training`, :mod:`lavalab.stdp.evaluation`) and the
studies (:mod:`lavalab.study`):

- :func:`learn`: STDP training over an epoch-cycled stream in chunks, on a backend;
- :func:`assign_frozen`: the label assignment of the frozen network
  (``seed + ASSIGN_SEED_OFFSET``);
- :func:`classify`: the frozen network's spike counts and events on test samples;
- :func:`score` / :func:`train_and_score`: what a study configuration runs (assign on the
  last training samples, classify the test samples with ``seed + TEST_SEED_OFFSET``);
- :func:`assignment_warnings`: what a label assignment says is wrong.
"""

from __future__ import annotations

import time

import numpy as np

from lavalab.engine import EVENT_NAMES, make_net, run
from lavalab.networks.snn import (
    NetworkSpec,
)
from lavalab.protocol import (
    ASSIGN_SEED_OFFSET,
    TEST_SEED_OFFSET,
    assign_labels,
    predict_all_activity,
    predict_proportion,
)
from lavalab.stdp.backend import cycled, frozen_counts, lava_events, warm_up

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
                       "see the learning mechanisms in docs/stdp.md)")
    return out


def learn_chunk(net, images, backend: str = "engine") -> np.ndarray:
    """STDP-train ``net`` on ``images`` (one chunk) on ``backend``: its weights, theta and
    step advance in place; returns the chunk's per-sample event rows."""
    if backend == "engine":
        _, ev, _ = run(net, images, learn=True)
        return ev
    from lavalab.backends.lava import run_lava

    spec = net.spec
    res = run_lava(spec, net.precision, net.w, net.theta, images, seed=net.seed, learn=True,
                   fixed=net.fixed, hardware=backend == "loihi", t_offset=net.t)
    ev = lava_events(spec, images, net.seed, net.t, res)
    net.arrays["w"][...] = res["w"]
    net.arrays["theta"][...] = res["theta"]
    net.t += len(images) * spec.sample_steps
    return ev


def learn(net, images, lo: int, hi: int, backend: str = "engine", chunk: int = 500,
          bar=None, on_chunk=None) -> np.ndarray:
    """STDP-train ``net`` on samples ``lo..hi-1`` of the epoch-cycled stream over ``images``
    (:func:`~lavalab.stdp.backend.cycled`), ``chunk`` samples at a time on ``backend``.
    After each chunk ``on_chunk(done, events[:done])`` (``lavalab train`` writes its
    checkpoint there) and ``bar.update(n)``. Returns the event rows (hi - lo, events)."""
    events = np.zeros((hi - lo, len(EVENT_NAMES)), np.int64)
    done = 0
    while lo + done < hi:
        part = cycled(images, lo + done, min(lo + done + chunk, hi))
        events[done:done + len(part)] = learn_chunk(net, part, backend)
        done += len(part)
        if on_chunk is not None:
            on_chunk(done, events[:done])
        if bar is not None:
            bar.update(len(part))
    return events


def assign_frozen(spec: NetworkSpec, precision: str, fixed, w, theta, images, labels,
                  seed: int, backend: str = "engine"):
    """Labels of a frozen network (``spec``: the network it runs inference as) from its
    responses to ``images`` (run with ``seed + ASSIGN_SEED_OFFSET``, ``seed`` the model's):
    assignments, proportions and the wall time."""
    t0 = time.perf_counter()
    counts, _ = frozen_counts(backend, spec, precision, fixed, w, theta, images,
                              seed + ASSIGN_SEED_OFFSET)
    assignments, proportions, _ = assign_labels(counts, labels)
    return assignments, proportions, time.perf_counter() - t0


def classify(spec: NetworkSpec, precision: str, fixed, w, theta, images, seed: int,
             backend: str = "engine"):
    """The frozen network's spike counts (S, n_exc), event rows and wall time on ``images``
    (run with ``seed``; a model's test run uses ``seed + TEST_SEED_OFFSET``)."""
    t0 = time.perf_counter()
    counts, events = frozen_counts(backend, spec, precision, fixed, w, theta, images, seed)
    return counts, events, time.perf_counter() - t0


def train_and_score(spec, precision: str, fixed, w0, data, setup, bar=None,
                    infer_net: tuple | None = None) -> dict:
    """Train ``spec`` from weights ``w0`` on the engine (:func:`learn` over
    ``data.train_x``), then :func:`score`; ``infer_net``: ``(spec, fixed)`` of the network
    labels are assigned and the test run on (a study's inference network; default: the
    training network). ``data``: ``train_x``, ``train_y``, ``test_x``, ``test_y``;
    ``setup``: ``seed`` and ``assign_samples`` (a study's setup). Returns accuracy,
    per-sample event rows of training and testing, wall times of the work alone (the
    kernels' compile or cache load runs before, :func:`~lavalab.stdp.backend.warm_up`)
    and the trained arrays."""
    net = make_net(spec, precision, w0, seed=setup.seed, fixed=fixed)
    ispec, ifixed = infer_net or (spec, fixed)
    warm_up("engine", spec, precision, fixed, w0, None, data.train_x, setup.seed, learn=True)
    t0 = time.perf_counter()
    events = learn(net, data.train_x, 0, len(data.train_x), bar=bar)
    train_s = time.perf_counter() - t0
    res = score(ispec, precision, ifixed, net.w, net.theta, data, setup)
    return dict(res, train_events=events, train_s=train_s, w=net.w, theta=net.theta)


def score(spec, precision: str, fixed, w, theta, data, setup) -> dict:
    """Assign labels with frozen ``w``/``theta`` on the last ``setup.assign_samples``
    training samples, classify the test samples (all-activity and proportion voting); test
    event rows and wall time (of the test run alone: the inference kernels' compile or
    cache load runs before, :func:`~lavalab.stdp.backend.warm_up`)."""
    na = setup.assign_samples
    warm_up("engine", spec, precision, fixed, w, theta, data.test_x, setup.seed, learn=False)
    assignments, proportions, _ = assign_frozen(spec, precision, fixed, w, theta,
                                                data.train_x[-na:], data.train_y[-na:],
                                                setup.seed)
    counts, test_events, test_s = classify(spec, precision, fixed, w, theta, data.test_x,
                                           setup.seed + TEST_SEED_OFFSET)
    acc = float((predict_all_activity(counts, assignments) == data.test_y).mean())
    acc_p = float((predict_proportion(counts, assignments, proportions)
                   == data.test_y).mean())
    return dict(accuracy=acc, accuracy_proportion=acc_p, test_events=test_events,
                test_s=test_s, neurons_assigned=int((assignments >= 0).sum()),
                assignments=assignments, proportions=proportions)
