import pytest

from lavalab.compile.ir import PrecisionBudget, TimeBudget
from lavalab.compile.pipeline import compile_network
from lavalab.compile.rules import DesignRuleError
from lavalab.networks.snn import build, lower_network


def test_default_compile_is_the_default_lowering():
    s = build("diehl-cook", 100)
    c = compile_network(s)
    assert c.fixed == lower_network(s)
    assert c.core_map.cores_used == 2 and c.spec == s
    assert c.time.present_steps == 350 and c.enhancement == "none"


def test_time_budget_and_enhancement_flow_through():
    s = build("tinysnn", 50)
    c = compile_network(s, TimeBudget(100, baseline_timesteps=350), enhancement="linear")
    assert (c.spec.present_steps, c.spec.rest_steps) == (100, 43)
    assert c.spec.exc.v_th == pytest.approx(5 + 8 * 100 / 350)
    assert c.fixed.exc.vth < lower_network(s).exc.vth


def test_precision_budget_sets_the_weight_format():
    s = build("tinysnn", 20)
    c = compile_network(s, precision=PrecisionBudget(weight_bits=4, rounding="nearest"))
    assert c.fixed.stdp.w_max == 15 and c.fixed.exp_in == 4
    assert c.graph.connections[0].weight_bits == 4


@pytest.mark.parametrize("budget, rule", [
    (PrecisionBudget(weight_bits=16), "weights_fit_bits"),
    (PrecisionBudget(weight_bits=32, neuron_bits=32), "weights_fit_bits"),
    (PrecisionBudget(weight_bits=8, neuron_bits=12, quantize_neurons=True),
     "neuron_state_fits"),
])
def test_what_does_not_fit_is_refused_by_rule(budget, rule):
    with pytest.raises(DesignRuleError, match=rule):
        compile_network(build("diehl-cook", 100), precision=budget)
    c = compile_network(build("diehl-cook", 100), precision=budget, check=False)
    assert c.precision == budget


def test_on_chip_learning_and_core_limits():
    with pytest.raises(DesignRuleError, match="theta_decay_fits_bits"):
        compile_network(build("diehl-cook", 100), learning=True)
    with pytest.raises(DesignRuleError, match="neurons_fit_core: .*2000.*1024"):
        compile_network(build("tinysnn", 2000), neurons_per_core=2000)
