"""Dataset records shared by the loaders."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["ImageSet", "DataError", "SPLITS", "check_split"]

SPLITS = ("train", "test")


class DataError(ValueError):
    """A dataset file or folder is missing or malformed; the message names it."""


def check_split(split: str, allowed: tuple[str, ...] = SPLITS) -> str:
    if split not in allowed:
        raise ValueError(f"split={split!r} is not one of {allowed}")
    return split


@dataclass(frozen=True)
class ImageSet:
    """Images and labels of one split of a dataset.

    Attributes
    ----------
    images : np.ndarray
        ``uint8`` array of shape ``(N, H, W)``, intensities 0..255.
    labels : np.ndarray
        ``int64`` array of shape ``(N,)``, class indices 0..9.
    name : str
        Dataset name, e.g. ``"mnist"``.
    split : str
        ``"train"`` or ``"test"``.
    source : str
        Where the data came from (a path or a package), for reports.
    """

    images: np.ndarray
    labels: np.ndarray
    name: str
    split: str
    source: str

    def __post_init__(self):
        if self.images.dtype != np.uint8 or self.images.ndim != 3:
            raise ValueError(
                f"images must be uint8 (N, H, W); got {self.images.dtype} {self.images.shape}"
            )
        if self.labels.dtype != np.int64 or self.labels.shape != (self.images.shape[0],):
            raise ValueError(
                f"labels must be int64 of shape ({self.images.shape[0]},); "
                f"got {self.labels.dtype} {self.labels.shape}"
            )

    def __len__(self) -> int:
        return int(self.images.shape[0])

    @property
    def shape(self) -> tuple[int, int]:
        """Image height and width."""
        return (int(self.images.shape[1]), int(self.images.shape[2]))

    def subset(self, n: int, start: int = 0) -> ImageSet:
        """The ``n`` samples from ``start`` on (in stored order)."""
        if n < 0 or start < 0 or start + n > len(self):
            raise ValueError(
                f"subset(n={n}, start={start}) is outside 0..{len(self)} samples of {self.name}"
            )
        return ImageSet(
            self.images[start : start + n], self.labels[start : start + n],
            self.name, self.split, self.source,
        )

    def flat(self) -> np.ndarray:
        """Images as ``float64`` rows in [0, 1], shape ``(N, H*W)``."""
        return self.images.reshape(len(self), -1) / 255.0
