"""Triplet losses: the course's values, and the batch losses against a NumPy brute force over every
triplet of the batch."""

import itertools

import numpy as np
import pytest
import tensorflow as tf

from yad2k_style.face.losses import (
    BatchHardTripletLoss,
    batch_all_triplet_loss,
    batch_hard_triplet_loss,
    semi_hard_triplet_loss,
    triplet_loss,
)


def test_course_value():
    tf.random.set_seed(1)
    y_pred = (tf.random.normal([3, 128], mean=6, stddev=0.1, seed=1),
              tf.random.normal([3, 128], mean=1, stddev=1, seed=1),
              tf.random.normal([3, 128], mean=3, stddev=4, seed=1))
    assert float(triplet_loss(None, y_pred)) == pytest.approx(527.2598, abs=1e-4)


@pytest.mark.parametrize("anchor, positive, negative, alpha, expected", [
    ([1.0, 1.0], [1.0, 1.0], [1.0, 1.0], 5, 5.0),
    ([[1.0, 1.0], [2.0, 0.0]], [[0.0, 3.0], [1.0, 1.0]], [[1.0, 0.0], [0.0, 1.0]], 1, 5.0),
])
def test_course_hand_cases(anchor, positive, negative, alpha, expected):
    y_pred = tuple(tf.constant(v) for v in (anchor, positive, negative))
    assert float(triplet_loss(None, y_pred, alpha)) == pytest.approx(expected)


def squared(a, b):
    return float(np.sum((a - b) ** 2))


def brute_force(labels, embeddings, margin):
    """``(batch_all, batch_hard, semi_hard)`` by looping over every triplet, as their definitions say."""
    n = len(labels)
    d = np.array([[squared(embeddings[i], embeddings[j]) for j in range(n)] for i in range(n)])
    values = [d[a, p] - d[a, n_] + margin for a, p, n_ in itertools.product(range(n), repeat=3)
              if a != p and labels[a] == labels[p] and labels[n_] != labels[a]]
    positive_values = [v for v in values if v > 1e-16]
    batch_all = np.mean(positive_values) if positive_values else 0.0
    hard, semi = [], []
    for a in range(n):
        positives = [p for p in range(n) if p != a and labels[p] == labels[a]]
        negatives = [k for k in range(n) if labels[k] != labels[a]]
        if not negatives:
            continue
        if positives:
            hard.append(max(max(d[a, p] for p in positives) - min(d[a, k] for k in negatives) + margin, 0))
        for p in positives:
            farther = [d[a, k] for k in negatives if d[a, k] > d[a, p]]
            chosen = min(farther) if farther else max(d[a, k] for k in negatives)
            semi.append(max(d[a, p] - chosen + margin, 0))
    return batch_all, np.mean(hard), np.mean(semi)


@pytest.mark.parametrize("seed", range(4))
def test_batch_losses_match_the_brute_force(seed):
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 3, 10)
    embeddings = rng.normal(size=(10, 4)).astype(np.float32)
    embeddings /= np.linalg.norm(embeddings, axis=1, keepdims=True)
    want = brute_force(labels, embeddings.astype(np.float64), 0.5)
    got = [float(f(tf.constant(labels), tf.constant(embeddings), 0.5))
           for f in (batch_all_triplet_loss, batch_hard_triplet_loss, semi_hard_triplet_loss)]
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)
    assert got[1] >= got[2] > 0                                 # hardest ≥ semi-hard: they differ here
    keras_loss = BatchHardTripletLoss(margin=0.5)
    assert float(keras_loss(tf.constant(labels[:, None]), tf.constant(embeddings))) == pytest.approx(got[1])


def test_batch_losses_are_zero_when_classes_are_far_apart():
    labels = np.array([0, 0, 1, 1])
    embeddings = np.array([[1, 0], [1, 0], [-1, 0], [-1, 0]], np.float32)
    for loss in (batch_all_triplet_loss, batch_hard_triplet_loss, semi_hard_triplet_loss):
        assert float(loss(tf.constant(labels), tf.constant(embeddings), 0.2)) == 0.0
