r"""A trained model as an NIR graph (``nir`` package, the format's own writer and reader).

Graph (node names; potentials in units of one input weight, the engine's float units;
times in seconds)::

    input --> w_in (Affine) --> exc (LIF | CubaLIF) --> output
    D&C:      exc --> w_ei (Affine, 1:1) --> inh (LIF) --> w_ie (Affine, all but self) --> exc
    tinySNN:  exc --> w_lat (Affine, all but self) --> exc

- Weights: the model's integers back in weight units (``w_int * 2**exp / (q * 2**exp_in)``),
  so the graph holds exactly the deployed (8-bit) values.
- Neurons: NIR ``LIF`` (``tau * dv/dt = (v_leak - v) + r * I``) with ``r = tau``, so that a
  spike (a Dirac impulse) of weight ``w`` raises v by ``w``, as lavalab's current-based
  LIF with an instantaneous synapse (``tau_u = 0``); ``CubaLIF`` (``tau_syn = tau_u``) when
  the synaptic current decays. ``v_threshold`` per neuron = ``v_th + theta_i``: the frozen
  adaptive threshold is **folded into per-neuron thresholds**; ``v_reset`` as trained.
- Not representable in NIR's LIF: the refractory period (dropped, named in the metadata)
  and the one-step delay of Lava's Dense (NIR edges have none).

The graph's ``metadata`` carries ``format = "lavalab-nir"``, ``version``, the network and
everything folded or dropped.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from lavalab import loihi_spec as spec
from lavalab.export._version import EXPORT_VERSION

__all__ = ["NIR_FORMAT", "to_nir", "write_nir", "read_nir"]

NIR_FORMAT = "lavalab-nir"


def _lif(p, vth_units, reset_units, tau_v_ms, tau_u_ms, n):
    import nir

    tau = np.full(n, tau_v_ms * 1e-3)
    common = dict(v_leak=np.zeros(n), v_threshold=np.asarray(vth_units, np.float64),
                  v_reset=np.full(n, reset_units))
    if tau_u_ms and np.isfinite(tau_u_ms):
        return nir.CubaLIF(tau_syn=np.full(n, tau_u_ms * 1e-3), tau_mem=tau, r=tau.copy(),
                           w_in=np.ones(n), **common)
    return nir.LIF(tau=tau, r=tau.copy(), **common)


def to_nir(model):
    """The :class:`nir.NIRGraph` of a fixed-point ``model`` (module docstring)."""
    import nir

    from lavalab.networks.wiring import dc_inhibition_weights, lateral_inhibition_weights

    if model.precision != "fixed":
        raise ValueError(f"model precision={model.precision!r}: NIR export reads the model's "
                         "Loihi integers (train with --precision fixed)")
    s, f = model.spec, model.fixed
    n, m = s.n_exc, s.n_input
    unit = f.v_scale / 2**spec.ACT_SHIFT  # integer input units per weight unit
    exc_p, inh_p, *_ = s.in_weight_units()
    for p in (exc_p, inh_p):
        if p is not None and not np.isfinite(p.tau_v_ms):
            raise ValueError("a neuron without leak (tau_v_ms=inf) has no NIR LIF form")
    theta = np.asarray(model.theta, np.float64)
    vth = ((f.exc.vth << spec.VTH_SHIFT) + theta) / f.v_scale
    nodes = {
        "input": nir.Input(input_type={"input": np.array([m])}),
        "w_in": nir.Affine(weight=np.asarray(model.w, np.float64) * 2.0**f.exp_in / unit,
                           bias=np.zeros(n)),
        "exc": _lif(f.exc, vth, f.exc.v_reset / f.v_scale, exc_p.tau_v_ms, exc_p.tau_u_ms, n),
        "output": nir.Output(output_type={"output": np.array([n])}),
    }
    edges = [("input", "w_in"), ("w_in", "exc"), ("exc", "output")]
    dropped = []
    if f.exc.one_spike_infer:
        dropped.append("one excitatory spike per step at inference (one_spike_infer; the "
                       "labels were assigned with it)")
    if f.exc.ref_steps:
        dropped.append(f"exc refractory period of {f.exc.ref_steps} steps")
    if s.has_inh:
        m_ei, m_ie = dc_inhibition_weights(n, f.w_ei * 2.0**f.exp_ei / unit,
                                           f.w_ie * 2.0**f.exp_ie / unit)
        nodes["w_ei"] = nir.Affine(weight=m_ei, bias=np.zeros(n))
        nodes["inh"] = _lif(f.inh, np.full(n, (f.inh.vth << spec.VTH_SHIFT) / f.v_scale),
                            f.inh.v_reset / f.v_scale, inh_p.tau_v_ms, inh_p.tau_u_ms, n)
        nodes["w_ie"] = nir.Affine(weight=m_ie, bias=np.zeros(n))
        edges += [("exc", "w_ei"), ("w_ei", "inh"), ("inh", "w_ie"), ("w_ie", "exc")]
        if f.inh.ref_steps:
            dropped.append(f"inh refractory period of {f.inh.ref_steps} steps")
    else:
        nodes["w_lat"] = nir.Affine(
            weight=lateral_inhibition_weights(n, f.w_lat * 2.0**f.exp_lat / unit),
            bias=np.zeros(n))
        edges += [("exc", "w_lat"), ("w_lat", "exc")]
    dropped.append("Lava Dense's one-step synaptic delay (NIR edges have none)")
    meta = {
        "format": NIR_FORMAT, "version": EXPORT_VERSION, "network": s.kind, "n_exc": n,
        "n_input": m, "dt_s": s.dt_ms * 1e-3, "present_steps": s.present_steps,
        "rest_steps": s.rest_steps, "max_rate_hz": s.max_rate_hz,
        "units": "potentials and weights in units of one input weight "
                 f"({s.input_gain} mV); times in s",
        "folded": "frozen adaptive threshold theta folded into exc.v_threshold "
                  "(v_th + theta_i per neuron); r = tau so a spike of weight w adds w to v",
        "dropped": "; ".join(dropped),
        "assignments": json.dumps(np.asarray(model.assignments).tolist()),
    }
    return nir.NIRGraph(nodes=nodes, edges=edges, metadata=meta)


def write_nir(model, path) -> dict:
    """Write the NIR graph of ``model`` to ``path`` (HDF5 via ``nir.write``), atomically."""
    import os
    import tempfile

    import nir

    g = to_nir(model)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name + ".", suffix=".tmp")
    os.close(fd)
    try:
        nir.write(tmp, g)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return {"path": str(path), "version": EXPORT_VERSION,
            "notes": [f"folded: {g.metadata['folded']}", f"dropped: {g.metadata['dropped']}"]}


def read_nir(path):
    """``nir.read`` plus a check that the file is a lavalab NIR export of this version."""
    import nir

    g = nir.read(path)
    meta = {k: (v.decode() if isinstance(v, bytes) else v) for k, v in g.metadata.items()}
    if meta.get("format") != NIR_FORMAT:
        raise ValueError(f"{path}: format {meta.get('format')!r}, expected {NIR_FORMAT!r}")
    if int(meta.get("version", -1)) != EXPORT_VERSION:
        raise ValueError(f"{path}: version {meta.get('version')}, this lavalab reads "
                         f"version {EXPORT_VERSION}")
    g.metadata = meta
    return g
