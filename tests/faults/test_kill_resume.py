"""Kill -9 at a random point, run the same command again: it resumes, finishes, and every
result file equals an uninterrupted run's bit for bit.

Each case runs the real command line in subprocesses (``python -m lavalab.cli``): once
uninterrupted (the reference, timed), once killed with SIGKILL at a point drawn from a fixed
seed list, then again to completion in the killed run's folder. Compared:

- ``.npz``: the same entries; every array ``np.array_equal`` with the same dtype, the
  ``meta`` entry as JSON (normalised as below);
- ``.json``: normalised, then equal; ``.csv``: the same rows, timing columns dropped;
- ``.png``: byte for byte (the plots are drawn from the compared numbers);
- the set of files: a killed run leaves no extra file behind (no checkpoint, partial or
  temporary file once the command has finished).

Excluded from the comparison (they measure the run, not its result): keys ending in ``_s``
(wall and CPU seconds, ``samples_per_s``, ``steps_per_s``) or ``seconds`` (per-epoch wall
times), ``timing`` (a run's :class:`lavalab.timing.JobClock` record) and the resume
bookkeeping ``resumed_from_sample``, ``samples_this_run``, ``resumed_from`` (how much of the
work this process did); the two runs' folder names are replaced by ``<OUT>`` in every text.

After the kill, before the rerun, every file the killed run left (other than temporary
``*.tmp`` files, which the next run removes) must be readable: atomic writes leave no
half-written file.
"""

from __future__ import annotations

import csv
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[2]
#: Seeds of the kill points (one per case; a case draws its delay from its own).
KILL_SEEDS = {"train": 11, "evaluate": 12, "stock": 13, "timesteps": 14, "precision": 15,
              "search": 16, "latency": 17, "dt": 18, "dl": 19, "exact": 20, "lava": 24}
#: More kill points for the commands whose runs are short (slow tests).
MORE_SEEDS = (21, 22, 23)
#: Result keys that measure the run rather than its result (module docstring).
EXCLUDED_KEYS = ("timing", "resumed_from_sample", "samples_this_run", "resumed_from")
TINY = ["--network", "tinysnn", "--neurons", "5", "--timesteps", "20", "--rest", "5",
        "--dataset", "digits", "--input-gain", "4", "--quiet"]


# --- running and killing -----------------------------------------------------------------

