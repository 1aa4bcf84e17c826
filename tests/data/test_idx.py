"""IDX loading (MNIST / Fashion-MNIST file format) on small files the tests write."""

import gzip

import numpy as np
import pytest

from lavalab.data import DataError, load_dataset, load_fashion_mnist, load_mnist, read_idx
from lavalab.data.idx import write_idx


def _make(folder, split="train", n=5, gz=False, seed=0, n_labels=None):
    rng = np.random.default_rng(seed)
    images = rng.integers(0, 256, (n, 28, 28), dtype=np.uint8)
    labels = rng.integers(0, 10, n_labels if n_labels is not None else n).astype(np.uint8)
    stem_i, stem_l = {"train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
                      "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")}[split]
    ext = ".gz" if gz else ""
    folder.mkdir(parents=True, exist_ok=True)
    write_idx(folder / (stem_i + ext), images)
    write_idx(folder / (stem_l + ext), labels)
    return images, labels


@pytest.mark.parametrize("gz", [False, True])
@pytest.mark.parametrize("split", ["train", "test"])
def test_roundtrip_raw_and_gzip(tmp_path, gz, split):
    images, labels = _make(tmp_path, split, gz=gz)
    ds = load_mnist(split, root=tmp_path)
    assert ds.images.dtype == np.uint8 and ds.images.shape == (5, 28, 28)
    assert ds.labels.dtype == np.int64
    np.testing.assert_array_equal(ds.images, images)
    np.testing.assert_array_equal(ds.labels, labels)
    assert ds.split == split and ds.name == "mnist"


def test_hand_written_header_bytes(tmp_path):
    # magic 0x00000801 (uint8, 1-D), count 3, then the labels: LeCun's layout exactly
    (tmp_path / "l").write_bytes(bytes([0, 0, 8, 1, 0, 0, 0, 3, 7, 2, 1]))
    np.testing.assert_array_equal(read_idx(tmp_path / "l"), [7, 2, 1])


def test_torchvision_layout_and_fashion(tmp_path):
    images, _ = _make(tmp_path / "FashionMNIST" / "raw", "test", gz=True)
    ds = load_fashion_mnist("test", root=tmp_path)
    np.testing.assert_array_equal(ds.images, images)
    assert load_dataset("fashion-mnist", "test", tmp_path).name == "fashion-mnist"
    _make(tmp_path / "MNIST" / "raw", "train")
    assert len(load_mnist("train", root=tmp_path)) == 5


def test_missing_folder(tmp_path):
    with pytest.raises(DataError, match="does not exist"):
        load_mnist("train", root=tmp_path / "nope")


def test_missing_file_names_the_file(tmp_path):
    _make(tmp_path, "train")
    with pytest.raises(DataError, match="t10k-images-idx3-ubyte"):
        load_mnist("test", root=tmp_path)


def test_wrong_magic(tmp_path):
    _make(tmp_path)
    p = tmp_path / "train-images-idx3-ubyte"
    raw = bytearray(p.read_bytes())
    raw[0] = 0x1F
    p.write_bytes(bytes(raw))
    with pytest.raises(DataError, match=r"train-images-idx3-ubyte: wrong IDX magic"):
        load_mnist("train", root=tmp_path)


def test_unknown_type_code(tmp_path):
    (tmp_path / "x").write_bytes(bytes([0, 0, 0x07, 1, 0, 0, 0, 1, 5]))
    with pytest.raises(DataError, match="unknown IDX type code 0x07"):
        read_idx(tmp_path / "x")


@pytest.mark.parametrize("gz", [False, True])
def test_truncated(tmp_path, gz):
    _make(tmp_path, gz=gz)
    p = tmp_path / ("train-images-idx3-ubyte" + (".gz" if gz else ""))
    if gz:
        data = gzip.decompress(p.read_bytes())[:-100]
        p.write_bytes(gzip.compress(data))
    else:
        p.write_bytes(p.read_bytes()[:-100])
    with pytest.raises(DataError, match="truncated IDX file"):
        load_mnist("train", root=tmp_path)


def test_truncated_header_and_damaged_gzip(tmp_path):
    (tmp_path / "h").write_bytes(bytes([0, 0, 8, 3, 0, 0]))
    with pytest.raises(DataError, match="truncated IDX header"):
        read_idx(tmp_path / "h")
    (tmp_path / "d.gz").write_bytes(b"\x1f\x8b\x08garbage")
    with pytest.raises(DataError, match="d.gz: cannot read"):
        read_idx(tmp_path / "d.gz")


def test_trailing_bytes(tmp_path):
    _make(tmp_path)
    p = tmp_path / "train-labels-idx1-ubyte"
    p.write_bytes(p.read_bytes() + b"\x00\x00")
    with pytest.raises(DataError, match="2 bytes after the data"):
        load_mnist("train", root=tmp_path)


def test_count_mismatch(tmp_path):
    _make(tmp_path, n=5, n_labels=4)
    with pytest.raises(DataError, match="5 images in train-images-idx3-ubyte but 4 labels"):
        load_mnist("train", root=tmp_path)


def test_labels_out_of_range(tmp_path):
    _make(tmp_path)
    write_idx(tmp_path / "train-labels-idx1-ubyte", np.array([0, 1, 2, 3, 12], np.uint8))
    with pytest.raises(DataError, match="labels outside 0..9"):
        load_mnist("train", root=tmp_path)


def test_unknown_split_and_dataset(tmp_path):
    with pytest.raises(ValueError, match="split='valid' is not one of"):
        load_mnist("valid", root=tmp_path)
    with pytest.raises(ValueError, match="dataset='cifar' is not one of"):
        load_dataset("cifar")
    with pytest.raises(DataError, match="fashion-mnist: no offline copy exists.*give --data-root"):
        load_fashion_mnist("train")

