r"""A trained model as an NIR graph (``nir`` package, the format's own writer and reader).

Graph (node names; potentials in units of one input weight, the engine's float units)::

    input --> w_in (Affine) --> exc (CubaLIF | LIF) --> output
    D&C:      exc --> w_ei (Affine, 1:1) --> inh (CubaLIF | LIF) --> w_ie (Affine) --> exc
    tinySNN:  exc --> w_lat (Affine, all but self) [--> w_lat_scale (Affine, diagonal)] --> exc

- Weights: the model's integers back in weight units (``w_int * 2**exp / (q * 2**exp_in)``),
  so the graph holds exactly the deployed (8-bit) values.
- One file per importer (``target``, :data:`TARGETS`); what differs is how the neuron
  and the time base are written, so that each importer's own discretisation reproduces
  lavalab's float step ``u = (1 - du) u + a``, ``v = (1 - dv) v + u``, spike if
  ``v > v_th``:

  ``snntorch`` (default; Norse runs it too, with ``dt = metadata["dt_s"]``)
      ``CubaLIF`` in a time base of ``dt = 1e-4 s`` (snnTorch's importer hard-codes that
      step): ``tau_mem = dt / dv``, ``tau_syn = dt / du`` (``dt`` when the synapse is
      instantaneous, ``du = 1``), ``r = tau_mem / dt``, ``w_in = tau_syn / dt``; every
      layer has one ``v_threshold`` (the frozen theta folded into the weights, below).
      Times are scaled by ``1e-4 / dt_model`` (``metadata["time_scale"]``).
  ``norse``
      the same in seconds (``dt = dt_model``): Norse's ``from_nir(g, dt=dt_s)``.
  ``sinabs``
      ``LIF`` with times in steps (``dt = 1``): sinabs reads ``tau`` in steps, steps
      ``v = exp(-1/tau) v + inputs`` (``r`` ignored, no ``CubaLIF``), so
      ``tau = -1 / ln(1 - dv)``; one threshold per layer.
  ``generic``
      the literal NIR file: ``LIF`` (or ``CubaLIF``) with ``tau`` in seconds, ``r = tau``
      so a Dirac spike of weight ``w`` raises v by ``w``, theta folded into per-neuron
      ``v_threshold = v_th + theta_i`` (snnTorch refuses it: one threshold per layer).

  ``tau = dt / d`` (not the continuous ``-dt / ln(1 - d)``) because every importer steps
  the ODE with forward Euler: the file then gives exactly lavalab's per-step decay ``d``.
- Uniform threshold (all targets but ``generic``): neuron ``i``'s input and inhibitory
  weights are scaled by ``s_i = v_th / (v_th + theta_i)`` (as :mod:`lavalab.deploy.stock`
  does for Lava's stock LIF). v is linear in those weights, so ``v_i > v_th + theta_i``
  iff ``s_i v_i > v_th``: exact in float arithmetic, with ``v_reset`` scaled by ``s_i``.
  ``metadata["theta_scale"]`` holds the ``s_i``.
- Not representable in NIR's LIF: the refractory period (dropped, named in the metadata)
  and the one-step delay of Lava's Dense (NIR edges have none). snnTorch's and Norse's
  importers reset to 0 whatever ``v_reset`` says (named in the metadata).

The graph's ``metadata`` carries ``format = "lavalab-nir"``, ``version``, ``target``,
``dt_s``, the network and everything folded or dropped.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from lavalab import loihi_spec as spec
from lavalab.export._version import EXPORT_VERSION

__all__ = ["NIR_FORMAT", "TARGETS", "DEFAULT_TARGET", "SNNTORCH_DT_S", "to_nir", "write_nir",
           "read_nir", "time_base", "write_graph"]

NIR_FORMAT = "lavalab-nir"
#: Importers a file can be written for (``lavalab export --format nir --for TARGET``).
TARGETS = ("snntorch", "norse", "sinabs", "generic")
#: The file snnTorch and Norse both run.
DEFAULT_TARGET = "snntorch"
#: The step snnTorch 1.0's ``import_from_nir`` assumes (``dt = 1e-4`` in its source).
SNNTORCH_DT_S = 1e-4


def time_base(target: str, dt_model_s: float) -> float:
    """The step (file time units) a ``target`` file is written in."""
    if target not in TARGETS:
        raise ValueError(f"target={target!r} is not one of {TARGETS}")
    return {"snntorch": SNNTORCH_DT_S, "sinabs": 1.0}.get(target, dt_model_s)


def _cuba(p_float, vth, v_reset, dt, n):
    """CubaLIF whose Euler step at ``dt`` is lavalab's float step (module docstring)."""
    import nir

    du = p_float.decay_u if p_float.decay_u > 0 else 1.0
    tau_syn = np.full(n, dt / du)
    tau_mem = np.full(n, dt / p_float.decay_v)
    return nir.CubaLIF(tau_syn=tau_syn, tau_mem=tau_mem, r=tau_mem / dt, w_in=tau_syn / dt,
                       v_leak=np.zeros(n), v_threshold=np.broadcast_to(vth, (n,)).astype(float),
                       v_reset=np.broadcast_to(v_reset, (n,)).astype(float))


