"""The contract of every command (:func:`lavalab.cli.main.main`): a known error is one line
and exit 2 (``--debug`` adds its traceback); a bug is one line and exit 1; Ctrl-C is one
line and exit 130; a full disk is one line naming the file being written, exit 2, and what
was finished stays: the same command afterwards resumes and ends with the model an
uninterrupted run gives, bit for bit."""

from __future__ import annotations

import errno
from pathlib import Path

import numpy as np
import pytest

from lavalab import model_io, runlock
from lavalab.cli import main
from lavalab.cli import stdp as stdp_cli

TINY = ["--network", "tinysnn", "--neurons", "5", "--timesteps", "20", "--rest", "5",
        "--dataset", "digits", "--assign-samples", "6", "--quiet", "--input-gain", "4",
        "--samples", "9", "--checkpoint-every", "3"]


def _run(capsys, argv) -> tuple[int, list[str]]:
    capsys.readouterr()
    rc = main([str(a) for a in argv])
    err = capsys.readouterr().err
    return rc, [ln for ln in err.splitlines() if ln.strip()]


def test_known_error_is_one_line_and_debug_adds_the_traceback(capsys, tmp_path):
    argv = ["evaluate", tmp_path / "nomodel", "--no-plots"]
    rc, lines = _run(capsys, argv)
    assert rc == 2 and len(lines) == 1, lines
    assert lines[0].startswith("lavalab evaluate: error: ") and "nomodel" in lines[0]
    rc, debug = _run(capsys, ["--debug", *argv])
    assert rc == 2 and debug[0] == "Traceback (most recent call last):"
    assert "ModelFileError" in debug[-2] and debug[-1] == lines[0]
    assert not (tmp_path / "nomodel").exists()  # made for the lock, removed with it


def _raising(exc: BaseException, out_seen: list):
    def cmd(args):
        args.hold_out(args.out)
        out_seen.append(runlock.lock_path(args.out).exists())
        raise exc
    return cmd


def test_a_bug_is_one_line_exit_1(capsys, tmp_path, monkeypatch):
    seen = []
    monkeypatch.setattr(stdp_cli, "_cmd_plot", _raising(
        TypeError("unsupported operand type(s) for +: 'int' and 'str'"), seen))
    rc, lines = _run(capsys, ["plot", "m", "--out", tmp_path / "o"])
    assert rc == 1 and seen == [True]
    assert lines == ["lavalab plot: internal error: TypeError: unsupported operand type(s) "
                     "for +: 'int' and 'str' (a bug; rerun with --debug for the traceback)"]
    assert not (tmp_path / "o").exists()  # the lock went, and the folder made for it
    rc, debug = _run(capsys, ["--debug", "plot", "m", "--out", tmp_path / "o"])
    assert rc == 1 and debug[0].startswith("Traceback") and debug[-1] == lines[0]
    assert any("in cmd" in ln for ln in debug)


def test_missing_package_is_one_line_exit_2(capsys, tmp_path, monkeypatch):
    monkeypatch.setattr(stdp_cli, "_cmd_plot", _raising(
        ModuleNotFoundError("No module named 'h5py'", name="h5py"), []))
    rc, lines = _run(capsys, ["plot", "m", "--out", tmp_path / "o"])
    assert rc == 2 and lines == ["lavalab plot: error: a package this command needs is not "
                                 "installed: No module named 'h5py'"]


def test_help_names_debug(capsys):
    with pytest.raises(SystemExit):
        main(["--help"])
    assert "--debug" in capsys.readouterr().out


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory):
    out = tmp_path_factory.mktemp("ref") / "run"
    assert main(["train", *TINY, "--out", str(out)]) == 0
    _, arrays = model_io.load_npz(out / "model.npz", model_io.MODEL_FORMAT)
    return arrays


def _same_model(out: Path, ref: dict) -> None:
    _, arrays = model_io.load_npz(out / "model.npz", model_io.MODEL_FORMAT)
    assert sorted(arrays) == sorted(ref)
    for k in ref:
        assert np.array_equal(arrays[k], ref[k]), k


def _samples_done(out: Path) -> int:
    meta, _ = model_io.load_npz(out / "checkpoint.npz", model_io.CHECKPOINT_FORMAT)
    return meta["samples_done"]


