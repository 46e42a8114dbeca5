"""Faster R-CNN (Ren et al., 2015), compact: a region proposal network on the shared features feeding
Fast R-CNN's head, trained end to end by approximate joint training (the proposals are inputs to the
head, their gradient is not propagated), as Detectron does.

- **Features**: the body's stride-8 map merged with its stride-16 map upsampled (a one-step top-down
  path): 16×16×128 for a 128×128 scene.
- **RPN**: a 3×3 conv, then per cell and anchor an objectness logit and box deltas (scaled as the
  head's, 10, 10, 5, 5; the paper's are unscaled). Anchors:
  sizes 12, 24, 40, 64 at aspect ratios 1/2, 1, 2 (12 per cell, 3,072 in all). Training targets: IoU
  ≥ 0.7 positive (and each true box's best anchor), < 0.3 negative, 256 sampled, half positive at most.
- **Proposals**: decoded, clipped to the image, suppressed at IoU 0.7; the best 100 per image in
  training, 50 at test time.
- **Head**: RoI pooling (7×7, max over 2×2 samples per bin) of each proposal on the features, two
  fully connected layers of 256, class logits (C + 1) and class-specific box deltas (scale 10, 10, 5,
  5). Training RoIs: the proposals and the true boxes, 32 sampled per image, a quarter foreground (IoU
  ≥ 0.5), the rest background (IoU < 0.5).
"""

import keras
import numpy as np
import tensorflow as tf

from yad2k_style.boxes import DELTA_SCALE, decode_deltas, encode_deltas
from yad2k_style.detection.anchors import anchor_grid
from yad2k_style.detection.backbone import backbone_maps, conv_block
from yad2k_style.detection.matching import POSITIVE, assign, sample
from yad2k_style.detection.region_layers import Proposals, RoIPooling
from yad2k_style.netspec import LEAKY_SLOPE

INPUT_SIZE, STRIDE, FEATURES = 128, 8, 128
ANCHOR_SIZES, ANCHOR_RATIOS = (12.0, 24.0, 40.0, 64.0), (0.5, 1.0, 2.0)
ANCHORS_PER_CELL = len(ANCHOR_SIZES) * len(ANCHOR_RATIOS)
RPN_SCALE = DELTA_SCALE  # Faster R-CNN's RPN has (1, 1, 1, 1); scaled, its smooth L1 learns as the head's
RPN_POSITIVE_IOU, RPN_NEGATIVE_IOU, RPN_SAMPLES = 0.7, 0.3, 256
PROPOSAL_NMS, TRAIN_PROPOSALS, TEST_PROPOSALS = 0.7, 100, 50
ROI_SIZE, ROI_SAMPLES, ROI_FOREGROUND, ROI_FOREGROUND_IOU = 7, 32, 0.25, 0.5
MIN_PROPOSAL_SIDE = 2.0


def rpn_anchors(input_size=INPUT_SIZE):
    """The RPN's anchors in its output order → float32 (N, 4) ``xyxy`` pixels."""
    cells = input_size // STRIDE
    return anchor_grid((cells, cells), STRIDE, ANCHOR_SIZES, ANCHOR_RATIOS)


def shared_features(input_shape=(INPUT_SIZE, INPUT_SIZE, 3), name="features"):
    """The shared convolutional features: image (B, S, S, 3) in [0, 1] → (B, S/8, S/8, 128)."""
    inputs = keras.Input(input_shape, name="image")
    stride8, stride16, _ = backbone_maps(inputs)
    lateral = keras.layers.Conv2D(FEATURES, 1, name="lateral8")(stride8)
    top = keras.layers.Conv2D(FEATURES, 1, name="lateral16")(stride16)
    top = keras.layers.UpSampling2D(2, name="top_down_up")(top)
    merged = keras.layers.Add(name="top_down_add")([lateral, top])
    return keras.Model(inputs, conv_block(merged, FEATURES, 3, "features_conv"), name=name)


