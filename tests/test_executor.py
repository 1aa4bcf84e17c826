"""Executors of the studies: local threads vs Dask (LocalCluster, 2 worker processes).

The Dask tests run real worker processes (spawned, as a cluster on other machines would
be): the rows of a study must equal the default executor's except wall times, a worker
killed mid-study must cost only its own configuration, and a rerun must compute only that.
"""

import json
import os
import socket

import numpy as np
import pytest

from lavalab import cli
from lavalab.data import write_idx
from lavalab.study import StudySetup, precision_study, timestep_study
from lavalab.study import timesteps as study
from lavalab.study.executor import (
    DaskExecutor,
    ExecutorSpec,
    StudyIncomplete,
    Task,
    ThreadExecutor,
    folder_task,
    write_files,
)

WALL = ("train_wall_s", "test_wall_s")


@pytest.fixture(scope="module")
def data_root(tmp_path_factory):
    """A small MNIST-format dataset (IDX files): 10 class prototypes plus noise, seeded."""
    root = tmp_path_factory.mktemp("idx")
    rng = np.random.default_rng(0)
    protos = rng.random((10, 28, 28)) < 0.15
    for split, n in (("train", 60), ("t10k", 40)):
        y = rng.integers(0, 10, n)
        x = np.where(protos[y] ^ (rng.random((n, 28, 28)) < 0.03), 230, 0).astype(np.uint8)
        write_idx(root / f"{split}-images-idx3-ubyte", x)
        write_idx(root / f"{split}-labels-idx1-ubyte", y.astype(np.uint8))
    return root


@pytest.fixture(scope="module")
def setup(data_root):
    return StudySetup(network="tinysnn", neurons=10, train_samples=60, test_samples=40,
                      assign_samples=40, data_root=str(data_root))


@pytest.fixture(scope="module")
def cluster():
    """Two worker processes, one thread each. A task whose worker dies is given up at
    once (``allowed-failures`` 0; Dask's default 3 would first retry it elsewhere)."""
    dask = pytest.importorskip("dask")
    distributed = pytest.importorskip("distributed")
    import logging

    import lava.magma.core.process.process  # noqa: F401 - sets "fork" before spawn asks

    with dask.config.set({"distributed.scheduler.allowed-failures": 0}):
        lc = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                      dashboard_address=":0", silence_logs=logging.CRITICAL)
    yield lc
    lc.close()


def _rows(out) -> dict[str, dict]:
    doc = json.loads((out / "results.json").read_text())
    return {r["key"]: {k: v for k, v in r.items() if k not in WALL} for r in doc["rows"]}


def _summary(out) -> dict:
    """The summary, its model paths relative to the study folder ``out`` (``<out>``)."""
    text = (out / "results.json").read_text()
    return json.loads(text.replace(json.dumps(str(out))[1:-1], "<out>"))["summary"]


def test_spec_refuses_bad_input():
    with pytest.raises(ValueError, match="--scheduler tcp://h:1 needs --executor dask"):
        ExecutorSpec(scheduler="tcp://h:1")
    with pytest.raises(ValueError, match="--workers 3 sizes a local pool"):
        ExecutorSpec("dask", workers=3, scheduler="tcp://h:1")
    for bad in ("http://h:1", "tcp://h", "tcp://h:0", "tcp://h:99999", "tcp://h:1/x", ""):
        with pytest.raises(ValueError, match="is not an address like tcp://HOST:PORT"):
            ExecutorSpec("dask", scheduler=bad)
    assert ExecutorSpec("dask", scheduler="h.example:8786").scheduler == "tcp://h.example:8786"
    with pytest.raises(ValueError, match="--threads-per-worker 2 sizes a LocalCluster"):
        ExecutorSpec("dask", scheduler="tcp://h:1", threads_per_worker=2)
    with pytest.raises(ValueError, match="executor='slurm' is not one of"):
        ExecutorSpec("slurm")
    with pytest.raises(ValueError, match="workers=0"):
        ExecutorSpec(workers=0)
    with pytest.raises(ValueError, match="--threads-per-worker needs --executor dask"):
        ExecutorSpec(threads_per_worker=2)


def _square(x, bar=None):
    if x == 3:
        raise ArithmeticError("three")
    return {"row": {"key": str(x), "y": x * x}, "files": {}}


