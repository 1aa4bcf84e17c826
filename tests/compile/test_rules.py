"""Design rules: one failing case per rule (pytest.raises naming the rule) and passing cases."""

import copy
import dataclasses

import pytest

from lavalab import loihi_spec as spec
from lavalab.compile.ir import layer_graph
from lavalab.compile.mapping import map_to_cores
from lavalab.compile.rules import (
    RULES,
    Design,
    DesignRuleError,
    check_rules,
    cores_fit_chip,
)
from lavalab.networks.snn import diehl_cook, lower_network, tinysnn


def _dc(n=100, n_input=784, weight_bits=8, **kw):
    kw.setdefault("one_spike", False)  # learnable on chip
    s = diehl_cook(n, n_input=n_input, **kw)
    return layer_graph(s, weight_bits=weight_bits), lower_network(s)


def _force(obj, **fields):
    """A copy of a frozen record with fields set past its own validation (the rules are
    the second line of defence, e.g. for records built elsewhere)."""
    new = copy.copy(obj)
    for k, v in fields.items():
        object.__setattr__(new, k, v)
    return new


def _check(graph, fnet, learning=False, target="loihi1", neurons_per_core=None, **kw):
    return check_rules(graph, fnet, map_to_cores(graph, target, neurons_per_core), target,
                       learning, **kw)


def _expressible(fnet):
    """D&C with an STDP the learning engine can hold and no theta decay."""
    st = dataclasses.replace(fnet.stdp, eta_pre_exp=-7, eta_post_exp=-7)
    return dataclasses.replace(fnet, stdp=st, exc=_force(fnet.exc, decay_theta=0))


# --- passing cases -------------------------------------------------------------------------

@pytest.mark.parametrize("target", ["loihi1", "loihi2"])
def test_diehl_cook_100_at_8_bits_passes(target):
    g, f = _dc(100)
    d = _check(g, f, target=target)
    assert isinstance(d, Design) and d.target is spec.TARGETS[target]


def test_tinysnn_100_inference_passes():
    s = tinysnn(100)
    _check(layer_graph(s), lower_network(s))


def test_expressible_learning_passes():
    g, f = _dc(100)
    _check(g, _expressible(f), learning=True)


def test_rules_are_listed_by_name():
    assert list(RULES) == [
        "weights_fit_bits", "decays_fit_bits", "theta_decay_fits_bits", "threshold_fits_bits",
        "weight_exponent_in_range", "refractory_within_limit", "neuron_state_fits",
        "one_spike_not_on_chip", "learning_rule_expressible", "delays_within_limit",
        "neurons_fit_core",
        "synapses_fit_core_memory", "fan_in_within_limit", "fan_out_within_limit",
        "cores_fit_chip"]
    assert all(RULES[k].__name__ == k for k in RULES)


def test_error_names_rule_value_and_limit():
    g, f = _dc(100, weight_bits=16)
    with pytest.raises(DesignRuleError) as e:
        _check(g, f)
    assert isinstance(e.value, ValueError)
    assert (e.value.rule, e.value.value, e.value.limit) == ("weights_fit_bits", 16, 8)
    assert str(e.value) == ("weights_fit_bits: input->exc weight_bits=16 exceeds loihi1's "
                            "limit of 8 bits")


# --- one failing case per rule -------------------------------------------------------------

def test_weights_fit_bits():
    g, f = _dc(100, weight_bits=16)
    with pytest.raises(DesignRuleError, match="weights_fit_bits"):
        _check(g, f)


def test_weights_fit_bits_refuses_float():
    g, f = _dc(100, weight_bits=32)
    with pytest.raises(DesignRuleError, match=r"weights_fit_bits: .*weight_bits=32 \(float\)"):
        _check(g, f, target="loihi2")


def test_weights_fit_bits_checks_mantissas():
    g, f = _dc(100)
    with pytest.raises(DesignRuleError, match="weights_fit_bits: w_ie=300"):
        _check(g, dataclasses.replace(f, w_ie=300))


def test_decays_fit_bits():
    g, f = _dc(100)
    with pytest.raises(DesignRuleError, match=r"decays_fit_bits: exc.decay_v=5000 .*0..4095"):
        _check(g, dataclasses.replace(f, exc=_force(f.exc, decay_v=5000)))
    with pytest.raises(DesignRuleError, match="decays_fit_bits: stdp.decay_pre"):
        _check(g, dataclasses.replace(f, stdp=_force(f.stdp, decay_pre=5000)))