def region_proposal_network(anchors_per_cell=ANCHORS_PER_CELL, name="rpn"):
    """Features (B, h, w, 128) → ``[objectness logits (B, h w A), deltas (B, h w A, 4)]``."""
    features = keras.Input((None, None, FEATURES), name="features")
    x = keras.layers.Conv2D(FEATURES, 3, padding="same", name="rpn_conv")(features)
    x = keras.layers.LeakyReLU(LEAKY_SLOPE, name="rpn_leaky")(x)
    objectness = keras.layers.Conv2D(anchors_per_cell, 1, name="rpn_objectness")(x)
    deltas = keras.layers.Conv2D(anchors_per_cell * 4, 1, name="rpn_deltas")(x)
    return keras.Model(features, [keras.layers.Reshape((-1,), name="rpn_objectness_flat")(objectness),
                                  keras.layers.Reshape((-1, 4), name="rpn_deltas_flat")(deltas)], name=name)


def box_head(num_classes, name="head"):
    """Fast R-CNN's per-region stage: ``[features (B, h, w, 128), regions (B, R, 4) xyxy pixels]`` → RoI
    pooling (7×7, max over 2×2 samples a bin) → two fully connected layers of 256 → ``[class logits
    (B, R, C + 1), class box deltas (B, R, C, 4)]``."""
    features = keras.Input((None, None, FEATURES), name="features")
    regions = keras.Input((None, 4), name="regions")
    pooled = RoIPooling(ROI_SIZE, STRIDE, name="roi_pool")([features, regions])
    x = keras.layers.Reshape((-1, ROI_SIZE * ROI_SIZE * FEATURES), name="head_flatten")(pooled)
    for k in (1, 2):
        x = keras.layers.Dense(256, name=f"head_fc{k}")(x)
        x = keras.layers.LeakyReLU(LEAKY_SLOPE, name=f"head_leaky{k}")(x)
    logits = keras.layers.Dense(num_classes + 1, name="head_classes")(x)
    deltas = keras.layers.Reshape((-1, num_classes, 4), name="head_deltas_per_class")(
        keras.layers.Dense(num_classes * 4, name="head_deltas")(x))
    return keras.Model([features, regions], [logits, deltas], name=name)


def faster_rcnn_model(num_classes=3, input_shape=(INPUT_SIZE, INPUT_SIZE, 3), head=box_head,
                      name="faster_rcnn_shapes"):
    """The detector: image (B, S, S, 3) in [0, 1] → ``[proposals (B, P, 4) xyxy pixels, valid (B,),
    class logits (B, P, C + 1), box deltas (B, P, C, 4)]``, P = :data:`TEST_PROPOSALS`
    (:func:`decode_detections` makes detections of them). Its nested models ``features``, ``rpn`` and
    ``head`` (``head(num_classes)`` builds it: :func:`box_head`, or R-FCN's) and its ``proposals`` layer
    are what training calls one by one."""
    image = keras.Input(input_shape, name="image")
    features = shared_features(input_shape)(image)
    objectness, deltas = region_proposal_network()(features)
    proposals, valid = Proposals(input_shape[0], STRIDE, ANCHOR_SIZES, ANCHOR_RATIOS, TEST_PROPOSALS,
                                 PROPOSAL_NMS, RPN_SCALE, MIN_PROPOSAL_SIDE, name="proposals")(
        [objectness, deltas])
    logits, box_deltas = head(num_classes)([features, proposals])
    return keras.Model(image, [proposals, valid, logits, box_deltas], name=name)


def rpn_targets(anchors, boxes, rng):
    """One image's RPN targets: labels int32 (N,) 1 / 0 / −1 (ignored, and the unsampled) and deltas
    float32 (N, 4) (:data:`RPN_SCALE`; zeros where not positive)."""
    assignment = assign(anchors, boxes, RPN_POSITIVE_IOU, RPN_NEGATIVE_IOU)
    labels = sample(assignment.labels, RPN_SAMPLES, 0.5, rng)
    deltas = np.zeros((len(anchors), 4), np.float32)
    positive = labels == POSITIVE
    if positive.any():
        deltas[positive] = encode_deltas(np.asarray(boxes, np.float64)[assignment.matches[positive]],
                                         anchors[positive], RPN_SCALE)
    return labels.astype(np.int32), deltas


