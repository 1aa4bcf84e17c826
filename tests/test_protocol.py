"""Label assignment and voting (Diehl & Cook / BindsNET protocol), by hand."""

import numpy as np
import pytest

from lavalab.protocol import (
    assign_labels,
    classification_report,
    predict_all_activity,
    predict_proportion,
)


def test_assign_and_vote_by_hand():
    # 3 neurons, 3 classes; neuron 0 loves class 0, neuron 1 class 2, neuron 2 never fires
    counts = np.array([[5, 0, 0], [3, 1, 0], [0, 4, 0], [1, 6, 0]])
    labels = np.array([0, 0, 2, 2])
    a, p, rates = assign_labels(counts, labels, n_classes=3)
    assert a.tolist() == [0, 2, -1]
    np.testing.assert_allclose(rates[0], [4.0, 0.0, 0.5])
    np.testing.assert_allclose(p[0], [4 / 4.5, 0, 0.5 / 4.5])
    test = np.array([[2, 1, 9], [0, 3, 9]])
    assert predict_all_activity(test, a, 3).tolist() == [0, 2]
    assert predict_proportion(test, a, p, 3).tolist() == [0, 2]


def test_proportion_weighting_can_differ_from_all_activity():
    a = np.array([0, 1])
    p = np.array([[0.55, 0.45], [0.0, 1.0]])
    counts = np.array([[10, 6]])
    assert predict_all_activity(counts, a, 2).tolist() == [0]
    assert predict_proportion(counts, a, p, 2).tolist() == [1]  # 5.5 vs 6


def test_report():
    rep = classification_report(np.array([0, 1, 1, 2]), np.array([0, 1, 2, 2]), 3)
    assert rep["accuracy"] == 0.75
    assert rep["per_class_accuracy"] == [1.0, 1.0, 0.5]
    assert rep["confusion"] == [[1, 0, 0], [0, 1, 0], [0, 1, 1]]


def test_mismatch_is_refused():
    with pytest.raises(ValueError, match="do not match"):
        assign_labels(np.zeros((3, 2)), np.zeros(4))
