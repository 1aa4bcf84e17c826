"""Network builders: default mechanisms by size and the initial weights."""

import numpy as np
import pytest

from lavalab.networks.snn import (
    DEFAULTS,
    build,
    default_inference,
    default_mechanisms,
    init_weights,
)


def _images(n=30, seed=0):
    rng = np.random.default_rng(seed)
    img = np.zeros((n, 28, 28), np.uint8)
    for k in range(n):  # a different bright blob per image
        r, c = rng.integers(4, 20, 2)
        img[k, r:r + 6, c:c + 6] = 100 + 5 * k  # a different brightness each: unique
    return img


def test_defaults_by_size():
    assert default_mechanisms("diehl-cook", 100) == ("stdp1", True, "samples")
    assert default_mechanisms("tinysnn", 399) == ("stdp1", True, "samples")
    assert default_mechanisms("diehl-cook", 400) == ("stdp1", True, "uniform")
    assert default_mechanisms("tinysnn", 899) == ("stdp1", True, "uniform")
    assert default_mechanisms("tinysnn", 1600) == ("stdp1", True, "samples")
    assert [default_inference(k, n) for k in ("diehl-cook", "tinysnn")
            for n in (100, 899, 900, 1600)] == [(None, False)] * 2 + [(0.5, True)] * 2 \
        + [(None, False)] * 2 + [(0.5, True)] * 2
    for kind, rows in DEFAULTS.items():
        assert rows[0][0] == 1 and [r[0] for r in rows] == sorted(r[0] for r in rows)
        s = build(kind, 100)
        assert (s.stdp.rule, s.exc.one_spike, s.w_init) == default_mechanisms(kind, 100)
    assert build("diehl-cook", 100, w_init="uniform").w_init == "uniform"
    with pytest.raises(ValueError, match="w_init='bogus' is not one of"):
        build("diehl-cook", 100, w_init="bogus")


def test_uniform_start_is_diehl_cooks():
    s = build("diehl-cook", 50, w_init="uniform")
    w = init_weights(s, 3)
    np.testing.assert_array_equal(w, np.random.default_rng(3).random((50, 784)) * 0.3)


def test_samples_start_copies_distinct_training_images_scaled_to_the_uniform_total():
    imgs = _images()
    s = build("diehl-cook", 20, w_init="samples")
    w = init_weights(s, 5, imgs)
    assert w.shape == (20, 784) and w.min() >= 0 and w.max() <= s.stdp.w_max
    flat = imgs.reshape(len(imgs), -1).astype(float) / 255
    target = 0.3 / 2 * 784
    used = []
    for row in w:  # each row is one image times a factor <= 1 that caps its total
        match = [k for k, f in enumerate(flat)
                 if np.allclose(row, f * min(1.0, target / f.sum()), rtol=0, atol=1e-12)]
        assert len(match) == 1
        used.append(match[0])
    assert len(set(used)) == 20  # distinct images
    np.testing.assert_array_equal(init_weights(s, 5, imgs), w)  # the seed decides
    assert not np.array_equal(init_weights(s, 6, imgs), w)
    big = np.full((25, 784), 255, np.uint8)  # bright images are scaled down to the total
    np.testing.assert_allclose(init_weights(s, 0, big).sum(1), target)


def test_samples_start_needs_matching_images():
    s = build("tinysnn", 10, w_init="samples")
    with pytest.raises(ValueError, match="needs the training images"):
        init_weights(s, 0)
    with pytest.raises(ValueError, match="100 values per sample; the network has n_input=784"):
        init_weights(s, 0, np.zeros((5, 10, 10), np.uint8))
    assert init_weights(s, 0, _images(4)).shape == (10, 784)  # fewer images: drawn again
