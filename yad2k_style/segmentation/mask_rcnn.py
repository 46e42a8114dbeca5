"""Mask R-CNN (He et al., 2017), compact: the Faster R-CNN of :mod:`.faster_rcnn` with a mask head, a
small FCN on RoIAlign features that predicts a binary mask per class for each region.

- **RoIAlign**: 14×14 bins, 2×2 bilinear samples averaged per bin, no quantisation of the region
  (:func:`~yad2k_style.detection.roi_pooling.roi_pool` ``mode="average"``), on the stride-8 features.
- **Mask head**: two 3×3 convolutions of 64, a 2×2 transposed convolution to 28×28, one 1×1 logit map
  per class; the mask of a region is its class's map (the paper's decoupling of mask and class).
- **Training**: the mask loss is the mean binary cross-entropy over the 28×28 pixels of each
  foreground RoI's own class map; its target is the RoI's true mask sampled at the 28×28 bin centres
  (:func:`mask_targets`). The true boxes are the masks' bounding boxes.
- **Inference**: the box head's detections (decoded, suppressed per class) go through the mask head;
  :func:`paste_masks` puts each 28×28 mask back into the image at its box.
"""

import keras
import numpy as np
import tensorflow as tf

from yad2k_style.detection import faster_rcnn
from yad2k_style.detection.faster_rcnn import (
    ANCHOR_RATIOS,
    ANCHOR_SIZES,
    FEATURES,
    INPUT_SIZE,
    MIN_PROPOSAL_SIDE,
    PROPOSAL_NMS,
    ROI_FOREGROUND,
    ROI_SAMPLES,
    RPN_SCALE,
    STRIDE,
    TEST_PROPOSALS,
)
from yad2k_style.detection.region_layers import PACKAGE, Proposals, RoIPooling
from yad2k_style.detection.roi_pooling import sample_grid

MASK_ROI_SIZE, MASK_SIZE, MASK_FILTERS = 14, 28, 64
#: The sampled RoIs of an image that can be foreground (they come first: ``faster_rcnn.roi_targets``).
FOREGROUND_ROIS = int(ROI_SAMPLES * ROI_FOREGROUND)
MASK_THRESHOLD = 0.5


@keras.saving.register_keras_serializable(PACKAGE)
class Detections(keras.layers.Layer):
    """``[proposals (B, P, 4), valid (B,), class logits (B, P, C + 1), deltas (B, P, C, 4)]`` → the
    detections ``[boxes (B, K, 4) xyxy pixels, scores (B, K), classes (B, K) int32, valid (B,)]``,
    K = ``max_boxes``: :func:`~yad2k_style.detection.faster_rcnn.decode_detections` with these settings."""

    def __init__(self, input_size, score_threshold, iou_threshold, max_boxes, **kwargs):
        super().__init__(**kwargs)
        self.input_size, self.max_boxes = int(input_size), int(max_boxes)
        self.score_threshold, self.iou_threshold = float(score_threshold), float(iou_threshold)

    def call(self, inputs):
        boxes, scores, classes, valid = faster_rcnn.decode_detections(
            *inputs, self.input_size, self.score_threshold, self.iou_threshold, self.max_boxes)
        return [tf.stop_gradient(boxes), scores, classes, valid]

    def compute_output_shape(self, input_shapes):
        batch = input_shapes[0][0]
        return [(batch, self.max_boxes, 4), (batch, self.max_boxes), (batch, self.max_boxes), (batch,)]

    def get_config(self):
        return {**super().get_config(), "input_size": self.input_size,
                "score_threshold": self.score_threshold, "iou_threshold": self.iou_threshold,
                "max_boxes": self.max_boxes}


@keras.saving.register_keras_serializable(PACKAGE)
class ClassMasks(keras.layers.Layer):
    """``[mask logits (B, K, m, m, C), classes (B, K) int32]`` → each region's own class mask, as
    probabilities (B, K, m, m)."""

    def call(self, inputs):
        logits, classes = inputs
        own = tf.gather(tf.transpose(logits, (0, 1, 4, 2, 3)), tf.maximum(classes, 0), axis=2, batch_dims=2)
        return tf.sigmoid(own)

    def compute_output_shape(self, input_shapes):
        return input_shapes[0][:4]