def _lif_steps(p_float, vth, v_reset, n):
    """LIF in steps for sinabs: its ``LIF`` steps ``v = exp(-1/tau) v + sum(inputs)`` (r
    ignored), so ``tau = -1 / ln(1 - dv)`` gives lavalab's decay exactly."""
    import nir

    if p_float.decay_u not in (0.0, 1.0):
        raise ValueError("target 'sinabs': a decaying synaptic current has no form in "
                         "sinabs' NIR importer (LIF only)")
    tau = np.full(n, -1.0 / np.log1p(-p_float.decay_v))
    return nir.LIF(tau=tau, r=tau.copy(), v_leak=np.zeros(n),
                   v_threshold=np.broadcast_to(vth, (n,)).astype(float),
                   v_reset=np.broadcast_to(v_reset, (n,)).astype(float))


def _lif(p, vth_units, reset_units, tau_v_ms, tau_u_ms, n):
    import nir

    tau = np.full(n, tau_v_ms * 1e-3)
    common = dict(v_leak=np.zeros(n), v_threshold=np.asarray(vth_units, np.float64),
                  v_reset=np.full(n, reset_units))
    if tau_u_ms and np.isfinite(tau_u_ms):
        return nir.CubaLIF(tau_syn=np.full(n, tau_u_ms * 1e-3), tau_mem=tau, r=tau.copy(),
                           w_in=np.ones(n), **common)
    return nir.LIF(tau=tau, r=tau.copy(), **common)