def test_thread_executor_hands_every_result_then_raises_the_task_error():
    got = {}
    tasks = [Task(str(x), _square, (x,)) for x in range(6)]
    with pytest.raises(ArithmeticError, match="three"):
        ThreadExecutor(2).run(tasks, lambda t, r: got.update({t.key: r["row"]["y"]}), "t",
                              progress=False)
    assert got == {"0": 0, "1": 1, "2": 4, "4": 16, "5": 25}  # the others all finished


def _writes_folder(folder, text):
    from pathlib import Path

    folder = Path(folder)
    assert (folder / "checkpoint.npz").read_bytes() == b"ck"  # the inputs are there
    (folder / "sub").mkdir()
    (folder / "sub" / "a.json").write_text(text)
    (folder / "model.npz.x1.tmp").write_bytes(b"half")  # a temporary file: not returned


def test_folder_task_returns_the_files_and_write_files_puts_them_back(tmp_path, monkeypatch):
    res = folder_task(_writes_folder, ("hi",), {"checkpoint.npz": b"ck"})
    assert res == {"row": None, "files": {"checkpoint.npz": b"ck", "sub/a.json": b"hi"}}
    order = []
    import lavalab.model_io as mio

    real = mio.write_bytes
    monkeypatch.setattr(mio, "write_bytes", lambda p, d: order.append(p.name) or real(p, d))
    write_files(tmp_path, {"eval.json": b"e", "model.npz": b"m", "a.json": b"a"},
                last=("eval.json",))
    assert order == ["a.json", "model.npz", "eval.json"]  # eval.json marks it done: last
    assert (tmp_path / "model.npz").read_bytes() == b"m"
    for bad in ("../x", "/etc/x"):
        with pytest.raises(ValueError, match="is outside the folder"):
            write_files(tmp_path, {bad: b""})


