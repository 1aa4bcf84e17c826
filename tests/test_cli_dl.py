"""``lavalab dl`` / ``lavalab study latency``: bad input is one line on stderr, exit 2."""

import pytest

from lavalab.cli import main


def _one_line_error(capsys, argv):
    with pytest.raises(SystemExit) as e:
        rc = main(argv)
        raise SystemExit(rc)
    assert e.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    return err[-1]


def test_missing_model_file(capsys, tmp_path):
    line = _one_line_error(capsys, ["dl", "evaluate", str(tmp_path / "none.npz")])
    assert "none.npz" in line and "no such file" in line


def test_not_a_model_file(capsys, tmp_path):
    p = tmp_path / "x.npz"
    p.write_text("junk")
    line = _one_line_error(capsys, ["dl", "export", str(p), "--out", str(tmp_path / "y.net")])
    assert "x.npz" in line


def test_bad_methods_and_values(capsys, tmp_path):
    line = _one_line_error(capsys, ["study", "latency", "--methods", "cuba,bogus",
                                    "--out", str(tmp_path / "o")])
    assert "bogus" in line and "seed002" in line
    line = _one_line_error(capsys, ["dl", "train", "--out", str(tmp_path / "m.npz"),
                                    "--hidden", "0"])
    assert "--hidden" in line
    line = _one_line_error(capsys, ["dl", "train", "--out", str(tmp_path / "m.npz"),
                                    "--theta", "nan"])
    assert "--theta" in line
