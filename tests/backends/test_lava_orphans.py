"""kill -9 of a ``--backend lava`` run leaves no Lava worker process behind."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"),
                                reason="uses /proc and prctl(PR_SET_PDEATHSIG)")


def _children() -> dict[int, int]:
    """pid -> parent pid of every process (from /proc)."""
    out = {}
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            try:
                stat = (d / "stat").read_text()
            except OSError:
                continue
            fields = stat[stat.rindex(")") + 2:].split()
            if fields[0] != "Z":  # a zombie is already dead
                out[int(d.name)] = int(fields[1])
    return out


def _descendants(pid: int) -> set[int]:
    table, found, todo = _children(), set(), [pid]
    while todo:
        p = todo.pop()
        kids = {c for c, pp in table.items() if pp == p}
        todo.extend(kids - found)
        found |= kids
    return found


def test_kill_9_of_a_lava_run_leaves_no_process(tmp_path):
    env = dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parents[2]),
               OMP_NUM_THREADS="1", NUMBA_NUM_THREADS="1")
    proc = subprocess.Popen(
        [sys.executable, "-m", "lavalab.cli", "train", "--backend", "lava", "--dataset",
         "digits", "--network", "tinysnn", "--neurons", "5", "--samples", "400",
         "--timesteps", "20", "--rest", "5", "--checkpoint-every", "400", "--quiet",
         "--out", str(tmp_path / "run")],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        kids: set[int] = set()
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline and proc.poll() is None:
            kids = _descendants(proc.pid)
            if len(kids) >= 5:  # Lava's workers are up (one per ProcessModel + services)
                break
            time.sleep(0.2)
        assert proc.poll() is None and len(kids) >= 5, (
            "the Lava run did not start workers: " + proc.stderr.read().decode()[-500:]
            if proc.poll() is not None else "the Lava run did not start workers in 180 s")
        time.sleep(1.0)
        kids = _descendants(proc.pid)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(10)
        deadline = time.monotonic() + 10
        alive = kids
        while alive and time.monotonic() < deadline:
            time.sleep(0.2)
            alive = kids & set(_children())
        assert not alive, f"{len(alive)} of {len(kids)} Lava processes survived the parent"
    finally:  # never leave anything behind, whatever failed
        if proc.poll() is None:
            kids |= _descendants(proc.pid)
            proc.kill()
        for pid in kids & set(_children()):
            os.kill(pid, signal.SIGKILL)
