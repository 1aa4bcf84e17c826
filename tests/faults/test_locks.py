"""Runs that collide: one run per output (:mod:`lavalab.runlock`).

Real processes: a holder (a small Python child, or a real ``lavalab train``) and a second
``lavalab`` process given the same ``--out``, which must be refused with exit 2 and one line
naming the output, the holder's pid and command and what to do, without touching the
holder's files; a holder killed with SIGKILL leaves a stale lock the next run takes over;
the lock goes when a run ends by an error or SIGTERM. In-process: every command that
writes an output refuses one that is locked, before any work."""

from __future__ import annotations

import errno
import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from lavalab import runlock
from lavalab.cli import build_parser, main

ROOT = Path(__file__).resolve().parents[2]
ENV = {**os.environ, "PYTHONPATH": str(ROOT)}
TINY = ["--network", "tinysnn", "--neurons", "5", "--timesteps", "20", "--rest", "5",
        "--dataset", "digits", "--assign-samples", "6", "--quiet", "--input-gain", "4"]

_HOLDER = """
import sys, time
from lavalab.runlock import hold
with hold(sys.argv[1], command="lavalab train --out " + sys.argv[1]):
    print("held", flush=True)
    time.sleep(120)
"""


def _lavalab(*argv, timeout=120) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "lavalab.cli", *map(str, argv)],
                          capture_output=True, text=True, env=ENV, cwd=ROOT, timeout=timeout)


def _holder(out: Path) -> subprocess.Popen:
    p = subprocess.Popen([sys.executable, "-c", _HOLDER, str(out)], stdout=subprocess.PIPE,
                         text=True, env=ENV, cwd=ROOT)
    assert p.stdout.readline().strip() == "held"
    return p


def _snapshot(folder: Path) -> dict:
    return {p.name: (hashlib.sha256(p.read_bytes()).hexdigest(), p.stat().st_mtime_ns)
            for p in sorted(folder.iterdir())}


def _one_line(err: str) -> str:
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert len(lines) == 1 and "Traceback" not in err, err
    return lines[0]


def test_second_process_is_refused_and_touches_nothing(tmp_path):
    out = tmp_path / "run"
    out.mkdir()
    (out / "model.npz").write_bytes(b"the holder's model")
    (out / "train.json").write_text("{}")
    holder = _holder(out)
    try:
        before = _snapshot(out)
        rec = json.loads((out / runlock.FOLDER_LOCK_NAME).read_text())
        assert rec["pid"] == holder.pid and rec["format"] == runlock.LOCK_FORMAT
        # --force would replace the model: the lock refuses before any work
        r = _lavalab("train", *TINY, "--samples", "3", "--force", "--out", out)
        assert r.returncode == 2, r.stderr
        line = _one_line(r.stderr)
        assert line.startswith(f"lavalab train: error: --out {out} is in use by pid "
                               f"{holder.pid} on ")
        assert f"lavalab train --out {out}" in line and "started " in line
        assert "give another --out" in line
        assert _snapshot(out) == before
    finally:
        holder.kill()
        holder.wait()


def test_stale_lock_of_a_killed_holder_is_taken_over(tmp_path):
    out = tmp_path / "m.npz"
    holder = _holder_file(out)
    holder.send_signal(signal.SIGKILL)
    holder.wait()
    lock = runlock.lock_path(out, folder=False)
    assert json.loads(lock.read_text())["pid"] == holder.pid  # left behind, unlocked
    with runlock.hold(out, folder=False) as held:
        assert held.flock
        assert json.loads(lock.read_text())["pid"] == os.getpid()
    assert not lock.exists()
    # through the CLI: one note naming the dead pid, then the command runs
    holder = _holder_file(out)
    holder.send_signal(signal.SIGKILL)
    holder.wait()
    r = _lavalab("report", tmp_path / "nostudy", "--out", out)
    assert r.returncode == 2  # no study folder there, after the lock was taken over
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 2, r.stderr
    assert lines[0].startswith(f"lavalab: note: --out {out}: took over the lock left by a "
                               f"run that ended without releasing it (pid {holder.pid} ")
    assert "nostudy" in lines[1]
    assert not lock.exists()


