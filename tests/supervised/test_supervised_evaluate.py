"""Export -> netx -> Lava fixed_pt equals the SLAYER (quantised) forward pass."""

import numpy as np
import pytest

from lavalab.compile.rules import DesignRuleError
from lavalab.data import load_dataset
from lavalab.networks.supervised import MRFSpec, SupervisedSpec
from lavalab.supervised.evaluate import agreement, evaluate_lava, evaluate_torch, export_netx
from lavalab.supervised.train import TrainConfig, train


@pytest.fixture(scope="module")
def mnist():
    tr = load_dataset("mnist", "train")
    te = load_dataset("mnist", "test")
    return tr.images[:300], tr.labels[:300], te.images[:6], te.labels[:6]


@pytest.mark.parametrize("spec", [
    SupervisedSpec(hidden=(24, 16), timesteps=1),
    SupervisedSpec(hidden=(24,), timesteps=1, mrf=MRFSpec(dilations=(1, 3))),
], ids=["cuba-2layer-T1", "mrf-T1"])
def test_lava_equals_torch(mnist, spec):
    xtr, ytr, x, y = mnist
    net, _ = train(spec, TrainConfig(epochs=1, batch_size=50), xtr, ytr, progress=False)
    a = evaluate_torch(net, x, y)
    b = evaluate_lava(net, x, y, progress=False)
    ag = agreement(a, b)
    assert a.events[:, 1].sum() > 0  # the hidden layer fires: the comparison means something
    np.testing.assert_array_equal(a.events, b.events)  # per-layer spike counts, exactly
    np.testing.assert_array_equal(a.predictions, b.predictions)
    assert ag["max_score_diff_lava_units"] == 0.0  # readout v: Lava integers = SLAYER * 2**12


def test_export_refuses_omega(tmp_path):
    spec = SupervisedSpec(hidden=(8,), omega_theta=0.5)
    from lavalab.supervised.model import SupervisedNet

    with pytest.raises(DesignRuleError, match="projection_is_stock_neuron"):
        export_netx(SupervisedNet(spec), tmp_path / "x.net")
