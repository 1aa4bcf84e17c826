"""Training reduces the loss; checkpoint resume; model file round trip."""

import numpy as np
import pytest
import torch

from lavalab.model_io import ModelFileError
from lavalab.networks.supervised import MRFSpec, SupervisedSpec
from lavalab.supervised.model import SupervisedNet, encode
from lavalab.supervised.train import TrainConfig, load_model, save_model, train


def _data(n=96, seed=0):
    """Two separable classes of 4x4 'images': bright left half vs bright right half."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n)
    x = rng.integers(0, 60, (n, 4, 4))
    for i in range(n):
        x[i, :, :2] += 180 * (y[i] == 0)
        x[i, :, 2:] += 180 * (y[i] == 1)
    return x.astype(np.uint8), y


def _loss(net, x, y):
    with torch.no_grad():
        _, v = net(encode(x, net.spec))
        return float(torch.nn.functional.cross_entropy(v.mean(-1), torch.tensor(y)))


def test_training_reduces_loss():
    spec = SupervisedSpec(n_input=16, hidden=(12,), n_output=2, timesteps=1)
    x, y = _data()
    torch.manual_seed(0)
    before = _loss(SupervisedNet(spec), x, y)
    net, hist = train(spec, TrainConfig(epochs=3, batch_size=16, lr=1e-2), x, y,
                      progress=False)
    after = _loss(net, x, y)
    assert after < before - 0.05
    assert hist[-1]["loss"] < hist[0]["loss"]


def test_training_time_is_the_epochs_alone():
    from lavalab.timing import JobClock

    spec = SupervisedSpec(n_input=16, hidden=(8,), n_output=2, timesteps=1)
    x, y = _data(32)
    clock = JobClock()
    _, hist = train(spec, TrainConfig(epochs=2, batch_size=16), x, y, progress=False,
                    clock=clock)
    f = clock.fields(work="train")
    assert f["setup_s"] > 0 and f["train_s"] > 0 and f["cpu_s"] >= 0
    assert clock.samples == 64 and f["samples_per_s"] == pytest.approx(64 / f["train_s"])
    assert f["train_s"] >= sum(h["seconds"] for h in hist)


def test_checkpoint_resume_equals_uninterrupted(tmp_path):
    spec = SupervisedSpec(n_input=16, hidden=(8,), n_output=2, timesteps=2,
                          mrf=MRFSpec(dilations=(1, 2)), omega_theta=0.5)
    x, y = _data(48)
    ck = tmp_path / "c.ckpt"
    full, _ = train(spec, TrainConfig(epochs=2, batch_size=16), x, y, progress=False)
    train(spec, TrainConfig(epochs=2, batch_size=16), x, y, checkpoint=ck, progress=False)
    resumed, hist = train(spec, TrainConfig(epochs=2, batch_size=16), x, y, checkpoint=ck,
                          progress=False)  # all epochs done: nothing left to train
    assert len(hist) == 2
    for a, b in zip(full.state_dict().values(), resumed.state_dict().values(), strict=True):
        torch.testing.assert_close(a, b)
    with pytest.raises(ValueError, match="another spec"):
        train(spec, TrainConfig(epochs=3, batch_size=16), x, y, checkpoint=ck, progress=False)


def test_model_file_round_trip(tmp_path):
    spec = SupervisedSpec(n_input=16, hidden=(8,), n_output=2)
    x, y = _data(32)
    net, _ = train(spec, TrainConfig(epochs=1, batch_size=16), x, y, progress=False)
    p = save_model(tmp_path / "m.npz", net)
    net2, meta = load_model(p)
    assert net2.spec == spec
    xin = encode(x, spec)
    with torch.no_grad():
        torch.testing.assert_close(net(xin)[1], net2(xin)[1])
    bad = tmp_path / "bad.npz"
    bad.write_text("not a model")
    with pytest.raises(ModelFileError):
        load_model(bad)


def test_mrf_hook_folds_weights():
    spec = SupervisedSpec(n_input=5, hidden=(6,), n_output=2, mrf=MRFSpec(dilations=(1, 2)))
    net = SupervisedNet(spec)
    b = net.blocks[0]
    w = b.synapse.weight.detach().reshape(6, 5).double().numpy()
    from lavalab.networks.mrf import mrf_matrix

    folded = mrf_matrix(6, spec.mrf) @ w
    want = b.neuron.quantize_8bit(torch.tensor(folded, dtype=torch.float32), descale=True)
    np.testing.assert_array_equal(net.quantized_weights()[0], want.numpy().astype(np.int64))


def test_encode_direct_and_rate():
    spec = SupervisedSpec(n_input=4, hidden=(2,), n_output=2, timesteps=3, input_bits=4)
    x = np.array([[0, 255, 128, 8]], np.uint8)
    e = encode(x, spec)
    assert e.shape == (1, 4, 3)
    np.testing.assert_array_equal(e[0, :, 0].numpy(), [0, 16, 8, 1])  # round(p/255*16)
    r = encode(np.full((200, 4), 64, np.uint8), SupervisedSpec(
        n_input=4, hidden=(2,), n_output=2, timesteps=5, encoding="rate"), seed=1)
    assert set(np.unique(r.numpy())) <= {0.0, 1.0}
    assert abs(float(r.mean()) - 64 / 255) < 0.03
    with pytest.raises(ValueError, match="pixels"):
        encode(np.zeros((1, 5), np.uint8), spec)