def _holder_file(out: Path) -> subprocess.Popen:
    p = subprocess.Popen([sys.executable, "-c", _HOLDER.replace(
        "hold(sys.argv[1],", "hold(sys.argv[1], folder=False,"), str(out)],
        stdout=subprocess.PIPE, text=True, env=ENV, cwd=ROOT)
    assert p.stdout.readline().strip() == "held"
    return p


_SLEEPING_COMMAND = """
import sys, time
import lavalab.cli.stdp as stdp_cli
from lavalab.cli import main

def sleeping(args):
    args.hold_out(args.out)
    print("held", flush=True)
    time.sleep(120)

stdp_cli._cmd_plot = sleeping
sys.exit(main(["plot", "m", "--out", sys.argv[1]]))
"""


def test_sigterm_releases_the_lock(tmp_path):
    out = tmp_path / "run"
    p = subprocess.Popen([sys.executable, "-c", _SLEEPING_COMMAND, str(out)],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=ENV,
                         cwd=ROOT)
    try:
        assert p.stdout.readline().strip() == "held"
        assert (out / runlock.FOLDER_LOCK_NAME).exists()
        p.send_signal(signal.SIGTERM)
        _, err = p.communicate(timeout=60)
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
    assert p.returncode == 128 + signal.SIGTERM
    assert _one_line(err) == ("lavalab plot: terminated (SIGTERM); what was finished is "
                              "kept: run the same command again to resume")
    assert not out.exists()  # the lock file and the folder made for it are gone


@pytest.mark.slow  # a real training of a few seconds after its set-up
def test_real_train_holds_its_out_and_sigterm_releases_it(tmp_path):
    out = tmp_path / "run"
    first = subprocess.Popen(
        [sys.executable, "-m", "lavalab.cli", "train", *TINY, "--samples", "100000",
         "--checkpoint-every", "50", "--out", str(out)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=ENV, cwd=ROOT)
    lock = out / runlock.FOLDER_LOCK_NAME
    try:
        t0 = time.monotonic()
        while not (out / "checkpoint.npz").exists():  # training, not only started
            assert first.poll() is None, first.communicate()
            assert time.monotonic() - t0 < 120
            time.sleep(0.2)
        rec = json.loads(lock.read_text())
        assert rec["pid"] == first.pid and "--samples 100000" in rec["command"]
        r = _lavalab("train", *TINY, "--samples", "3", "--seed", "1", "--out", out)
        assert r.returncode == 2
        assert f"is in use by pid {first.pid}" in _one_line(r.stderr)
        first.send_signal(signal.SIGTERM)
        _, err = first.communicate(timeout=60)
    finally:
        if first.poll() is None:
            first.kill()
            first.wait()
    assert first.returncode == 128 + signal.SIGTERM, err
    assert _one_line(err).startswith("lavalab train: terminated (SIGTERM)")
    assert not lock.exists()
    # the checkpoint is the first run's (seed 0), not the refused one's
    from lavalab import model_io

    meta, _ = model_io.load_npz(out / "checkpoint.npz", model_io.CHECKPOINT_FORMAT)
    assert meta["config"]["seed"] == 0 and meta["config"]["samples"] == 100000
    assert not list(out.glob("*.tmp"))


def test_lock_released_after_an_error(tmp_path, capsys):
    out = tmp_path / "new" / "run"
    rc = main(["train", *TINY, "--samples", "3", "--data-root", str(tmp_path / "none"),
               "--dataset", "mnist", "--out", str(out)])
    assert rc == 2
    assert "none" in _one_line(capsys.readouterr().err)
    assert not (tmp_path / "new").exists()  # the folders made for the lock went too
    out.mkdir(parents=True)
    rc = main(["evaluate", str(out), "--no-plots"])  # no model there: an error
    assert rc == 2 and str(out) in capsys.readouterr().err
    assert out.is_dir() and list(out.iterdir()) == []


def test_fallback_without_flock(tmp_path, monkeypatch):
    """Where flock answers OSError (a network file system), O_EXCL and a pid check."""
    def no_flock(fd, op):
        raise OSError(errno.ENOLCK, "No locks available")

    monkeypatch.setattr(runlock.fcntl, "flock", no_flock)
    out = tmp_path / "run"
    with runlock.hold(out) as held:
        assert not held.flock
        with pytest.raises(runlock.OutputInUse, match=f"is in use by pid {os.getpid()}.*if "
                           "it is no longer running, delete"):
            runlock.acquire(out)
    assert not (out / runlock.FOLDER_LOCK_NAME).exists()
    # a dead holder's file (a pid that has ended) is taken over, with a note
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)
    pid = int(dead.stdout)
    out.mkdir()
    import socket

    (out / runlock.FOLDER_LOCK_NAME).write_text(json.dumps(
        {"format": runlock.LOCK_FORMAT, "version": 1, "pid": pid,
         "host": socket.gethostname(), "started": "x", "command": "lavalab train"}))
    seen = []
    lock = runlock.acquire(out, note=lambda o, rec: seen.append(rec["pid"]))
    assert seen == [pid]
    lock.release()
    assert list(out.iterdir()) == []