def to_nir(model, target: str = DEFAULT_TARGET):
    """The :class:`nir.NIRGraph` of a fixed-point ``model`` for ``target`` (module
    docstring)."""
    import nir

    from lavalab.networks.wiring import dc_inhibition_weights, lateral_inhibition_weights

    if model.precision != "fixed":
        raise ValueError(f"model precision={model.precision!r}: NIR export reads the model's "
                         "Loihi integers (train with --precision fixed)")
    s, f = model.spec, model.fixed
    n, m = s.n_exc, s.n_input
    dt = time_base(target, s.dt_ms * 1e-3)
    generic = target == "generic"
    unit = f.v_scale / 2**spec.ACT_SHIFT  # integer input units per weight unit
    exc_p, inh_p, *_ = s.in_weight_units()
    for p in (exc_p, inh_p):
        if p is not None and not np.isfinite(p.tau_v_ms):
            raise ValueError("a neuron without leak (tau_v_ms=inf) has no NIR LIF form")
    theta = np.asarray(model.theta, np.float64)
    v_th = (f.exc.vth << spec.VTH_SHIFT) / f.v_scale
    vth = v_th + theta / f.v_scale
    scale = np.ones(n) if generic else v_th / vth  # s_i: theta folded into the weights
    w_in = np.asarray(model.w, np.float64) * 2.0**f.exp_in / unit
    reset_exc = f.exc.v_reset / f.v_scale
    if generic:
        exc = _lif(f.exc, vth, reset_exc, exc_p.tau_v_ms, exc_p.tau_u_ms, n)
    elif target == "sinabs":
        exc = _lif_steps(exc_p.per_step(), v_th, reset_exc * scale, n)
    else:
        exc = _cuba(exc_p.per_step(), v_th, reset_exc * scale, dt, n)
    nodes = {
        "input": nir.Input(input_type={"input": np.array([m])}),
        "w_in": nir.Affine(weight=w_in * scale[:, None], bias=np.zeros(n)),
        "exc": exc,
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
        vth_inh = (f.inh.vth << spec.VTH_SHIFT) / f.v_scale
        if generic:
            nodes["inh"] = _lif(f.inh, np.full(n, vth_inh), f.inh.v_reset / f.v_scale,
                                inh_p.tau_v_ms, inh_p.tau_u_ms, n)
        elif target == "sinabs":
            nodes["inh"] = _lif_steps(inh_p.per_step(), vth_inh, f.inh.v_reset / f.v_scale, n)
        else:
            nodes["inh"] = _cuba(inh_p.per_step(), vth_inh, f.inh.v_reset / f.v_scale, dt, n)
        nodes["w_ie"] = nir.Affine(weight=m_ie * scale[:, None], bias=np.zeros(n))
        edges += [("exc", "w_ei"), ("w_ei", "inh"), ("inh", "w_ie"), ("w_ie", "exc")]
        if target == "snntorch":
            # a zero-weight input -> inh edge: with two inputs, nirtorch's interpreter
            # (nir_to_torch, snnTorch's) feeds inh the previous step's w_ei, as exc the
            # previous step's w_ie, so E -> I -> E takes two steps, as Lava's two Dense
            # hops do. (Norse's executor, nirtorch.load, runs nodes in depth-first order
            # from the input: one step per cycle whatever the graph.)
            nodes["w_in_inh"] = nir.Affine(weight=np.zeros((n, m)), bias=np.zeros(n))
            edges += [("input", "w_in_inh"), ("w_in_inh", "inh")]
        if f.inh.ref_steps:
            dropped.append(f"inh refractory period of {f.inh.ref_steps} steps")
    elif generic:
        nodes["w_lat"] = nir.Affine(
            weight=lateral_inhibition_weights(n, f.w_lat * 2.0**f.exp_lat / unit),
            bias=np.zeros(n))
        edges += [("exc", "w_lat"), ("w_lat", "exc")]
    else:
        # exc -> w_lat -> w_lat_scale -> exc, not the 2-cycle exc <-> w_lat: snnTorch 1.0's
        # importer rewires a LIF <-> Affine 2-cycle into a subgraph that routes the layer's
        # input through the recurrent weights (input -> w_lat -> exc), which nirtorch then
        # runs literally. The diagonal w_lat_scale carries the theta fold of this path.
        nodes["w_lat"] = nir.Affine(
            weight=lateral_inhibition_weights(n, f.w_lat * 2.0**f.exp_lat / unit),
            bias=np.zeros(n))
        nodes["w_lat_scale"] = nir.Affine(weight=np.diag(scale), bias=np.zeros(n))
        edges += [("exc", "w_lat"), ("w_lat", "w_lat_scale"), ("w_lat_scale", "exc")]
    if target == "snntorch" and s.has_inh:
        # node order is execution order in nirtorch's interpreters: exc and inh run before
        # w_ie and w_ei, so each reads the previous step's inhibition / excitation
        order = ("input", "w_in", "w_in_inh", "exc", "inh", "w_ei", "w_ie", "output")
        nodes = {k: nodes[k] for k in order}
    dropped.append("Lava Dense's one-step synaptic delay (NIR edges have none)")
    if not generic:
        dropped.append("v_reset: snnTorch's and Norse's importers reset v to 0 (the file "
                       "keeps the model's v_reset)")
    folded = ("frozen adaptive threshold theta folded into exc.v_threshold "
              "(v_th + theta_i per neuron); r = tau so a spike of weight w adds w to v"
              if generic else
              "frozen adaptive threshold theta folded into the weights: neuron i's input and "
              "inhibitory weights and v_reset scaled by theta_scale[i] = v_th / (v_th + "
              "theta_i), one v_threshold per layer; tau = dt / decay, r = tau_mem / dt, "
              "w_in = tau_syn / dt so that an Euler step of dt is lavalab's float step")
    meta = {
        "format": NIR_FORMAT, "version": EXPORT_VERSION, "network": s.kind, "n_exc": n,
        "n_input": m, "target": target, "dt_s": dt, "model_dt_s": s.dt_ms * 1e-3,
        "time_scale": dt / (s.dt_ms * 1e-3), "present_steps": s.present_steps,
        "rest_steps": s.rest_steps, "max_rate_hz": s.max_rate_hz,
        "units": "potentials and weights in units of one input weight "
                 f"({s.input_gain} mV); times in units of dt_s = {dt:g} per step "
                 "(seconds times time_scale)",
        "folded": folded,
        "theta_scale": json.dumps(scale.tolist()),
        "dropped": "; ".join(dropped),
        "assignments": json.dumps(np.asarray(model.assignments).tolist()),
    }
    return nir.NIRGraph(nodes=nodes, edges=edges, metadata=meta)


def write_graph(g, path) -> Path:
    """``nir.write`` of ``g`` to ``path``, atomically (temp file + rename)."""
    import os
    import tempfile

    import nir

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name + ".", suffix=".tmp")
    os.close(fd)
    try:
        nir.write(tmp, g)
        if g.metadata.get("target") == "sinabs":
            _strip_v_reset(tmp)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def _strip_v_reset(path) -> None:
    """Remove the LIF nodes' ``v_reset`` datasets: sinabs pins ``nir<=1.0.4``, whose ``LIF``
    has no ``v_reset`` and refuses a file with one (sinabs resets by subtraction anyway)."""
    import h5py

    with h5py.File(path, "r+") as h:
        for node in h["node/nodes"].values():
            if "v_reset" in node and node["type"][()] in (b"LIF", "LIF"):
                del node["v_reset"]


def write_nir(model, path, target: str = DEFAULT_TARGET) -> dict:
    """Write the NIR graph of ``model`` for ``target`` to ``path`` (HDF5 via ``nir.write``),
    atomically."""
    g = to_nir(model, target)
    path = write_graph(g, path)
    return {"path": str(path), "version": EXPORT_VERSION, "target": target,
            "notes": [f"target: {target} (dt_s = {g.metadata['dt_s']:g})",
                      f"folded: {g.metadata['folded']}", f"dropped: {g.metadata['dropped']}"]}


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
