r"""A trained model as lava-dl netx HDF5 (``lava.lib.dl.netx.hdf5.Network`` loads it).

netx holds a sequential chain of layers (``input``, ``dense``, ``conv``, ``dense_rec``...),
each one population of CUBA neurons with one threshold. What it can hold of lavalab's
networks is the feed-forward part, lowered exactly as for Lava's stock Processes
(:mod:`lavalab.deploy.stock`: frozen theta folded into the 8-bit weights)::

    layer/0  type "input", shape [n_input]
    layer/1  type "dense", shape [n_exc], weight (n_exc, n_input) integers,
             neuron {type "CUBA", iDecay = du + 1, vDecay = dv, vThMant = vth,
                     refDelay = 1, gradedSpike = False}

The recurrent inhibition does not fit the format:

- Diehl & Cook's inhibitory population (exc -> inh 1:1 -> exc all but self) is a second
  population in a loop; a netx chain has no edge back to an earlier layer.
- tinySNN's E->E inhibition would be a ``dense_rec`` layer, but netx quantizes ``weight``
  and ``weight_rec`` together with **one** exponent (``optimize_weight_bits`` of their
  ``hstack``): input weights 0..255 beside inhibition ``w_lat << exp_lat`` (e.g. 239 << 7)
  lose the input weights' low bits.

So :func:`write_netx` refuses networks with inhibition (:class:`DesignRuleError`
``netx_feed_forward_only``, exit 2 in the CLI) unless ``inhibition="drop"``, which writes
the named inference approximation ``inhibition_dropped`` (its accuracy is measured in
``studies/deploy_agreement.py``). Load with ``Network(net_config=path,
reset_interval=<sample period>)`` for the per-sample reset (netx's LIFReset; the file's
root attributes give the period).
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import numpy as np

from lavalab.compile.rules import DesignRuleError
from lavalab.export._version import EXPORT_VERSION

__all__ = ["NETX_FORMAT", "INHIBITION_MODES", "write_netx", "read_netx_meta"]

NETX_FORMAT = "lavalab-netx"
INHIBITION_MODES = ("refuse", "drop")


def _refusal(kind: str) -> str:
    if kind == "diehl-cook":
        return ("diehl-cook's inhibitory population (exc -> inh 1:1 -> exc all but self) is a "
                "second population in a loop, and a netx HDF5 file is a sequential chain of "
                "layers with no edge back to an earlier layer")
    return ("tinysnn's E->E lateral inhibition would be a netx 'dense_rec' layer, but netx "
            "quantizes weight and weight_rec with one shared exponent (optimize_weight_bits "
            "of their hstack), which rounds away the 8-bit input weights beside the "
            "inhibition's w_lat << exp_lat")


def write_netx(model, path, inhibition: str = "refuse") -> dict:
    """Write the netx HDF5 of ``model`` (module docstring); returns ``dict(path, version,
    notes)``."""
    import h5py

    from lavalab.deploy.stock import lower_model

    if inhibition not in INHIBITION_MODES:
        raise ValueError(f"inhibition={inhibition!r} is not one of {INHIBITION_MODES}")
    s = model.spec
    if inhibition == "refuse":
        raise DesignRuleError(
            "netx_feed_forward_only", s.kind, "feed-forward dense layers",
            f"netx cannot hold this network: {_refusal(s.kind)}; export --format nir (which "
            "holds the inhibition as graph edges), or --netx-inhibition drop for the "
            "feed-forward inference approximation 'inhibition_dropped'")
    low = lower_model(model, inhibition=False)
    if low.exp_in:
        raise DesignRuleError("netx_weight_exp_0", low.exp_in, 0,
                              "netx derives the weight exponent from the weights themselves "
                              "(the model's input exponent must be 0)")
    b = np.asarray(low.exc.bias_mant) << low.exc.bias_exp
    if np.any(b % 64):
        raise DesignRuleError("netx_bias_exp_6", int(low.exc.bias_exp), 6,
                              "netx stores biases with bias_exp = 6: the bias must be a "
                              "multiple of 64")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name + ".", suffix=".tmp")
    os.close(fd)
    try:
        with h5py.File(tmp, "w") as h:
            h.attrs["format"] = NETX_FORMAT
            h.attrs["version"] = EXPORT_VERSION
            h.attrs["network"] = s.kind
            h.attrs["sample_steps"] = s.sample_steps
            h.attrs["present_steps"] = s.present_steps
            h.attrs["max_rate_hz"] = s.max_rate_hz
            h.attrs["approximations"] = "; ".join(low.approximations)
            h.attrs["assignments"] = np.asarray(model.assignments, np.int64)
            h.attrs["load_with"] = (f"lava.lib.dl.netx.hdf5.Network(net_config=FILE, "
                                    f"reset_interval={s.sample_steps})")
            layer = h.create_group("layer")
            inp = layer.create_group("0")
            inp.create_dataset("type", data=np.bytes_("input"))
            inp.create_dataset("shape", data=np.array([s.n_input]))
            d = layer.create_group("1")
            d.create_dataset("type", data=np.bytes_("dense"))
            d.create_dataset("shape", data=np.array([s.n_exc]))
            d.create_dataset("weight", data=np.asarray(low.w_in, np.int64))
            if np.any(b):
                d.create_dataset("bias", data=(b >> 6).astype(np.int64))
            nr = d.create_group("neuron")
            nr.create_dataset("type", data=np.bytes_("CUBA"))
            nr.create_dataset("iDecay", data=low.exc.du + 1)
            nr.create_dataset("vDecay", data=low.exc.dv)
            nr.create_dataset("vThMant", data=low.exc.vth)
            nr.create_dataset("refDelay", data=1)
            nr.create_dataset("gradedSpike", data=False)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return {"path": str(path), "version": EXPORT_VERSION,
            "notes": [f"approximations: {'; '.join(low.approximations)}",
                      f"load with lava.lib.dl.netx.hdf5.Network(net_config={str(path)!r}, "
                      f"reset_interval={s.sample_steps})"]}


def read_netx_meta(path) -> dict:
    """The lavalab attributes of a netx file written by :func:`write_netx` (checked)."""
    import h5py

    with h5py.File(path, "r") as h:
        meta = {k: (v.decode() if isinstance(v, bytes) else v) for k, v in h.attrs.items()}
    if meta.get("format") != NETX_FORMAT:
        raise ValueError(f"{path}: format {meta.get('format')!r}, expected {NETX_FORMAT!r}")
    if int(meta.get("version", -1)) != EXPORT_VERSION:
        raise ValueError(f"{path}: version {meta.get('version')}, this lavalab reads version "
                         f"{EXPORT_VERSION}")
    return meta