def _start(argv: list[str], out: Path) -> subprocess.Popen:
    """The command with ``{OUT}`` = ``out``; its output goes to a log file beside ``out``
    (not a pipe: worker processes a killed run left would hold a pipe open)."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    log = out.parent / f"{out.name}-{time.monotonic_ns()}.log"
    with open(log, "w") as fh:
        p = subprocess.Popen([sys.executable, "-m", "lavalab.cli",
                              *[a.replace("{OUT}", str(out)) for a in argv]],
                             stdout=fh, stderr=subprocess.STDOUT, env=env, cwd=out.parent)
    p.log = log
    return p


def _finish(p: subprocess.Popen) -> None:
    p.wait(timeout=900)
    assert p.returncode == 0, f"exit {p.returncode}:\n{p.log.read_text()[-3000:]}"


def _leftovers(out: Path) -> list[int]:
    """Processes still running whose command line names ``out`` (a killed run's workers)."""
    found = []
    for d in Path("/proc").iterdir():
        if d.name.isdigit() and int(d.name) != os.getpid():
            try:
                cmd = (d / "cmdline").read_bytes().replace(b"\0", b" ").decode()
                state = (d / "stat").read_text().rsplit(")", 1)[1].split()[0]
            except (OSError, IndexError, UnicodeDecodeError):
                continue
            if str(out) in cmd and state != "Z":
                found.append(int(d.name))
    return found


def _assert_no_leftovers(out: Path) -> None:
    """No process of the killed run survives it (Lava's workers die with their parent);
    any found is killed (they are this test's) and the test fails."""
    if not sys.platform.startswith("linux"):
        return
    end = time.monotonic() + 10
    while (pids := _leftovers(out)) and time.monotonic() < end:
        time.sleep(0.2)
    for pid in pids:
        os.kill(pid, signal.SIGKILL)
    assert not pids, f"processes of the killed run still running: {pids}"


def _reference(argv, out: Path, trigger: str | None,
               final: str | None) -> tuple[float, float]:
    """Run uninterrupted into ``out``; returns the seconds until ``trigger`` first appeared
    (0 without one) and until ``final`` appeared (the process's end without one)."""
    t0 = time.perf_counter()
    p = _start(argv, out)
    t_trig = 0.0 if trigger is None else None
    t_final = None
    while p.poll() is None:
        now = time.perf_counter() - t0
        if t_trig is None and (out / trigger).exists():
            t_trig = now
        if t_final is None and final is not None and (out / final).exists():
            t_final = now
        time.sleep(0.002)
    t_end = time.perf_counter() - t0
    _finish(p)
    t_trig = t_end if t_trig is None else t_trig
    return t_trig, (t_end if t_final is None else t_final)


def _kill_at(argv, out: Path, trigger: str | None, final: str | None, delay: float) -> bool:
    """Start the command into ``out``, wait for ``trigger`` (if any) and ``delay`` seconds,
    SIGKILL it. Returns whether it was killed before it finished (its ``final`` file
    written, if it has one)."""
    p = _start(argv, out)
    while trigger is not None and not (out / trigger).exists() and p.poll() is None:
        time.sleep(0.002)
    end = time.perf_counter() + delay
    while p.poll() is None and time.perf_counter() < end:
        time.sleep(0.002)
    alive = p.poll() is None
    if alive:
        p.send_signal(signal.SIGKILL)
    p.wait(timeout=60)
    _assert_no_leftovers(out)
    return alive and not (final is not None and (out / final).exists())


def kill_and_resume(tmp_path, argv, case: str, trigger: str | None = None,
                    final: str | None = None, prepare=None,
                    seed: int | None = None) -> tuple[Path, Path]:
    """The reference run in ``tmp_path/ref``, a killed and resumed one in
    ``tmp_path/killed`` (``{OUT}`` in ``argv`` is the run's folder; ``prepare(folder)``
    fills a folder before a run, e.g. with a model). The kill point: ``trigger`` (a file
    of the run) first appears, then a fraction u ~ U[0.2, 0.9] (seed ``seed``, default
    ``KILL_SEEDS[case]``) of the reference's time from there to its end (or until its
    ``final`` file appeared: a command that refuses to redo a finished result); a run
    that finished before it is retried with half the delay. Asserts every result
    equal."""
    ref, killed = tmp_path / "ref", tmp_path / "killed"
    for d in (ref, killed):
        d.mkdir()
        if prepare is not None:
            prepare(d)
    t_trig, t_end = _reference(argv, ref, trigger, final)
    u = random.Random(KILL_SEEDS[case] if seed is None else seed).uniform(0.2, 0.9)
    delay = u * (t_end - t_trig)
    for _ in range(4):
        if _kill_at(argv, killed, trigger, final, delay):
            break
        shutil.rmtree(killed)  # finished before the kill: again, earlier
        killed.mkdir()
        if prepare is not None:
            prepare(killed)
        delay /= 2
    else:
        pytest.fail(f"{case}: the command always finished before the kill")
    _assert_readable(killed)
    _finish(_start(argv, killed))
    assert_same_results(ref, killed)
    return ref, killed


# --- comparing ---------------------------------------------------------------------------

def _excluded(key: str) -> bool:
    return key.endswith("_s") or key.endswith("seconds") or key in EXCLUDED_KEYS


def _norm(obj, roots: tuple[str, ...]):
    if isinstance(obj, dict):
        return {k: _norm(v, roots) for k, v in obj.items() if not _excluded(k)}
    if isinstance(obj, list):
        return [_norm(v, roots) for v in obj]
    if isinstance(obj, str):
        for r in roots:
            obj = obj.replace(r, "<OUT>")
    return obj


def _files(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file())


def _npz(path: Path) -> dict:
    with np.load(path, allow_pickle=False) as z:
        return {k: z[k] for k in z.files}


def assert_same_results(ref: Path, run: Path) -> None:
    """Every file of ``ref`` equals ``run``'s (module docstring), and no other file."""
    roots = (str(ref), str(run))
    names = _files(ref)
    assert _files(run) == names, "files differ (left-over or missing files)"
    for name in names:
        a, b = ref / name, run / name
        if name.endswith(".npz"):
            za, zb = _npz(a), _npz(b)
            assert sorted(za) == sorted(zb), name
            for k in za:
                if k == "meta":
                    assert _norm(json.loads(str(za[k])), roots) == \
                        _norm(json.loads(str(zb[k])), roots), f"{name}: meta"
                else:
                    assert za[k].dtype == zb[k].dtype, f"{name}: {k} dtype"
                    assert np.array_equal(za[k], zb[k]), f"{name}: {k} differs"
        elif name.endswith(".json"):
            assert _norm(json.loads(a.read_text()), roots) == \
                _norm(json.loads(b.read_text()), roots), name
        elif name.endswith(".csv"):
            ra, rb = (list(csv.DictReader(p.open())) for p in (a, b))
            assert _norm(ra, roots) == _norm(rb, roots), name
        else:  # plots, checkpoints of torch, ...
            assert a.read_bytes() == b.read_bytes(), name


def _assert_readable(folder: Path) -> None:
    """Every file a killed run left (but ``*.tmp``) reads completely."""
    for name in _files(folder):
        p = folder / name
        if name.endswith(".tmp"):
            continue
        if name.endswith(".npz"):
            _npz(p)
        elif name.endswith(".json"):
            json.loads(p.read_text())


# --- the commands ------------------------------------------------------------------------

TRAIN = ["train", *TINY, "--samples", "6000", "--checkpoint-every", "200",
         "--assign-samples", "50", "--out", "{OUT}/m"]


def _train_case(tmp_path, seed=None) -> None:
    _, killed = kill_and_resume(tmp_path, TRAIN, "train", trigger="m/checkpoint.npz",
                                final="m/train.json", seed=seed)
    # killed after its first checkpoint: the rerun resumed from one
    assert json.loads((killed / "m" / "train.json").read_text())["resumed_from_sample"] >= 200


def test_train_killed_resumes_bit_identical(tmp_path):
    """``lavalab train``: a checkpoint every 200 samples; killed after the first."""
    _train_case(tmp_path)


@pytest.mark.slow
@pytest.mark.parametrize("seed", MORE_SEEDS)
def test_train_killed_at_more_points(tmp_path, seed):
    _train_case(tmp_path, seed)


@pytest.mark.slow
def test_train_on_lava_killed_resumes_bit_identical(tmp_path):
    """``lavalab train --backend lava`` (Lava's CPU simulation of lavalab's Processes): a
    checkpoint every 4 samples; killed after the first, the rerun gives the same model."""
    argv = ["train", *TINY, "--backend", "lava", "--samples", "16", "--checkpoint-every",
            "4", "--assign-samples", "6", "--out", "{OUT}/m"]
    _, killed = kill_and_resume(tmp_path, argv, "lava", trigger="m/checkpoint.npz",
                                final="m/train.json")
    assert json.loads((killed / "m" / "train.json").read_text())["resumed_from_sample"] >= 4


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory) -> Path:
    d = tmp_path_factory.mktemp("model") / "m"
    _finish(_start(["train", *TINY, "--samples", "300", "--assign-samples", "50",
                    "--out", str(d)], d.parent))
    return d


