"""Every bad-input case of issue 12 through the CLI: exit code 2 and one line on stderr
naming the value, flag or file (no traceback), or a correct result. Damaged files are made
here. Small networks on the built-in digits keep this fast."""

import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from lavalab import model_io
from lavalab.cli import main

TINY = ["--network", "tinysnn", "--neurons", "5", "--timesteps", "20", "--rest", "5",
        "--dataset", "digits", "--assign-samples", "6", "--quiet"]


def _run(capsys, argv):
    capsys.readouterr()
    try:
        rc = main([str(a) for a in argv])
    except SystemExit as e:  # argparse
        rc = e.code
    out, err = capsys.readouterr()
    return rc, out, err


def _fails(capsys, argv, *names):
    rc, _, err = _run(capsys, argv)
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert rc == 2, (argv, rc, err)
    assert "Traceback" not in err
    msg = lines[-1]  # argparse prints its usage line first; ours is exactly one line
    if not msg.startswith("usage:") and "argument" not in msg:
        assert len(lines) == 1, err
    for n in names:
        assert n in msg, (n, msg)
    return msg


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory):
    d = tmp_path_factory.mktemp("m") / "digits"
    assert main(["train", *TINY, "--samples", "6", "--checkpoint-every", "3",
                 "--input-gain", "4", "--out", str(d)]) == 0
    return d


def _edited(src: Path, dst: Path, meta=None, arrays=None) -> Path:
    m, a = model_io.load_npz(src / "model.npz", model_io.MODEL_FORMAT)
    m = {k: v for k, v in m.items() if k not in ("format", "version")}
    m.update(meta or {})
    a.update(arrays or {})
    dst.mkdir(parents=True, exist_ok=True)
    model_io.save_npz(dst / "model.npz", model_io.MODEL_FORMAT, m, a)
    return dst


def test_model_carries_its_dataset_and_commands_use_it(capsys, model_dir):
    meta, _ = model_io.load_npz(model_dir / "model.npz", model_io.MODEL_FORMAT)
    assert meta["dataset"] == "digits" and meta["input_shape"] == [8, 8]
    # compile --model loaded MNIST into this 64-input model: free(): invalid pointer
    rc, out, _ = _run(capsys, ["compile", "--model", model_dir, "--samples", "2"])
    assert rc == 0 and "2 digits test samples" in out
    # evaluate's default is the whole test set of the model's dataset (297 digits)
    rc, out, _ = _run(capsys, ["evaluate", model_dir, "--no-plots"])
    ev = json.loads((model_dir / "eval.json").read_text())
    assert rc == 0 and ev["samples"] == 297 and ev["dataset"] == "digits"
    assert 0 <= ev["accuracy_pct"] <= 100 and "accuracy_pct" in ev


def test_input_gain_reaches_the_network(model_dir):
    rep = json.loads((model_dir / "train.json").read_text())
    meta, _ = model_io.load_npz(model_dir / "model.npz", model_io.MODEL_FORMAT)
    assert rep["config"]["input_gain"] == 4.0 and meta["spec"]["input_gain"] == 4.0


@pytest.mark.parametrize("case", [
    ("weights negative", {}, {"w": lambda w: -w - 1}, "weights value"),
    ("weights too large", {}, {"w": lambda w: w + 1000}, "weights value"),
    ("weights NaN", {}, {"w": lambda w: np.full(w.shape, np.nan)}, "NaN"),
    ("weights fractional", {}, {"w": lambda w: w + 0.5}, "must be integers"),
    ("theta negative", {}, {"theta": lambda t: t - 5}, "theta value"),
    ("theta wrong length", {}, {"theta": lambda t: np.zeros(len(t) + 1)}, "theta has shape"),
    ("assignment 42", {}, {"assignments": lambda a: a * 0 + 42}, "assignments value 42"),
    ("proportions NaN", {}, {"proportions": lambda p: p * np.nan}, "proportions"),
    ("shape lie", {"input_shape": [28, 28]}, {}, "input_shape=[28, 28]"),
    ("dataset lie", {"dataset": "mnist", "input_shape": [28, 28]}, {}, "input_shape"),
    ("unknown dataset", {"dataset": "cifar"}, {}, "dataset='cifar'"),
    ("precision", {"precision": "half"}, {}, "precision='half'"),
    ("seed", {"seed": -3}, {}, "seed=-3"),
    ("spec missing", {"spec": {"kind": "tinysnn"}}, {}, "model.npz"),
], ids=lambda c: c[0])
def test_invalid_model_contents(capsys, tmp_path, model_dir, case):
    _, meta, arrays, expect = case
    _, a = model_io.load_npz(model_dir / "model.npz", model_io.MODEL_FORMAT)
    d = _edited(model_dir, tmp_path / "bad", meta, {k: f(a[k]) for k, f in arrays.items()})
    for argv in (["evaluate", d, "--samples", "2", "--no-plots"],
                 ["compile", "--model", d, "--samples", "2"], ["plot", d]):
        msg = _fails(capsys, argv, str(d / "model.npz"), expect)
        assert "invalid model" in msg
    assert not (d / "eval.json").exists() and not (d / "raster.png").exists()


