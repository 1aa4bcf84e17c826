"""MRF grouping and Omega against hand-computed values."""

import math

import numpy as np
import pytest

from lavalab.networks.mrf import group_bounds, mrf_matrix, omega
from lavalab.networks.supervised import MRFSpec


def test_group_bounds_even_split_and_given_sizes():
    assert group_bounds(7, MRFSpec(dilations=(1, 2))) == [(0, 3), (3, 7)]
    assert group_bounds(5, MRFSpec(dilations=(1, 3), group_sizes=(2, 3))) == [(0, 2), (2, 5)]
    with pytest.raises(ValueError, match="group_sizes"):
        group_bounds(6, MRFSpec(dilations=(1, 3), group_sizes=(2, 3)))


def test_mrf_matrix_hand_computed():
    # 6 neurons, groups [0,3) dilation 1 and [3,6) dilation 2, window 3 (1/3 each)
    g = mrf_matrix(6, MRFSpec(window=3, dilations=(1, 2)))
    t = 1 / 3
    want = np.array([
        [t, t, 0, 0, 0, 0],   # 0: {-1 (out of group), 0, 1}
        [t, t, t, 0, 0, 0],   # 1: {0, 1, 2}
        [0, t, t, 0, 0, 0],   # 2: {1, 2, 3 (other group)}
        [0, 0, 0, t, 0, t],   # 3: {1 (out), 3, 5}
        [0, 0, 0, 0, t, 0],   # 4: {2 (out), 4, 6 (out)}
        [0, 0, 0, t, 0, t],   # 5: {3, 5, 7 (out)}
    ])
    np.testing.assert_allclose(g, want)
    z = np.array([3.0, 6.0, 9.0, 1.0, 2.0, 4.0])
    np.testing.assert_allclose(g @ z, [3.0, 6.0, 5.0, 5 / 3, 2 / 3, 5 / 3])


def test_mrf_window_one_is_identity():
    np.testing.assert_array_equal(mrf_matrix(5, MRFSpec(window=1, dilations=(1, 4))),
                                  np.eye(5))


def test_omega_hand_computed():
    # theta = 0.5, V = 2: Omega(m) = 4 sin(m / 4)
    m = np.array([0.0, 1.0, 2 * math.pi, -4.0])
    want = [0.0, 4 * math.sin(0.25), 4.0, 4 * math.sin(-1.0)]
    np.testing.assert_allclose(omega(m, 0.5, 2.0), want)
    torch = pytest.importorskip("torch")
    np.testing.assert_allclose(omega(torch.tensor(m), 0.5, 2.0).numpy(), want)


def test_omega_small_input_is_identity_and_bounded():
    m = np.linspace(-100, 100, 2001)
    out = omega(m, 0.3, 1.0)
    assert np.abs(out).max() <= 1 / 0.3 + 1e-12
    np.testing.assert_allclose(omega(np.array([1e-4]), 0.3, 1.0), [1e-4], rtol=1e-6)
