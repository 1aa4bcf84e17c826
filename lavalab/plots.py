"""Figures of a network: the receptive-field grid (Diehl & Cook's figure) and a spike raster;
:func:`_plt` / :func:`_save`, the matplotlib helpers every figure of lavalab uses."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

__all__ = ["receptive_fields", "spike_raster", "SINGLE_COLUMN_IN", "DOUBLE_COLUMN_IN"]

#: Figure widths (inches) that fit a paper's single column and its full text width.
SINGLE_COLUMN_IN = 3.5
DOUBLE_COLUMN_IN = 7.0
#: Font sizes for figures printed at column width (points).
PAPER_RC = {"font.size": 8, "axes.titlesize": 8, "axes.labelsize": 8, "xtick.labelsize": 7,
            "ytick.labelsize": 7, "legend.fontsize": 7, "figure.titlesize": 9,
            "savefig.dpi": 200}


def _plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    plt.rcParams.update(PAPER_RC)
    return plt


def receptive_fields(w, image_shape, path, title: str = "") -> Path:
    """Each neuron's input weights as an image, on a square grid; written as PNG."""
    w = np.asarray(w, np.float64)
    n = w.shape[0]
    h, wd = image_shape
    if w.shape[1] != h * wd:
        raise ValueError(f"weights have {w.shape[1]} inputs, image_shape {image_shape} has "
                         f"{h * wd}")
    side = math.ceil(math.sqrt(n))
    grid = np.full((side * (h + 1), side * (wd + 1)), np.nan)
    for k in range(n):
        r, c = divmod(k, side)
        img = w[k].reshape(h, wd)
        grid[r * (h + 1):r * (h + 1) + h, c * (wd + 1):c * (wd + 1) + wd] = img / max(
            img.max(), 1e-12)
    plt = _plt()
    size = min(DOUBLE_COLUMN_IN - 0.8, 2 + side * 0.35)
    fig, ax = plt.subplots(figsize=(size + 0.8, size))
    im = ax.imshow(grid, cmap="hot_r", interpolation="nearest", vmin=0, vmax=1)
    ax.set_axis_off()
    cb = fig.colorbar(im, ax=ax, fraction=0.046, pad=0.03)
    cb.set_label("weight / neuron's max weight")
    ax.set_title(title or f"receptive fields of {n} excitatory neurons")
    fig.tight_layout()
    path = Path(path)
    _write_png(fig, path)
    plt.close(fig)
    return path


def spike_raster(input_spikes, exc_spikes, path, present_steps: int | None = None,
                 title: str = "") -> Path:
    """Input and excitatory spike rasters of one sample (steps on x); written as PNG."""
    plt = _plt()
    inp, exc = np.asarray(input_spikes, bool), np.asarray(exc_spikes, bool)
    fig, axes = plt.subplots(2, 1, figsize=(DOUBLE_COLUMN_IN, 4.5), sharex=True,
                             gridspec_kw={"height_ratios": [2, 1]})
    for ax, s, name in ((axes[0], inp, "input"), (axes[1], exc, "excitatory")):
        t, i = np.nonzero(s)
        ax.scatter(t, i, s=1.5, c="k", marker="|")
        ax.set_ylabel(f"{name} neuron")
        ax.set_ylim(-1, s.shape[1])
        ax.set_xlim(-1, s.shape[0])
        ax.set_title(f"{name} spikes ({int(s.sum())})", loc="left")
        if present_steps is not None:
            ax.axvline(present_steps - 0.5, color="tab:red", lw=0.8, ls="--",
                       label="end of presentation")
    if present_steps is not None:
        axes[1].legend(loc="upper right")
    axes[1].set_xlabel("timestep")
    fig.suptitle(title or f"spike raster of one sample: {int(inp.sum())} input, "
                 f"{int(exc.sum())} excitatory spikes")
    fig.tight_layout()
    path = Path(path)
    _write_png(fig, path)
    plt.close(fig)
    return path


def _write_png(fig, path: Path) -> None:
    """``fig`` as PNG at ``path``, atomically (a killed run leaves no half-written image)."""
    import io

    from lavalab.model_io import write_bytes

    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    write_bytes(path, buf.getvalue())


def _save(fig, path, tight: bool = True) -> Path:
    path = Path(path)
    if tight:
        fig.tight_layout()
    _write_png(fig, path)
    _plt().close(fig)
    return path
