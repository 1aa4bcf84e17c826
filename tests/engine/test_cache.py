"""The kernel cache: one folder per machine and state of the kernels' sources
(:mod:`lavalab.kernel_cache`), used by the engine's step loop like every other kernel."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import lavalab
from lavalab import kernel_cache

ROOT = Path(lavalab.__file__).resolve().parent.parent

# a small kernel, compiled in a few seconds; prints the dispatcher's cache statistics
_KERNEL_SCRIPT = """
import numpy as np
from lavalab.dynamics.encoding import poisson_kernel
out = np.zeros(4, bool)
poisson_kernel(np.array([0, 1 << 20, 1 << 30, 1 << 31], np.int64), 1, 2, out)
s = poisson_kernel.stats
print(sum(s.cache_hits.values()), sum(s.cache_misses.values()), out.tolist())
"""


def _run(script: str, cache: Path) -> subprocess.CompletedProcess:
    env = dict(os.environ, LAVALAB_CACHE_DIR=str(cache),
               PYTHONPATH=os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]))
    return subprocess.run([sys.executable, "-c", script], env=env, capture_output=True,
                          text=True, timeout=900, check=False)


def _note_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith("lavalab: c")]


def test_a_second_process_loads_the_kernels_from_the_cache(tmp_path):
    first, second = _run(_KERNEL_SCRIPT, tmp_path), _run(_KERNEL_SCRIPT, tmp_path)
    assert first.returncode == 0 and second.returncode == 0, first.stderr + second.stderr
    hits, misses, spikes = first.stdout.split(" ", 2)
    assert (hits, misses) == ("0", "1")
    assert second.stdout.split(" ", 2) == ["1", "0", spikes]  # loaded, nothing compiled
    (note,) = _note_lines(first.stderr)
    assert note.startswith(kernel_cache.COMPILE_NOTE.split("{")[0])
    assert _note_lines(second.stderr) == []  # silent
    assert len(list(tmp_path.iterdir())) == 1  # one folder: the sources' key


def test_an_unwritable_cache_folder_compiles_in_memory_with_a_note(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("a file, so no folder can be made below it (even as root)")
    res = _run(_KERNEL_SCRIPT, blocker / "cache")
    assert res.returncode == 0, res.stderr
    assert res.stdout.split(" ", 2)[:2] == ["0", "1"]
    (note,) = _note_lines(res.stderr)
    assert "cannot write the kernel cache" in note and str(blocker / "cache") in note


def test_the_key_follows_the_kernels_sources_only(tmp_path):
    pkg = tmp_path / "lavalab"
    shutil.copytree(kernel_cache.PACKAGE_DIR, pkg,
                    ignore=shutil.ignore_patterns("__pycache__"))
    files = kernel_cache.source_files(pkg)
    rel = {f.relative_to(pkg).as_posix() for f in files}
    assert {"fixed.py", "loihi_spec.py", "engine/core.py", "engine/kernels.py",
            "engine/steps.py", "dynamics/adaptive_lif/kernels.py", "dynamics/encoding.py"} <= rel
    key = kernel_cache.source_key(pkg)
    assert len(key) == 16 and key == kernel_cache.source_key(pkg)
    others = sorted(set(pkg.rglob("*.py")) - set(files))
    assert others  # e.g. the CLI and the studies do not change compiled code
    with open(others[0], "a") as f:
        f.write("\n# an edit that no kernel sees\n")
    assert kernel_cache.source_key(pkg) == key
    for dep in ("loihi_spec.py", "dynamics/adaptive_lif.py"):  # constants, called kernels
        with open(pkg / dep, "a") as f:
            f.write("\n# an edit\n")
        new = kernel_cache.source_key(pkg)
        assert new != key
        key = new


def test_the_cache_base_folder(tmp_path):
    home = Path.home() / ".cache" / "lavalab" / "numba"
    assert kernel_cache.cache_base({}) == home
    assert kernel_cache.cache_base({"XDG_CACHE_HOME": str(tmp_path)}) == (
        tmp_path / "lavalab" / "numba")
    # a user's NUMBA_CACHE_DIR holds lavalab's folder; LAVALAB_CACHE_DIR wins
    assert kernel_cache.cache_base({"NUMBA_CACHE_DIR": str(tmp_path)}) == tmp_path / "lavalab"
    assert kernel_cache.cache_base({"NUMBA_CACHE_DIR": "/x",
                                    "LAVALAB_CACHE_DIR": str(tmp_path)}) == tmp_path


def test_other_packages_keep_numbas_cache(tmp_path, monkeypatch):
    (tmp_path / "elsewhere_mod.py").write_text(
        "from numba import njit\n\n@njit(cache=True)\ndef f(x):\n    return x + 1\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    import elsewhere_mod

    assert kernel_cache.installed()
    path = Path(elsewhere_mod.f.stats.cache_path)
    assert not path.is_relative_to(kernel_cache.cache_dir())


def test_the_step_loop_is_cached_with_the_kernels():
    from lavalab.engine import make_net, run
    from lavalab.engine.core import simulate
    from lavalab.networks.snn import build

    spec = build("diehl-cook", 10)
    rng = np.random.default_rng(0)
    net = make_net(spec, "fixed", rng.integers(0, 100, (10, 784)), seed=0)
    run(net, rng.integers(0, 256, (1, 784), dtype=np.uint8))
    path = Path(simulate.stats.cache_path)
    assert path.is_relative_to(kernel_cache.cache_dir())
    assert list(path.glob("core.simulate-*.nbi"))  # saved (numba could pickle it)


@pytest.mark.slow
def test_a_second_process_loads_the_step_loop_from_the_cache(tmp_path):
    script = """
import numpy as np
from lavalab.engine import make_net, run
from lavalab.engine.core import simulate
from lavalab.networks.snn import build
spec = build("diehl-cook", 10)
rng = np.random.default_rng(0)
net = make_net(spec, "fixed", rng.integers(0, 100, (10, 784)), seed=0)
counts, events, _ = run(net, rng.integers(0, 256, (2, 784), dtype=np.uint8))
s = simulate.stats
print(sum(s.cache_hits.values()), sum(s.cache_misses.values()), events.sum())
"""
    first, second = _run(script, tmp_path), _run(script, tmp_path)
    assert first.returncode == 0 and second.returncode == 0, first.stderr + second.stderr
    assert first.stdout.split()[:2] == ["0", "1"]
    assert second.stdout.split() == ["1", "0", first.stdout.split()[2]]
    assert len(_note_lines(first.stderr)) == 1 and _note_lines(second.stderr) == []
