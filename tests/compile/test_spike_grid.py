import numpy as np
import pytest

from lavalab.compile.spike_grid import SpikeTimeBudget, to_grid


def test_to_grid_delays_to_next_multiple_strictly_after():
    t = np.array([0.0, 0.0004, 0.001, 0.0011, np.inf])
    np.testing.assert_allclose(to_grid(t, 0.001), [0.001, 0.001, 0.002, 0.002, np.inf])
    np.testing.assert_array_equal(to_grid(t, 0.0), t)


def test_to_grid_does_not_mutate():
    t = np.array([0.0015])
    to_grid(t, 0.001)
    assert t[0] == 0.0015


def test_budget_validation_and_steps():
    assert SpikeTimeBudget().continuous and SpikeTimeBudget().steps == 0
    assert SpikeTimeBudget(dt_s=0.001, duration_s=0.2).steps == 200
    assert SpikeTimeBudget(dt_s=0.009, duration_s=0.2).steps == 22
    with pytest.raises(ValueError, match="dt_s"):
        SpikeTimeBudget(dt_s=-0.001)
    with pytest.raises(ValueError, match="dt_s"):
        SpikeTimeBudget(dt_s=0.5, duration_s=0.2)
    with pytest.raises(ValueError, match="duration_s"):
        SpikeTimeBudget(duration_s=0.0)
