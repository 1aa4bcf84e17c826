"""Pass *lower to Loihi*: physical / per-step float parameters -> Loihi integers."""

import math

import numpy as np
import pytest

from lavalab.dynamics.adaptive_lif import AdaptiveLIFParams
from lavalab.dynamics.stdp import STDPParams
from lavalab.networks.lower import (
    bias_to_mant_exp,
    lower_adaptive_lif,
    lower_decay,
    lower_stdp,
    rate_to_mant_exp,
)


def test_lowering_values():
    fx = lower_adaptive_lif(AdaptiveLIFParams(), v_scale=4096)
    assert fx.vth == 832  # 13 mV * 4096 / 64
    assert fx.decay_u == round((1 - math.exp(-1)) * 4096)
    assert fx.decay_v == round((1 - math.exp(-1 / 100)) * 4096)
    assert fx.theta_plus == 205 and fx.ref_steps == 5
    # tau_theta = 1e7 steps: 1e-7 per step needs 28 fraction bits (27 / 2**28)
    assert (fx.decay_theta, fx.theta_decay_bits) == (27, 28)
    with pytest.raises(ValueError, match="outside the 17-bit mantissa range"):
        lower_adaptive_lif(AdaptiveLIFParams(), v_scale=2**20)


def test_rate_to_mant_exp_error_bound():
    for rate in np.geomspace(1e-6, 100, 400):
        m, e = rate_to_mant_exp(float(rate))
        assert 4 <= m <= 7
        assert abs(m * 2.0**e - rate) / rate <= 1 / 9 + 1e-12
    assert rate_to_mant_exp(0.0) == (0, 0)
    with pytest.raises(ValueError, match="outside the learning-rate range"):
        rate_to_mant_exp(1e-12)


def test_lower_stdp_refuses_unrepresentable():
    with pytest.raises(ValueError, match="mu=0.5 has no fixed-point form"):
        lower_stdp(STDPParams(mu=0.5), 255)
    with pytest.raises(ValueError, match="outside the 16-bit range"):
        lower_stdp(STDPParams(w_max=2.0), 65535)
    fx = lower_stdp(STDPParams(tau_pre_ms=math.inf, norm_total=78.0), 255)
    assert fx.decay_pre == 0 and fx.norm_total == 19890


def test_decays_and_bias_formats():
    assert lower_decay(0.5) == 2048
    assert lower_decay(1.0) == 4095 and lower_decay(1.0, offset=1) == 4096  # u's +1 offset
    assert lower_decay(1.0, allow_full=True) == 4096  # a trace that lives one step
    assert lower_decay(1e-5, offset=1) == 1  # the smallest u decay the register holds
    with pytest.raises(ValueError, match="decay fraction 1.5 is outside"):
        lower_decay(1.5)
    assert bias_to_mant_exp(4095) == (4095, 0)
    assert bias_to_mant_exp(10000) == (2500, 2)  # 13-bit mantissa (<= 4095), exponent 2
    with pytest.raises(ValueError, match="does not fit a 13-bit mantissa"):
        bias_to_mant_exp(2**30)
