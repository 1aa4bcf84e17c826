"""The Loihi 2 branch of a bundle's ``run.py``, exercised without a chip: stand-ins for
lava-loihi's embedded-I/O adapters (identity CPU Processes with their ports) and for the
host selection of ``lava.utils.loihi``; ``run.py --target loihi2 --dry-run`` builds the
whole wiring, which is then checked (and run on the CPU with the identity adapters)."""

from __future__ import annotations

import importlib.util
import json

import eio_standin
import numpy as np
import pytest

from lavalab import loihi_spec as spec

#: stock Processes that lava-loihi maps to neuro-cores (LOIHI_HW.md 4a)
NEURO_CORE_CLASSES = {"LIF", "LIFReset", "ATRLIF", "Dense", "Sparse", "LearningDense"}


@pytest.fixture
def bundle(built):
    return built["diehl-cook"][1]


def _load_run_py(bundle):
    s = importlib.util.spec_from_file_location("bundle_run_under_test", bundle / "run.py")
    mod = importlib.util.module_from_spec(s)
    s.loader.exec_module(mod)
    return mod


@pytest.fixture
def hardware(monkeypatch):
    """lava.utils.loihi says lava-loihi is installed and records the host selection."""
    from lava.utils import loihi

    calls = []
    monkeypatch.setattr(loihi, "is_installed", lambda *a, **k: True)
    monkeypatch.setattr(loihi, "use_slurm_host", lambda **kw: calls.append(("slurm", kw)))
    monkeypatch.setattr(loihi, "use_ethernet_host",
                        lambda addr, **kw: calls.append(("ethernet", addr, kw)))
    eio_standin.install(monkeypatch)
    return calls


def _edges(procs):
    for p in procs:
        for port in p.out_ports:
            for dst in port.out_connections:
                yield p, dst.process


def test_dry_run_wires_adapters_stock_processes_and_partition(bundle, hardware):
    run = _load_run_py(bundle)
    assert run.main(["--target", "loihi2", "--dry-run", "--partition", "oheogulch"]) == 0
    from lava.magma.core.run_configs import Loihi2HwCfg
    from lava.utils.loihi import ChipGeneration

    assert hardware == [("slurm", {"partition": "oheogulch", "board": None,
                                   "loihi_gen": ChipGeneration.N3B3})]
    g = run.DRY_RUN["graph"]
    assert isinstance(run.DRY_RUN["run_cfg"], Loihi2HwCfg)
    chip, host, adapters = list(g["chip"].values()), g["host"], g["adapters"]
    # every chip-side Process is a stock lava.proc class with a neuro-core model
    for p in chip:
        assert type(p).__module__.startswith("lava.proc.") and \
            type(p).__name__ in NEURO_CORE_CLASSES, type(p)
    # host <-> chip traffic only through the adapters, in the right direction
    kinds = {id(p): "chip" for p in chip} | {id(p): "host" for p in host}
    kinds |= {id(a): type(a).__name__ for a in adapters}
    seen = set()
    for src, dst in _edges(chip + host + adapters):
        pair = (kinds[id(src)], kinds[id(dst)])
        seen.add(pair)
        assert pair not in {("host", "chip"), ("chip", "host")}, pair
    assert seen == {("host", "PyToNxAdapter"), ("PyToNxAdapter", "chip"), ("chip", "chip"),
                    ("chip", "NxToPyAdapter"), ("NxToPyAdapter", "host")}
    assert sorted(type(a).__name__ for a in adapters) == [
        "NxToPyAdapter", "NxToPyAdapter", "PyToNxAdapter"]
    # the compile layer's partition, passed to Lava, within Loihi 2's per-core limits
    part = run.DRY_RUN["compile_config"]["partitioning"]
    plan = json.loads((bundle / "partition.json").read_text())
    assert set(part) == {"exc", "inh"} == {p.name for p in chip if "LIF" in type(p).__name__}
    res = spec.LOIHI2
    total = 0
    for name, p in part.items():
        n = g["chip"][name].s_out.shape[0]
        assert 1 <= p["neurons_per_core"] <= res.neurons_per_core
        assert p["cores"] * p["neurons_per_core"] >= n > (p["cores"] - 1) * p["neurons_per_core"]
        for b in plan["populations"][name]["blocks"]:
            assert b["stop"] - b["start"] <= res.neurons_per_core
            assert b["memory_bits"] <= res.synapse_memory_bits_per_core
            assert b["fan_in"] <= res.fan_in_per_core and b["fan_out"] <= res.fan_out_per_core
        total += p["cores"]
    assert total <= res.cores_per_chip


def test_ethernet_host_and_missing_lava_loihi(bundle, hardware, monkeypatch, capsys):
    run = _load_run_py(bundle)
    assert run.main(["--target", "loihi2", "--dry-run", "--ethernet-host", "10.0.0.2",
                     "--loihi-gen", "N3C1"]) == 0
    assert hardware[0][:2] == ("ethernet", "10.0.0.2")
    assert "not a power of 2" in capsys.readouterr().err  # 50-step digits: warned
    from lava.utils import loihi

    monkeypatch.setattr(loihi, "is_installed", lambda *a, **k: False)
    assert run.main(["--target", "loihi2", "--dry-run"]) == 2
    err = capsys.readouterr().err
    assert "lava-loihi" in err and err.count("\n") == 1


def test_loihi2_wiring_with_identity_adapters_computes_the_same_counts(bundle, hardware):
    """The chip graph (adapters in place) run on the CPU, the adapters as identities: the
    spike counts are the stock reference's, digit by digit (the wiring changes nothing)."""
    run = _load_run_py(bundle)
    assert run.main(["--target", "loihi2", "--dry-run", "--no-partition"]) == 0
    from host_io import HOST_MODELS
    from lava.magma.core.run_conditions import RunSteps
    from lava.magma.core.run_configs import Loihi2SimCfg

    g = run.DRY_RUN["graph"]
    cfg = Loihi2SimCfg(select_tag="fixed_pt",
                       exception_proc_model_map={**HOST_MODELS, **eio_standin.MODELS})
    steps = g["samples"] * g["meta"]["sample_steps"]
    try:
        g["source"].run(condition=RunSteps(num_steps=steps), run_cfg=cfg)
        counts = np.rint(g["counters"]["exc"].counts.get()).astype(np.int64)
    finally:
        g["source"].stop()
    with np.load(bundle / "expected.npz") as z:
        np.testing.assert_array_equal(counts, z["stock_exc_counts"])