def test_cli_refuses_scheduler_flags(tmp_path, capsys):
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    addr = f"tcp://127.0.0.1:{port}"
    base = ["study", "timesteps", "--out", str(tmp_path / "o"), "--timesteps", "20"]
    assert cli.main([*base, "--executor", "dask", "--scheduler", addr,
                     "--connect-timeout", "1"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and addr in err[0] and "no Dask scheduler answered within 1 s" in err[0]
    assert cli.main([*base, "--scheduler", addr]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [f"lavalab study: error: --scheduler {addr} needs --executor dask "
                   "(executor is 'threads')"]
    assert not (tmp_path / "o").exists()
    # the enhancement search's steps depend on each other: local threads only
    assert cli.main(["study", "enhancement-search", "--out", str(tmp_path / "o"),
                     "--executor", "dask"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ["lavalab study: error: --executor dask: study enhancement-search runs on "
                   "local threads only (each step depends on the previous step's results); "
                   "use --executor threads"]
    assert not (tmp_path / "o").exists()


def test_dask_study_rows_equal_local_rows(setup, cluster, tmp_path):
    spec = ExecutorSpec("dask", scheduler=cluster.scheduler_address)
    grid = dict(timesteps=[40, 20], enhancements=["linear"], infer_timesteps=[20],
                progress=False)
    timestep_study(setup, tmp_path / "local", workers=2, **grid)
    timestep_study(setup, tmp_path / "dask", executor=spec, **grid)
    local, remote = _rows(tmp_path / "local"), _rows(tmp_path / "dask")
    assert set(local) == {"T40-none", "T20-linear", "T40-none@20-linear"}
    assert remote == local
    assert _summary(tmp_path / "dask") == _summary(tmp_path / "local")
    for k in ("T40-none", "T20-linear"):  # the model files the client wrote
        a = np.load(tmp_path / "local" / "models" / "seed0" / f"{k}.npz")
        b = np.load(tmp_path / "dask" / "models" / "seed0" / f"{k}.npz")
        for name in ("w", "theta", "assignments", "proportions", "meta"):
            assert np.array_equal(a[name], b[name])


@pytest.mark.slow  # compiles the float engine in a worker too
def test_dask_precision_study_rows_equal_local_rows(setup, cluster, tmp_path):
    """PTQ and qWN need the FP32 model's arrays of their seed: they travel to the workers
    as bytes (one task per configuration and seed)."""
    spec = ExecutorSpec("dask", scheduler=cluster.scheduler_address)
    grid = dict(bits=[32, 4], schemes=["ptq"], roundings=["nearest"], params=["wn"],
                timesteps=30, progress=False, seeds=[0, 1])
    precision_study(setup, tmp_path / "plocal", workers=2, **grid)
    precision_study(setup, tmp_path / "pdask", executor=spec, **grid)
    assert _rows(tmp_path / "pdask") == _rows(tmp_path / "plocal")
    assert set(_rows(tmp_path / "pdask")) == {"fp32", "ptq-4/4b-nearest-qWN"}
    for r in _rows(tmp_path / "pdask").values():
        assert r["seeds"] == [0, 1] and len(r["accuracy_seeds"]) == 2
        assert r["models"] == [f"models/seed{s}/{r['key'].replace('/', '_')}.npz"
                               for s in (0, 1)]
        for m in r["models"]:
            assert (tmp_path / "pdask" / m).read_bytes() == (tmp_path / "plocal" / m
                                                              ).read_bytes()
    assert _summary(tmp_path / "pdask") == _summary(tmp_path / "plocal")


class _KillOne(DaskExecutor):
    """Runs ``victim``'s task as ``os._exit(1)``: its worker process dies mid-study."""

    def __init__(self, spec, victim):
        super().__init__(spec)
        self.victim = victim

    def run(self, tasks, *args, **kwargs):
        tasks = [Task(t.key, os._exit, (1,), t.size) if t.key == self.victim else t
                 for t in tasks]
        return super().run(tasks, *args, **kwargs)


def test_killed_worker_loses_only_its_configuration(setup, cluster, tmp_path, monkeypatch):
    out = tmp_path / "ts"
    grid = dict(timesteps=[40, 20], enhancements=["linear", "proportional"], progress=False)
    ex = _KillOne(ExecutorSpec("dask", scheduler=cluster.scheduler_address), "T20-linear seed 0")
    try:
        with pytest.raises(StudyIncomplete, match=r"1 of 3 configurations did not finish "
                           r"\(T20-linear seed 0: its worker died while running it") as err:
            timestep_study(setup, out, executor=ex, **grid)
    finally:
        ex.close()
    assert err.value.failed.keys() == {"T20-linear seed 0"}
    assert set(_rows(out)) == {"T40-none", "T20-proportional"}  # written as they finished
    assert not (out / "models" / "seed0" / "T20-linear.npz").exists()
    ran = []
    task = study._timestep_task

    def counted(setup, t0, T, e, bar=None):
        ran.append(f"T{T}-{e}")
        return task(setup, t0, T, e, bar=bar)
    monkeypatch.setattr(study, "_timestep_task", counted)
    timestep_study(setup, out, workers=2, **grid)
    assert ran == ["T20-linear"]  # the rerun computes only the lost configuration
    timestep_study(setup, tmp_path / "ref", workers=2, **grid)
    assert _rows(out) == _rows(tmp_path / "ref")
    assert _summary(out) == _summary(tmp_path / "ref")


def test_cli_study_on_a_local_cluster(setup, tmp_path, capsys):
    """``--executor dask`` without ``--scheduler`` starts (and stops) a LocalCluster."""
    pytest.importorskip("distributed")
    out = tmp_path / "cli"
    assert cli.main(["study", "timesteps", "--executor", "dask", "--workers", "1",
                     "--network", "tinysnn", "--neurons", "10", "--train-samples", "60",
                     "--test-samples", "40", "--assign-samples", "40", "--data-root",
                     str(setup.data_root), "--timesteps", "40", "--quiet",
                     "--out", str(out)]) == 0
    assert "chosen by S" in capsys.readouterr().out
    timestep_study(setup, tmp_path / "ref", timesteps=[40], workers=1, progress=False)
    assert _rows(out) == _rows(tmp_path / "ref")


def test_progress_lock_is_never_replaced_while_another_thread_holds_it():
    """A task starting a bar (lavalab train in a study thread) while the client writes a
    result line (tqdm.write holds the lock) must not swap the lock: its release failed with
    'cannot release un-acquired lock' and killed a scaling study."""
    import threading

    from tqdm import tqdm

    from lavalab.progress import use_thread_progress_lock

    use_thread_progress_lock()
    lock = tqdm.get_lock()
    with tqdm.external_write_mode():  # what tqdm.write does around its line
        t = threading.Thread(target=use_thread_progress_lock)
        t.start()
        t.join()
    assert tqdm.get_lock() is lock
