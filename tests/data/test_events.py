"""N-MNIST through tonic, on small .bin files the tests write."""

import numpy as np
import pytest

from lavalab.data import DataError, load_nmnist
from lavalab.data.events import write_nmnist_bin


def _make(root, split="Train"):
    ev = {}
    for digit, n in [(0, 2), (3, 1)]:
        d = root / split / str(digit)
        d.mkdir(parents=True)
        for i in range(n):
            x = np.array([0, 5, 33, 10])
            y = np.array([1, 2, 33, 4])
            t = np.array([10, 1000, 70000, 99999]) + i
            p = np.array([0, 1, 1, 0])
            write_nmnist_bin(d / f"{i:05d}.bin", x, y, t, p)
            ev[(digit, i)] = (x, y, t, p)
    return ev


def test_load_and_read_events(tmp_path):
    _make(tmp_path)
    ds = load_nmnist(tmp_path, "train")
    assert len(ds) == 3 and ds.labels.tolist() == [0, 0, 3]
    e = ds.events(2)
    assert e["x"].tolist() == [0, 5, 33, 10] and e["p"].tolist() == [0, 1, 1, 0]
    assert e["t"].tolist() == [10, 1000, 70000, 99999]


def test_frames_via_tonic(tmp_path):
    _make(tmp_path)
    fr = load_nmnist(tmp_path, "train").frames(0, n_time_bins=2)
    assert fr.shape == (2, 2, 34, 34)
    assert fr.sum() == 4
    assert fr[:, 1, 2, 5].sum() == 1  # (p=1, y=2, x=5)
    tw = load_nmnist(tmp_path, "train").frames(0, time_window=50000)
    assert tw.shape[1:] == (2, 34, 34) and tw.sum() == 4  # tonic ToFrame, nothing dropped
    with pytest.raises(ValueError, match="exactly one"):
        load_nmnist(tmp_path, "train").frames(0)


def test_tonic_layout(tmp_path):
    _make(tmp_path / "NMNIST", "Test")
    assert len(load_nmnist(tmp_path, "test")) == 3


def test_errors(tmp_path):
    with pytest.raises(DataError, match="does not exist"):
        load_nmnist(tmp_path / "none")
    with pytest.raises(DataError, match="no Train/ folder"):
        load_nmnist(tmp_path)
    (tmp_path / "Train" / "1").mkdir(parents=True)
    with pytest.raises(DataError, match="no <digit>/\\*.bin files"):
        load_nmnist(tmp_path)
    (tmp_path / "Train" / "1" / "a.bin").write_bytes(b"\x01\x02\x03")
    with pytest.raises(DataError, match="a.bin: 3 bytes is not a whole number"):
        load_nmnist(tmp_path).events(0)
    with pytest.raises(ValueError, match="split='dev'"):
        load_nmnist(tmp_path, "dev")


def test_argument_order_like_load_mnist(tmp_path):
    _make(tmp_path)
    assert len(load_nmnist("train", tmp_path)) == 3
    assert len(load_nmnist(split="train", root=tmp_path)) == 3
    with pytest.warns(DeprecationWarning, match="load_nmnist\\(split, root\\)"):
        assert len(load_nmnist(tmp_path, "train")) == 3
    with pytest.raises(DataError, match="give root"):
        load_nmnist("train")
