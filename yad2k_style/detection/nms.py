"""Batched non-max suppression for every detector: per class (plain, DIoU-NMS, soft-NMS) and
class-agnostic, on padded batches, so that it runs inside one ``tf.function``.

Two kinds of non-max suppression:

- **class-agnostic** (the course's): each box keeps only its best class, then one suppression over all
  boxes — a car box can suppress an overlapping person box;
- **per-class** (the notes' "run non-max suppression for each class"): boxes compete only with boxes
  of the same class (``tf.image.combined_non_max_suppression``), so two overlapping objects of
  different classes both survive.

Two variants of per-class suppression (:data:`SUPPRESSIONS`): **DIoU-NMS** (Zheng et al. 2020: a box
is suppressed when ``IoU − ρ²/c²`` with a kept box exceeds the threshold, ``ρ`` the distance between
centres and ``c`` the diagonal of the smallest box enclosing both, so neighbours whose centres are
apart survive) and Gaussian **soft-NMS** (Bodla et al. 2017: overlapping boxes are not removed but
their scores decay by ``exp(−IoU²/σ)``, ``σ`` = :data:`SOFT_NMS_SIGMA`; TensorFlow's
``non_max_suppression_with_scores``).

Boxes are corners, ``(y_min, x_min, y_max, x_max)`` or ``(x_min, y_min, x_max, y_max)`` alike (the
suppression only compares overlaps), relative or in pixels.
"""

import numpy as np
import tensorflow as tf


def _at_least(threshold):
    """The float32 just below ``threshold``: TF's suppression keeps ``score > t``, the course ``≥``."""
    return np.nextafter(np.float32(threshold), np.float32(-np.inf))


def per_class_nms(boxes, box_scores, max_boxes, iou_threshold, score_threshold):
    """Batched per-class suppression (``tf.image.combined_non_max_suppression``, ``clip_boxes=False``).

    ``boxes`` (B, N, 4) corners, ``box_scores`` (B, N, C) = confidence × class probability. Every
    (box, class) pair with score ≥ ``score_threshold`` competes within its class. Returns padded
    ``(boxes (B, M, 4), scores (B, M), classes (B, M) int32, valid (B,) int32)``, M = ``max_boxes``,
    best first, zeros after ``valid``.
    """
    boxes, scores, classes, valid = tf.image.combined_non_max_suppression(
        boxes[:, :, None, :], box_scores, max_output_size_per_class=max_boxes, max_total_size=max_boxes,
        iou_threshold=iou_threshold, score_threshold=_at_least(score_threshold), clip_boxes=False)
    return boxes, scores, tf.cast(classes, tf.int32), valid


def class_agnostic_nms(boxes, box_scores, max_boxes, iou_threshold, score_threshold):
    """Batched class-agnostic suppression (the course's, per image); padded as :func:`per_class_nms`.

    Each box keeps its best class; boxes with that score ≥ ``score_threshold`` go through
    ``tf.image.non_max_suppression`` together, whatever their classes.
    """
    scores = tf.reduce_max(box_scores, axis=-1)
    classes = tf.argmax(box_scores, axis=-1, output_type=tf.int32)

    def suppress(image_boxes_scores):
        indices = tf.image.non_max_suppression(*image_boxes_scores, max_boxes, iou_threshold=iou_threshold,
                                               score_threshold=_at_least(score_threshold))
        count = tf.size(indices)
        return tf.pad(indices, [[0, max_boxes - count]]), count

    indices, valid = tf.map_fn(suppress, (boxes, scores), fn_output_signature=(
        tf.TensorSpec([max_boxes], tf.int32), tf.TensorSpec([], tf.int32)))
    kept = tf.range(max_boxes)[None, :] < valid[:, None]
    boxes = tf.where(kept[..., None], tf.gather(boxes, indices, batch_dims=1), 0.0)
    scores = tf.where(kept, tf.gather(scores, indices, batch_dims=1), 0.0)
    classes = tf.where(kept, tf.gather(classes, indices, batch_dims=1), 0)
    return boxes, scores, classes, valid


SOFT_NMS_SIGMA = 0.5  # Bodla et al.'s default
MAX_CANDIDATES = 2000  # DIoU-NMS and soft-NMS consider at most this many (box, class) pairs per image


