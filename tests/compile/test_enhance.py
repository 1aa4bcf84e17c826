from dataclasses import replace

import pytest

from lavalab.compile.discretize import discretize_time
from lavalab.compile.enhance import (
    NO_ENHANCEMENT,
    LinearScaling,
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
