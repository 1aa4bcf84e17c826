"""NIR export: written with nir.write, read back with nir.read, and run by a second
library (Norse's NIR importer) against our float model."""

import numpy as np
import pytest

from lavalab.dynamics.encoding import poisson_raster
from lavalab.engine import infer, intensities, make_net
from lavalab.export.nir_graph import read_nir, write_nir
from lavalab.networks.snn import build, lower_network
from lavalab.stdp import Model


def small_model(kind, n=8, seed=0, theta_max=40000, t_ref_ms=5.0, v_reset=1.0):
    """A fixed-point model on 8x8 digits with random weights and theta (no training)."""
    s = build(kind, n, 64, present_steps=100, rest_steps=20)
    from dataclasses import replace

    s = replace(s, exc=replace(s.exc, v_th=4.0, v_reset=v_reset, t_ref_ms=t_ref_ms),
                inh=replace(s.inh, v_th=4.0, v_reset=v_reset, t_ref_ms=t_ref_ms)
                if s.inh else None)
    rng = np.random.default_rng(seed)
    w = rng.integers(0, 256, (n, 64))
    theta = rng.integers(0, theta_max, n)
    return Model(s, "fixed", seed, w, theta, np.arange(n) % 10, np.ones((n, 10)) / 10, {})


def digits(k=6):
    from lavalab.data import load_dataset

    return load_dataset("digits", "test").images[:k]


@pytest.mark.parametrize("kind", ["diehl-cook", "tinysnn"])
def test_nir_round_trip(tmp_path, kind):
    import nir

    m = small_model(kind)
    info = write_nir(m, tmp_path / "m.nir", target="generic")
    assert info["version"] == 1
    g = read_nir(tmp_path / "m.nir")
    assert isinstance(g, nir.NIRGraph)
    f = lower_network(m.spec)
    unit = f.v_scale / 64
    np.testing.assert_allclose(g.nodes["w_in"].weight, m.w / unit)
    # theta folded into per-neuron thresholds
    np.testing.assert_allclose(g.nodes["exc"].v_threshold,
                               ((f.exc.vth << 6) + m.theta) / f.v_scale)
    assert "theta" in g.metadata["folded"] and "refractory" in g.metadata["dropped"]
    rec = {("exc", "w_ei"), ("w_ei", "inh"), ("inh", "w_ie"), ("w_ie", "exc")} \
        if kind == "diehl-cook" else {("exc", "w_lat"), ("w_lat", "exc")}
    assert rec <= set(map(tuple, g.edges))
    inh = g.nodes["w_ie" if kind == "diehl-cook" else "w_lat"].weight
    assert (inh <= 0).all() and (np.diag(inh) == 0).all() and inh.min() < 0


def test_read_refuses_foreign_nir(tmp_path):
    import nir

    g = nir.NIRGraph(nodes={"i": nir.Input(input_type={"input": np.array([2])}),
                            "o": nir.Output(output_type={"output": np.array([2])})},
                     edges=[("i", "o")])
    nir.write(tmp_path / "x.nir", g)
    with pytest.raises(ValueError, match="format"):
        read_nir(tmp_path / "x.nir")


def run_norse(path, raster, period):
    """Norse's own NIR importer on the file. Norse's LIF ignores ``r`` (it integrates
    ``dv = dt/tau * (v_leak - v + I)`` with 0/1 spikes), so ``r / dt`` is folded into the
    weights of every edge into a LIF first: then a spike of weight w adds w to v, as the
    file specifies (r = tau, Dirac spikes)."""
    import norse.torch as nt
    import torch

    torch.set_num_threads(1)
    g = read_nir(path)
    dt = float(g.metadata["dt_s"])
    for src, dst in g.edges:
        if dst in ("exc", "inh"):
            g.nodes[src].weight = g.nodes[src].weight * (g.nodes[dst].r[:, None] / dt)
    for k in ("exc", "inh"):
        if k in g.nodes:
            g.nodes[k].r = np.ones_like(g.nodes[k].r)
    mod = nt.from_nir(g, dt=dt, ignore_warnings=True)
    rec = {}
    mod.exc.register_forward_hook(lambda mdl, i, o: rec.__setitem__("z", o[0]))
    n_s = len(raster) // period
    counts = np.zeros((n_s, g.nodes["exc"].tau.size))
    with torch.no_grad():
        for k in range(n_s):
            state = None  # every sample from rest
            for t in range(period):
                _, state = mod(torch.from_numpy(raster[k * period + t].astype(np.float32)),
                               state)
                counts[k] += rec["z"].numpy()
    return counts


@pytest.mark.parametrize("kind", [pytest.param("diehl-cook", marks=pytest.mark.slow),
                                  "tinysnn"])
def test_norse_runs_the_nir_file_like_our_float_model(tmp_path, kind):
    """Norse runs the file; compared with our float model on 10 digits, for a network NIR's
    LIF holds (no refractory period, reset to 0, as Norse's importer resets).

    Stated tolerance. tinySNN: per-digit total excitatory spikes within 10 % + 1 and
    per-(digit, neuron) counts correlated >= 0.95 (measured: identical). D&C: the most
    active neuron agrees on >= 80 % of digits and the total within 50 % (measured: 90 %,
    47 vs 35 spikes): Lava's Dense delays each hop by one step, so our E -> I -> E
    inhibition arrives two steps after the spike, Norse's (NIR edges have no delay; the
    cycle is broken once) one step after.
    """
    m = small_model(kind, t_ref_ms=0.0, v_reset=0.0)
    s = m.spec
    write_nir(m, tmp_path / "m.nir", target="generic")
    imgs = digits(10)
    seed = 11
    raster = poisson_raster(intensities(imgs), s.max_rate_hz, s.dt_ms, s.present_steps,
                            s.rest_steps, seed)
    cn = run_norse(tmp_path / "m.nir", raster, s.sample_steps)
    f = lower_network(s)
    cf, _ = infer(make_net(s, "float", m.w / (f.v_scale / 64), m.theta / f.v_scale,
                           seed=seed), imgs)
    assert cf.sum() > 20
    tot_n, tot_f = cn.sum(1), cf.sum(1)
    if kind == "tinysnn":
        assert np.all(np.abs(tot_n - tot_f) <= 0.1 * tot_f + 1), (tot_n, tot_f)
        assert np.corrcoef(cn.ravel(), cf.ravel())[0, 1] >= 0.95
    else:
        assert (cn.argmax(1) == cf.argmax(1)).mean() >= 0.8
        assert abs(cn.sum() - cf.sum()) <= 0.5 * cf.sum()
    # and the theta fold matters: without it, Norse's most active neurons move away
    m0 = Model(s, "fixed", 0, m.w, np.zeros_like(m.theta), m.assignments, m.proportions, {})
    write_nir(m0, tmp_path / "m0.nir", target="generic")
    c0 = run_norse(tmp_path / "m0.nir", raster, s.sample_steps)
    assert (c0.argmax(1) == cf.argmax(1)).mean() < (cn.argmax(1) == cf.argmax(1)).mean()