#: A run of every command that writes an output (the output at the end of the list is
#: what is locked; ``D`` a folder, ``F`` a file, ``M`` a model that need not exist: the
#: lock refuses first).
COMMANDS = {
    ("train",): (["train", "--out", "D"], "--out"),
    ("assign",): (["assign", "M", "--out", "D"], "--out"),
    ("evaluate",): (["evaluate", "D"], "MODEL"),
    ("plot",): (["plot", "M", "--out", "D"], "--out"),
    ("study", "timesteps"): (["study", "timesteps", "--out", "D"], "--out"),
    ("study", "precision"): (["study", "precision", "--out", "D"], "--out"),
    ("study", "enhancement-search"): (["study", "enhancement-search", "--out", "D"], "--out"),
    ("study", "latency"): (["study", "latency", "--out", "D"], "--out"),
    ("study", "dt"): (["study", "dt", "--out", "D"], "--out"),
    ("study", "refresh"): (["study", "refresh", "D"], "RESULTS_DIR"),
    ("dl", "train"): (["dl", "train", "--out", "F"], "--out"),
    ("dl", "evaluate"): (["dl", "evaluate", "M", "--json", "F"], "--json"),
    ("dl", "export"): (["dl", "export", "M", "--out", "F"], "--out"),
    ("exact", "train"): (["exact", "train", "--out", "D"], "--out"),
    ("exact", "lava"): (["exact", "lava", "--model", "M", "--dt", "0.001", "--out", "D"],
                        "--out"),
    ("export",): (["export", "M", "--format", "nir", "--out", "F"], "--out"),
    ("deploy",): (["deploy", "M", "--out", "B"], "--out"),
    ("import",): (["import", "M", "--out", "F"], "--out"),
    ("demo",): (["demo", "--out", "D"], "--out"),
    ("report",): (["report", "M", "--out", "F"], "--out"),
}


def _writing_commands(parser, path=()) -> set[tuple[str, ...]]:
    """Every (sub)command with an --out or --json option."""
    import argparse

    found = set()
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                found |= _writing_commands(sub, (*path, name))
        elif {"--out", "--json"} & set(action.option_strings):
            found.add(path)
    return found


def test_every_writing_command_is_in_the_table():
    assert _writing_commands(build_parser()) <= set(COMMANDS)


@pytest.mark.parametrize("command", sorted(COMMANDS), ids="-".join)
def test_every_writing_command_refuses_a_locked_output(command, tmp_path, capsys):
    argv, flag = COMMANDS[command]
    paths = {"D": tmp_path / "out", "F": tmp_path / "out.npz", "B": tmp_path / "bundle",
             "M": tmp_path / "model"}
    target = argv[-1]
    folder = target == "D"
    argv = [str(paths.get(a, a)) for a in argv]
    with runlock.hold(paths[target], folder=folder, command="the holder"):
        rc = main(argv)
    err = capsys.readouterr().err
    assert rc == 2, err
    line = _one_line(err)
    assert f"{flag} {paths[target]} is in use by pid {os.getpid()}" in line, line
    assert "the holder" in line
    assert not (paths["D"] / runlock.FOLDER_LOCK_NAME).exists()
    assert not runlock.lock_path(paths[target], folder).exists()
