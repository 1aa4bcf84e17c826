"""Exports of trained models to standard formats (versioned, round-trip tested).

- :mod:`lavalab.export.nir_graph`: NIR (Neuromorphic Intermediate Representation) graphs,
  read by ``nir.read`` and run by snnTorch's and Norse's importers (tests), one file
  variant per importer.
- :mod:`lavalab.export.netx_h5`: lava-dl netx HDF5, loaded by
  ``lava.lib.dl.netx.hdf5.Network``.

:func:`export_model` dispatches on the format name.
"""

from __future__ import annotations

from lavalab.export._version import EXPORT_VERSION

__all__ = ["FORMATS", "EXPORT_VERSION", "export_model"]

FORMATS = ("nir", "netx")


def export_model(model, fmt: str, path, netx_inhibition: str = "refuse",
                 nir_target: str | None = None) -> dict:
    """Write ``model`` (:class:`lavalab.stdp.Model`) as ``fmt`` to ``path``; ``nir_target``:
    the importer an NIR file is written for (:data:`lavalab.export.nir_graph.TARGETS`,
    default :data:`~lavalab.export.nir_graph.DEFAULT_TARGET`).

    Returns ``dict(path, version, notes)``; ``notes`` say what was folded or dropped.
    """
    if fmt == "nir":
        from lavalab.export.nir_graph import DEFAULT_TARGET, write_nir

        return write_nir(model, path, nir_target or DEFAULT_TARGET)
    if nir_target is not None:
        raise ValueError(f"nir_target={nir_target!r} applies to format 'nir' only, not {fmt!r}")
    if fmt == "netx":
        from lavalab.export.netx_h5 import write_netx

        return write_netx(model, path, inhibition=netx_inhibition)
    raise ValueError(f"format={fmt!r} is not one of {FORMATS}")
