"""The stock network on Lava's own, unmodified run configuration."""

import numpy as np
import pytest

from lavalab.deploy.lava_stock import run_stock, simulate_stock
from lavalab.deploy.stock import build_stock_network, lower_to_stock, stock_process_modules
from lavalab.engine import infer, make_net
from lavalab.networks.snn import build, lower_network


def exact_spec(kind, n=6, m=16, present=40, rest=10):
    """No refractory period, reset to 0 (as tests/compile/test_deploy.py)."""
    import math

    from lavalab.dynamics.adaptive_lif import AdaptiveLIFParams

    exc = AdaptiveLIFParams(v_th=1.0, v_reset=0.0, tau_u_ms=0.0, tau_v_ms=100.0,
                            theta_plus=0.05, tau_theta_ms=1e7, t_ref_ms=0.0)
    inh = AdaptiveLIFParams(v_th=2.0, v_reset=0.0, tau_u_ms=0.0, tau_v_ms=10.0,
                            theta_plus=0.0, tau_theta_ms=math.inf, t_ref_ms=0.0)
    extra = dict(inh=inh) if kind == "diehl-cook" else {}
    return build(kind, n, m, exc=exc, present_steps=present, rest_steps=rest, **extra)


def data(n=6, m=16, samples=8, seed=0):
    rng = np.random.default_rng(seed)
    return rng.integers(0, 256, (n, m)), rng.integers(0, 256, (samples, m)).astype(np.uint8)


def test_stock_network_holds_only_lava_processes_and_open_ports():
    import lava.magma.core.run_configs as lava_cfgs
    from lava.magma.core.process.ports.ports import InPort, OutPort

    s = build("diehl-cook", 5, 9)
    low = lower_to_stock(s, lower_network(s), np.full((5, 9), 7), np.arange(5) * 64)
    net = build_stock_network(low)
    mods = stock_process_modules(net.processes.values())
    assert set(net.processes) == {"dense_in", "exc", "inh", "dense_ei", "dense_ie"}
    assert type(net.processes["exc"]).__name__ == "LIFReset"
    assert all(mod.startswith("lava.proc.") for mod in mods.values()), mods
    assert not any("lavalab" in mod for mod in mods.values())
    assert isinstance(net.s_in, InPort) and net.s_in.shape == (9,)
    assert isinstance(net.s_out, OutPort) and net.s_out.shape == (5,)
    # the run configuration used is Lava's own class, not lavalab.backends.run_configs' subclass
    import lavalab.deploy.lava_stock as mod

    src = open(mod.__file__).read()
    assert "lavalab.backends.run_configs" not in src and (
        lava_cfgs.Loihi2SimCfg.__module__.startswith("lava."))


@pytest.mark.parametrize("kind", ["diehl-cook", "tinysnn"])
def test_lava_stock_run_equals_engine_when_exact(kind):
    """Lava's Loihi2SimCfg(select_tag='fixed_pt') on the stock Processes reproduces the
    engine spike for spike (exact lowering), with two copies side by side as well."""
    s = exact_spec(kind, present=30, rest=6)
    f = lower_network(s)
    w, imgs = data(samples=3)
    counts, events = infer(make_net(s, "fixed", w, None, seed=5, fixed=f), imgs)
    low = lower_to_stock(s, f, w, np.zeros(6, np.int64), exact=True)
    r = run_stock(low, imgs, 5, s.max_rate_hz, s.dt_ms, copies=2)
    assert counts.sum() > 5
    np.testing.assert_array_equal(r["counts"], counts)
    np.testing.assert_array_equal(r["events"][:, :5], events[:, :5])


@pytest.mark.parametrize("reset", ["chip", "host"])
def test_lava_stock_run_equals_simulator_with_approximations(reset):
    """A default D&C network (theta folded, refractory and reset dropped): Lava's run and
    the fast simulator used for the large measurements agree spike for spike, also when
    samples follow each other in one run (reset by LIFReset on chip, or by the host)."""
    from dataclasses import replace

    s = build("diehl-cook", 6, 16, present_steps=40, rest_steps=8)
    s = replace(s, exc=replace(s.exc, v_th=1.0, v_reset=0.4),
                inh=replace(s.inh, v_th=2.0, v_reset=1.0))
    f = lower_network(s)
    w, imgs = data(samples=3, seed=2)
    theta = np.array([0, 3000, 9000, 0, 20000, 64], np.int64)
    low = lower_to_stock(s, f, w, theta)
    assert not low.exact
    sim = simulate_stock(low, imgs, 9, s.max_rate_hz, s.dt_ms)
    lava = run_stock(low, imgs, 9, s.max_rate_hz, s.dt_ms, copies=1, reset=reset)
    assert sim["counts"].sum() > 5 and sim["inh_counts"].sum() > 0
    np.testing.assert_array_equal(lava["counts"], sim["counts"])
    np.testing.assert_array_equal(lava["inh_counts"], sim["inh_counts"])


def test_stock_network_learns_with_lava_learning_dense():
    """learning: the input synapses become a stock LearningDense running STDP1's rule
    string, fed back with the excitatory spikes; on Lava's Loihi2SimCfg the weights
    change (potentiation of active inputs of spiking neurons). STDP2 is refused."""
    from dataclasses import replace

    from lava.magma.core.run_conditions import RunSteps
    from lava.magma.core.run_configs import Loihi2SimCfg
    from lava.proc.io.source import RingBuffer

    from lavalab.deploy.stock import stock_learning_rule

    s = exact_spec("diehl-cook", present=40, rest=5)  # STDP1, rates the engine can hold:
    s = replace(s, stdp=replace(s.stdp, eta_pre=3e-2, eta_post=2e-2))  # see compile hints
    f = lower_network(s)
    w, _ = data()
    low = lower_to_stock(s, f, w, np.zeros(6, np.int64), exact=True)
    net = build_stock_network(low, learning_rule=stock_learning_rule(f.stdp))
    mods = stock_process_modules(net.processes.values())
    assert all(m.startswith("lava.proc.") for m in mods.values())
    assert type(net.processes["dense_in"]).__name__ == "LearningDense"
    spikes = (np.random.default_rng(1).random((16, 45)) < 0.5).astype(np.int32)
    src = RingBuffer(data=spikes)
    src.s_out.connect(net.s_in)
    try:
        src.run(condition=RunSteps(num_steps=45), run_cfg=Loihi2SimCfg(select_tag="fixed_pt"))
        w_after = np.rint(net.processes["dense_in"].weights.get())
    finally:
        src.stop()
    assert not np.array_equal(w_after, w)
    st2 = lower_network(build("tinysnn", 6, 16, rule="stdp2")).stdp
    with pytest.raises(ValueError, match="STDP1"):
        stock_learning_rule(st2)


def test_stock_network_one_call_from_a_model():
    from lavalab.deploy.stock import stock_network
    from lavalab.stdp import Model

    s = build("tinysnn", 4, 9)
    m = Model(s, "fixed", 0, np.full((4, 9), 9), np.arange(4) * 100, np.zeros(4, int),
              np.ones((4, 10)) / 10, {})
    net = stock_network(m)
    assert net.s_in.shape == (9,) and net.s_out.shape == (4,)
    assert set(net.processes) == {"dense_in", "exc", "dense_lat"}
    with pytest.raises(ValueError, match="fixed-point"):
        stock_network(Model(s, "float", 0, np.zeros((4, 9)), np.zeros(4), np.zeros(4, int),
                            np.ones((4, 10)) / 10, {}))
