"""One validation layer at the boundaries: what may reach a numba kernel or Lava.

Every array handed to the engine (:func:`lavalab.engine.make_net`, ``run``, ``infer``), to
the Lava backend, or read from a file (models, checkpoints, study results, datasets) passes
through a check here first. A check either returns the value in the form the kernels expect
or raises ``ValueError`` (or one of its subclasses ``DataError`` / ``ModelFileError``) with
one line naming the value and what is allowed; ``lavalab``'s CLI prints that line and exits
with code 2. Nothing out of range, of the wrong shape, non-finite or of a wrong dtype goes
further: the compiled kernels index arrays without bounds checks, so a mismatch there is
heap corruption, not an exception.

The checks mirror those of the Lava Processes (``lavalab.processes``), so the engine
accepts exactly the model contents the Lava backend accepts.
"""

from __future__ import annotations

import numbers
import os
from pathlib import Path

import numpy as np

__all__ = ["integer", "real", "flag", "images", "finite_array", "weights", "theta",
           "assignments", "proportions", "seed", "step", "out_dir", "out_file", "unique",
           "ENGINE_SEED_MAX", "PIXEL_MAX"]

#: Largest seed of a run: the engine and the Lava backend use ``seed .. seed + 3`` as keys
#: of 32-bit random streams.
ENGINE_SEED_MAX = 2**32 - 4
#: Image intensities are 0..255 (uint8 pixels; float images are accepted in that range).
PIXEL_MAX = 255


def integer(name: str, value, lo: int, hi: int) -> int:
    """``value`` as a Python int if it is an integer (``int`` or a numpy integer, not a bool,
    not a float) in ``lo..hi``; else ``ValueError`` naming ``name``."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral):
        raise ValueError(f"{name}={value!r} must be an integer in {lo}..{hi}")
    v = int(value)
    if not lo <= v <= hi:
        raise ValueError(f"{name}={v} is outside the allowed range {lo}..{hi}")
    return v


def real(name: str, value, lo: float = -np.inf, hi: float = np.inf) -> float:
    """``value`` as a finite float in ``[lo, hi]`` (numpy scalars accepted, bools not)."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise ValueError(f"{name}={value!r} must be a finite number in [{lo}, {hi}]")
    v = float(value)
    if not (np.isfinite(v) and lo <= v <= hi):
        raise ValueError(f"{name}={value!r} is outside the allowed range [{lo}, {hi}]")
    return v


def flag(name: str, value) -> bool:
    """A bool (or numpy bool, or the integers 0 / 1); strings such as ``'no'`` are refused
    (``bool('no')`` is True)."""
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, numbers.Integral) and int(value) in (0, 1):
        return bool(value)
    raise ValueError(f"{name}={value!r} must be True or False")


def seed(value, name: str = "seed") -> int:
    """A run seed, 0..:data:`ENGINE_SEED_MAX`."""
    return integer(name, value, 0, ENGINE_SEED_MAX)


def step(value, name: str = "t") -> int:
    """A global step counter, 0..2**62."""
    return integer(name, value, 0, 2**62)


def _real_array(name: str, value, shape: tuple[int, ...] | None = None) -> np.ndarray:
    try:
        a = np.asarray(value)
    except (TypeError, ValueError) as err:  # ragged lists and the like
        raise ValueError(f"{name}: not an array of numbers ({err})") from None
    if a.dtype.kind not in "uif" or a.dtype == np.bool_:
        raise ValueError(f"{name} must hold real numbers, got dtype {a.dtype}")
    if shape is not None and a.shape != shape:
        raise ValueError(f"{name} has shape {a.shape}, expected {shape}")
    if a.dtype.kind == "f" and not np.all(np.isfinite(a)):
        raise ValueError(f"{name} holds {int(np.sum(~np.isfinite(a)))} NaN or infinite "
                         "value(s)")
    return a


def finite_array(name: str, value, shape: tuple[int, ...] | None = None) -> np.ndarray:
    """A real array (integers or finite floats, not bools) of ``shape`` (when given)."""
    return _real_array(name, value, shape)


def _int_valued(name: str, a: np.ndarray, lo: int, hi: int) -> np.ndarray:
    if a.dtype.kind == "f" and np.any(a != np.round(a)):
        bad = a.flat[int(np.flatnonzero(a != np.round(a))[0])]
        raise ValueError(f"{name} must be integers (fixed point), got {bad!r}")
    if a.size and (a.min() < lo or a.max() > hi):
        bad = a.min() if a.min() < lo else a.max()
        raise ValueError(f"{name} value {bad!r} is outside the allowed range {lo}..{hi}")
    return a.astype(np.int64)