def _class_candidates(boxes, box_scores, score_threshold):
    """One image's (box, class) pairs with score ≥ ``score_threshold``, best first (at most
    :data:`MAX_CANDIDATES`): ``(boxes (K, 4), scores (K,), classes (K,), shifted boxes (K, 4))``, the
    shifted boxes moved apart by class so that boxes of different classes never overlap."""
    num_classes = tf.shape(box_scores)[-1]
    scores = tf.reshape(box_scores, [-1])
    order = tf.argsort(scores, direction="DESCENDING")[:MAX_CANDIDATES]
    order = tf.boolean_mask(order, tf.gather(scores, order) >= _at_least(score_threshold))
    pair_boxes = tf.gather(boxes, order // num_classes)
    classes = order % num_classes
    extent = tf.reduce_max(tf.abs(boxes)) + 1.0
    shifted = pair_boxes + tf.cast(classes, boxes.dtype)[:, None] * 2.0 * extent
    return pair_boxes, tf.gather(scores, order), classes, shifted


def _diou_keep(boxes, iou_threshold):
    """Greedy DIoU suppression over ``boxes`` (K, 4) sorted best first → kept (K,) booleans."""
    y0, x0, y1, x1 = tf.unstack(boxes, axis=-1)
    area = (y1 - y0) * (x1 - x0)
    inter_h = tf.maximum(tf.minimum(y1[:, None], y1[None]) - tf.maximum(y0[:, None], y0[None]), 0.0)
    inter_w = tf.maximum(tf.minimum(x1[:, None], x1[None]) - tf.maximum(x0[:, None], x0[None]), 0.0)
    inter = inter_h * inter_w
    union = area[:, None] + area[None] - inter
    iou = tf.math.divide_no_nan(inter, union)
    centre_y, centre_x = (y0 + y1) / 2, (x0 + x1) / 2
    rho2 = tf.square(centre_y[:, None] - centre_y[None]) + tf.square(centre_x[:, None] - centre_x[None])
    c2 = (tf.square(tf.maximum(y1[:, None], y1[None]) - tf.minimum(y0[:, None], y0[None]))
          + tf.square(tf.maximum(x1[:, None], x1[None]) - tf.minimum(x0[:, None], x0[None])))
    suppresses = (iou - tf.math.divide_no_nan(rho2, c2)) > iou_threshold
    count = tf.shape(boxes)[0]
    later = tf.range(count)[None, :] > tf.range(count)[:, None]
    suppresses = suppresses & later

    def step(index, kept):
        return index + 1, tf.cond(kept[index], lambda: kept & ~suppresses[index], lambda: kept)

    _, kept = tf.while_loop(lambda index, _: index < count, step, (0, tf.ones([count], tf.bool)))
    return kept


def per_class_diou_nms(boxes, box_scores, max_boxes, iou_threshold, score_threshold):
    """Batched per-class DIoU-NMS; arguments and padded results as :func:`per_class_nms`."""

    def one_image(inputs):
        pair_boxes, scores, classes, shifted = _class_candidates(*inputs, score_threshold)
        kept = tf.where(_diou_keep(shifted, iou_threshold))[:max_boxes, 0]
        return _padded(tf.gather(pair_boxes, kept), tf.gather(scores, kept), tf.gather(classes, kept),
                       max_boxes)

    return _per_image(one_image, boxes, box_scores, max_boxes)


def per_class_soft_nms(boxes, box_scores, max_boxes, iou_threshold, score_threshold):
    """Batched per-class Gaussian soft-NMS (``iou_threshold`` unused: scores decay instead); boxes
    whose decayed score falls below ``score_threshold`` are dropped. Padded results as
    :func:`per_class_nms`, scores decayed."""
    del iou_threshold

    def one_image(inputs):
        pair_boxes, scores, classes, shifted = _class_candidates(*inputs, score_threshold)
        kept, kept_scores = tf.image.non_max_suppression_with_scores(  # TF decays by exp(−IoU²/(2σ))
            shifted, scores, max_boxes, iou_threshold=1.0, score_threshold=_at_least(score_threshold),
            soft_nms_sigma=SOFT_NMS_SIGMA / 2)
        return _padded(tf.gather(pair_boxes, kept), kept_scores, tf.gather(classes, kept), max_boxes)

    return _per_image(one_image, boxes, box_scores, max_boxes)


def _padded(boxes, scores, classes, max_boxes):
    count = tf.shape(scores)[0]
    pad = max_boxes - count
    return (tf.pad(boxes, [[0, pad], [0, 0]]), tf.pad(scores, [[0, pad]]), tf.pad(classes, [[0, pad]]),
            count)


def _per_image(one_image, boxes, box_scores, max_boxes):
    return tf.map_fn(one_image, (boxes, box_scores), fn_output_signature=(
        tf.TensorSpec([max_boxes, 4], boxes.dtype), tf.TensorSpec([max_boxes], box_scores.dtype),
        tf.TensorSpec([max_boxes], tf.int32), tf.TensorSpec([], tf.int32)))


#: The detector's suppressions by name (``--nms``): per class, all with :func:`per_class_nms`'s signature.
SUPPRESSIONS = {"plain": per_class_nms, "diou": per_class_diou_nms, "soft": per_class_soft_nms}
