import math

import pytest

from lavalab.compile.discretize import discretize_time
from lavalab.compile.ir import TimeBudget
from lavalab.networks.snn import build


def test_reduced_timesteps_scale_rest_and_schedule():
    s = build("diehl-cook", 10, 16)
    d = discretize_time(s, TimeBudget(100))
    assert (d.present_steps, d.rest_steps) == (100, 43)  # round(150 * 100 / 350)
    assert d.spec.stdp.sample_steps == 143 == d.spec.sample_steps
    assert dict(d.ref_steps) == {"exc": 5, "inh": 2}
    assert s.present_steps == 350 and s.rest_steps == 150  # input untouched
    tau_v = {e.name: e for e in d.decays}["exc.tau_v_ms"]
    delta = 1 - math.exp(-1 / 100)
    assert tau_v.delta == pytest.approx(delta, rel=1e-15)
    assert tau_v.loihi == 41  # round(0.00995 * 4096) = round(40.76)
    assert tau_v.rel_error == pytest.approx(abs(41 / 4096 - delta) / delta)
    tau_u = {e.name: e for e in d.decays}["exc.tau_u_ms"]  # tau 0: lasts one step
    assert (tau_u.delta, tau_u.loihi, tau_u.rel_error) == (1.0, 4096, 0.0)


def test_step_size_changes_every_time_constant_and_window():
    s = build("tinysnn", 10, 16, rule="stdp2")  # window 10 steps of 1 ms
    d = discretize_time(s, TimeBudget(700, dt_ms=0.5, rest_steps=300))
    assert d.spec.dt_ms == d.spec.exc.dt_ms == d.spec.stdp.dt_ms == 0.5
    assert d.spec.stdp.window_steps == 20
    assert dict(d.ref_steps) == {"exc": 10}
    assert d.rest_steps == 300 and d.spec.stdp.sample_steps == 1000
    e = {x.name: x for x in d.decays}
    assert e["stdp.tau_pre_ms"].delta == pytest.approx(1 - math.exp(-0.5 / 20))
    assert "inh.tau_v_ms" not in e  # tinySNN has no inhibitory neurons


def test_minimum_rest_keeps_samples_independent():
    d = discretize_time(build("tinysnn", 4, 16), TimeBudget(3))
    assert d.rest_steps == 2  # round(150 * 3 / 350) = 1 -> at least 2


def test_bad_budgets_are_refused_by_name():
    s = build("diehl-cook", 4, 16)
    with pytest.raises(ValueError, match="dt_ms=20.0 .* one input spike per step"):
        discretize_time(s, TimeBudget(10, dt_ms=20.0))
    with pytest.raises(ValueError, match=r"exc.t_ref_ms=5.0 is 100 steps .* 0..64"):
        discretize_time(s, TimeBudget(1000, dt_ms=0.05))
    with pytest.raises(ValueError, match="timesteps=0"):
        TimeBudget(0)
    with pytest.raises(TypeError, match="TimeBudget"):
        discretize_time(s, 100)