@pytest.mark.parametrize("damage", ["zero-byte", "truncated", "bit-flipped", "not npz"])
def test_damaged_model_file(capsys, tmp_path, model_dir, damage):
    d = tmp_path / "d"
    shutil.copytree(model_dir, d)
    raw = (d / "model.npz").read_bytes()
    if damage == "zero-byte":
        raw = b""
    elif damage == "truncated":
        raw = raw[:len(raw) // 2]
    elif damage == "bit-flipped":  # inside the compressed weights: CRC / zlib errors
        raw = raw[:200] + bytes([raw[200] ^ 0x10]) + raw[201:]
    else:
        raw = b"hello"
    (d / "model.npz").write_bytes(raw)
    _fails(capsys, ["evaluate", d, "--no-plots"], str(d / "model.npz"))


def test_finished_model_is_not_replaced_without_force(capsys, tmp_path, model_dir):
    d = tmp_path / "d"
    shutil.copytree(model_dir, d)
    before = (d / "model.npz").read_bytes()
    _fails(capsys, ["train", *TINY, "--samples", "4", "--out", d], "model.npz", "--force")
    assert (d / "model.npz").read_bytes() == before
    (d / "eval.json").write_text("{}")
    rc, _, _ = _run(capsys, ["train", *TINY, "--samples", "4", "--input-gain", "4",
                             "--force", "--out", d])
    assert rc == 0 and (d / "model.npz").read_bytes() != before
    assert not (d / "eval.json").exists()  # it described the replaced model


def test_out_errors_before_any_work(capsys, tmp_path, model_dir):
    f = tmp_path / "file"
    f.write_text("x")
    _fails(capsys, ["train", *TINY, "--samples", "4", "--out", f], "--out", "existing file")
    _fails(capsys, ["train", *TINY, "--samples", "4", "--out", "/proc/lavalab/x"],
           "not writable")
    _fails(capsys, ["evaluate", model_dir, "--out", f], "--out", "existing file")
    _fails(capsys, ["plot", model_dir, "--out", f], "--out", "existing file")
    _fails(capsys, ["study", "timesteps", "--dataset", "digits", "--out", f], "--out")
    # a data error leaves no output folder behind
    new = tmp_path / "new"
    _fails(capsys, ["train", "--data-root", tmp_path / "nothing", "--quiet", "--out", new],
           "nothing")
    assert not new.exists()


def test_full_disk_is_one_line_and_temp_files_go(capsys, tmp_path, monkeypatch):
    import errno

    out = tmp_path / "o"
    out.mkdir()
    stale = out / "checkpoint.npz.k1ll3d.tmp"  # left by a killed write
    stale.write_bytes(b"half")

    def full(*a, **k):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(model_io, "_savez_fast", full)  # the npz writer of model_io
    _fails(capsys, ["train", *TINY, "--samples", "3", "--checkpoint-every", "3", "--out",
                    out], "No space left on device")
    assert not list(out.glob("*.tmp"))


def test_plot_sample_out_of_range_writes_nothing(capsys, tmp_path, model_dir):
    _fails(capsys, ["plot", model_dir, "--sample", "297", "--out", tmp_path / "p"],
           "sample=297", "0..296")
    assert not (tmp_path / "p").exists()
    _fails(capsys, ["plot", model_dir, "--sample", "-1"], "--sample")


@pytest.mark.parametrize("seed", ["-1", "1e20", str(2**32), "x"])
def test_compile_seed_range(capsys, seed):
    _fails(capsys, ["compile", "--seed", seed], "--seed")


def test_damaged_gzip_idx(capsys, tmp_path):
    from lavalab.data import write_idx

    write_idx(tmp_path / "train-images-idx3-ubyte.gz", np.zeros((4, 28, 28), np.uint8))
    write_idx(tmp_path / "train-labels-idx1-ubyte.gz", np.zeros(4, np.uint8))
    raw = bytearray((tmp_path / "train-images-idx3-ubyte.gz").read_bytes())
    raw[len(raw) // 2] ^= 0xFF
    (tmp_path / "train-images-idx3-ubyte.gz").write_bytes(bytes(raw))
    _fails(capsys, ["train", "--data-root", tmp_path, "--samples", "2", "--quiet",
                    "--out", tmp_path / "o"], "train-images-idx3-ubyte.gz")


def _interrupted_checkpoint(tmp_path, monkeypatch) -> Path:
    import lavalab.stdp.scoring as ex

    real, calls = ex.run, {"n": 0}

    def flaky(*a, **k):
        calls["n"] += 1
        if calls["n"] == 2:
            raise KeyboardInterrupt
        return real(*a, **k)

    monkeypatch.setattr(ex, "run", flaky)
    assert main(["train", *TINY, "--samples", "6", "--checkpoint-every", "3",
                 "--out", str(tmp_path / "c")]) == 130  # Ctrl-C: one line, exit 130
    monkeypatch.setattr(ex, "run", real)
    assert not list((tmp_path / "c").glob("*.tmp"))  # the interrupted write cleaned up
    return tmp_path / "c" / "checkpoint.npz"


@pytest.mark.parametrize("damage", ["no theta", "t = 0", "samples_done", "w shape",
                                    "zero-byte", "no events"])
def test_damaged_checkpoint(capsys, tmp_path, monkeypatch, damage):
    ck = _interrupted_checkpoint(tmp_path, monkeypatch)
    meta, arrays = model_io.load_npz(ck, model_io.CHECKPOINT_FORMAT)
    meta = {k: v for k, v in meta.items() if k not in ("format", "version")}
    if damage == "no theta":
        del arrays["theta"]
    elif damage == "t = 0":
        meta["t"] = 0
    elif damage == "samples_done":
        meta["samples_done"] = 99
    elif damage == "w shape":
        arrays["w"] = arrays["w"][:, :3]
    elif damage == "no events":
        del arrays["events"]
    model_io.save_npz(ck, model_io.CHECKPOINT_FORMAT, meta, arrays)
    if damage == "zero-byte":
        ck.write_bytes(b"")
    _fails(capsys, ["train", *TINY, "--samples", "6", "--checkpoint-every", "3",
                    "--out", ck.parent], str(ck))
    rc, _, _ = _run(capsys, ["train", *TINY, "--samples", "6", "--checkpoint-every", "3",
                             "--restart", "--out", ck.parent])
    assert rc == 0


def test_samples_per_s_counts_only_this_run(tmp_path, monkeypatch):
    ck = _interrupted_checkpoint(tmp_path, monkeypatch)
    assert main(["train", *TINY, "--samples", "6", "--checkpoint-every", "3",
                 "--out", str(ck.parent)]) == 0
    rep = json.loads((ck.parent / "train.json").read_text())
    assert rep["resumed_from_sample"] == 3 and rep["samples_this_run"] == 3
    assert rep["samples_per_s"] == pytest.approx(3 / rep["wall_s"])


STUDY = ["study", "timesteps", "--dataset", "digits", "--neurons", "5", "--train-samples",
         "12", "--test-samples", "6", "--assign-samples", "6", "--quiet", "--workers", "1"]


def test_study_grid_rule_and_damaged_results(capsys, tmp_path):
    out = tmp_path / "s"
    rc, text, _ = _run(capsys, [*STUDY, "--timesteps", "20,10", "--enhancement",
                                "linear", "--out", out])
    assert rc == 0
    doc = json.loads((out / "results.json").read_text())
    assert sorted(r["key"] for r in doc["rows"]) == ["T10-linear", "T20-none"]  # no twin
    assert doc["version"] == 3 and doc["grid"]["enhancements"] == ["linear"]
    models = out / "models" / "seed0"
    meta, _ = model_io.load_npz(models / "T10-linear.npz", model_io.MODEL_FORMAT)
    assert meta["dataset"] == "digits" and meta["input_shape"] == [8, 8]
    rc, _, _ = _run(capsys, ["evaluate", models / "T10-linear.npz", "--no-plots"])
    assert rc == 0 and (models / "eval.json").exists()
    # another grid: only its rows are computed and reported; old rows stay in the file,
    # kept apart (tests/faults/test_study_grids.py)
    rc, text, _ = _run(capsys, [*STUDY, "--timesteps", "20,5", "--enhancement", "linear",
                                "--out", out])
    doc = json.loads((out / "results.json").read_text())
    assert rc == 0 and len(doc["rows"]) == 2
    assert doc["summary"]["rows"] == ["T20-none", "T5-linear"]
    sm = doc["summary"]  # this tiny digits setup may collapse: then nothing is chosen
    assert sm["chosen"] in ("T20-none", "T5-linear") or sm["withheld"]
    assert "T10-linear" not in text
    # a row whose model file is gone is not trusted: it is recomputed
    (models / "T5-linear.npz").unlink()
    assert _run(capsys, [*STUDY, "--timesteps", "20,5", "--enhancement", "linear",
                         "--out", out])[0] == 0
    assert (models / "T5-linear.npz").exists()
    # damaged / hand-edited / other version: refused, naming the file (version 3 reads
    # the per-seed runs; rows are derived from them)
    path = out / "results.json"
    good = path.read_text()
    for edit, expect in (
            (lambda d: d["runs"][0].update(accuracy=150.0), "run 0"),
            (lambda d: d["runs"][0].update(key="T7-linear"), "does not match"),
            (lambda d: d["runs"].append(dict(d["runs"][0])), "twice"),
            (lambda d: d["runs"][0].pop("latency_infer_us"), "latency_infer_us"),
            (lambda d: d["runs"][0].update(seed=-1), "seed=-1"),
            (lambda d: d["runs"][0].update(model="../x.npz"), "inside the study folder"),
            (lambda d: d.update(version=99), "version 99"),
            (lambda d: d.update(runs={}), "runs"),
            (lambda d: d.update(setup=[]), "setup")):
        d = json.loads(good)
        edit(d)
        path.write_text(json.dumps(d))
        _fails(capsys, [*STUDY, "--timesteps", "20,5", "--enhancement", "linear",
                        "--out", out], str(path), expect)
    for raw in ("", "{", "[]"):
        path.write_text(raw)
        _fails(capsys, [*STUDY, "--timesteps", "20,5", "--out", out], str(path))


def test_timestep_study_rejects_an_empty_grid(tmp_path):
    from lavalab.study import StudySetup, precision_study, timestep_study

    setup = StudySetup(dataset="digits", neurons=5, train_samples=12, test_samples=6,
                       assign_samples=6)
    with pytest.raises(ValueError, match="timesteps is empty"):
        timestep_study(setup, tmp_path / "t", timesteps=[])
    with pytest.raises(ValueError, match="schemes is empty"):
        precision_study(setup, tmp_path / "p", schemes=[])
    assert not (tmp_path / "t").exists() and not (tmp_path / "p").exists()


def test_nmnist_and_digits_root_are_clear(capsys, tmp_path):
    from lavalab.data import DataError, load_dataset

    with pytest.raises(DataError, match="nmnist is an event dataset"):
        load_dataset("nmnist")
    _fails(capsys, ["train", "--dataset", "nmnist", "--out", tmp_path], "--dataset")
    _fails(capsys, ["train", "--dataset", "digits", "--data-root", tmp_path, "--quiet",
                    "--out", tmp_path / "o"], "digits is built in")


def test_every_option_has_help_and_shows_its_default():
    import argparse

    from lavalab.cli import build_parser

    def walk(p):
        for a in p._actions:
            if isinstance(a, argparse._SubParsersAction):
                for sub in a.choices.values():
                    yield from walk(sub)
            elif a.dest != "help":
                yield p, a
    for p, a in walk(build_parser()):
        assert a.help, (p.prog, a.dest)
        if a.default not in (None, False) and a.option_strings:
            assert "default" in p.formatter_class(p.prog)._get_help_string(a), a.dest


@pytest.mark.slow  # a fresh interpreter importing Lava; the same case runs in-process above
def test_heap_corruption_command_in_a_subprocess(tmp_path, model_dir):
    """A model whose input size differs from the images is refused in a real process
    (was: exit 134 / 139)."""
    d = _edited(model_dir, tmp_path / "lie", {"dataset": "mnist", "input_shape": [8, 8]})
    r = subprocess.run([sys.executable, "-m", "lavalab.cli", "evaluate", str(d),
                        "--samples", "2", "--no-plots"], capture_output=True, text=True,
                       env={**__import__("os").environ,
                            "PYTHONPATH": str(Path(__file__).resolve().parents[1])})
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1 and "784 inputs" in r.stderr


def test_study_takes_the_policy_enhancement_search_selects(capsys, tmp_path):
    """--enhancement takes tuned(...) names (commas inside do not split), written in the
    canonical form enhancement-search reports; a bad one is one line."""
    out = tmp_path / "s"
    rc, _, _ = _run(capsys, [*STUDY, "--timesteps", "20,10", "--enhancement",
                             "linear,tuned(theta=2,lr=0.5)", "--out", out])
    assert rc == 0
    keys = sorted(r["key"] for r in json.loads((out / "results.json").read_text())["rows"])
    assert keys == ["T10-linear", "T10-tuned(vth=1,tref=1,theta=2,inh=1,lr=0.5)", "T20-none"]
    _fails(capsys, [*STUDY, "--timesteps", "20,10", "--enhancement", "tuned(bogus=2)",
                    "--out", out], "--enhancement", "'bogus' is not one of")
    _fails(capsys, [*STUDY, "--timesteps", "20,10", "--enhancement", "linear,tuned(theta=2",
                    "--out", out], "--enhancement", "not a comma-separated list")
    _fails(capsys, [*STUDY, "--timesteps", "20,10", "--infer-enhancement", "cubic",
                    "--out", out], "--infer-enhancement", "'cubic' is not one of")