def test_theta_decay_fits_bits():
    g, f = _dc(100)  # D&C's tau_theta = 1e7 steps needs a 28-bit decay fraction
    assert f.exc.theta_decay_bits > spec.DECAY_SHIFT
    _check(g, f, learning=False)  # theta is frozen without learning
    with pytest.raises(DesignRuleError, match="theta_decay_fits_bits") as e:
        _check(g, f, learning=True)
    assert (e.value.value, e.value.limit) == (f.exc.theta_decay_bits, spec.DECAY_SHIFT)


def test_threshold_fits_bits():
    g, f = _dc(100)
    with pytest.raises(DesignRuleError, match="threshold_fits_bits: inh.vth=131072"):
        _check(g, dataclasses.replace(f, inh=_force(f.inh, vth=spec.VTH_MAX + 1)))


@pytest.mark.parametrize("name", ["exp_in", "exp_ei", "exp_ie", "exp_lat"])
def test_weight_exponent_in_range(name):
    g, f = _dc(100)
    with pytest.raises(DesignRuleError, match=f"weight_exponent_in_range: {name}=8 .*-8..7"):
        _check(g, dataclasses.replace(f, **{name: 8}))


def test_refractory_within_limit():
    g, f = _dc(100)
    with pytest.raises(DesignRuleError, match="refractory_within_limit: exc.ref_steps=65"):
        _check(g, dataclasses.replace(f, exc=_force(f.exc, ref_steps=65)))


def test_neuron_state_fits():
    g, f = _dc(100)
    with pytest.raises(DesignRuleError, match="neuron_state_fits: exc.v_bits=16") as e:
        _check(g, dataclasses.replace(f, exc=_force(f.exc, v_bits=16)))
    assert (e.value.value, e.value.limit) == (16, 24)
    with pytest.raises(DesignRuleError, match="neuron_state_fits: inh.v_lsb=2"):
        _check(g, dataclasses.replace(f, inh=_force(f.inh, v_lsb=2)))


def test_one_spike_not_on_chip():
    g, f = _dc(100)
    f = _expressible(f)
    one = dataclasses.replace(f, exc=dataclasses.replace(f.exc, one_spike=True))
    with pytest.raises(DesignRuleError, match="one_spike_not_on_chip: exc.one_spike=True") as e:
        _check(g, one, learning=True)
    assert (e.value.value, e.value.limit) == (True, False)
    _check(g, f, learning=True)  # the same network without it passes
    _check(g, one, learning=False)  # inference: one_spike does not act
    wta = dataclasses.replace(f, exc=dataclasses.replace(f.exc, one_spike_infer=True))
    for learning in (False, True):  # one_spike_infer acts at inference: never on chip
        with pytest.raises(DesignRuleError,
                           match="one_spike_not_on_chip: exc.one_spike_infer=True"):
            _check(g, wta, learning=learning)


def test_learning_rule_expressible_refuses_triplet():
    s = diehl_cook(100, rule="triplet", one_spike=False)
    f = _expressible(lower_network(s))
    _check(layer_graph(s), f, learning=False)  # inference only: no learning engine
    with pytest.raises(DesignRuleError, match="learning_rule_expressible: rule='triplet'"):
        _check(layer_graph(s), f, learning=True)


def test_learning_rule_expressible_refuses_stdp2():
    s = tinysnn(100, rule="stdp2", one_spike=False)
    f = lower_network(s)
    f = dataclasses.replace(f, exc=_force(f.exc, decay_theta=0))
    g = layer_graph(s)
    _check(g, f, learning=False)  # inference: the rule is not on chip
    with pytest.raises(DesignRuleError, match="learning_rule_expressible: rule='stdp2'"):
        _check(g, f, learning=True)


def test_learning_rule_expressible_exponents():
    g, f = _dc(100)
    f = _expressible(f)
    # D&C's own depression rate 1e-4 becomes 7 * 2**-15: below Loihi's exponent range
    dc = dataclasses.replace(f, stdp=dataclasses.replace(f.stdp, eta_pre_exp=-15))
    with pytest.raises(DesignRuleError, match=r"learning_rule_expressible: eta_pre .*-15 "
                                              r"is outside loihi1's range -7..8") as e:
        _check(g, dc, learning=True)
    assert (e.value.value, e.value.limit) == (-15, (-7, 8))
    # mu = 1 potentiation carries +5 in the rule string: -7 + 5 is fine, 4 + 5 is not
    soft = dataclasses.replace(f.stdp, mu=1)
    _check(g, dataclasses.replace(f, stdp=soft), learning=True)
    hi = dataclasses.replace(soft, eta_post_exp=4)
    with pytest.raises(DesignRuleError, match="learning_rule_expressible: eta_post .*=9"):
        _check(g, dataclasses.replace(f, stdp=hi), learning=True)


