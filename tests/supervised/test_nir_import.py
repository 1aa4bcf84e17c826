"""NIR import: tiny LIF networks trained here by snnTorch and by Norse on scikit-learn's
8x8 digits, exported by that library to NIR, imported by ``lavalab import`` and run on
Lava fixed_pt; their predictions must agree with the library's own float run. Plus the
mapping by hand and the command's one-line errors."""

from __future__ import annotations

import json

import nir
import numpy as np
import pytest
import torch

from lavalab.cli.main import main
from lavalab.supervised.nir_import import (
    ImportConfig,
    NIRImportError,
    graph_layers,
    import_nir,
    read_graph,
    simulate_float,
)

T = 8
N_TRAIN, N_TEST = 400, 200


@pytest.fixture(scope="module")
def digits():
    """8x8 digits (values 0..16) as uint8 pixels whose direct encoding (4 input bits) is
    exactly value / 16, the float input the source libraries see."""
    sk = pytest.importorskip("sklearn.datasets")
    d = sk.load_digits()
    img = np.round(d.images.reshape(-1, 64) * 255 / 16).astype(np.uint8)
    x = torch.tensor(np.round(img / 255 * 16) / 16, dtype=torch.float32)
    return img, x, d.target


def _train(run, params, x, y, epochs=8):
    torch.manual_seed(0)
    opt = torch.optim.Adam(params, lr=5e-3)
    yt = torch.tensor(y[:N_TRAIN])
    for _ in range(epochs):
        perm = torch.randperm(N_TRAIN)
        for lo in range(0, N_TRAIN, 50):
            idx = perm[lo:lo + 50]
            loss = torch.nn.functional.cross_entropy(run(x[idx]), yt[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()


def _snntorch(x, y):
    """snnTorch 64-32-10: Leaky hidden layer (reset to zero at once: Loihi's reset), a
    Leaky readout that never fires; score = readout membrane summed over T."""
    snn = pytest.importorskip("snntorch")
    from snntorch import utils
    from snntorch.export_nir import export_to_nir

    def leaky(n, th):
        return snn.Leaky(beta=torch.full((n,), 0.9), threshold=torch.full((n,), th),
                         reset_mechanism="zero", reset_delay=False, init_hidden=True)

    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Linear(64, 32, bias=False), leaky(32, 1.0),
                              torch.nn.Linear(32, 10, bias=False), leaky(10, 1e6))

    def run(xb):
        utils.reset(net)
        tot = 0
        for _ in range(T):
            net[3](net[2](net[1](net[0](xb))))
            tot = tot + net[3].mem
        return tot

    _train(run, net.parameters(), x, y)
    # per-neuron beta / threshold: snnTorch's scalar ones export shape-less nodes that
    # NIR's type inference refuses; ignore_dims drops the batch axis of the sample
    return run, export_to_nir(net, torch.zeros(1, 64), ignore_dims=[0]), 1e-4


def _norse(x, y):
    """Norse 64-32-10: LIFBoxCell hidden layer, LIBoxCell readout (dt = 1 ms, tau 2 ms)."""
    norse = pytest.importorskip("norse.torch")
    from norse.torch.functional.leaky_integrator_box import LIBoxParameters
    from norse.torch.functional.lif_box import LIFBoxParameters
    from norse.torch.utils.export_nir import to_nir

    torch.manual_seed(0)
    inv = torch.tensor(500.0)  # tau_mem = 2 ms: dt / tau = 0.5 (Norse's 10 ms learns slowly)
    net = norse.SequentialState(torch.nn.Linear(64, 32, bias=False),
                                norse.LIFBoxCell(LIFBoxParameters(tau_mem_inv=inv)),
                                torch.nn.Linear(32, 10, bias=False),
                                norse.LIBoxCell(LIBoxParameters(tau_mem_inv=inv)))
    with torch.no_grad():  # the input gain is dt / tau_mem = 0.5: start 2x larger
        for m in (net[0], net[2]):
            m.weight.mul_(2.0)

    def run(xb):
        state, tot = None, 0
        for _ in range(T):
            out, state = net(xb, state)
            tot = tot + out
        return tot

    _train(run, net.parameters(), x, y)
    # Norse 1.1.0 writes tau = dt / tau_mem_inv (and reads tau back as 1 / tau_mem_inv):
    # dt=1 writes the physical time constant; the simulation step (1 ms) goes to --dt
    return run, to_nir(net, torch.zeros(1, 64), dt=1.0), 1e-3


def _write(graph, path):
    for node in graph.nodes.values():  # Norse leaves scalar torch tensors in the nodes,
        for k, v in vars(node).items():  # which nir.write cannot store (gzip on a scalar)
            if isinstance(v, torch.Tensor):
                v = v.detach().numpy()
            if isinstance(v, np.ndarray) and v.ndim == 0:
                v = v.reshape(1)
            setattr(node, k, v)
    nir.write(path, graph)
    return path


@pytest.mark.parametrize("library", [_snntorch, _norse], ids=["snntorch", "norse"])
def test_trained_network_agrees_on_lava(tmp_path, digits, library):
    from lavalab.compile.supervised import analyse_supervised, lower_supervised
    from lavalab.supervised.evaluate import evaluate_lava, evaluate_torch
    from lavalab.supervised.train import load_model

    img, x, y = digits
    run, graph, dt = library(x, y)
    te = slice(N_TRAIN, N_TRAIN + N_TEST)
    with torch.no_grad():
        ref = run(x[te]).numpy()
    src = ref.argmax(1)
    assert (src == y[te]).mean() > 0.7  # the source network learned the task (chance: 0.1)
    path = _write(graph, tmp_path / "net.nir")
    # the float NIR reference (lavalab's reading of the graph) is the library's own run
    _, layers, _ = graph_layers(read_graph(path), dt)
    _, score = simulate_float(layers, x[te].numpy()[:, :, None].repeat(T, 2).astype(float))
    assert (score.argmax(1) == src).mean() >= 0.99
    out = tmp_path / "model.npz"
    assert main(["import", str(path), "--out", str(out), "--dt", str(dt),
                 "--timesteps", str(T)]) == 0
    net, meta = load_model(out)
    assert meta["nir_import"]["dt_s"] == dt
    lava = evaluate_lava(net, img[te], y[te], progress=False)
    agree = 100 * (lava.predictions == src).mean()
    print(f"{library.__name__}: Lava fixed_pt vs float source {agree:.1f} % of {N_TEST}; "
          f"spikes/sample {lava.spikes_per_sample()}; {meta['nir_import']['layers']}")
    assert agree >= 97.0
    assert lava.events[:, 1].mean() > 1  # the hidden layer fires
    tq = evaluate_torch(net, img[te], y[te])  # SLAYER's quantised pass ~ Lava
    same = (tq.events == lava.events).all(1).mean()
    print(f"torch (SLAYER quantised) vs Lava: predictions equal on "
          f"{100 * (tq.predictions == lava.predictions).mean():.1f} %, spike counts on "
          f"{100 * same:.1f} %")
    assert (tq.predictions == lava.predictions).mean() >= 0.99 and same >= 0.98
    row, _ = analyse_supervised(lower_supervised(net), lava.events, "davies2018", "loihi2")
    assert row["energy_infer_uJ"] > 0
    # and it deploys: a Loihi 2 bundle that Lava runs, without lavalab, as lavalab computes
    from lavalab.deploy.bundle import run_bundle_sim

    bundle = tmp_path / "bundle"
    assert main(["deploy", str(out), "--dataset", "digits", "--samples", "30", "--out",
                 str(bundle)]) == 0
    r = run_bundle_sim(bundle, timeout=600)
    assert r.returncode == 0, r.stderr[-2000:]
    res = json.loads((bundle / "results_sim.json").read_text())
    assert res["prediction_agreement_with_reference"] == 1.0
    assert res["identical_scores_with_reference"] == 1.0


def _graph(w1, lif, w2=None, out=None):
    """Input(n) -> Linear -> lif -> Linear -> out -> Output."""
    n_in, n_h = w1.shape[1], w1.shape[0]
    w2 = np.eye(2, n_h) if w2 is None else w2
    out = out or nir.LI(tau=np.full(2, 2e-3), r=np.ones(2), v_leak=np.zeros(2))
    return nir.NIRGraph(
        nodes={"in": nir.Input(input_type={"input": np.array([n_in])}),
               "w1": nir.Linear(weight=w1), "h": lif, "w2": nir.Linear(weight=w2),
               "o": out, "out": nir.Output(output_type={"output": np.array([2])})},
        edges=[("in", "w1"), ("w1", "h"), ("h", "w2"), ("w2", "o"), ("o", "out")])


def _lif(n=2, tau=2e-3, r=1.0, th=1.0, v_leak=0.0, v_reset=0.0):
    return nir.LIF(tau=np.full(n, tau), r=np.full(n, r), v_leak=np.full(n, v_leak),
                   v_threshold=np.full(n, th) if np.isscalar(th) else np.asarray(th),
                   v_reset=np.full(n, v_reset))


def test_mapping_by_hand(tmp_path):
    """dt/tau = 0.5, r = 1: v = 0.5 v + 0.5 w x. Input 1 through w = 1, threshold 0.7:
    v = 0.5, 0.75 (spike, reset), 0.5, 0.75 (spike): 2 spikes in 4 steps. The second
    neuron (w = 2, threshold 1.4: the same neuron scaled by 2) spikes at the same steps."""
    g = _graph(np.array([[1.0], [2.0]]), _lif(tau=2e-3, th=[0.7, 1.4]))
    n_in, layers, dt = graph_layers(g, 1e-3)
    assert (n_in, dt, layers[0].du, layers[0].dv) == (1, 1e-3, 1.0, 0.5)
    counts, _ = simulate_float(layers, np.ones((1, 1, 4)))
    assert counts[0].tolist() == [4.0]  # 2 + 2
    path = tmp_path / "g.nir"
    nir.write(path, g)
    net, rep = import_nir(path, ImportConfig(timesteps=4, dt=1e-3))
    assert rep["decays"]["dv_int"] == 2048 and rep["decays"]["du_int"] == 4096
    w = net.quantized_weights()[0][:, 0]
    assert w[0] == w[1]  # folded per-neuron thresholds: identical rows


@pytest.mark.parametrize("kw, match", [
    (dict(v_leak=0.1), "v_leak"), (dict(v_reset=0.2), "v_reset"),
    (dict(tau=5e-4), "outside"),
])
def test_unrepresentable_refused(kw, match):
    with pytest.raises(NIRImportError, match=match):
        graph_layers(_graph(np.ones((2, 3)), _lif(**kw)), 1e-3)


def test_differing_decays_refused():
    g = _graph(np.ones((2, 3)), _lif(tau=2e-3),
               out=nir.LI(tau=np.full(2, 4e-3), r=np.ones(2), v_leak=np.zeros(2)))
    with pytest.raises(NIRImportError, match="one neuron type"):
        graph_layers(g, 1e-3)


def _one_line_error(capsys, argv, *words):
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and "Traceback" not in err
    for w in words:
        assert w in err, err
    return err


def test_cli_bad_inputs(tmp_path, capsys):
    good = tmp_path / "g.nir"
    nir.write(good, _graph(np.ones((2, 3)), _lif()))
    text = tmp_path / "notes.nir"
    text.write_text("not a NIR file\n")
    _one_line_error(capsys, ["import", str(text), "--out", str(tmp_path / "m.npz"),
                             "--dt", "1e-3"], "notes.nir", "not a readable NIR file")
    damaged = tmp_path / "damaged.nir"
    damaged.write_bytes(good.read_bytes()[:400])
    _one_line_error(capsys, ["import", str(damaged), "--out", str(tmp_path / "m.npz"),
                             "--dt", "1e-3"], "damaged.nir")
    conv = _graph(np.ones((2, 3)), _lif())
    conv.nodes["w1"] = nir.Conv1d(input_shape=3, weight=np.ones((2, 1, 1)), stride=1,
                                  padding=0, dilation=1, groups=1, bias=np.zeros(2))
    cpath = tmp_path / "conv.nir"
    nir.write(cpath, conv)
    _one_line_error(capsys, ["import", str(cpath), "--out", str(tmp_path / "m.npz"),
                             "--dt", "1e-3"], "'w1'", "Conv1d", "supported")
    _one_line_error(capsys, ["import", str(good), "--out", str(tmp_path / "m.npz")],
                    "--dt")
    out = tmp_path / "exists.npz"
    out.write_text("x")
    _one_line_error(capsys, ["import", str(good), "--out", str(out), "--dt", "1e-3"],
                    "--force")
    assert main(["import", str(good), "--out", str(out), "--dt", "1e-3", "--force"]) == 0


def test_imported_model_runs_through_dl_commands(tmp_path, capsys):
    """A 784-input NIR graph imports into the model ``dl evaluate`` (MNIST, torch and Lava)
    and ``dl export`` (netx) take."""
    rng = np.random.default_rng(0)
    g = nir.NIRGraph(
        nodes={"in": nir.Input(input_type={"input": np.array([784])}),
               "w1": nir.Affine(weight=rng.normal(0, 0.05, (16, 784)), bias=np.zeros(16)),
               "h": _lif(16, tau=1e-2, th=0.5),
               "w2": nir.Linear(weight=rng.normal(0, 0.3, (10, 16))),
               "o": nir.LI(tau=np.full(10, 1e-2), r=np.ones(10), v_leak=np.zeros(10)),
               "out": nir.Output(output_type={"output": np.array([10])})},
        edges=[("in", "w1"), ("w1", "h"), ("h", "w2"), ("w2", "o"), ("o", "out")])
    path, model = tmp_path / "mnist.nir", tmp_path / "m.npz"
    nir.write(path, g)
    assert main(["import", str(path), "--out", str(model), "--dt", "1e-3",
                 "--timesteps", "2"]) == 0
    assert main(["dl", "evaluate", str(model), "--backend", "both", "--samples", "4",
                 "--quiet"]) == 0
    out = capsys.readouterr().out
    assert "torch vs lava" in out and "'prediction_agreement': 100.0" in out
    assert main(["dl", "export", str(model), "--out", str(tmp_path / "m.net")]) == 0
    assert (tmp_path / "m.net").is_file()
