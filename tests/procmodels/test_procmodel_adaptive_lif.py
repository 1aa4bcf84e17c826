"""AdaptiveLIF ProcessModels on Lava: bit-exact against Lava's stock LIF, both tags run."""

import numpy as np
import pytest
from lava.magma.core.run_conditions import RunSteps
from lava.proc.dense.process import Dense
from lava.proc.io.source import RingBuffer
from lava.proc.lif.process import LIF
from lava.proc.monitor.process import Monitor

from lavalab.backends.run_configs import Loihi2SimCfg
from lavalab.dynamics.adaptive_lif import AdaptiveLIFFixed, AdaptiveLIFParams
from lavalab.processes.adaptive_lif import AdaptiveLIF

UV_MAX = 2**23


def _inputs(n, steps, seed):
    """Signed inputs in sign-coherent bursts that drive u through its 24-bit wrap and v into
    saturation in both directions; |a_in << 6| stays below 2**31 as the model requires."""
    rng = np.random.default_rng(seed)
    a = np.zeros((n, steps), np.int64)
    t = 0
    while t < steps:
        length = int(rng.integers(20, 120))
        sign = rng.choice([-1, 1])
        mag = 2 ** rng.integers(6, 17, size=n)
        a[:, t:t + length] = sign * rng.integers(0, mag[:, None] + 1, (n, min(length, steps - t)))
        t += length
    a[rng.random((n, steps)) < 0.2] = 0
    return a


def _run(proc_factory, data, tag, probes=("u", "v")):
    steps = data.shape[1]
    src = RingBuffer(data=data)
    proc = proc_factory()
    src.s_out.connect(proc.a_in)
    mons = {}
    for name in probes:
        mons[name] = Monitor()
        mons[name].probe(getattr(proc, name), steps)
    spikes_mon = Monitor()
    spikes_mon.probe(proc.s_out, steps)
    try:
        proc.run(condition=RunSteps(num_steps=steps), run_cfg=Loihi2SimCfg(select_tag=tag))
        out = {k: m.get_data()[proc.name][k].astype(np.int64) for k, m in mons.items()}
        out["s"] = spikes_mon.get_data()[proc.name]["s_out"].astype(np.int64)
    finally:
        proc.stop()
    return out


@pytest.mark.parametrize("du,dv,vth,bias_mant,bias_exp", [
    (0, 0, 131071, 0, 0),        # no leak: wrap of u and saturation of v
    (5, 40, 90000, -3000, 2),
    (4095, 4095, 5000, 100, 7),  # full decay
])
def test_bit_exact_against_lava_lif(du, dv, vth, bias_mant, bias_exp):
    n, steps = 6, 1200
    data = _inputs(n, steps, seed=du + dv)
    lava = _run(lambda: LIF(shape=(n,), du=du, dv=dv, vth=vth, bias_mant=bias_mant,
                            bias_exp=bias_exp), data, "fixed_pt")
    p = AdaptiveLIFFixed.from_lava_lif(du=du, dv=dv, vth=vth, bias_mant=bias_mant,
                                       bias_exp=bias_exp)
    ours = _run(lambda: AdaptiveLIF(shape=(n,), params=p), data, "fixed_pt")
    for k in ("u", "v", "s"):
        np.testing.assert_array_equal(ours[k], lava[k], err_msg=k)
    # the test exercises what it claims
    u = lava["u"]
    assert lava["s"].sum() > 0
    if du == 0:
        jumps = np.abs(np.diff(u, axis=0)) > UV_MAX
        assert jumps.any(), "u never wrapped"
        assert (np.abs(lava["v"]) == UV_MAX - 1).any(), "v never saturated"


def test_refractory_theta_and_reset_through_lava():
    """A constant input; hand-traced: spike, v <- reset, 2 silent steps, theta grows."""
    p = AdaptiveLIFFixed(decay_u=4096, decay_v=0, vth=100, v_reset=-64, theta_plus=640,
                         ref_steps=2)
    data = np.full((1, 12), 40)  # u = 40 << 6 = 2560 each step
    out = _run(lambda: AdaptiveLIF(shape=(1,), params=p), data, "fixed_pt",
               probes=("u", "v", "theta", "ref"))
    v, s, th = out["v"][:, 0], out["s"][:, 0], out["theta"][:, 0]
    # hand trace: v += 2560 each active step; threshold 6400 + theta
    exp_v, exp_s, exp_th, vv, thv, ref = [], [], [], 0, 0, 0
    for _ in range(12):
        spike = 0
        if ref == 0:
            vv += 2560
            if vv > 6400 + thv:
                spike, vv, ref, thv = 1, -64, 2, thv + 640
        else:
            ref -= 1
        exp_v.append(vv)
        exp_s.append(spike)
        exp_th.append(thv)
    assert exp_s[:6] == [0, 0, 1, 0, 0, 0]
    np.testing.assert_array_equal(v, exp_v)
    np.testing.assert_array_equal(s, exp_s)
    np.testing.assert_array_equal(th, exp_th)


def test_inference_mode_freezes_theta():
    p = AdaptiveLIFFixed(decay_u=4096, decay_v=0, vth=10, theta_plus=64, decay_theta=100)
    data = np.full((1, 30), 50)
    out = _run(lambda: AdaptiveLIF(shape=(1,), params=p, learn=False, theta=1000), data,
               "fixed_pt", probes=("theta",))
    assert out["s"].sum() > 0
    assert (out["theta"] == 1000).all()


def test_float_model_runs_in_lava_and_matches_step_function():
    from lavalab.dynamics.adaptive_lif import init_state, step_float

    params = AdaptiveLIFParams(v_th=10.0, tau_u_ms=5.0, tau_v_ms=20.0, theta_plus=0.5,
                               tau_theta_ms=50.0, t_ref_ms=3.0)
    rng = np.random.default_rng(3)
    data = rng.random((4, 80)) * 3.0
    src_out = _run(lambda: AdaptiveLIF(shape=(4,), params=params), data, "floating_pt",
                   probes=())
    st, c, spikes = init_state((4,), "float"), params.per_step(), []
    for t in range(80):
        st, s = step_float(st, c, data[:, t])
        spikes.append(s)
    np.testing.assert_array_equal(src_out["s"], np.array(spikes, np.int64))
    assert src_out["s"].sum() > 3


def test_wrong_tag_is_refused_with_a_clear_message():
    p = AdaptiveLIFFixed(decay_u=1, decay_v=0, vth=10)
    with pytest.raises(ValueError, match="run it with select_tag='fixed_pt'"):
        _run(lambda: AdaptiveLIF(shape=(1,), params=p), np.zeros((1, 2)), "floating_pt",
             probes=())


def test_connects_to_lava_dense_in_a_network():
    p = AdaptiveLIFFixed.from_lava_lif(du=4095, dv=0, vth=300)
    src = RingBuffer(data=np.ones((1, 8)))
    dense = Dense(weights=np.array([[100]]))
    n = AdaptiveLIF(shape=(1,), params=p)
    src.s_out.connect(dense.s_in)
    dense.a_out.connect(n.a_in)
    m = Monitor()
    m.probe(n.v, 8)
    try:
        n.run(condition=RunSteps(num_steps=8), run_cfg=Loihi2SimCfg(select_tag="fixed_pt"))
        v = m.get_data()[n.name]["v"][:, 0]
    finally:
        n.stop()
    # Dense delays by one step; u = 6400 per step (du=4095 clears u); vth<<6 = 19200
    np.testing.assert_array_equal(v, [0, 6400, 12800, 19200, 0, 6400, 12800, 19200])