def mask_head(num_classes, name="mask_head"):
    """``[features (B, h, w, 128), regions (B, R, 4) xyxy pixels]`` → RoIAlign 14×14 → two 3×3 convs →
    2× transposed conv → mask logits (B, R, 28, 28, C)."""
    features = keras.Input((None, None, FEATURES), name="features")
    regions = keras.Input((None, 4), name="regions")
    x = RoIPooling(MASK_ROI_SIZE, STRIDE, sampling=2, mode="average", name="mask_roi_align")(
        [features, regions])
    layers = [keras.layers.Conv2D(MASK_FILTERS, 3, padding="same", activation="relu", name=f"mask_conv{k}")
              for k in (1, 2)]
    layers += [keras.layers.Conv2DTranspose(MASK_FILTERS, 2, strides=2, activation="relu", name="mask_up"),
               keras.layers.Conv2D(num_classes, 1, name="mask_logits")]
    for layer in layers:  # on each region
        x = keras.layers.TimeDistributed(layer, name=f"{layer.name}_each")(x)
    logits = x
    return keras.Model([features, regions], logits, name=name)


def mask_rcnn_model(num_classes=3, input_shape=(INPUT_SIZE, INPUT_SIZE, 3), score_threshold=0.01,
                    iou_threshold=0.45, max_boxes=100, name="mask_rcnn_shapes"):
    """The instance segmenter: image (B, S, S, 3) in [0, 1] → ``[boxes (B, K, 4) xyxy pixels, scores
    (B, K), classes (B, K), valid (B,), masks (B, K, 28, 28)]`` (each box's mask, probabilities in its
    box; :func:`paste_masks` puts them in the image), K = ``max_boxes``; detections kept at scores ≥
    ``score_threshold``, suppressed per class at IoU ``iou_threshold``. Its nested models
    ``features``, ``rpn``, ``head`` and ``mask_head`` and its ``proposals`` layer are those of
    Faster R-CNN plus the mask head; training calls them one by one (:func:`mask_rcnn_loss`)."""
    image = keras.Input(input_shape, name="image")
    features = faster_rcnn.shared_features(input_shape)(image)
    objectness, deltas = faster_rcnn.region_proposal_network()(features)
    proposals, valid = Proposals(input_shape[0], STRIDE, ANCHOR_SIZES, ANCHOR_RATIOS, TEST_PROPOSALS,
                                 PROPOSAL_NMS, RPN_SCALE, MIN_PROPOSAL_SIDE, name="proposals")(
        [objectness, deltas])
    logits, box_deltas = faster_rcnn.box_head(num_classes)([features, proposals])
    boxes, scores, classes, count = Detections(input_shape[0], score_threshold, iou_threshold, max_boxes,
                                               name="detections")([proposals, valid, logits, box_deltas])
    masks = ClassMasks(name="class_masks")([mask_head(num_classes)([features, boxes]), classes])
    return keras.Model(image, [boxes, scores, classes, count, masks], name=name)


def with_settings(network, score_threshold, iou_threshold, max_boxes):
    """``network`` (a :func:`mask_rcnn_model`) when its detections use these settings, else a new model
    that does, with its weights."""
    settings = {"score_threshold": float(score_threshold), "iou_threshold": float(iou_threshold),
                "max_boxes": int(max_boxes)}
    layer = network.get_layer("detections")
    if all(getattr(layer, key) == value for key, value in settings.items()):
        return network
    num_classes = network.get_layer("head").get_layer("head_classes").units - 1
    rebuilt = mask_rcnn_model(num_classes, network.input_shape[1:], **settings, name=network.name)
    rebuilt.set_weights(network.get_weights())
    return rebuilt


def mask_targets(masks, rois, matches, size=MASK_SIZE):
    """Mask R-CNN's mask targets: each RoI's true mask sampled at the centres of a ``size × size`` grid
    over the RoI (bilinear, RoIAlign's rule at the border), 1 where ≥ 0.5.

    ``masks``: (B, M, H, W) the true masks (0/1, any dtype); ``rois``: (B, R, 4) ``xyxy`` pixels;
    ``matches``: (B, R) int32, the true mask of each RoI (−1: none, its target is zeros) →
    float32 (B, R, size, size)."""
    masks = tf.cast(masks, tf.float32)
    batch, objects = tf.shape(masks)[0], tf.shape(masks)[1]
    count = tf.shape(rois)[1]
    flat = tf.reshape(masks, (-1, tf.shape(masks)[2], tf.shape(masks)[3], 1))
    owners = tf.reshape(tf.range(batch)[:, None] * objects + tf.maximum(matches, 0), (-1,))
    sampled = sample_grid(flat, tf.reshape(tf.cast(rois, tf.float32), (-1, 4)), owners, size, stride=1)
    targets = tf.cast(sampled[..., 0] >= 0.5, tf.float32) * tf.cast(tf.reshape(matches, (-1, 1, 1)) >= 0,
                                                                     tf.float32)
    return tf.reshape(targets, (batch, count, size, size))