def images(value, n_input: int, name: str = "images") -> np.ndarray:
    """Images ``(N, H, W)`` or ``(N, n)`` with ``H * W == n == n_input``, values 0..255
    (integers, or finite floats). Returns the array (unchanged dtype)."""
    a = _real_array(name, value)
    if a.ndim < 2:
        raise ValueError(f"{name} must be (N, H, W) or (N, n) samples, got shape {a.shape}")
    per = int(np.prod(a.shape[1:], dtype=np.int64))
    if per != n_input:
        raise ValueError(f"{name} of shape {tuple(a.shape[1:])} ({per} inputs per sample) do "
                         f"not fit the network's {n_input} inputs (use the dataset the model "
                         "was trained on)")
    if a.size and (a.min() < 0 or a.max() > PIXEL_MAX):
        raise ValueError(f"{name} values span {a.min()}..{a.max()}, outside the allowed "
                         f"range 0..{PIXEL_MAX}")
    return a


def weights(value, spec, precision: str, fixed=None, name: str = "weights") -> np.ndarray:
    """Input weights ``(n_exc, n_input)``: integers 0..``fixed.stdp.w_max`` in fixed point,
    finite floats in [0, ``spec.stdp.w_max``] in float (what ``STDPDense`` accepts)."""
    a = _real_array(name, value, (spec.n_exc, spec.n_input))
    if precision == "fixed":
        return _int_valued(name, a, 0, int(fixed.stdp.w_max))
    w_max = float(spec.stdp.w_max)
    if a.size and (a.min() < 0 or a.max() > w_max):
        raise ValueError(f"{name} span {a.min()}..{a.max()}, outside the allowed range "
                         f"[0, {w_max}]")
    return a.astype(np.float64)


def theta(value, spec, precision: str, fixed=None, name: str = "theta") -> np.ndarray:
    """Adaptive thresholds ``(n_exc,)``, >= 0: integers 0..theta_max on the neuron grid in
    fixed point (what ``AdaptiveLIF`` accepts), finite floats in float."""
    a = _real_array(name, value, (spec.n_exc,))
    if precision == "fixed":
        p = fixed.exc
        a = _int_valued(name, a, 0, int(p.theta_max))
        if p.v_lsb and np.any(a % (1 << p.v_lsb)):
            raise ValueError(f"{name} must lie on the neuron grid (multiples of 2**v_lsb = "
                             f"{1 << p.v_lsb})")
        return a
    if a.size and a.min() < 0:
        raise ValueError(f"{name} value {a.min()!r} is negative (allowed: >= 0)")
    return a.astype(np.float64)


def assignments(value, n_exc: int, n_classes: int = 10,
                name: str = "assignments") -> np.ndarray:
    """Label assignments ``(n_exc,)``: a class 0..n_classes-1, or -1 (never fired)."""
    a = _real_array(name, value, (n_exc,))
    return _int_valued(name, a, -1, n_classes - 1)


def proportions(value, n_exc: int, n_classes: int = 10,
                name: str = "proportions") -> np.ndarray:
    """Response proportions ``(n_exc, n_classes)``, finite, in [0, 1]."""
    a = _real_array(name, value, (n_exc, n_classes)).astype(np.float64)
    if a.size and (a.min() < 0 or a.max() > 1):
        raise ValueError(f"{name} span {a.min()}..{a.max()}, outside the allowed range [0, 1]")
    return a


def unique(values) -> list:
    """``values`` without repeats, first occurrence kept (``linear,linear`` -> ``linear``)."""
    out = []
    for v in values:
        if v not in out:
            out.append(v)
    return out


def out_dir(path, flag: str = "--out") -> Path:
    """Check, without creating anything, that results can be written to folder ``path``:
    it is a folder (or can be created: its nearest existing parent is a writable folder).
    Raises ``ValueError`` naming ``flag`` and the path."""
    if not str(path).strip():
        raise ValueError(f"{flag} is empty: give a folder name")
    p = Path(path)
    if p.exists() and not p.is_dir():
        raise ValueError(f"{flag} {p} is an existing file, not a folder")
    problem = _folder_problem(p)
    if problem:
        raise ValueError(f"{flag} {p}: {problem}")
    return p


def out_file(path, flag: str = "--out") -> Path:
    """Check, without creating anything, that a file can be written at ``path``: it is not
    an existing folder and its folder is (or can be created as) a writable folder. Raises
    ``ValueError`` naming ``flag`` and the path."""
    if not str(path).strip():
        raise ValueError(f"{flag} is empty: give a file name")
    p = Path(path)
    if p.is_dir():
        raise ValueError(f"{flag} {p} is a folder: give a file name")
    problem = _folder_problem(p.parent)
    if problem:
        raise ValueError(f"{flag} {p}: {problem}")
    return p


def _folder_problem(p: Path) -> str | None:
    """Why folder ``p`` cannot be written to or created (None if it can)."""
    probe = p
    while not probe.exists():
        if probe.parent == probe:
            break
        probe = probe.parent
    if not probe.is_dir():
        return f"{probe} is a file, not a folder"
    if not (os.access(probe, os.W_OK | os.X_OK) and _can_create(probe)):
        return f"folder {probe} is not writable"
    return None


def _can_create(folder: Path) -> bool:
    """Whether a file can be created in ``folder`` (tried: permissions, read-only mounts,
    pseudo file systems)."""
    import tempfile

    try:
        with tempfile.TemporaryFile(dir=folder, prefix=".lavalab-probe-"):
            return True
    except OSError:
        return False