def roi_targets(proposals, valid, boxes, classes, counts, rng):
    """Sampled training RoIs of a batch, with the true boxes among the candidates → ``rois (B, S, 4)``,
    ``labels (B, S)`` int32 (0 background, c + 1; −1 padding where too few candidates), ``deltas
    (B, S, 4)`` (scale 10, 10, 5, 5; zeros for background) and ``matches (B, S)`` int32 (the true box
    of each foreground RoI, −1 for the others), S = :data:`ROI_SAMPLES`. Each image's foreground RoIs
    come first (at most S × :data:`ROI_FOREGROUND`: Mask R-CNN's mask head takes just those)."""
    batch = len(proposals)
    rois = np.zeros((batch, ROI_SAMPLES, 4), np.float32)
    labels = np.full((batch, ROI_SAMPLES), -1, np.int32)
    deltas = np.zeros((batch, ROI_SAMPLES, 4), np.float32)
    matches = np.full((batch, ROI_SAMPLES), -1, np.int32)
    for b in range(batch):
        truth, truth_classes = boxes[b, :counts[b]], classes[b, :counts[b]]
        candidates = np.concatenate([proposals[b, :valid[b]], truth])
        assignment = assign(candidates, truth, ROI_FOREGROUND_IOU, ROI_FOREGROUND_IOU, force_match=False)
        chosen = sample(assignment.labels, ROI_SAMPLES, ROI_FOREGROUND, rng)
        picked = np.flatnonzero(chosen != -1)
        picked = picked[np.argsort(chosen[picked] != POSITIVE, kind="stable")]  # foreground first
        n = len(picked)
        rois[b, :n] = candidates[picked]
        foreground = chosen[picked] == POSITIVE
        labels[b, :n] = 0
        if foreground.any():
            matched = assignment.matches[picked][foreground]
            labels[b, :n][foreground] = truth_classes[matched] + 1
            deltas[b, :n][foreground] = encode_deltas(truth[matched], candidates[picked][foreground])
            matches[b, :n][foreground] = matched
    return rois, labels, deltas, matches


def _smooth_l1(targets, predictions):
    difference = tf.abs(targets - predictions)
    return tf.reduce_sum(tf.where(difference < 1.0, 0.5 * difference**2, difference - 0.5), -1)


def faster_rcnn_loss(model, images, targets, rng):
    """Approximate joint training's loss of a batch → (total, {term: value}).

    ``targets``: RPN labels (B, N) and deltas (B, N, 4) (:func:`rpn_targets`), true boxes (B, M, 4),
    classes (B, M) and counts (B,) padded to M. RPN: binary cross-entropy over its sampled anchors and
    smooth L1 over the positives, both divided by the sampled count; head: cross-entropy over the
    sampled RoIs and smooth L1 of each foreground RoI's own class deltas, divided by the RoIs.
    """
    terms, _ = faster_rcnn_terms(model, images, targets, rng)
    return tf.add_n(list(terms.values())), terms


