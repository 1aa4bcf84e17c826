"""The unsupervised learning protocol of Diehl & Cook (as in their code and BindsNET).

Training: each sample is presented for ``present_steps`` then rests ``rest_steps``; STDP,
theta adaptation and weight normalisation run during training. Afterwards each excitatory
neuron is assigned the class it responds to most on (labelled) training data, and a sample
is classified by vote: *all activity* (mean count of the neurons of each class) and
*proportion weighting* (counts weighted by each neuron's response proportions).
"""

from __future__ import annotations

import numpy as np

__all__ = ["N_CLASSES", "assign_labels", "predict_all_activity", "predict_proportion",
           "classification_report", "ASSIGN_SEED_OFFSET", "TEST_SEED_OFFSET"]

#: Seed offsets of the two frozen-network runs of the protocol (added to the training
#: seed): label assignment on training samples, and classification of test samples. The
#: encoder draws different spike trains for them than during training.
ASSIGN_SEED_OFFSET = 7919
TEST_SEED_OFFSET = 104729

N_CLASSES = 10


def assign_labels(counts, labels, n_classes: int = N_CLASSES):
    """Per neuron: the class with the highest mean count, and its response proportions.

    ``counts`` (S, n) spike counts, ``labels`` (S,). Returns ``(assignments (n,) int64,
    proportions (n, C), rates (n, C))``. A neuron that never fired is assigned -1.
    """
    counts = np.asarray(counts, np.float64)
    labels = np.asarray(labels)
    if counts.ndim != 2 or labels.shape != (counts.shape[0],):
        raise ValueError(f"counts {counts.shape} and labels {labels.shape} do not match")
    rates = np.zeros((counts.shape[1], n_classes))
    for c in range(n_classes):
        sel = labels == c
        if sel.any():
            rates[:, c] = counts[sel].mean(axis=0)
    total = rates.sum(axis=1, keepdims=True)
    proportions = np.divide(rates, total, out=np.zeros_like(rates), where=total > 0)
    assignments = np.where(total[:, 0] > 0, rates.argmax(axis=1), -1).astype(np.int64)
    return assignments, proportions, rates


def _class_scores(counts, assignments, weights, n_classes):
    counts = np.asarray(counts, np.float64)
    scores = np.zeros((counts.shape[0], n_classes))
    for c in range(n_classes):
        sel = assignments == c
        if sel.any():
            scores[:, c] = (counts[:, sel] * weights[sel, c]).sum(axis=1) / sel.sum()
    return scores


def predict_all_activity(counts, assignments, n_classes: int = N_CLASSES) -> np.ndarray:
    """Class whose assigned neurons fired most on average (ties: lowest class)."""
    ones = np.ones((len(assignments), n_classes))
    return _class_scores(counts, assignments, ones, n_classes).argmax(axis=1)


def predict_proportion(counts, assignments, proportions, n_classes: int = N_CLASSES):
    """Proportion weighting: counts weighted by each neuron's class proportions."""
    return _class_scores(counts, assignments, proportions, n_classes).argmax(axis=1)


def classification_report(pred, labels, n_classes: int = N_CLASSES) -> dict:
    """Accuracy, per-class accuracy and the confusion matrix (rows: true, cols: predicted)."""
    pred, labels = np.asarray(pred), np.asarray(labels)
    conf = np.zeros((n_classes, n_classes), np.int64)
    np.add.at(conf, (labels, pred), 1)
    per_class = [float(conf[c, c] / conf[c].sum()) if conf[c].sum() else None
                 for c in range(n_classes)]
    return {"accuracy": float((pred == labels).mean()) if len(labels) else None,
            "per_class_accuracy": per_class, "confusion": conf.tolist()}
