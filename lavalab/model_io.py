"""Versioned, pickle-free files: trained models and training checkpoints (``.npz``).

A file holds numpy arrays plus one ``meta`` entry: a JSON string with ``format``,
``version`` and everything needed to rebuild the network (its :class:`NetworkSpec`).
Loaded with ``allow_pickle=False``. Writes are atomic (temporary file + rename), so an
interrupted run never leaves a half-written file.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

import numpy as np

__all__ = ["MODEL_FORMAT", "CHECKPOINT_FORMAT", "VERSION", "save_npz", "load_npz", "load_json",
           "write_json", "ModelFileError"]

MODEL_FORMAT = "lavalab-model"
CHECKPOINT_FORMAT = "lavalab-checkpoint"
VERSION = 1


class ModelFileError(ValueError):
    """A model or checkpoint file is missing, of another format or version, or damaged."""


def _atomic_write(path: Path, write) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name + ".", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp creates 0600; give the usual permissions
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def save_npz(path, fmt: str, meta: dict, arrays: dict) -> Path:
    """Write ``arrays`` and ``meta`` (JSON-able) to ``path`` atomically."""
    path = Path(path)
    meta = {"format": fmt, "version": VERSION, **meta}
    payload = {k: np.asarray(v) for k, v in arrays.items()}
    if "meta" in payload:
        raise ValueError("'meta' is reserved")
    payload["meta"] = np.asarray(json.dumps(meta))
    _atomic_write(path, lambda f: np.savez_compressed(f, **payload))
    return path


def load_npz(path, fmt: str) -> tuple[dict, dict]:
    """Read a file written by :func:`save_npz`; returns ``(meta, arrays)``."""
    path = Path(path)
    if not path.is_file():
        raise ModelFileError(f"{path}: no such file")
    try:
        with np.load(path, allow_pickle=False) as z:
            arrays = {k: z[k] for k in z.files}
    except (OSError, ValueError) as err:
        raise ModelFileError(f"{path}: not a readable .npz file ({err})") from err
    if "meta" not in arrays:
        raise ModelFileError(f"{path}: no 'meta' entry; not a lavalab file")
    meta = json.loads(str(arrays.pop("meta")))
    if meta.get("format") != fmt:
        raise ModelFileError(f"{path}: format {meta.get('format')!r}, expected {fmt!r}")
    if meta.get("version") != VERSION:
        raise ModelFileError(f"{path}: version {meta.get('version')}, this lavalab reads "
                             f"version {VERSION}")
    return meta, arrays


def load_json(path) -> dict:
    """Read a JSON file written by :func:`write_json`."""
    import json

    return json.loads(Path(path).read_text())


def write_json(path, obj) -> Path:
    """Write ``obj`` as indented JSON, atomically."""
    path = Path(path)
    text = json.dumps(obj, indent=2, sort_keys=False).encode()
    _atomic_write(path, lambda f: f.write(text))
    return path