def test_learning_rule_expressible_accumulator():
    g, f = _dc(100)
    f = _expressible(f)
    wide = dataclasses.replace(f, stdp=dataclasses.replace(f.stdp, frac_bits=10))
    with pytest.raises(DesignRuleError, match="learning_rule_expressible: stdp.frac_bits=10"):
        _check(g, wide, learning=True)
    rnd = dataclasses.replace(f, stdp=_force(f.stdp, w_rounding="nearest"))
    with pytest.raises(DesignRuleError, match="learning_rule_expressible: stdp.w_rounding"):
        _check(g, rnd, learning=True)


def test_delays_within_limit():
    g, f = _dc(100)
    _check(g, f, delay_steps=spec.DELAY_MAX)
    with pytest.raises(DesignRuleError, match="delays_within_limit: delay_steps=63"):
        _check(g, f, delay_steps=spec.DELAY_MAX + 1)


def test_neurons_fit_core():
    g, f = _dc(2000, n_input=10)
    with pytest.raises(DesignRuleError, match="neurons_fit_core: core 0 .*neurons=2000 "
                                              "exceeds loihi1's limit of 1024") as e:
        _check(g, f, neurons_per_core=2000)
    assert (e.value.value, e.value.limit) == (2000, 1024)


def test_synapses_fit_core_memory():
    g, f = _dc(400)
    _check(g, f)  # the automatic partition fits: 4 exc cores of 100
    with pytest.raises(DesignRuleError, match="synapses_fit_core_memory") as e:
        _check(g, f, neurons_per_core=400)
    assert (e.value.value, e.value.limit) == (400 * 1183 * 8, 1048576)


def test_fan_in_within_limit():
    g, f = _dc(10, n_input=5000)
    with pytest.raises(DesignRuleError, match="fan_in_within_limit: .*fan-in axons=5010 "
                                              "exceeds loihi1's limit of 4096"):
        _check(g, f)


def test_fan_out_within_limit():
    # 1024 inh neurons on one core would each feed all 9 exc cores: 9216 output axons.
    # The automatic mapping searches smaller inh blocks (passes); the rule still names a
    # map that keeps the big block.
    g, f = _dc(1024, n_input=10)
    _check(g, f)
    m = map_to_cores(g, "loihi1")
    cores = tuple(dataclasses.replace(c, fan_out=9216) if c.population == "inh" else c
                  for c in m.cores)
    bad = dataclasses.replace(m, cores=cores)
    with pytest.raises(DesignRuleError, match="fan_out_within_limit: .*fan-out axons=9216"):
        check_rules(g, f, bad, "loihi1", False)


def test_cores_fit_chip():
    g, f = _dc(100)
    m = map_to_cores(g, "loihi1", neurons_per_core=1)
    with pytest.raises(DesignRuleError, match="cores_fit_chip: cores_used=200 exceeds "
                                              "loihi1's limit of 128"):
        check_rules(g, f, m, "loihi1", False)
    with pytest.raises(DesignRuleError, match="cores_fit_chip"):
        cores_fit_chip(Design(g, f, m, spec.LOIHI1, False))


def test_design_validation():
    g, f = _dc(10)
    m = map_to_cores(g, "loihi1")
    with pytest.raises(ValueError, match="core_map was made for 'loihi1'"):
        check_rules(g, f, m, "loihi2", False)
    with pytest.raises(ValueError, match="learning="):
        check_rules(g, f, m, "loihi1", 1)
    with pytest.raises(ValueError, match="fixed_net="):
        check_rules(g, None, m, "loihi1", False)


def test_check_all_rules_lists_every_violation_with_a_hint():
    """tinySNN with on-chip learning breaks two rules at once (theta's 28-bit decay and
    STDP2); check_all_rules returns both, each with the parameter that fixes it, and the
    parameters exposed by `lavalab compile` reach a passing D&C configuration."""
    from dataclasses import replace

    from lavalab.compile.pipeline import compile_network
    from lavalab.compile.rules import check_all_rules
    from lavalab.networks.snn import build

    c = compile_network(build("tinysnn", 20, 784, rule="stdp2", one_spike=False),
                        learning=True, check=False)
    errs = check_all_rules(c.graph, c.fixed, c.core_map, "loihi1", True)
    assert [e.rule for e in errs] == ["theta_decay_fits_bits", "learning_rule_expressible"]
    assert "--tau-theta" in errs[0].hint and "--rule stdp1" in errs[1].hint
    s = build("diehl-cook", 20, 784, one_spike=False)
    s = replace(s, exc=replace(s.exc, tau_theta_ms=200.0),
                stdp=replace(s.stdp, eta_pre=3e-2, eta_post=2e-2))
    c = compile_network(s, learning=True, check=False)
    assert check_all_rules(c.graph, c.fixed, c.core_map, "loihi1", True) == []
