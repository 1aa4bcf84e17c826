"""Trained models and their deploy bundles, shared by the bundle tests (small: 12 neurons,
the built-in 8x8 digits, 40 + 10 steps per digit, 4 digits per bundle)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

SAMPLES = 4


def train_and_deploy(root: Path, network: str) -> tuple[Path, Path]:
    """``(model folder, bundle folder)`` of a small trained ``network``."""
    from lavalab.deploy.bundle import write_bundle
    from lavalab.stdp import TrainConfig, train

    model = root / network
    train(TrainConfig(network=network, neurons=12, timesteps=40, rest=10, samples=6,
                      assign_samples=6, checkpoint_every=6, dataset="digits"),
          model, progress=False)
    bundle = root / f"bundle-{network}"
    write_bundle(model, bundle, samples=SAMPLES)
    return model, bundle


def run_bundle(bundle: Path, *args: str) -> subprocess.CompletedProcess:
    """``python BUNDLE/run.py ARGS`` in a fresh interpreter (``-I``: no PYTHONPATH, no user
    site) with lavalab unimportable."""
    from lavalab.deploy.bundle import WITHOUT_LAVALAB

    cmd = [sys.executable, "-I", "-c", WITHOUT_LAVALAB, str(bundle / "run.py"), *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=300,
                          cwd=bundle.parent)
