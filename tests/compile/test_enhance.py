from dataclasses import replace

import pytest

from lavalab.compile.discretize import discretize_time
from lavalab.compile.enhance import (
    NO_ENHANCEMENT,
    LinearScaling,
    TunedScaling,
    enhance,
    policy_from_name,
)
from lavalab.compile.ir import TimeBudget
from lavalab.networks.snn import build


def _at(T, kind="diehl-cook"):
    return discretize_time(build(kind, 8, 16), TimeBudget(T)).spec


def test_linear_scaling_of_gap_refractory_and_theta():
    s = _at(100)
    e = enhance(s, 350)
    r = 100 / 350
    assert e.exc.v_th == pytest.approx(5.0 + r * (13.0 - 5.0))  # reset 5, threshold 13 mV
    assert e.exc.v_reset == s.exc.v_reset
    assert e.exc.t_ref_ms == pytest.approx(5.0 * r)
    assert e.exc.theta_plus == pytest.approx(0.05 * r)
    assert e.inh == s.inh and e.stdp == s.stdp  # only the excitatory neurons change
    assert (e.w_inh_exc, e.exc.tau_theta_ms) == (s.w_inh_exc, s.exc.tau_theta_ms)
    assert s.exc.v_th == 13.0  # input untouched


def test_proportional_policy_also_scales_inhibition_and_theta_time_constant():
    r = 100 / 350
    for kind, field in (("diehl-cook", "w_inh_exc"), ("tinysnn", "w_lateral")):
        s = _at(100, kind)
        e = enhance(s, 350, policy_from_name("proportional"))
        assert getattr(e, field) == pytest.approx(60.0 * r)
        assert e.exc.tau_theta_ms == pytest.approx(1e7 * r)
        assert e.exc.v_th == pytest.approx(5.0 + r * 8.0)
    assert policy_from_name("proportional").name == (
        "linear(vth,tref,theta,tau_theta,inh)")


def test_power_policy_and_partial_policies():
    s = _at(50)
    r = 50 / 350
    e = enhance(s, 350, LinearScaling(exponent=0.5))
    assert e.exc.v_th == pytest.approx(5.0 + r**0.5 * 8.0)
    assert e.exc.t_ref_ms == pytest.approx(5.0 * r)
    e = enhance(s, 350, LinearScaling(refractory=False, theta_plus=False))
    assert (e.exc.t_ref_ms, e.exc.theta_plus) == (5.0, 0.05)
    assert LinearScaling().name == "linear(vth,tref,theta)"
    assert policy_from_name("sqrt").name == "power0.5(vth,tref,theta)"


def test_identity_cases_and_custom_policy():
    s = _at(350)
    assert enhance(s, 350) == s  # r = 1
    assert enhance(_at(100), 350, NO_ENHANCEMENT) == _at(100)
    seen = []

    def mine(spec, ratio):
        seen.append(ratio)
        return spec

    enhance(_at(70), 350, mine)
    assert seen == [pytest.approx(0.2)]


def test_bad_input_is_refused():
    with pytest.raises(ValueError, match="T=350 exceed the baseline T0=100"):
        enhance(_at(350), 100)
    with pytest.raises(TypeError, match="not NetworkSpec"):
        enhance(_at(100), 350, lambda p, r: None)
    with pytest.raises(ValueError, match="must not change the time budget"):
        enhance(_at(100), 350, lambda s, r: replace(
            s, rest_steps=3, stdp=replace(s.stdp, sample_steps=103)))
    with pytest.raises(ValueError, match="enhancement='cubic'"):
        policy_from_name("cubic")
    with pytest.raises(ValueError, match="exponent=-1"):
        LinearScaling(exponent=-1)


def test_tuned_scaling_is_linear_times_factors_by_hand():
    s = _at(175)
    lin = enhance(s, 350, policy_from_name("linear"))
    t = policy_from_name("tuned(vth=0.5,theta=2,inh=0.25,lr=4)")
    assert isinstance(t, TunedScaling) and t.tref == 1.0
    assert t.name == "tuned(vth=0.5,tref=1,theta=2,inh=0.25,lr=4)"
    assert policy_from_name(t.name) == t  # the name reads back
    e = enhance(s, 350, t)
    p, q = lin.exc, e.exc
    assert q.v_th - q.v_reset == pytest.approx(0.5 * (p.v_th - p.v_reset))
    assert (q.t_ref_ms, q.theta_plus) == (p.t_ref_ms, pytest.approx(2 * p.theta_plus))
    assert e.w_inh_exc == pytest.approx(0.25 * lin.w_inh_exc)
    assert (e.stdp.eta_pre, e.stdp.eta_post) == (pytest.approx(4 * lin.stdp.eta_pre),
                                                 pytest.approx(4 * lin.stdp.eta_post))
    assert enhance(s, 350, TunedScaling()) == lin  # all factors 1: the paper's linear rule
    with pytest.raises(ValueError, match="'gain' is not one of"):
        policy_from_name("tuned(gain=2)")
    with pytest.raises(ValueError, match="vth=32"):
        TunedScaling(vth=32)