def mask_loss(logits, labels, targets):
    """Mean binary cross-entropy over the pixels of the foreground RoIs' own class maps.
    ``logits`` (B, R, m, m, C); ``labels`` (B, R) int32 (c + 1 foreground, 0 background, −1 padding);
    ``targets`` (B, R, m, m) in {0, 1}."""
    own = tf.gather(tf.transpose(logits, (0, 1, 4, 2, 3)), tf.maximum(labels - 1, 0), axis=2, batch_dims=2)
    foreground = tf.cast(labels > 0, tf.float32)
    pixels = tf.reduce_mean(tf.nn.sigmoid_cross_entropy_with_logits(targets, own), [2, 3])
    return tf.reduce_sum(pixels * foreground) / tf.maximum(tf.reduce_sum(foreground), 1.0)


def mask_rcnn_loss(model, images, targets, rng):
    """Faster R-CNN's loss (:func:`~yad2k_style.detection.faster_rcnn.faster_rcnn_terms`) plus the mask
    loss on each image's first :data:`FOREGROUND_ROIS` sampled RoIs → (total, {term: value}).
    ``targets``: Faster R-CNN's, then the true masks (B, M, H, W) uint8 in the order of the boxes."""
    terms, (features, rois, labels, matches) = faster_rcnn.faster_rcnn_terms(model, images, targets[:5], rng)
    rois, labels, matches = (t[:, :FOREGROUND_ROIS] for t in (rois, labels, matches))
    logits = model.get_layer("mask_head")([features, rois], training=True)
    terms["mask"] = mask_loss(logits, labels, mask_targets(targets[5], rois, matches, logits.shape[2]))
    return tf.add_n(list(terms.values())), terms


def paste_masks(masks, boxes, height, width, threshold=MASK_THRESHOLD):
    """Put each box's mask into an image of ``height`` × ``width`` pixels: ``masks`` (K, m, m)
    probabilities over ``boxes`` (K, 4) ``xyxy`` pixels → bool (K, H, W), a pixel in where the mask,
    read bilinearly at the pixel's centre, is ≥ ``threshold``. The mask fades to 0 over half a cell
    outside its box (zero-padded, as Detectron pastes)."""
    masks = np.asarray(masks, np.float32)
    out = np.zeros((len(masks), height, width), bool)
    size = masks.shape[-1] if masks.ndim == 3 else 0
    for k, (mask, box) in enumerate(zip(masks, np.asarray(boxes, np.float64), strict=True)):
        x0, y0, x1, y1 = box
        if x1 <= x0 or y1 <= y0:
            continue
        padded = np.pad(mask, 1)
        # each pixel centre in the padded mask's cell coordinates (cell i's centre at i)
        u = (np.arange(width) + 0.5 - x0) / (x1 - x0) * size - 0.5 + 1
        v = (np.arange(height) + 0.5 - y0) / (y1 - y0) * size - 0.5 + 1
        columns, rows = (np.flatnonzero((c >= 0) & (c <= size + 1)) for c in (u, v))
        if not columns.size or not rows.size:
            continue
        out[k][np.ix_(rows, columns)] = _bilinear(padded, v[rows], u[columns]) >= threshold
    return out


def _bilinear(grid, rows, columns):
    """``grid`` (h, w) read bilinearly at every (row, column) of the 1-D coordinates (inside the grid)."""
    r0 = np.clip(np.floor(rows).astype(int), 0, grid.shape[0] - 2)
    c0 = np.clip(np.floor(columns).astype(int), 0, grid.shape[1] - 2)
    fr, fc = (rows - r0)[:, None], (columns - c0)[None, :]
    top = grid[r0][:, c0] * (1 - fc) + grid[r0][:, c0 + 1] * fc
    bottom = grid[r0 + 1][:, c0] * (1 - fc) + grid[r0 + 1][:, c0 + 1] * fc
    return top * (1 - fr) + bottom * fr