def faster_rcnn_terms(model, images, targets, rng):
    """:func:`faster_rcnn_loss`'s terms ``{term: value}``, and what a further head trains on:
    ``(features, rois (B, S, 4), roi labels (B, S), matches (B, S))`` (see :func:`roi_targets`)."""
    rpn_labels, rpn_deltas, boxes, classes, counts = targets
    features = model.get_layer("features")(images, training=True)
    objectness, predicted_rpn = model.get_layer("rpn")(features, training=True)
    sampled = tf.cast(rpn_labels >= 0, tf.float32)
    anchors_used = tf.maximum(tf.reduce_sum(sampled), 1.0)
    rpn_class = tf.reduce_sum(tf.nn.sigmoid_cross_entropy_with_logits(
        tf.cast(tf.maximum(rpn_labels, 0), tf.float32), objectness) * sampled) / anchors_used
    positive = tf.cast(rpn_labels == 1, tf.float32)
    rpn_box = tf.reduce_sum(_smooth_l1(rpn_deltas, predicted_rpn) * positive) / anchors_used
    proposals, valid = model.get_layer("proposals")([objectness, predicted_rpn], count=TRAIN_PROPOSALS)
    rois, roi_labels, roi_deltas, matches = tf.numpy_function(
        lambda *a: roi_targets(*a, rng), [proposals, valid, boxes, classes, counts],
        [tf.float32, tf.int32, tf.float32, tf.int32])
    rois.set_shape((None, ROI_SAMPLES, 4))
    roi_labels.set_shape((None, ROI_SAMPLES))
    matches.set_shape((None, ROI_SAMPLES))
    head_class, head_box = head_loss(roi_labels, roi_deltas, *model.get_layer("head")([features, rois],
                                                                                        training=True))
    terms = {"rpn_class": rpn_class, "rpn_box": rpn_box, "head_class": head_class, "head_box": head_box}
    return terms, (features, rois, roi_labels, matches)


def head_loss(roi_labels, roi_deltas, logits, deltas):
    """Fast R-CNN's multi-task loss of sampled RoIs → (classification, box regression): cross-entropy
    over the RoIs (labels ≥ 0; −1 is padding) and smooth L1 of each foreground RoI's own class deltas,
    both divided by the RoIs. ``roi_labels`` (B, S), ``roi_deltas`` (B, S, 4), ``logits`` (B, S,
    C + 1), ``deltas`` (B, S, C, 4)."""
    used = tf.cast(roi_labels >= 0, tf.float32)
    rois_used = tf.maximum(tf.reduce_sum(used), 1.0)
    classification = tf.reduce_sum(tf.nn.sparse_softmax_cross_entropy_with_logits(
        tf.maximum(roi_labels, 0), logits) * used) / rois_used
    own = tf.gather(deltas, tf.maximum(roi_labels - 1, 0), axis=2, batch_dims=2)    # (B, S, 4)
    box = tf.reduce_sum(_smooth_l1(roi_deltas, own) * tf.cast(roi_labels > 0, tf.float32)) / rois_used
    return classification, box


def decode_detections(proposals, valid, logits, deltas, input_size=INPUT_SIZE, score_threshold=0.01,
                      iou_threshold=0.45, max_boxes=100):
    """Detections from :func:`faster_rcnn_model`'s outputs: each proposal's class boxes decoded, suppressed
    per class → (boxes (B, K, 4) xyxy pixels, scores (B, K), classes (B, K) int32, valid (B,))."""
    scores = tf.nn.softmax(logits)[..., 1:]                                          # (B, P, C)
    present = tf.sequence_mask(valid, tf.shape(proposals)[1], scores.dtype)[..., None]
    boxes = decode_deltas(deltas, proposals[:, :, None, :])                          # (B, P, C, 4)
    size = float(input_size)
    yxyx = tf.clip_by_value(tf.gather(boxes, [1, 0, 3, 2], axis=-1), 0.0, size) / size
    # each class box as a box of its own, scored -1 in the other classes (below any threshold ≥ -1): the
    # same suppression with boxes shared across classes, the form ONNX's NonMaxSuppression has
    classes = scores.shape[-1]
    own = tf.where(tf.eye(classes, dtype=tf.bool), (scores * present)[..., None], -1.0)   # (B, P, C, C)
    batch = tf.shape(boxes)[0]
    kept, kept_scores, kept_classes, count = tf.image.combined_non_max_suppression(
        tf.reshape(yxyx, (batch, -1, 1, 4)), tf.reshape(own, (batch, -1, classes)), max_boxes, max_boxes,
        iou_threshold, score_threshold, clip_boxes=False)
    boxes = tf.gather(kept, [1, 0, 3, 2], axis=-1) * size
    return boxes, kept_scores, tf.cast(kept_classes, tf.int32), count