def _fail_second_checkpoint(monkeypatch, exc: BaseException) -> None:
    """The second checkpoint write fails after some bytes reached its temporary file."""
    real, n = model_io._atomic_write, {"checkpoint": 0}

    def failing(path, write):
        if Path(path).name == "checkpoint.npz":
            n["checkpoint"] += 1
            if n["checkpoint"] == 2:
                def half(f):
                    f.write(b"PK\x03\x04 half an archive")
                    raise exc
                return real(path, half)
        return real(path, write)

    monkeypatch.setattr(model_io, "_atomic_write", failing)


def test_full_disk_keeps_what_is_finished_and_the_same_command_resumes(
        capsys, tmp_path, monkeypatch, uninterrupted):
    out = tmp_path / "run"
    _fail_second_checkpoint(monkeypatch, OSError(errno.ENOSPC, "No space left on device"))
    rc, lines = _run(capsys, ["train", *TINY, "--out", out])
    assert rc == 2 and len(lines) == 1, lines
    assert lines[0].startswith(f"lavalab train: error: no space left on the device writing "
                               f"{out / 'checkpoint.npz'} (No space left on device); what was "
                               "finished before is kept")
    assert "run the same command again to resume" in lines[0]
    assert _samples_done(out) == 3  # the first checkpoint, intact
    assert sorted(p.name for p in out.iterdir()) == ["checkpoint.npz"]  # no temp, no lock
    monkeypatch.undo()
    assert main(["train", *TINY, "--out", str(out)]) == 0
    _same_model(out, uninterrupted)


def test_disk_quota_is_a_full_disk_too(capsys, tmp_path, monkeypatch):
    _fail_second_checkpoint(monkeypatch, OSError(errno.EDQUOT, "Disk quota exceeded"))
    rc, lines = _run(capsys, ["train", *TINY, "--out", tmp_path / "q"])
    assert rc == 2 and len(lines) == 1
    assert "no space left on the device writing" in lines[0]
    assert "(Disk quota exceeded)" in lines[0]


def test_ctrl_c_is_one_line_130_and_the_same_command_resumes(capsys, tmp_path, monkeypatch,
                                                             uninterrupted):
    out = tmp_path / "run"
    _fail_second_checkpoint(monkeypatch, KeyboardInterrupt())
    rc, lines = _run(capsys, ["train", *TINY, "--out", out])
    assert rc == 130
    assert lines == ["lavalab train: interrupted (Ctrl-C); what was finished is kept: run "
                     "the same command again to resume"]
    assert _samples_done(out) == 3
    assert sorted(p.name for p in out.iterdir()) == ["checkpoint.npz"]
    monkeypatch.undo()
    assert main(["train", *TINY, "--out", str(out)]) == 0
    _same_model(out, uninterrupted)


@pytest.mark.slow  # two tiny trainings and a figure: about 10 s of CPU
def test_full_disk_in_a_study_keeps_its_finished_rows(capsys, tmp_path, monkeypatch):
    import io
    import json

    out = tmp_path / "study"
    argv = ["study", "timesteps", "--network", "tinysnn", "--neurons", "5", "--dataset",
            "digits", "--train-samples", "6", "--test-samples", "6", "--assign-samples", "6",
            "--timesteps", "20,10", "--enhancement", "none", "--workers", "1", "--quiet",
            "--out", out]
    real = model_io._atomic_write

    def full_at_second_row(path, write):
        if Path(path).name == "results.json":
            buf = io.BytesIO()
            write(buf)
            if len(json.loads(buf.getvalue())["rows"]) >= 2:
                raise OSError(errno.ENOSPC, "No space left on device", str(path))
        return real(path, write)

    monkeypatch.setattr(model_io, "_atomic_write", full_at_second_row)
    rc, lines = _run(capsys, argv)
    assert rc == 2 and len(lines) == 1, lines
    assert f"no space left on the device writing {out / 'results.json'}" in lines[0]
    kept = json.loads((out / "results.json").read_text())["rows"]
    assert [r["key"] for r in kept] == ["T20-none"]
    assert not list(out.glob("*.tmp")) and not (out / runlock.FOLDER_LOCK_NAME).exists()
    monkeypatch.undo()
    assert main([str(a) for a in argv]) == 0
    rows = json.loads((out / "results.json").read_text())["rows"]
    assert [r["key"] for r in rows] == ["T20-none", "T10-none"]
    # resumed: the finished run was not trained again (its own wall times are kept)
    for k in ("train_wall_s", "test_wall_s", "accuracy", "exc_spikes_train"):
        assert rows[0][k] == kept[0][k], k