def _with_model(model: Path):
    return lambda folder: shutil.copytree(model, folder / "m")


def test_evaluate_killed_reruns_identical(tmp_path, tiny_model):
    """``lavalab evaluate`` (engine): nothing to resume; eval.json and the plots are
    written when it ends, and a rerun gives the same."""
    argv = ["evaluate", "{OUT}/m", "--samples", "150"]
    kill_and_resume(tmp_path, argv, "evaluate", prepare=_with_model(tiny_model))


@pytest.mark.slow
def test_evaluate_lava_stock_killed_resumes(tmp_path, tiny_model):
    """``evaluate --backend lava-stock``: finished digits saved every 10; the partial file
    is gone once the evaluation is written."""
    argv = ["evaluate", "{OUT}/m", "--backend", "lava-stock", "--samples", "30"]
    kill_and_resume(tmp_path, argv, "stock", trigger="m/stock_partial_lava-stock.npz",
                    prepare=_with_model(tiny_model))


STUDY = ["--network", "tinysnn", "--dataset", "digits", "--neurons", "5",
         "--train-samples", "40", "--test-samples", "20", "--assign-samples", "20",
         "--quiet", "--workers", "1", "--seeds", "0,1", "--out", "{OUT}/s"]


@pytest.mark.slow
def test_study_timesteps_killed_resumes(tmp_path):
    argv = ["study", "timesteps", *STUDY, "--timesteps", "20,10,5", "--enhancement",
            "linear"]
    kill_and_resume(tmp_path, argv, "timesteps", trigger="s/results.json")


@pytest.mark.slow
def test_study_precision_killed_resumes(tmp_path):
    argv = ["study", "precision", *STUDY, "--timesteps", "20", "--bits", "32,8,4",
            "--schemes", "ptq,itq", "--roundings", "nearest"]
    kill_and_resume(tmp_path, argv, "precision", trigger="s/results.json")


@pytest.mark.slow
def test_study_enhancement_search_killed_resumes(tmp_path):
    argv = ["study", "enhancement-search", *STUDY, "--timesteps", "20,10",
            "--val-samples", "10", "--factors", "0.5,2", "--params", "theta,lr"]
    kill_and_resume(tmp_path, argv, "search", trigger="s/results.json")


