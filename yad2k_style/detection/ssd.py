"""SSD (Liu et al., 2016), compact: default boxes on three feature maps of decreasing resolution, one
forward pass, IoU matching with hard negative mining.

Maps: the body's 16×16, 8×8 and 4×4 (strides 8, 16, 32 on a 128×128 scene). Each cell has four default
boxes: size s_k at aspect ratios 1, 2 and 1/2, and √(s_k s_k+1) at ratio 1 — SSD's set, sized to the
scenes' 10–60 pixel objects. Per default box the head predicts C + 1 class logits (0 is background)
and the box deltas (:func:`yad2k_style.boxes.encode_deltas`, SSD's variances 0.1 / 0.2).

Training (:func:`ssd_targets`, :func:`ssd_loss`): a default box is positive when its IoU with a true
box is ≥ 0.5, and each true box's best default box is positive too; the confidence loss keeps all
positives and the hardest negatives, three per positive; the localisation loss is smooth L1 on the
positives; both are divided by the number of positives.
"""

import keras
import numpy as np
import tensorflow as tf

from yad2k_style.boxes import decode_deltas, encode_deltas
from yad2k_style.detection.anchors import anchor_grid
from yad2k_style.detection.backbone import backbone_maps
from yad2k_style.detection.matching import POSITIVE, assign

INPUT_SIZE = 128
STRIDES = (8, 16, 32)
SIZES = (12.0, 24.0, 48.0, 96.0)  # s_k of each map, and one more for the last map's √(s_k s_k+1)
RATIOS = (1.0, 2.0, 0.5)
BOXES_PER_CELL = len(RATIOS) + 1
MATCH_IOU = 0.5
NEGATIVES_PER_POSITIVE = 3


def ssd_anchors(input_size=INPUT_SIZE):
    """The default boxes of every map, in the head's output order → float32 (N, 4) ``xyxy`` pixels."""
    grids = []
    for k, stride in enumerate(STRIDES):
        cells = (input_size // stride,) * 2
        ratios = anchor_grid(cells, stride, [SIZES[k]], RATIOS).reshape(*cells, len(RATIOS), 4)
        extra = anchor_grid(cells, stride, [np.sqrt(SIZES[k] * SIZES[k + 1])]).reshape(*cells, 1, 4)
        grids.append(np.concatenate([ratios, extra], 2).reshape(-1, 4))
    return np.concatenate(grids)


def ssd_model(num_classes=3, input_shape=(INPUT_SIZE, INPUT_SIZE, 3)):
    """SSD on the shared body: float32 (B, S, S, 3) in [0, 1] → ``[class logits (B, N, C + 1), box
    deltas (B, N, 4)]``, N = :func:`ssd_anchors`' count (1,344 for S = 128)."""
    inputs = keras.Input(input_shape, name="image")
    logits, deltas = [], []
    for k, feature in enumerate(backbone_maps(inputs)):
        conf = keras.layers.Conv2D(BOXES_PER_CELL * (num_classes + 1), 3, padding="same", name=f"ssd_conf{k}")
        loc = keras.layers.Conv2D(BOXES_PER_CELL * 4, 3, padding="same", name=f"ssd_loc{k}")
        logits.append(keras.layers.Reshape((-1, num_classes + 1), name=f"ssd_conf{k}_boxes")(conf(feature)))
        deltas.append(keras.layers.Reshape((-1, 4), name=f"ssd_loc{k}_boxes")(loc(feature)))
    outputs = [keras.layers.Concatenate(axis=1, name="class_logits")(logits),
               keras.layers.Concatenate(axis=1, name="box_deltas")(deltas)]
    return keras.Model(inputs, outputs, name="ssd_shapes")


def ssd_targets(anchors, boxes, classes):
    """One image's training targets: ``labels`` int32 (N,) (0 background, c + 1 for class c) and
    ``deltas`` float32 (N, 4) (zeros where not positive), for true ``boxes`` (M, 4) ``xyxy`` pixels
    and ``classes`` (M,)."""
    assignment = assign(anchors, boxes, MATCH_IOU, MATCH_IOU)
    positive = assignment.labels == POSITIVE
    labels = np.where(positive, np.asarray(classes, np.int64)[assignment.matches] + 1 if len(boxes) else 0, 0)
    deltas = np.zeros((len(anchors), 4), np.float32)
    if positive.any():
        deltas[positive] = encode_deltas(np.asarray(boxes, np.float64)[assignment.matches[positive]],
                                         anchors[positive])
    return labels.astype(np.int32), deltas


def ssd_loss(labels, deltas, class_logits, box_deltas):
    """SSD's multibox loss of a batch → (total, confidence, localisation), each a scalar.

    ``labels`` int (B, N), ``deltas`` (B, N, 4) from :func:`ssd_targets`; ``class_logits`` (B, N, C + 1)
    and ``box_deltas`` (B, N, 4) from the model. Per image, negatives are ranked by their confidence
    loss and the top ``3 × positives`` kept (hard negative mining); both terms are summed over the batch
    and divided by its positives (at least one).
    """
    positive = labels > 0
    cross_entropy = tf.nn.sparse_softmax_cross_entropy_with_logits(labels, class_logits)  # (B, N)
    negative_loss = tf.where(positive, tf.zeros_like(cross_entropy), cross_entropy)
    positives = tf.reduce_sum(tf.cast(positive, tf.int32), 1)
    negatives = tf.minimum(NEGATIVES_PER_POSITIVE * tf.maximum(positives, 1),
                           tf.shape(labels)[1] - positives)
    rank = tf.argsort(tf.argsort(negative_loss, axis=1, direction="DESCENDING"), axis=1)  # 0 = hardest
    hard_negative = (~positive) & (rank < negatives[:, None])
    mask = tf.cast(positive | hard_negative, cross_entropy.dtype)
    count = tf.maximum(tf.cast(tf.reduce_sum(positives), cross_entropy.dtype), 1.0)
    confidence = tf.reduce_sum(cross_entropy * mask) / count
    huber = tf.reduce_sum(tf.keras.losses.huber(deltas[..., None], box_deltas[..., None], delta=1.0), -1)
    localisation = tf.reduce_sum(huber * tf.cast(positive, huber.dtype)) / count
    return confidence + localisation, confidence, localisation


def ssd_decode(class_logits, box_deltas, anchors, score_threshold=0.01, iou_threshold=0.45, max_boxes=100):
    """Detections of a batch: per image the boxes (decoded from ``anchors``, clipped to the input),
    suppressed per class → ``(boxes (B, K, 4) xyxy pixels, scores (B, K), classes (B, K) int32,
    valid (B,))``, best first, K = ``max_boxes``."""
    scores = tf.nn.softmax(class_logits)[..., 1:]                                  # (B, N, C)
    boxes = decode_deltas(box_deltas, tf.constant(anchors, box_deltas.dtype))     # (B, N, 4) xyxy
    size = tf.cast(INPUT_SIZE, boxes.dtype)
    yxyx = tf.clip_by_value(tf.gather(boxes, [1, 0, 3, 2], axis=-1), 0.0, size) / size
    nmsed, nmsed_scores, nmsed_classes, valid = tf.image.combined_non_max_suppression(
        yxyx[:, :, None, :], scores, max_boxes, max_boxes, iou_threshold, score_threshold,
        clip_boxes=False)
    boxes = tf.gather(nmsed, [1, 0, 3, 2], axis=-1) * size
    return boxes, nmsed_scores, tf.cast(nmsed_classes, tf.int32), valid
