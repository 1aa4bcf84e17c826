"""Trained models and their deploy bundles, shared by the bundle tests (small: 12 neurons,
the built-in 8x8 digits, 40 + 10 steps per digit, 4 digits per bundle)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

#: run a script with lavalab made unimportable (what the INRC environment looks like)
NO_LAVALAB = """
import runpy, sys
class Block:
    def find_spec(self, name, path=None, target=None):
        if name == "lavalab" or name.startswith("lavalab."):
            raise ModuleNotFoundError(f"No module named {name!r} (blocked by the test)")
        return None
sys.meta_path.insert(0, Block())
script = sys.argv[1]
sys.argv = sys.argv[1:]
runpy.run_path(script, run_name="__main__")
"""

SAMPLES = 4


def train_and_deploy(root: Path, network: str) -> tuple[Path, Path]:
    """``(model folder, bundle folder)`` of a small trained ``network``."""
    from lavalab.deploy.bundle import write_bundle
    from lavalab.experiment import TrainConfig, train

    model = root / network
    train(TrainConfig(network=network, neurons=12, timesteps=40, rest=10, samples=6,
                      assign_samples=6, checkpoint_every=6, dataset="digits"),
          model, progress=False)
    bundle = root / f"bundle-{network}"
    write_bundle(model, bundle, samples=SAMPLES)
    return model, bundle


def run_bundle(bundle: Path, *args: str, blocked: bool = True) -> subprocess.CompletedProcess:
    """``python BUNDLE/run.py ARGS`` in a fresh interpreter (``-I``: no PYTHONPATH, no user
    site) with lavalab unimportable."""
    cmd = [sys.executable, "-I", "-c", NO_LAVALAB, str(bundle / "run.py"), *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=300,
                          cwd=bundle.parent)
