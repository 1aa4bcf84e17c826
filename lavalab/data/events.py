"""Event-camera datasets through tonic: N-MNIST from a local folder.

Downloads are not attempted: point :func:`load_nmnist` at the extracted
dataset (``<root>/Train/<digit>/*.bin`` and ``<root>/Test/<digit>/*.bin``, or
the same under ``<root>/NMNIST/``, tonic's layout). Files are read with
``tonic.io.read_mnist_file``; :meth:`EventSet.frames` bins events into frames.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from lavalab import model_io
from lavalab.data._types import SPLITS, DataError, check_split

__all__ = ["EventSet", "load_nmnist", "NMNIST_SENSOR_SIZE", "write_nmnist_bin"]

NMNIST_SENSOR_SIZE = (34, 34, 2)
_EVENT_DTYPE = np.dtype([("x", np.int64), ("y", np.int64), ("t", np.int64), ("p", np.int64)])
_FOLDERS = {"train": "Train", "test": "Test"}


@dataclass(frozen=True)
class EventSet:
    """A lazily read event dataset: one file per sample.

    ``events(i)`` is a structured array with fields x, y, t (µs), p;
    ``frames(i, n_time_bins=...)`` is ``int16`` (T, 2, 34, 34).
    """

    files: tuple[Path, ...]
    labels: np.ndarray  # int64 (N,)
    sensor_size: tuple[int, int, int]
    name: str
    split: str

    def __len__(self) -> int:
        return len(self.files)

    def events(self, index: int) -> np.ndarray:
        from tonic.io import read_mnist_file

        path = self.files[index]
        size = path.stat().st_size
        if size % 5:
            raise DataError(f"{path}: {size} bytes is not a whole number of 5-byte events")
        ev = read_mnist_file(str(path), dtype=_EVENT_DTYPE)
        w, h, _ = self.sensor_size
        if len(ev) and (ev["x"].max() >= w or ev["y"].max() >= h):
            raise DataError(f"{path}: event coordinates outside the {w}x{h} sensor")
        return ev

    def frames(self, index: int, n_time_bins: int | None = None,
               time_window: float | None = None) -> np.ndarray:
        """Bin one sample's events into frames ``(T, 2, H, W)`` (give exactly one argument).

        ``time_window`` (µs) uses tonic's ``ToFrame`` with ``include_incomplete=True``
        so the last partial window is kept. ``n_time_bins`` splits ``[t_first, t_last]``
        into equal bins itself: tonic 1.7's ``n_time_bins`` slicing drops the events
        after ``t_first + n * ((t_last - t_first) // n)``, the last event included.
        No event is lost either way.
        """
        if (n_time_bins is None) == (time_window is None):
            raise ValueError("give exactly one of n_time_bins or time_window")
        ev = self.events(index)
        w, h, n_pol = self.sensor_size
        if n_time_bins is not None:
            if n_time_bins < 1:
                raise ValueError(f"n_time_bins={n_time_bins} must be >= 1")
            out = np.zeros((n_time_bins, n_pol, h, w), np.int16)
            if len(ev):
                t = ev["t"] - ev["t"].min()
                b = t * n_time_bins // (t.max() + 1)
                np.add.at(out, (b, ev["p"], ev["y"], ev["x"]), 1)
            return out
        if time_window <= 0:
            raise ValueError(f"time_window={time_window} must be > 0 (microseconds)")
        from tonic.transforms import ToFrame

        return ToFrame(sensor_size=self.sensor_size, time_window=time_window,
                       include_incomplete=True)(ev)


def load_nmnist(split: str = "train", root: str | Path | None = None) -> EventSet:
    """Index N-MNIST ``.bin`` files under ``root`` (no download).

    Arguments in the order of :func:`lavalab.data.load_mnist` (``split, root``). The old
    order ``load_nmnist(root, split)`` still works (a ``DeprecationWarning``): a first
    argument that is not a split name is taken as the root.
    """
    old_order = not (isinstance(split, str) and split in SPLITS) and (
        isinstance(split, Path) or root is None or root in SPLITS)
    if old_order:
        import warnings

        warnings.warn("load_nmnist(root, split) is deprecated: use load_nmnist(split, root) "
                      "like load_mnist", DeprecationWarning, stacklevel=2)
        split, root = ("train" if root is None else root), split
    check_split(split)
    if root is None:
        raise DataError("nmnist: give root=<folder with the extracted N-MNIST>; nothing is "
                        "bundled or downloaded")
    root = Path(root)
    if not root.is_dir():
        raise DataError(f"nmnist: data folder {root} "
                        + ("is a file, not a folder" if root.exists() else "does not exist"))
    candidates = [root / _FOLDERS[split], root / "NMNIST" / _FOLDERS[split]]
    base = next((c for c in candidates if c.is_dir()), None)
    if base is None:
        raise DataError(
            f"nmnist: no {_FOLDERS[split]}/ folder under {root} (looked for "
            + ", ".join(map(str, candidates)) + "); download and extract N-MNIST there"
        )
    files, labels = [], []
    for digit in range(10):
        for f in sorted((base / str(digit)).glob("*.bin")):
            files.append(f)
            labels.append(digit)
    if not files:
        raise DataError(f"nmnist: no <digit>/*.bin files under {base}")
    return EventSet(tuple(files), np.asarray(labels, np.int64), NMNIST_SENSOR_SIZE,
                    "nmnist", split)


def write_nmnist_bin(path: str | Path, x, y, t, p) -> Path:
    """Write events in N-MNIST's 40-bit format (for tests; t < 2**23 µs)."""
    x, y, t, p = (np.asarray(a, np.int64) for a in (x, y, t, p))
    if t.size and (t.min() < 0 or t.max() >= 2**23):
        raise ValueError("t must lie in [0, 2**23) microseconds")
    raw = np.empty((x.size, 5), np.uint8)
    raw[:, 0] = x
    raw[:, 1] = y
    raw[:, 2] = (p << 7) | ((t >> 16) & 127)
    raw[:, 3] = (t >> 8) & 255
    raw[:, 4] = t & 255
    return model_io.write_bytes(Path(path), raw.tobytes())  # atomic
