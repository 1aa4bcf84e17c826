"""MNIST / Fashion-MNIST from standard IDX files (raw or gzip-compressed).

File names are LeCun's (``train-images-idx3-ubyte`` ...), optionally with
``.gz``. They are looked for in the given folder and in torchvision's layout
(``<root>/MNIST/raw``, ``<root>/FashionMNIST/raw``).
"""

from __future__ import annotations

import gzip
import zlib
from pathlib import Path

import numpy as np

from lavalab import model_io
from lavalab.data._types import DataError, ImageSet, check_split

__all__ = ["read_idx", "write_idx", "load_idx_dataset", "IDX_FILES"]

# IDX type codes -> numpy big-endian dtypes (LeCun's format description).
_IDX_DTYPES = {
    0x08: np.dtype(">u1"),
    0x09: np.dtype(">i1"),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}

IDX_FILES = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}

_TORCHVISION_DIRS = {"mnist": "MNIST", "fashion-mnist": "FashionMNIST"}


def _read_bytes(path: Path) -> bytes:
    try:
        if path.suffix == ".gz":
            with gzip.open(path, "rb") as f:
                return f.read()
        return path.read_bytes()
    except (OSError, EOFError, zlib.error) as err:  # gzip raises these for damaged files
        raise DataError(f"{path}: cannot read, damaged? ({type(err).__name__}: {err})") from err


def read_idx(path: str | Path) -> np.ndarray:
    """Read one IDX file into a native-endian numpy array.

    Raises :class:`DataError` naming the file for a wrong magic number, an
    unknown type code, or a file shorter or longer than its header says.
    """
    path = Path(path)
    raw = _read_bytes(path)
    if len(raw) < 4:
        raise DataError(f"{path}: truncated IDX file ({len(raw)} bytes, header needs 4)")
    if raw[0] != 0 or raw[1] != 0:
        raise DataError(
            f"{path}: wrong IDX magic number 0x{raw[:4].hex()} (must start with 0x0000)"
        )
    code, ndim = raw[2], raw[3]
    if code not in _IDX_DTYPES:
        raise DataError(f"{path}: unknown IDX type code 0x{code:02x}")
    if ndim == 0:
        raise DataError(f"{path}: IDX file with 0 dimensions")
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise DataError(f"{path}: truncated IDX header ({len(raw)} of {header} bytes)")
    dims = tuple(int(d) for d in np.frombuffer(raw, ">u4", count=ndim, offset=4))
    dtype = _IDX_DTYPES[code]
    expected = int(np.prod(dims, dtype=np.int64)) * dtype.itemsize
    body = len(raw) - header
    if body < expected:
        raise DataError(
            f"{path}: truncated IDX file: header says {dims} ({expected} data bytes), "
            f"file has {body}"
        )
    if body > expected:
        raise DataError(f"{path}: {body - expected} bytes after the data the header describes")
    return np.frombuffer(raw, dtype, offset=header).reshape(dims).astype(dtype.newbyteorder("="))


def write_idx(path: str | Path, array: np.ndarray) -> Path:
    """Write ``array`` as an IDX file (``.gz`` suffix: gzip). For tests and exports."""
    path = Path(path)
    array = np.asarray(array)
    codes = {v.newbyteorder("="): k for k, v in _IDX_DTYPES.items()}
    key = array.dtype.newbyteorder("=")
    if key not in codes:
        raise ValueError(f"dtype {array.dtype} has no IDX type code")
    header = bytes([0, 0, codes[key], array.ndim]) + np.asarray(array.shape, ">u4").tobytes()
    data = header + array.astype(array.dtype.newbyteorder(">")).tobytes()
    if path.suffix == ".gz":
        data = gzip.compress(data)
    return model_io.write_bytes(path, data)  # atomic


def _find(root: Path, stem: str, name: str) -> Path:
    folders = [root]
    if name in _TORCHVISION_DIRS:
        folders.append(root / _TORCHVISION_DIRS[name] / "raw")
    for folder in folders:
        for candidate in (folder / stem, folder / (stem + ".gz")):
            if candidate.is_file():
                return candidate
    looked = ", ".join(str(f / stem) + "[.gz]" for f in folders)
    raise DataError(f"{name}: file {stem} not found (looked for {looked})")


def load_idx_dataset(root: str | Path, split: str = "train", name: str = "mnist") -> ImageSet:
    """Load one split of an MNIST-format dataset from IDX files under ``root``.

    Returns images ``uint8 (N, 28, 28)`` in 0..255 and labels ``int64 (N,)``.
    """
    check_split(split)
    root = Path(root)
    if not root.is_dir():
        raise DataError(f"{name}: data folder {root} "
                        + ("is a file, not a folder" if root.exists() else "does not exist"))
    img_path = _find(root, IDX_FILES[split][0], name)
    lbl_path = _find(root, IDX_FILES[split][1], name)
    images = read_idx(img_path)
    labels = read_idx(lbl_path)
    if images.ndim != 3 or images.dtype != np.uint8:
        raise DataError(f"{img_path}: expected uint8 images (N, H, W), got {images.dtype} "
                        f"{images.shape}")
    if labels.ndim != 1:
        raise DataError(f"{lbl_path}: expected a 1-D label file, got shape {labels.shape}")
    if images.shape[0] != labels.shape[0]:
        raise DataError(
            f"{name} {split}: {images.shape[0]} images in {img_path.name} but "
            f"{labels.shape[0]} labels in {lbl_path.name}"
        )
    if labels.size and (labels.min() < 0 or labels.max() > 9):
        raise DataError(f"{lbl_path}: labels outside 0..9 (min {labels.min()}, max {labels.max()})")
    return ImageSet(np.ascontiguousarray(images), labels.astype(np.int64), name, split,
                    str(img_path.parent))