EXACT = ["--dataset", "digits", "--hidden", "8", "--train-samples", "200",
         "--test-samples", "50", "--batch-size", "10", "--quiet"]


@pytest.mark.slow
def test_exact_train_killed_resumes_bit_identical(tmp_path):
    """``lavalab exact train``: a checkpoint every epoch and every 100 batches."""
    argv = ["exact", "train", *EXACT, "--epochs", "3", "--dt", "0.005", "--out", "{OUT}/e"]
    kill_and_resume(tmp_path, argv, "exact", trigger="e/checkpoint.npz")


@pytest.mark.slow
def test_study_dt_killed_resumes(tmp_path):
    argv = ["study", "dt", *EXACT, "--epochs", "2", "--dts", "0,0.005,0.01", "--seeds",
            "0", "--out", "{OUT}/s"]
    kill_and_resume(tmp_path, argv, "dt", trigger="s/results.json")


DL = ["--hidden", "16", "--train-samples", "300", "--batch-size", "50", "--quiet"]


@pytest.mark.slow
def test_dl_train_killed_resumes(tmp_path):
    """``lavalab dl train``: a checkpoint after every epoch."""
    argv = ["dl", "train", *DL, "--epochs", "4", "--out", "{OUT}/m.npz"]
    kill_and_resume(tmp_path, argv, "dl", trigger="m.npz.ckpt")


@pytest.mark.slow
def test_study_latency_killed_resumes(tmp_path):
    argv = ["study", "latency", *DL, "--epochs", "2", "--timesteps", "1,2", "--methods",
            "cuba", "--seeds", "0", "--test-samples", "100", "--out", "{OUT}/s"]
    kill_and_resume(tmp_path, argv, "latency", trigger="s/checkpoints")


# --- the states a kill leaves, made deterministic (in-process) ---------------------------

def test_train_killed_between_model_and_report_is_finished(tmp_path, monkeypatch):
    """A run that died after ``model.npz`` but before ``train.json`` (its last checkpoint
    still there): the same call finishes it, equal to an uninterrupted run, instead of
    refusing the folder as holding a finished model; a finished folder is still refused."""
    from lavalab import model_io
    from lavalab.stdp import TrainConfig, train

    cfg = TrainConfig(network="tinysnn", neurons=5, timesteps=20, rest=5, samples=40,
                      dataset="digits", assign_samples=20, checkpoint_every=10,
                      input_gain=4.0)
    train(cfg, tmp_path / "ref", progress=False)
    write_json = model_io.write_json

    def die(path, obj):
        if Path(path).name == "train.json":
            raise KeyboardInterrupt  # the process dies here
        return write_json(path, obj)
    monkeypatch.setattr(model_io, "write_json", die)
    with pytest.raises(KeyboardInterrupt):
        train(cfg, tmp_path / "run", progress=False)
    monkeypatch.setattr(model_io, "write_json", write_json)
    assert sorted(p.name for p in (tmp_path / "run").iterdir()) == ["checkpoint.npz",
                                                                     "model.npz"]
    rep = train(cfg, tmp_path / "run", progress=False)
    assert rep["resumed_from_sample"] == 40 and rep["samples_this_run"] == 0
    assert_same_results(tmp_path / "ref", tmp_path / "run")
    with pytest.raises(ValueError, match="holds a finished model"):
        train(cfg, tmp_path / "run", progress=False)


def test_stock_partial_file_is_checked_and_tied_to_the_model(tmp_path):
    """The partial file of ``evaluate --backend lava-stock``: one whose arrays do not match
    its digit count is refused naming it; its key changes with the model file's bytes."""
    from lavalab import model_io
    from lavalab.deploy.evaluate import _checked_partial, _digest

    counts, inh, events = (np.zeros((30, n), np.int64) for n in (5, 5, 7))
    good = {"counts": counts[:10], "inh_counts": inh[:10], "events": events[:10]}
    assert _checked_partial("p.npz", {"done": 10}, good, 30, counts, inh, events) == 10
    for meta, arrays in (({"done": 11}, good), ({"done": True}, good),
                         ({"done": 10}, {**good, "events": events[:10, :3]}),
                         ({"done": 10}, {**good, "counts": counts[:10] - 1}),
                         ({"done": 10}, {"counts": counts[:10], "events": events[:10]})):
        with pytest.raises(model_io.ModelFileError, match="p.npz: damaged partial"):
            _checked_partial("p.npz", meta, arrays, 30, counts, inh, events)
    m = tmp_path / "m"
    m.mkdir()
    (m / "model.npz").write_bytes(b"one model")
    first = _digest(m)
    assert _digest(m / "model.npz") == first
    (m / "model.npz").write_bytes(b"another model")
    assert _digest(m) != first
