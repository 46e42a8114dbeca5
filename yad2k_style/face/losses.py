"""Triplet losses: the course's ``triplet_loss`` and, for real training, the batch triplet losses of
FaceNet ("choose triplets that are hard") over a batch of labelled embeddings.

Distances here are **squared** L2 distances ``||f(a) − f(b)||²``, as in FaceNet and the course's loss.
(Verification and recognition compare plain distances: :mod:`yad2k_style.face.recognition`.)
"""

import keras
import tensorflow as tf

PACKAGE = "yad2k_style"


def triplet_loss(y_true, y_pred, alpha=0.2):
    """The course's triplet loss. ``y_pred = [anchor, positive, negative]``, each (m, 128); ``y_true``
    is unused. ``sum over the batch of max(||a − p||² − ||a − n||² + alpha, 0)``. Tensors, arrays and
    Python lists alike (the course's tests pass lists); returns a float32 scalar tensor."""
    anchor, positive, negative = (tf.convert_to_tensor(y_pred[k], tf.float32) for k in range(3))
    pos_dist = tf.reduce_sum(tf.square(anchor - positive), axis=-1)
    neg_dist = tf.reduce_sum(tf.square(anchor - negative), axis=-1)
    basic_loss = pos_dist - neg_dist + alpha
    return tf.reduce_sum(tf.maximum(basic_loss, 0.0))


def pairwise_squared_distances(embeddings):
    """(B, D) → (B, B) squared L2 distances, never negative (rounding clipped)."""
    dot = tf.matmul(embeddings, embeddings, transpose_b=True)
    norms = tf.linalg.diag_part(dot)
    return tf.maximum(norms[:, None] - 2.0 * dot + norms[None, :], 0.0)


def _masks(labels):
    """``(positive (B, B): same label, not the same sample; negative (B, B): another label)``."""
    labels = tf.reshape(labels, [-1])
    same = tf.equal(labels[:, None], labels[None, :])
    positive = tf.logical_and(same, tf.logical_not(tf.eye(tf.shape(labels)[0], dtype=tf.bool)))
    return positive, tf.logical_not(same)


def batch_all_triplet_loss(labels, embeddings, margin=0.2):
    """Mean of ``max(d(a, p) − d(a, n) + margin, 0)`` over the valid triplets ``(a, p, n)`` of the batch
    (``p`` another sample of ``a``'s label, ``n`` of another label) whose value is positive; 0 if none."""
    distances = pairwise_squared_distances(embeddings)
    positive, negative = _masks(labels)
    values = distances[:, :, None] - distances[:, None, :] + margin            # (a, p, n)
    valid = tf.logical_and(positive[:, :, None], negative[:, None, :])
    losses = tf.where(valid, tf.maximum(values, 0.0), 0.0)
    count = tf.reduce_sum(tf.cast(losses > 1e-16, losses.dtype))
    return tf.math.divide_no_nan(tf.reduce_sum(losses), count)


def batch_hard_triplet_loss(labels, embeddings, margin=0.2):
    """Mean over anchors of ``max(hardest positive distance − hardest negative distance + margin, 0)``:
    the farthest sample of the same label against the closest of another (anchors lacking either are
    left out)."""
    distances = pairwise_squared_distances(embeddings)
    positive, negative = _masks(labels)
    hardest_positive = tf.reduce_max(tf.where(positive, distances, -1.0), axis=1)
    hardest_negative = tf.reduce_min(tf.where(negative, distances, float("inf")), axis=1)
    usable = tf.logical_and(tf.reduce_any(positive, axis=1), tf.reduce_any(negative, axis=1))
    losses = tf.boolean_mask(tf.maximum(hardest_positive - hardest_negative + margin, 0.0), usable)
    return tf.math.divide_no_nan(tf.reduce_sum(losses), tf.cast(tf.size(losses), losses.dtype))


def semi_hard_triplet_loss(labels, embeddings, margin=0.2):
    """FaceNet's semi-hard triplets: for each positive pair ``(a, p)`` the closest negative farther than
    ``p`` (``d(a, p) < d(a, n)``), or, where there is none, the farthest negative; the mean of
    ``max(d(a, p) − d(a, n) + margin, 0)`` over positive pairs (anchors with no negative left out)."""
    distances = pairwise_squared_distances(embeddings)
    positive, negative = _masks(labels)
    d_ap = distances[:, :, None]                                                # (a, p, 1)
    d_an = distances[:, None, :]                                                # (a, 1, n)
    semi_hard = tf.logical_and(negative[:, None, :], d_an > d_ap)               # (a, p, n)
    closest_semi_hard = tf.reduce_min(tf.where(semi_hard, d_an, float("inf")), axis=2)
    farthest = tf.reduce_max(tf.where(negative, distances, -float("inf")), axis=1)[:, None]
    chosen = tf.where(tf.reduce_any(semi_hard, axis=2), closest_semi_hard, farthest)
    pairs = tf.logical_and(positive, tf.reduce_any(negative, axis=1)[:, None])
    losses = tf.boolean_mask(tf.maximum(distances - chosen + margin, 0.0), pairs)
    return tf.math.divide_no_nan(tf.reduce_sum(losses), tf.cast(tf.size(losses), losses.dtype))


class _BatchTripletLoss(keras.losses.Loss):
    """A batch triplet loss for ``model.compile``: ``y_true`` the labels (B,) or (B, 1), ``y_pred`` the
    embeddings (B, D); the batch's value (Keras' per-sample reduction does not apply)."""

    function = None

    def __init__(self, margin=0.2, name=None, **kwargs):
        super().__init__(name=name or type(self).__name__, reduction=None, **kwargs)
        self.margin = float(margin)

    def call(self, y_true, y_pred):
        return type(self).function(y_true, y_pred, self.margin)

    def get_config(self):
        return {**super().get_config(), "margin": self.margin}


@keras.saving.register_keras_serializable(package=PACKAGE)
class BatchAllTripletLoss(_BatchTripletLoss):
    function = staticmethod(batch_all_triplet_loss)


@keras.saving.register_keras_serializable(package=PACKAGE)
class BatchHardTripletLoss(_BatchTripletLoss):
    function = staticmethod(batch_hard_triplet_loss)


@keras.saving.register_keras_serializable(package=PACKAGE)
class SemiHardTripletLoss(_BatchTripletLoss):
    function = staticmethod(semi_hard_triplet_loss)
