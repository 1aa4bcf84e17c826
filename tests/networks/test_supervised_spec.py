"""Supervised spec: validation, the one unit conversion, round trip."""

import math

import pytest

from lavalab.networks.supervised import (
    READOUT_THRESHOLD,
    CubaParams,
    MRFSpec,
    SupervisedSpec,
    layer_thresholds,
    slayer_neuron_params,
    spec_from_dict,
    spec_to_dict,
)


def test_slayer_neuron_params_hand_computed():
    p = slayer_neuron_params(CubaParams(tau_u_ms=2.0, tau_v_ms=4.0, threshold=1.5, dt_ms=1.0))
    # 1 - exp(-1/2) = 0.393469 -> 1612/4096; 1 - exp(-1/4) = 0.221199 -> 906/4096
    assert p["current_decay"] == 1612 / 4096
    assert p["voltage_decay"] == 906 / 4096
    assert p["threshold"] == 1.5
    p = slayer_neuron_params(CubaParams(tau_u_ms=math.inf, tau_v_ms=math.inf), 16.0)
    assert p["current_decay"] == 0 and p["voltage_decay"] == 0 and p["threshold"] == 16.0


def test_layer_thresholds_direct_and_rate():
    s = SupervisedSpec(hidden=(8, 4), input_bits=4, neuron=CubaParams(threshold=1.25))
    assert layer_thresholds(s) == (20.0, 1.25, READOUT_THRESHOLD)
    s = SupervisedSpec(hidden=(8,), encoding="rate")
    assert layer_thresholds(s) == (1.0, READOUT_THRESHOLD)
    assert READOUT_THRESHOLD * 64 <= 2**17 - 1


@pytest.mark.parametrize("kw, match", [
    (dict(hidden=()), "hidden"), (dict(hidden=(0,)), "hidden"), (dict(timesteps=0), "timesteps"),
    (dict(encoding="poisson"), "encoding"), (dict(omega_theta=0.0), "omega_theta"),
    (dict(input_bits=9), "input_bits"),
    (dict(hidden=(6,), mrf=MRFSpec(dilations=(1, 2), group_sizes=(2, 3))), "group_sizes"),
])
def test_spec_rejects(kw, match):
    with pytest.raises(ValueError, match=match):
        SupervisedSpec(**kw)


@pytest.mark.parametrize("kw, match", [
    (dict(window=2), "odd"), (dict(dilations=()), "dilations"), (dict(dilations=(0,)), "dilations"),
])
def test_mrf_spec_rejects(kw, match):
    with pytest.raises(ValueError, match=match):
        MRFSpec(**kw)


def test_cuba_params_reject():
    with pytest.raises(ValueError, match="tau_u_ms"):
        CubaParams(tau_u_ms=-1.0)
    with pytest.raises(ValueError, match="threshold"):
        CubaParams(threshold=float("nan"))


def test_round_trip_and_methods():
    s = SupervisedSpec(hidden=(6, 6), mrf=MRFSpec(dilations=(1, 2), group_sizes=(3, 3)),
                       omega_theta=0.5, timesteps=2)
    assert spec_from_dict(spec_to_dict(s)) == s
    assert s.method == "seed002"
    assert SupervisedSpec().method == "cuba"
    assert SupervisedSpec(mrf=MRFSpec()).method == "mrf"
    with pytest.raises(ValueError, match="spec"):
        spec_from_dict({"hidden": [3]})
