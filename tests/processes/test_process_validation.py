"""Constructor validation of lavalab's Processes: clear errors, no unknown keywords."""

import numpy as np
import pytest

from lavalab.dynamics.adaptive_lif import AdaptiveLIFFixed, AdaptiveLIFParams
from lavalab.dynamics.stdp import STDPFixed, STDPParams
from lavalab.processes.adaptive_lif import AdaptiveLIF
from lavalab.processes.spike_counter import SpikeCounter
from lavalab.processes.stdp_dense import STDPDense

FX = STDPFixed(decay_pre=0, decay_post=0, impulse_pre=1, impulse_post=1, eta_pre_mant=1,
               eta_pre_exp=0, eta_post_mant=1, eta_post_exp=0, w_max=200)


def test_adaptive_lif_shape_params_theta():
    p = AdaptiveLIFFixed(decay_u=1, decay_v=0, vth=10, theta_bits=8)
    with pytest.raises(ValueError, match="shape=\\(0,\\) must be a tuple of positive"):
        AdaptiveLIF(shape=(0,), params=p)
    with pytest.raises(TypeError, match="params must be AdaptiveLIFParams"):
        AdaptiveLIF(shape=(2,), params={"vth": 1})
    with pytest.raises(ValueError, match="theta=256 is outside the allowed range 0..255"):
        AdaptiveLIF(shape=(2,), params=p, theta=256)
    with pytest.raises(TypeError, match="unexpected keyword argument 'bias'"):
        AdaptiveLIF(shape=(2,), params=p, bias=1000)
    n = AdaptiveLIF(shape=(3,), params=AdaptiveLIFParams())
    assert n.precision == "float" and n.params.vth == 13.0


def test_stdp_dense_validation():
    with pytest.raises(ValueError, match="weights=201 is outside the allowed range 0..200"):
        STDPDense(weights=np.array([[201]]), params=FX)
    with pytest.raises(ValueError, match="weights=-1 is outside"):
        STDPDense(weights=np.array([[-1]]), params=FX)
    with pytest.raises(ValueError, match="must be an integer"):
        STDPDense(weights=np.array([[1.5]]), params=FX)
    with pytest.raises(ValueError, match="weight_exp=9 is outside the allowed range -8..7"):
        STDPDense(weights=np.array([[1]]), params=FX, weight_exp=9)
    with pytest.raises(ValueError, match="outside the allowed range \\[0, 1.0\\]"):
        STDPDense(weights=np.array([[1.5]]), params=STDPParams())
    with pytest.raises(ValueError, match="weight_exp=2 applies to fixed point only"):
        STDPDense(weights=np.array([[0.5]]), params=STDPParams(), weight_exp=2)
    with pytest.raises(ValueError, match="non-empty \\(n_post, n_pre\\) matrix"):
        STDPDense(weights=np.array([1, 2]), params=FX)
    with pytest.raises(ValueError, match="seed=-1 is outside"):
        STDPDense(weights=np.array([[1]]), params=FX, seed=-1)
    with pytest.raises(TypeError, match="unexpected keyword argument 'lr'"):
        STDPDense(weights=np.array([[1]]), params=FX, lr=0.1)


def test_spike_counter_validation():
    with pytest.raises(ValueError, match="sample_steps=0 is outside"):
        SpikeCounter(n=2, sample_steps=0, num_samples=1)


def test_issue12_process_inputs():
    """Float NaN theta, complex weights and learn='no' (bool('no') is True) are refused."""
    fp = AdaptiveLIFParams(v_th=1.0, v_reset=0.0, tau_u_ms=0.0, tau_v_ms=10.0)
    with pytest.raises(ValueError, match="theta must be finite"):
        AdaptiveLIF(shape=(2,), params=fp, theta=np.nan)
    with pytest.raises(ValueError, match="theta=-1.0 is negative"):
        AdaptiveLIF(shape=(2,), params=fp, theta=-1.0)
    with pytest.raises(ValueError, match="does not fit the population shape"):
        AdaptiveLIF(shape=(2,), params=fp, theta=np.zeros(3))
    with pytest.raises(ValueError, match="learn='no' must be True or False"):
        AdaptiveLIF(shape=(2,), params=fp, learn="no")
    with pytest.raises(ValueError, match="weights must be real numbers"):
        STDPDense(weights=np.ones((2, 3), complex), params=STDPParams())
    with pytest.raises(ValueError, match="learn='no' must be True or False"):
        STDPDense(weights=np.ones((2, 3)) * 0.1, params=STDPParams(), learn="no")
    assert AdaptiveLIF(shape=(2,), params=fp, learn=np.bool_(False)).learn.init == 0


def test_processes_package_reexports():
    import lavalab.processes as procs

    assert procs.AdaptiveLIF is AdaptiveLIF and procs.STDPDense is STDPDense
    assert {"AdaptiveLIF", "PoissonEncoder", "SpikeCounter", "STDPDense"} <= set(procs.__all__)


def test_stock_run_config_gets_the_hint():
    from lava.magma.compiler.exceptions import NoProcessModelFound
    from lava.magma.core.run_configs import Loihi2SimCfg

    p = AdaptiveLIF(shape=(2,), params=AdaptiveLIFParams(v_th=1.0, v_reset=0.0, tau_u_ms=0.0,
                                                         tau_v_ms=10.0))
    with pytest.raises(NoProcessModelFound, match="lavalab.backends.run_configs.Loihi2SimCfg"):
        p.compile(Loihi2SimCfg(select_tag="floating_pt"))
