"""netx HDF5 export: loaded by lava-dl's own reader and run on Lava."""

import numpy as np
import pytest

from lavalab.compile.rules import DesignRuleError
from lavalab.deploy.lava_stock import simulate_stock
from lavalab.deploy.stock import lower_model
from lavalab.export.netx_h5 import read_netx_meta, write_netx
from lavalab.networks.snn import build
from lavalab.stdp import Model


def small_model(kind, n=6, seed=0):
    from dataclasses import replace

    s = build(kind, n, 64, present_steps=60, rest_steps=10)
    s = replace(s, exc=replace(s.exc, v_th=3.0, v_reset=1.0))
    rng = np.random.default_rng(seed)
    return Model(s, "fixed", seed, rng.integers(0, 256, (n, 64)), rng.integers(0, 30000, n),
                 np.arange(n) % 10, np.ones((n, 10)) / 10, {})


@pytest.mark.parametrize("kind", ["diehl-cook", "tinysnn"])
def test_netx_refuses_recurrent_inhibition_by_name(tmp_path, kind):
    with pytest.raises(DesignRuleError, match="netx_feed_forward_only"):
        write_netx(small_model(kind), tmp_path / "m.h5")
    assert not (tmp_path / "m.h5").exists()


def test_netx_round_trip_runs_on_lava(tmp_path):
    """Write (inhibition dropped), load with lava.lib.dl.netx.hdf5.Network, run two digits
    on Lava's Loihi2SimCfg with netx's per-sample reset: spikes equal the stock simulator
    of the same lowering, bit for bit."""
    from lava.lib.dl.netx.hdf5 import Network
    from lava.magma.core.run_conditions import RunSteps
    from lava.magma.core.run_configs import Loihi2SimCfg
    from lava.proc.io.sink import RingBuffer as Sink
    from lava.proc.io.source import RingBuffer as Source

    from lavalab.data import load_dataset
    from lavalab.dynamics.encoding import poisson_raster
    from lavalab.engine import intensities

    m = small_model("tinysnn")
    s = m.spec
    info = write_netx(m, tmp_path / "m.h5", inhibition="drop")
    meta = read_netx_meta(info["path"])
    assert meta["sample_steps"] == s.sample_steps and "inhibition_dropped" in meta[
        "approximations"]
    net = Network(net_config=str(tmp_path / "m.h5"), reset_interval=s.sample_steps)
    low = lower_model(m, inhibition=False)
    np.testing.assert_array_equal(net.layers[0].synapse.weights.init, low.w_in)
    imgs = load_dataset("digits", "test").images[:2]
    raster = poisson_raster(intensities(imgs), s.max_rate_hz, s.dt_ms, s.present_steps,
                            s.rest_steps, 3)
    src = Source(data=raster.T.astype(np.int32))
    sink = Sink(shape=(s.n_exc,), buffer=len(raster))
    src.s_out.connect(net.inp)
    net.out.connect(sink.a_in)
    try:
        src.run(condition=RunSteps(num_steps=len(raster)),
                run_cfg=Loihi2SimCfg(select_tag="fixed_pt"))
        spikes = sink.data.get()
    finally:
        src.stop()
    counts = spikes.reshape(s.n_exc, 2, s.sample_steps).sum(2).T
    ref = simulate_stock(low, imgs, 3, s.max_rate_hz, s.dt_ms)["counts"]
    assert ref.sum() > 5
    np.testing.assert_array_equal(counts, ref)


def test_read_refuses_other_files(tmp_path):
    import h5py

    with h5py.File(tmp_path / "x.h5", "w") as h:
        h.attrs["format"] = "other"
    with pytest.raises(ValueError, match="format"):
        read_netx_meta(tmp_path / "x.h5")
