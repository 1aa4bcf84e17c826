"""NIR export of a lava-dl SLAYER CUBA MLP, run by snnTorch's and Norse's importers on the
same input as SLAYER's own forward pass (a 64-16-10 MLP trained briefly on 8x8 digits)."""

import pytest

from lavalab.export.nir_dl import supervised_to_nir
from lavalab.export.nir_graph import read_nir, write_graph
from lavalab.export.nir_run import run_importer

DIGITS = 50


@pytest.fixture(scope="module")
def mlp():
    """(net, test input (N, 64, T), SLAYER's hidden counts and predictions)."""
    import torch

    from lavalab.data import load_dataset
    from lavalab.networks.supervised import CubaParams, SupervisedSpec
    from lavalab.supervised.model import SupervisedNet, encode

    torch.manual_seed(0)
    spec = SupervisedSpec(n_input=64, hidden=(16,), timesteps=8, encoding="rate",
                          neuron=CubaParams(tau_u_ms=5.0, tau_v_ms=10.0))
    net = SupervisedNet(spec)
    tr = load_dataset("digits", "train")
    x, y = encode(tr.images[:256], spec, seed=1), torch.tensor(tr.labels[:256])
    opt = torch.optim.Adam(net.parameters(), lr=0.01)
    for _ in range(30):
        _, v = net(x)
        loss = torch.nn.functional.cross_entropy(v.sum(-1), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
    net.eval()
    xt = encode(load_dataset("digits", "test").images[:DIGITS], spec, seed=2)
    with torch.no_grad():
        spikes, v = net(xt)
    return net, xt, spikes[0].sum(-1).numpy(), v.sum(-1).argmax(1).numpy()


def run(net, x, importer, target, path):
    write_graph(supervised_to_nir(net, target), path)
    raster = x.permute(0, 2, 1).reshape(-1, net.spec.n_input).numpy()
    return run_importer(importer, read_nir(path), raster, net.spec.timesteps,
                        layers=["lif0"], readout="readout")


@pytest.mark.parametrize("importer", ["snntorch", "norse"])
def test_importers_run_the_mlp_like_slayer(mlp, tmp_path, importer):
    """Stated tolerance: the importers compute in float, SLAYER on its fixed-point grid;
    hidden counts identical on >= 90 % of digits, predictions on >= 90 % (measured on
    200 MNIST digits with a 784-32-10 MLP: 99.5 % and 99.5 %)."""
    net, x, ref_c, ref_p = mlp
    assert ref_c.sum() > DIGITS  # the hidden layer is active
    r = run(net, x, importer, "snntorch", tmp_path / "m.nir")
    assert (r["lif0"] == ref_c).all(1).mean() >= 0.9
    assert (r["readout_v"].argmax(1) == ref_p).mean() >= 0.9


def test_the_norse_file_is_not_the_snntorch_file(mlp, tmp_path):
    """The file written for Norse (seconds, dt 1 ms) holds ``r = tau / 1 ms``; snnTorch's
    importer, which assumes dt = 0.1 ms, refuses it rather than run it ten times slow."""
    net, x, _, _ = mlp
    with pytest.raises(AssertionError, match="r not supported"):
        run(net, x, "snntorch", "norse", tmp_path / "m.nir")


def test_omega_network_is_refused():
    from dataclasses import replace

    from lavalab.networks.supervised import SupervisedSpec
    from lavalab.supervised.model import SupervisedNet

    net = SupervisedNet(replace(SupervisedSpec(n_input=4, hidden=(4,)), omega_theta=0.5))
    with pytest.raises(ValueError, match="Omega"):
        supervised_to_nir(net)
